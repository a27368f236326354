"""Read models the movement, field and intake pages share: legs, manifest lines and safeguards, in words."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from handover.core.custody import Estate, PersonState, Status
from handover.core.custody.movements import MANIFEST_OPEN, Leg, Movement, MovementState, seat_limit
from handover.core.policy.safeguards import FIT_TO_TRAVEL, LEGAL_REVIEW
from handover.services import reconciliation, transfers
from handover.services.ports import HandoverRecord, UnitOfWork
from handover.web.common import Names
from handover.web.labels import (
    assessment_label,
    estate_label,
    leg_state_label,
    mode_label,
    movement_state_label,
    safeguard_label,
    status_label,
)

# Board columns, in the order a movement goes through them.
STATE_ORDER = (
    MovementState.DRAFT,
    MovementState.APPROVED,
    MovementState.IN_PROGRESS,
    MovementState.ARRIVED,
    MovementState.RECONCILED,
    MovementState.CANCELLED,
)


@dataclass(frozen=True, slots=True)
class LegRow:
    number: int
    from_id: str
    from_name: str
    to_id: str
    to_name: str
    mode: str
    mode_label: str
    escort_id: str
    escort: str
    vehicles: str  # "call sign: seats, ..." as planners type them
    seats: int
    scheduled_departure: datetime
    scheduled_arrival: datetime
    departed_at: datetime | None
    arrived_at: datetime | None
    lodging: bool
    state: str
    state_label: str


def leg_rows(names: Names, legs: Sequence[Leg]) -> list[LegRow]:
    return [
        LegRow(
            number=leg.number,
            from_id=leg.from_id,
            from_name=names.facility(leg.from_id),
            to_id=leg.to_id,
            to_name=names.facility(leg.to_id),
            mode=leg.mode.value,
            mode_label=mode_label(leg.mode),
            escort_id=leg.escort_id,
            escort=names.authority(leg.escort_id),
            vehicles=", ".join(f"{v.call_sign}: {v.seats}" for v in leg.vehicles),
            seats=leg.seats,
            scheduled_departure=leg.scheduled_departure,
            scheduled_arrival=leg.scheduled_arrival,
            departed_at=leg.departed_at,
            arrived_at=leg.arrived_at,
            lodging=leg.lodging,
            state=leg.state.value,
            state_label=leg_state_label(leg.state),
        )
        for leg in legs
    ]


@dataclass(frozen=True, slots=True)
class BreachRow:
    person_id: str
    safeguard: str
    label: str
    message: str
    overridden: bool
    reason: str = ""
    by: str = ""


@dataclass(frozen=True, slots=True)
class PersonLine:
    """One person as planners and officers see them: where they are, and what the safeguards say."""

    person_id: str
    estate: str
    estate_label: str
    status: str
    status_label: str
    custodian_id: str
    custodian: str
    place: str
    fit: str
    legal: str
    mother_id: str
    breaches: list[BreachRow] = field(default_factory=list)


def person_lines(
    uow: UnitOfWork,
    names: Names,
    states: Sequence[PersonState],
    breaches: Sequence[BreachRow] = (),
) -> list[PersonLine]:
    ids = [s.person_id for s in states]
    assessed = uow.operations.assessments(ids)
    by_person: dict[str, list[BreachRow]] = {}
    for breach in breaches:
        by_person.setdefault(breach.person_id, []).append(breach)
    lines = []
    for state in states:
        # Only minors need their mother named (to keep families together); skip the registry read for adults.
        record = uow.persons.get(state.person_id) if state.estate is Estate.MINORS else None
        outcomes = assessed.get(state.person_id, {})
        lines.append(
            PersonLine(
                person_id=state.person_id,
                estate=state.estate.value,
                estate_label=estate_label(state.estate),
                status=state.status.value,
                status_label=status_label(state.status),
                custodian_id=state.custodian_id or "",
                custodian=names.authority(state.custodian_id) if state.custodian_id else "",
                place=names.place(state.facility_id, state.movement_id),
                fit=assessment_label(outcomes.get(FIT_TO_TRAVEL)),
                legal=assessment_label(outcomes.get(LEGAL_REVIEW)),
                mother_id=(record.identity.mother_id or "") if record is not None else "",
                breaches=by_person.get(state.person_id, []),
            )
        )
    return lines


def safeguard_rows(uow: UnitOfWork, m: Movement, people: Sequence[str]) -> list[BreachRow]:
    """The safeguards these people break on `m` now, each marked overridden when an override covers it."""
    if not people:
        return []
    overrides: dict[tuple[str, str], tuple[str, str]] = {}
    for o in uow.operations.overrides(m.id):
        for code in o.safeguards.split(","):
            overrides[(o.person_id, code)] = (o.reason, o.actor_name)
    rows = []
    for b in transfers.check_manifest(uow, m.id, people):
        reason, by = overrides.get((b.person_id, b.safeguard.value), ("", ""))
        covered = (b.person_id, b.safeguard.value) in overrides
        rows.append(
            BreachRow(b.person_id, b.safeguard.value, safeguard_label(b.safeguard), b.message, covered, reason, by)
        )
    return rows


def breach_rows(uow: UnitOfWork, m: Movement, people: Sequence[str]) -> list[BreachRow]:
    """A dry run: what adding these people would break (none of them overridden yet)."""
    return [
        BreachRow(b.person_id, b.safeguard.value, safeguard_label(b.safeguard), b.message, False)
        for b in transfers.check_manifest(uow, m.id, people)
    ]


@dataclass(frozen=True, slots=True)
class MovementView:
    id: str
    code: str
    state: str
    state_label: str
    route_id: str
    origin_id: str
    origin: str
    destination_id: str
    destination: str
    mode_label: str
    escort: str
    scheduled_at: datetime
    legs: list[LegRow]
    manifest: int
    seats: int | None
    cross_border: bool
    manifest_open: bool
    breaches: list[BreachRow]
    overridden: int

    @property
    def over_seats(self) -> bool:
        return self.seats is not None and self.manifest > self.seats

    @property
    def open_breaches(self) -> list[BreachRow]:
        return [b for b in self.breaches if not b.overridden]


def manifest_people(uow: UnitOfWork, m: Movement) -> list[PersonState]:
    """Who is on the movement now (on its manifest, in transit, or arrived and not yet admitted)."""
    return sorted(uow.custody.on_movement(m.id), key=lambda s: s.person_id)


def movement_view(uow: UnitOfWork, names: Names, m: Movement) -> MovementView:
    legs = uow.operations.legs(m.id)
    is_open = m.state in MANIFEST_OPEN
    origin = uow.reference.facility(m.origin_id)
    destination = uow.reference.facility(m.destination_id)
    if is_open:
        people = [s.person_id for s in manifest_people(uow, m)]
        count = len(people)
        breaches = safeguard_rows(uow, m, people)
    else:
        count = len(reconciliation.report(uow, m.id).lines)
        breaches = []
    overridden = len({o.person_id for o in uow.operations.overrides(m.id)})
    return MovementView(
        id=m.id,
        code=m.code,
        state=m.state.value,
        state_label=movement_state_label(m.state),
        route_id=m.route_id or "",
        origin_id=m.origin_id,
        origin=names.facility(m.origin_id),
        destination_id=m.destination_id,
        destination=names.facility(m.destination_id),
        mode_label=mode_label(m.mode),
        escort=names.authority(m.escort_id),
        scheduled_at=m.scheduled_at,
        legs=leg_rows(names, legs),
        manifest=count,
        seats=seat_limit(legs),
        cross_border=origin is not None and destination is not None and origin.country != destination.country,
        manifest_open=is_open,
        breaches=breaches,
        overridden=overridden,
    )


def held_at(uow: UnitOfWork, facility_id: str) -> list[PersonState]:
    """People held at a facility and on no movement: who a planner can put on a movement from there."""
    return sorted(
        (
            c.state
            for c in uow.custody.projection()
            if c.state.status is Status.HELD and c.state.facility_id == facility_id and c.state.movement_id is None
        ),
        key=lambda s: (list(Estate).index(s.estate), s.person_id),
    )


def awaiting_admission(uow: UnitOfWork, facility_id: str) -> list[PersonState]:
    return sorted(
        (
            c.state
            for c in uow.custody.projection()
            if c.state.status is Status.ARRIVED and c.state.facility_id == facility_id
        ),
        key=lambda s: (s.movement_id or "", s.person_id),
    )


@dataclass(frozen=True, slots=True)
class HandoverRow:
    id: str
    place: str
    from_: str
    to: str
    state: str
    signed: int  # how many sides have signed: 0, 1 or 2
    people: int
    at: datetime


def handover_rows(names: Names, records: Sequence[HandoverRecord]) -> list[HandoverRow]:
    return [
        HandoverRow(
            id=h.id,
            place=names.facility(h.place_id),
            from_=names.authority(h.from_authority_id),
            to=names.authority(h.to_authority_id),
            state=h.state,
            signed=sum(1 for s in (h.dispatching_signature, h.receiving_signature) if s),
            people=len(json.loads(h.document)["people"]),
            at=h.occurred_at,
        )
        for h in records
    ]


def facility_choices(uow: UnitOfWork, names: Names) -> list[tuple[str, str]]:
    """(id, name) of every facility, by name, for a form's select."""
    return sorted(((f.id, names.facility(f.id)) for f in uow.reference.facilities()), key=lambda p: p[1])
