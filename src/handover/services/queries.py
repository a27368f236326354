"""Read-side use cases: where everyone is, one person's chain, the events in log order."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from handover.core.custody import Estate, Facility, Status
from handover.core.custody.movements import Movement
from handover.i18n import _
from handover.services.errors import NotFoundError
from handover.services.ports import CurrentCustody, StoredEvent, UnitOfWork
from handover.services.reference import planned_total

ESTATES = tuple(Estate)


@dataclass(frozen=True, slots=True)
class Occupancy:
    """People held at one facility, per estate, against its capacity.

    `received` counts those brought there by a movement (their origin is elsewhere); `awaiting_admission` those
    who arrived and are not yet admitted.
    """

    facility: Facility
    held: dict[str, int]
    received: int
    awaiting_admission: int

    @property
    def total(self) -> int:
        return sum(self.held.values())

    def free(self, estate: Estate) -> int:
        return self.facility.capacity.for_estate(estate) - self.held.get(estate.value, 0)


@dataclass(frozen=True, slots=True)
class StatusReport:
    log_size: int
    registered: int
    planned: int
    moved: int
    in_transit: int
    held_at_origin: int
    by_status: dict[str, int]
    facilities: list[Occupancy]
    in_transit_by_movement: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "log_size": self.log_size,
            "registered": self.registered,
            "planned": self.planned,
            "moved": self.moved,
            "in_transit": self.in_transit,
            "held_at_origin": self.held_at_origin,
            "by_status": dict(sorted(self.by_status.items())),
            "in_transit_by_movement": dict(sorted(self.in_transit_by_movement.items())),
            "facilities": [
                {
                    "id": o.facility.id,
                    "name": o.facility.name,
                    "country": o.facility.country,
                    "kind": o.facility.kind.value,
                    "held": {e.value: o.held.get(e.value, 0) for e in ESTATES},
                    "capacity": {e.value: o.facility.capacity.for_estate(e) for e in ESTATES},
                    "free": {e.value: o.free(e) for e in ESTATES},
                    "total": o.total,
                    "received": o.received,
                    "awaiting_admission": o.awaiting_admission,
                }
                for o in self.facilities
            ],
        }


def status(uow: UnitOfWork) -> StatusReport:
    """Counts derived from the custody projection (itself derived from the events)."""
    facilities = uow.reference.facilities()
    held: dict[str, Counter[str]] = defaultdict(Counter)
    received: Counter[str] = Counter()
    awaiting: Counter[str] = Counter()
    by_status: Counter[str] = Counter()
    movements: Counter[str] = Counter()
    moved = at_origin = 0
    for row in uow.custody.place_counts():
        by_status[row.status] += row.count
        if row.status == Status.HELD.value and row.facility_id is not None:
            held[row.facility_id][row.estate] += row.count
            if row.facility_id == row.origin_id:
                at_origin += row.count
            else:
                received[row.facility_id] += row.count
                moved += row.count
        elif row.status == Status.ARRIVED.value and row.facility_id is not None:
            awaiting[row.facility_id] += row.count
        if row.status in (Status.IN_TRANSIT.value, Status.ARRIVED.value) and row.movement_id is not None:
            movements[row.movement_id] += row.count
    codes = {m.id: m.code for m in uow.movements.all()}
    return StatusReport(
        log_size=uow.custody.size(),
        registered=sum(by_status.values()),
        planned=planned_total(uow),
        moved=moved,
        in_transit=by_status[Status.IN_TRANSIT.value] + by_status[Status.ARRIVED.value],
        held_at_origin=at_origin,
        by_status=dict(by_status),
        facilities=[Occupancy(f, dict(held[f.id]), received[f.id], awaiting[f.id]) for f in facilities],
        in_transit_by_movement={codes.get(k, k): v for k, v in movements.items()},
    )


@dataclass(frozen=True, slots=True)
class PersonView:
    """One person's current custody and whole chain, by random id (identity stays in the registry)."""

    current: CurrentCustody
    chain: list[StoredEvent]
    corrected: frozenset[str]

    def as_dict(self) -> dict[str, Any]:
        s = self.current.state
        return {
            "person_id": s.person_id,
            "status": s.status.value,
            "estate": s.estate.value,
            "custodian_id": s.custodian_id,
            "facility_id": s.facility_id,
            "movement_id": s.movement_id,
            "origin_id": self.current.origin_id,
            "chain": [event_dict(e, corrected=e.event.event_id in self.corrected) for e in self.chain],
        }


def person(uow: UnitOfWork, person_id: str) -> PersonView:
    current = uow.custody.current(person_id)
    if current is None:
        raise NotFoundError("person", person_id, _("No person {id} is registered.").format(id=person_id))
    chain = uow.custody.chain(person_id)
    corrected = frozenset(e.event.corrects for e in chain if e.event.corrects)
    return PersonView(current, chain, corrected)


def event_dict(stored: StoredEvent, corrected: bool = False) -> dict[str, Any]:
    e = stored.event
    result: dict[str, Any] = {
        "seq": stored.seq,
        "event_id": e.event_id,
        "person_id": e.person_id,
        "type": e.type.value,
        "occurred_at": e.occurred_at.isoformat(),
        "recorded_at": e.recorded_at.isoformat(),
        "facility_id": e.facility_id,
        "authority_id": e.authority_id,
        "movement_id": e.movement_id,
        "corrects": e.corrects,
        "details": dict(e.details),
    }
    if corrected:
        result["corrected"] = True
    return result


@dataclass(frozen=True, slots=True)
class EventPage:
    events: list[StoredEvent]
    log_size: int
    next_after: int | None


def events(uow: UnitOfWork, after: int = -1, limit: int = 100) -> EventPage:
    """Events in log order after index `after`; `next_after` continues the walk."""
    limit = max(1, min(limit, 1000))
    page = uow.custody.page(after, limit)
    size = uow.custody.size()
    next_after = page[-1].seq if page and page[-1].seq < size - 1 else None
    return EventPage(page, size, next_after)


def latest_events(uow: UnitOfWork, count: int = 20) -> list[StoredEvent]:
    return uow.custody.page(uow.custody.size(), count, descending=True)


def movements(uow: UnitOfWork) -> list[Movement]:
    return uow.movements.all()
