"""The dashboard: progress, where people are, alerts, the daily roll, the latest events and the log's checkpoint.

It is public (aggregate counts and the signed checkpoint); what names people (the latest events, escape and death
alerts) is shown only to those who may read people's records, and only for the people in their scope. Half-signed
handovers and overdue notifications are shown to those who work movements and admissions, within their scope.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from handover.core.custody import Estate
from handover.core.policy.access import (
    Action,
    Principal,
    Resource,
    facility_in_scope,
    may,
    movement_in_scope,
    person_filter,
)
from handover.gate import needing
from handover.i18n import _, ngettext
from handover.services import proofs, queries, reconciliation, scope
from handover.services.ports import StoredEvent, UnitOfWork
from handover.web.checkpoints import CHECKPOINT_PATH, checkpoint_panel, reported_late, signer, utc
from handover.web.common import Names, Uow, facility_name, notification_hours, render, runtime
from handover.web.labels import (
    alert_kind_label,
    estate_label,
    event_label,
    facility_kind_label,
    incident_kind_label,
)

LATEST_EVENTS = 20
SCOPED_WINDOW = 200  # events looked through for a scoped reader's latest ones (most may be other people's)
REFRESH_SECONDS = 15

router = APIRouter(default_response_class=HTMLResponse)


@dataclass(frozen=True, slots=True)
class EstateRow:
    estate: str
    label: str
    held: int
    capacity: int
    free: int
    over: bool
    fill: float  # bar width in percent, 0..100


@dataclass(frozen=True, slots=True)
class FacilityRow:
    id: str
    name: str
    country: str
    kind: str
    estates: list[EstateRow]
    awaiting_admission: int


@dataclass(frozen=True, slots=True)
class EventRow:
    seq: int
    type: str
    label: str
    person_id: str
    place: str
    occurred_at: str  # ISO 8601, UTC
    occurred_utc: str  # for reading: YYYY-MM-DD HH:MM
    reported_late: bool  # occurred before an event earlier in the log (rule 2: say when time and order differ)


@dataclass(frozen=True, slots=True)
class AlertRow:
    kind: str
    label: str
    message: str
    at: datetime
    link: str


@dataclass(frozen=True, slots=True)
class RollRow:
    facility_id: str
    name: str
    came_in: int
    went_out: int
    held: int
    in_transit: int
    expected: int
    capacity: int
    free: int


def _occupancy(report: queries.StatusReport) -> list[FacilityRow]:
    rows = []
    for occupancy in report.facilities:
        facility = occupancy.facility
        estates = []
        for estate in Estate:
            held = occupancy.held.get(estate.value, 0)
            capacity = facility.capacity.for_estate(estate)
            if capacity == 0 and held == 0:
                continue
            fill = 100.0 if capacity == 0 else min(100.0, 100.0 * held / capacity)
            estates.append(
                EstateRow(estate.value, estate_label(estate), held, capacity, capacity - held, held > capacity, fill)
            )
        if estates or occupancy.awaiting_admission:
            rows.append(
                FacilityRow(
                    facility.id,
                    facility_name(facility),
                    facility.country,
                    facility_kind_label(facility.kind),
                    estates,
                    occupancy.awaiting_admission,
                )
            )
    return rows


def _event_rows(uow: UnitOfWork, latest: Sequence[StoredEvent]) -> list[EventRow]:
    """Newest first (descending log index), with the place named and late reports flagged."""
    names = Names(uow, (e.event.movement_id for e in latest))
    in_order = sorted(latest, key=lambda s: s.seq)
    rows = []
    for stored, late in zip(in_order, reported_late(s.event for s in in_order), strict=True):
        event = stored.event
        occurred = utc(event.occurred_at)
        rows.append(
            EventRow(
                seq=stored.seq,
                type=event.type.value,
                label=event_label(event.type),
                person_id=event.person_id,
                place=names.place(event.facility_id, event.movement_id),
                occurred_at=occurred.isoformat(),
                occurred_utc=occurred.strftime("%Y-%m-%d %H:%M"),
                reported_late=late,
            )
        )
    rows.reverse()
    return rows


def _alert_link(request: Request, alert: reconciliation.Alert) -> str:
    if alert.kind == "handover_open":
        return request.url_for("web_handover", handover_id=alert.subject).path
    if alert.kind == "notification_overdue":
        return request.url_for("web_intake").path
    return ""


def _alert_message(uow: UnitOfWork, who: Principal, names: Names, alert: reconciliation.Alert) -> str:
    """The alert in words, with places, authorities and movements named rather than given by id."""
    if alert.kind == "handover_open":
        record = uow.operations.handover(alert.subject)
        if record is not None:
            waiting = record.to_authority_id if record.dispatching_signature else record.from_authority_id
            return _("Handover at {place} signed by one side only; waiting for {authority}.").format(
                place=names.facility(record.place_id), authority=names.authority(waiting)
            )
    if alert.kind in ("escape", "death"):
        incident = next((i for i in uow.operations.incidents(kinds=[alert.kind]) if i.id == alert.subject), None)
        if incident is not None:
            where = names.movement(incident.movement_id) if incident.movement_id else ""
            people = scope.visible_people(uow, who, list(incident.people))  # only those whose records `who` reads
            text = ngettext("{kind}: {count} person ({people})", "{kind}: {count} people ({people})", len(people))
            message = text.format(kind=incident_kind_label(incident.kind), count=len(people), people=", ".join(people))
            return _("{message}, movement {code}").format(message=message, code=where) if where else message
    return alert.message


def _latest(uow: UnitOfWork, who: Principal) -> list[StoredEvent]:
    """The latest events of people whose records `who` may read (none for the public)."""
    if not may(who.grants, Resource.PERSON, Action.READ):
        return []
    if not person_filter(who):
        return queries.latest_events(uow, LATEST_EVENTS)
    window = queries.latest_events(uow, SCOPED_WINDOW)
    visible = set(scope.visible_people(uow, who, list(dict.fromkeys(e.event.person_id for e in window))))
    return [e for e in window if e.event.person_id in visible][:LATEST_EVENTS]


def _overdue_alert(request: Request, uow: UnitOfWork, who: Principal, now: datetime) -> reconciliation.Alert | None:
    """Overdue family notifications at the facilities whose admissions `who` works."""
    hours = notification_hours(request)
    overdue = [
        t
        for t in reconciliation.notification_tasks(uow, now, hours)
        if t.overdue and facility_in_scope(who, t.facility_id, Resource.ADMISSION, Action.READ)
    ]
    if not overdue:
        return None
    message = ngettext(
        "{count} family not notified within {hours} hours of admission.",
        "{count} families not notified within {hours} hours of admission.",
        len(overdue),
    ).format(count=len(overdue), hours=hours)
    return reconciliation.Alert("notification_overdue", str(len(overdue)), message, min(t.due_at for t in overdue))


def _shown(uow: UnitOfWork, who: Principal, alert: reconciliation.Alert) -> bool:
    """Whether `who` sees the alert: escapes and deaths name people (their records' readers only, when one of the
    people is in scope); a half-signed handover belongs to a movement (its readers only). Overdue notifications are
    counted afresh per facility in scope (`_overdue_alert`)."""
    if alert.kind in ("escape", "death"):
        if not may(who.grants, Resource.PERSON, Action.READ):
            return False
        incident = next((i for i in uow.operations.incidents(kinds=[alert.kind]) if i.id == alert.subject), None)
        return incident is not None and bool(scope.visible_people(uow, who, list(incident.people)))
    if alert.kind == "handover_open":
        record = uow.operations.handover(alert.subject)
        facts = scope.movement_facts(uow, record.movement_id) if record is not None else None
        return facts is not None and movement_in_scope(who, facts)
    return False


def _alerts(request: Request, uow: UnitOfWork, who: Principal, now: datetime) -> list[AlertRow]:
    if not any(may(who.grants, r, Action.READ) for r in (Resource.PERSON, Resource.MOVEMENT, Resource.ADMISSION)):
        return []  # the public, and roles working with none of what alerts are about
    found = [a for a in reconciliation.alerts(uow, now, notification_hours(request)) if _shown(uow, who, a)]
    if may(who.grants, Resource.ADMISSION, Action.READ) and (overdue := _overdue_alert(request, uow, who, now)):
        found.append(overdue)
    found.sort(key=lambda a: a.at, reverse=True)
    names = Names(uow, (i.movement_id for i in uow.operations.incidents(kinds=["escape", "death"])))
    return [
        AlertRow(a.kind, alert_kind_label(a.kind), _alert_message(uow, who, names, a), a.at, _alert_link(request, a))
        for a in found
    ]


def _roll(uow: UnitOfWork, now: datetime) -> list[RollRow]:
    names = Names(uow)
    return [
        RollRow(
            r.facility_id,
            names.facility(r.facility_id),
            r.came_in,
            r.went_out,
            r.held,
            r.in_transit,
            r.expected,
            r.capacity,
            r.free,
        )
        for r in reconciliation.roll(uow, utc(now).date())
    ]


@router.get("/", name="dashboard")
def dashboard(
    request: Request, uow: Uow, who: Annotated[Principal, needing(Resource.REPORT, Action.READ)]
) -> HTMLResponse:
    report = queries.status(uow)
    ours = signer(request)
    view = proofs.checkpoint_view(uow, ours.verifier if ours else None)
    progress = min(1.0, report.moved / report.planned) if report.planned else 0.0
    now = runtime(request).clock()
    context = {
        "report": report,
        "progress": progress,
        "facilities": _occupancy(report),
        "alerts": _alerts(request, uow, who, now),
        "roll": _roll(uow, now),
        "roll_day": utc(now).date().isoformat(),
        "events": _event_rows(uow, _latest(uow, who)),
        "refresh_seconds": REFRESH_SECONDS,
        "checkpoint": checkpoint_panel(view, ours) if view else None,
        "checkpoint_url": CHECKPOINT_PATH,
    }
    return render(request, "dashboard.html", context)


@router.get("/partials/latest-events", name="latest_events")
def latest_events(
    request: Request, uow: Uow, who: Annotated[Principal, needing(Resource.PERSON, Action.READ)]
) -> HTMLResponse:
    """The latest events, by person id, of the people in the reader's scope (HTMX refreshes it)."""
    return render(request, "_latest_events.html", {"events": _event_rows(uow, _latest(uow, who))})
