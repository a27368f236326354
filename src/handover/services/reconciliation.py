"""Accounting for everyone: a movement's outcomes and reconciliation, the daily roll, notifications and alerts.

Every figure here is derived from custody events (rule 1: the log is the truth); the operational records (legs,
boardings, handovers, incidents) add what the officers counted and signed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from handover.core.custody import EventType, Status
from handover.core.custody import commands as c
from handover.core.custody.movements import Leg, Movement, MovementState
from handover.core.policy.permissions import Actor, Permission
from handover.i18n import _, ngettext
from handover.services import transfers
from handover.services.access import OPERATOR, require
from handover.services.custody import record_each, refuse_duplicates
from handover.services.errors import ConflictError
from handover.services.handovers import OPEN
from handover.services.incidents import ALERTING
from handover.services.ports import HandoverRecord, Incident, Override, StoredEvent, UnitOfWork
from handover.services.runtime import Runtime


class Outcome(StrEnum):
    ADMITTED = "admitted"
    RETURNED = "returned"
    HOSPITALISED = "hospitalised"
    DIED = "died"
    ESCAPED = "escaped"


@dataclass(frozen=True, slots=True)
class Line:
    """One manifest line: the person, whether they departed, and their one outcome (None while unaccounted)."""

    person_id: str
    departed: bool
    outcome: Outcome | None
    outcome_seq: int | None


@dataclass(frozen=True, slots=True)
class LegCount:
    leg: Leg
    boarded: int
    accounted: int
    outcomes: dict[str, int]


@dataclass
class MovementReport:
    movement: Movement
    legs: list[LegCount]
    lines: list[Line]
    handovers: list[HandoverRecord]
    incidents: list[Incident]
    overrides: list[Override]
    outcomes: dict[str, int] = field(default_factory=dict)

    @property
    def departed(self) -> int:
        return sum(1 for line in self.lines if line.departed)

    @property
    def accounted(self) -> int:
        return sum(1 for line in self.lines if line.outcome is not None)

    @property
    def unaccounted(self) -> list[str]:
        return [line.person_id for line in self.lines if line.outcome is None]

    @property
    def open_handovers(self) -> list[HandoverRecord]:
        return [h for h in self.handovers if h.state == OPEN]

    def as_dict(self) -> dict[str, Any]:
        m = self.movement
        return {
            "movement": {"id": m.id, "code": m.code, "state": m.state.value},
            "manifest": len(self.lines),
            "departed": self.departed,
            "accounted": self.accounted,
            "unaccounted": self.unaccounted,
            "outcomes": self.outcomes,
            "legs": [
                {
                    "number": c.leg.number,
                    "from": c.leg.from_id,
                    "to": c.leg.to_id,
                    "boarded": c.boarded,
                    "accounted": c.accounted,
                    "outcomes": c.outcomes,
                }
                for c in self.legs
            ],
            "open_handovers": [h.id for h in self.open_handovers],
            "incidents": [{"id": i.id, "kind": i.kind, "people": list(i.people)} for i in self.incidents],
            "overrides": [
                {
                    "person_id": o.person_id,
                    "safeguards": o.safeguards.split(","),
                    "reason": o.reason,
                    "by": o.actor_name,
                }
                for o in self.overrides
            ],
        }


def _lines(m: Movement, events: list[StoredEvent]) -> list[Line]:
    """Each person ever put on the movement and not taken off again, with the first outcome after they were."""
    voided = {s.event.corrects for s in events if s.event.type is EventType.CORRECTED}
    on: dict[str, bool] = {}
    departed: dict[str, bool] = {}
    outcome: dict[str, tuple[Outcome, int]] = {}
    for stored in events:
        e = stored.event
        if e.event_id in voided or e.type is EventType.CORRECTED:
            continue
        person = e.person_id
        if e.type is EventType.MANIFESTED:
            on[person] = e.movement_id == m.id or on.get(person, False)
            continue
        if not on.get(person) or person in outcome:
            continue
        if e.type is EventType.UNMANIFESTED and e.movement_id == m.id:
            on[person] = False
        elif e.type is EventType.DEPARTED and e.movement_id == m.id:
            departed[person] = True
        elif e.type is EventType.ADMITTED:
            kind = Outcome.RETURNED if e.facility_id == m.origin_id else Outcome.ADMITTED
            if e.facility_id == m.origin_id and not departed.get(person):
                continue  # not a journey's end: still at the origin
            outcome[person] = (kind, stored.seq)
        elif e.type is EventType.HOSPITALISED:
            outcome[person] = (Outcome.HOSPITALISED, stored.seq)
        elif e.type is EventType.DIED:
            outcome[person] = (Outcome.DIED, stored.seq)
        elif e.type is EventType.ESCAPED:
            outcome[person] = (Outcome.ESCAPED, stored.seq)
    lines = []
    for person in sorted(on):
        if on[person] or person in outcome:
            result, seq = outcome.get(person, (None, None))
            lines.append(Line(person, departed.get(person, False), result, seq))
    return lines


def report(uow: UnitOfWork, movement_id: str) -> MovementReport:
    m = transfers.movement(uow, movement_id)
    lines = _lines(m, uow.operations.movement_events(m.id))
    by_person = {line.person_id: line for line in lines}
    counts = []
    for leg in uow.operations.legs(m.id):
        aboard = uow.operations.boarded(leg.id)
        outcomes = Counter(
            by_person[p].outcome.value  # type: ignore[union-attr]
            for p in aboard
            if p in by_person and by_person[p].outcome is not None
        )
        counts.append(LegCount(leg, len(aboard), sum(outcomes.values()), dict(sorted(outcomes.items()))))
    return MovementReport(
        movement=m,
        legs=counts,
        lines=lines,
        handovers=uow.operations.handovers(movement_id=m.id),
        incidents=uow.operations.incidents(movement_id=m.id),
        overrides=uow.operations.overrides(m.id),
        outcomes=dict(sorted(Counter(line.outcome.value for line in lines if line.outcome).items())),
    )


def reconcile(uow: UnitOfWork, movement_id: str, actor: Actor = OPERATOR) -> MovementReport:
    """Close an arrived movement. Refused while any manifest line has no outcome or a handover is still open."""
    require(actor, Permission.RUN_MOVEMENTS)
    found = report(uow, movement_id)
    m = found.movement
    if m.state is not MovementState.ARRIVED:
        raise ConflictError(
            m.code,
            "movement-state",
            m.state.value,
            _("Movement {code} is {state}: only an arrived movement can be reconciled.").format(
                code=m.code, state=m.state.value
            ),
        )
    if found.unaccounted:
        first = found.unaccounted[0]
        state = uow.custody.states([first]).get(first)
        raise ConflictError(
            first,
            "unaccounted",
            state.describe() if state else m.state.value,
            _(
                "Movement {code} cannot be reconciled: {count} of its {total} manifest lines have no outcome yet, "
                "first person {person} ({state}). Admit, return or record what happened to them."
            ).format(
                code=m.code,
                count=len(found.unaccounted),
                total=len(found.lines),
                person=first,
                state=state.describe() if state else "",
            ),
        )
    if found.open_handovers:
        raise ConflictError(
            m.code,
            "handover-open",
            m.state.value,
            _("Movement {code} cannot be reconciled while handover {handover} is not signed by both sides.").format(
                code=m.code, handover=found.open_handovers[0].id
            ),
        )
    transfers.move_to(uow, m, MovementState.RECONCILED)
    return report(uow, m.id)


# --- the daily roll ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RollCount:
    facility_id: str
    name: str
    came_in: int
    went_out: int
    held: int
    in_transit: int
    expected: int
    capacity: int

    @property
    def free(self) -> int:
        return self.capacity - self.held

    def as_dict(self) -> dict[str, Any]:
        return {
            "facility_id": self.facility_id,
            "name": self.name,
            "in": self.came_in,
            "out": self.went_out,
            "held": self.held,
            "in_transit": self.in_transit,
            "expected": self.expected,
            "capacity": self.capacity,
            "free": self.free,
        }


_IN = frozenset({EventType.ADMITTED, EventType.RECAPTURED, EventType.REGISTERED})


def roll(uow: UnitOfWork, day: date) -> list[RollCount]:
    """Per facility: people in and out on `day` (UTC), and now held, in transit towards it, expected, capacity."""
    start = datetime.combine(day, time(0), tzinfo=UTC)
    events = uow.operations.events_between(start, start + timedelta(days=1))
    movements = {m.id: m for m in uow.movements.all()}
    came_in: Counter[str] = Counter()
    went_out: Counter[str] = Counter()
    for stored in events:
        e = stored.event
        if e.type in _IN and e.facility_id is not None:
            came_in[e.facility_id] += 1
        elif e.type is EventType.DEPARTED and e.movement_id in movements:
            went_out[movements[e.movement_id].origin_id] += 1
    held: Counter[str] = Counter()
    in_transit: Counter[str] = Counter()
    expected: Counter[str] = Counter()
    for count in uow.custody.place_counts():
        if count.status == Status.HELD.value and count.facility_id is not None:
            held[count.facility_id] += count.count
        heading = movements.get(count.movement_id or "")
        if heading is None or heading.state in (MovementState.CANCELLED, MovementState.RECONCILED):
            continue
        if count.status == Status.IN_TRANSIT.value:
            in_transit[heading.destination_id] += count.count
            expected[heading.destination_id] += count.count
        elif count.status == Status.ARRIVED.value or (
            count.status == Status.HELD.value and count.facility_id != heading.destination_id
        ):
            expected[heading.destination_id] += count.count
    return [
        RollCount(
            facility_id=f.id,
            name=f.name,
            came_in=came_in[f.id],
            went_out=went_out[f.id],
            held=held[f.id],
            in_transit=in_transit[f.id],
            expected=expected[f.id],
            capacity=f.capacity.total,
        )
        for f in uow.reference.facilities()
        if f.capacity.total > 0
    ]


# --- family notification and alerts ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NotificationTask:
    """Mandela rule 68: a person's family is told of their admission. Open from admission until recorded."""

    person_id: str
    facility_id: str
    admitted_at: datetime
    due_at: datetime
    overdue: bool


CHANNELS = ("phone", "letter", "icrc", "consulate", "in_person")


def record_notifications(
    uow: UnitOfWork,
    rt: Runtime,
    person_ids: Sequence[str],
    channel: str,
    occurred_at: datetime,
    actor: Actor = OPERATOR,
) -> list[StoredEvent]:
    """The family of each person was told where they are held (a `notified` event each; who was told stays off
    the log)."""
    require(actor, Permission.ADMIT)
    if channel not in CHANNELS:
        raise ValueError(
            _("A notification's channel is one of {channels}, not {channel}.").format(
                channels=", ".join(CHANNELS), channel=channel
            )
        )
    refuse_duplicates(person_ids, _("notification"))
    return record_each(uow, rt, person_ids, occurred_at, c.Notify, channel=channel)


def notification_tasks(uow: UnitOfWork, now: datetime, hours: int) -> list[NotificationTask]:
    tasks = []
    for admission in uow.operations.unnotified_admissions():
        due = admission.admitted_at + timedelta(hours=hours)
        tasks.append(
            NotificationTask(admission.person_id, admission.facility_id, admission.admitted_at, due, now > due)
        )
    return tasks


def _incident_word(kind: str) -> str:
    """Translated when used, not at import, so each request gets its own language."""
    return {"escape": _("Escape"), "death": _("Death")}.get(kind, kind)


@dataclass(frozen=True, slots=True)
class Alert:
    kind: str
    subject: str
    message: str
    at: datetime


def alerts(uow: UnitOfWork, now: datetime, notification_hours: int, days: int = 14) -> list[Alert]:
    """What needs someone's attention now: escapes and deaths, half-signed handovers, overdue notifications."""
    found: list[Alert] = []
    since = now - timedelta(days=days)
    for incident in uow.operations.incidents(kinds=[k.value for k in ALERTING]):
        if incident.occurred_at < since:
            continue
        found.append(
            Alert(
                incident.kind,
                incident.id,
                ngettext(
                    "{kind}: {count} person ({people})", "{kind}: {count} people ({people})", len(incident.people)
                ).format(
                    kind=_incident_word(incident.kind),
                    count=len(incident.people),
                    people=", ".join(incident.people),
                ),
                incident.occurred_at,
            )
        )
    for open_one in uow.operations.handovers(state=OPEN):
        signed = [s for s in (open_one.dispatching_signature, open_one.receiving_signature) if s is not None]
        if len(signed) == 1:
            waiting = open_one.to_authority_id if open_one.dispatching_signature else open_one.from_authority_id
            found.append(
                Alert(
                    "handover_open",
                    open_one.id,
                    _("Handover at {place} signed by one side only; waiting for {authority}.").format(
                        place=open_one.place_id, authority=waiting
                    ),
                    open_one.occurred_at,
                )
            )
    overdue = [t for t in notification_tasks(uow, now, notification_hours) if t.overdue]
    if overdue:
        found.append(
            Alert(
                "notification_overdue",
                str(len(overdue)),
                ngettext(
                    "{count} family not notified within {hours} hours of admission.",
                    "{count} families not notified within {hours} hours of admission.",
                    len(overdue),
                ).format(count=len(overdue), hours=notification_hours),
                min(t.due_at for t in overdue),
            )
        )
    return sorted(found, key=lambda a: a.at, reverse=True)
