"""SQL for the operational records around custody: legs, boardings, officers, handovers, incidents, overrides."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, select, update

from handover.core.custody import EventType
from handover.core.custody.model import TransportMode
from handover.core.custody.movements import Leg, Vehicle
from handover.services.ports import Admission, HandoverRecord, Incident, Officer, Override, StoredEvent
from handover.store import mapping
from handover.store.repositories import in_chunks
from handover.store.tables import (
    BoardingRow,
    CustodyEventRow,
    HandoverRow,
    IncidentRow,
    LegRow,
    OfficerRow,
    OverrideRow,
)

legs_t = LegRow.__table__
boardings_t = BoardingRow.__table__
officers_t = OfficerRow.__table__
handovers_t = HandoverRow.__table__
incidents_t = IncidentRow.__table__
overrides_t = OverrideRow.__table__
events_t = CustodyEventRow.__table__


def _leg_row(leg: Leg) -> dict[str, Any]:
    return {
        "id": leg.id,
        "movement_id": leg.movement_id,
        "number": leg.number,
        "from_id": leg.from_id,
        "to_id": leg.to_id,
        "mode": leg.mode.value,
        "escort_id": leg.escort_id,
        "vehicles": mapping.canonical_json([{"call_sign": v.call_sign, "seats": v.seats} for v in leg.vehicles]),
        "scheduled_departure": leg.scheduled_departure,
        "scheduled_arrival": leg.scheduled_arrival,
        "lodging": leg.lodging,
        "departed_at": leg.departed_at,
        "arrived_at": leg.arrived_at,
    }


def _leg(row: Mapping[str, Any]) -> Leg:
    return Leg(
        id=row["id"],
        movement_id=row["movement_id"],
        number=row["number"],
        from_id=row["from_id"],
        to_id=row["to_id"],
        mode=TransportMode(row["mode"]),
        escort_id=row["escort_id"],
        vehicles=tuple(Vehicle(v["call_sign"], int(v["seats"])) for v in json.loads(row["vehicles"])),
        scheduled_departure=row["scheduled_departure"],
        scheduled_arrival=row["scheduled_arrival"],
        lodging=bool(row["lodging"]),
        departed_at=row["departed_at"],
        arrived_at=row["arrived_at"],
    )


def _incident(row: Mapping[str, Any]) -> Incident:
    return Incident(**{**row, "people": tuple(json.loads(row["people"]))})


class SqlOperations:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    # --- legs and boarding -------------------------------------------------------------------------------------

    def add_legs(self, legs: Sequence[Leg]) -> None:
        if legs:
            self._c.execute(insert(legs_t), [_leg_row(leg) for leg in legs])

    def legs(self, movement_id: str) -> list[Leg]:
        rows = self._c.execute(
            select(legs_t).where(legs_t.c.movement_id == movement_id).order_by(legs_t.c.number)
        ).mappings()
        return [_leg(r) for r in rows]

    def replace_legs(self, movement_id: str, legs: Sequence[Leg]) -> None:
        old = select(legs_t.c.id).where(legs_t.c.movement_id == movement_id)
        self._c.execute(delete(boardings_t).where(boardings_t.c.leg_id.in_(old)))
        self._c.execute(delete(legs_t).where(legs_t.c.movement_id == movement_id))
        self.add_legs(legs)

    def set_leg_times(self, leg_id: str, departed_at: datetime | None, arrived_at: datetime | None) -> None:
        self._c.execute(
            update(legs_t).where(legs_t.c.id == leg_id).values(departed_at=departed_at, arrived_at=arrived_at)
        )

    def board(self, leg_id: str, person_ids: Sequence[str], at: datetime, recorded_by: str) -> None:
        if person_ids:
            self._c.execute(
                insert(boardings_t),
                [{"leg_id": leg_id, "person_id": p, "boarded_at": at, "recorded_by": recorded_by} for p in person_ids],
            )

    def unboard(self, leg_id: str, person_ids: Sequence[str]) -> None:
        self._c.execute(
            delete(boardings_t).where(boardings_t.c.leg_id == leg_id, boardings_t.c.person_id.in_(list(person_ids)))
        )

    def boarded(self, leg_id: str) -> set[str]:
        rows = self._c.execute(select(boardings_t.c.person_id).where(boardings_t.c.leg_id == leg_id))
        return {r.person_id for r in rows}

    # --- officers and handovers --------------------------------------------------------------------------------

    def add_officer(self, officer: Officer) -> None:
        self._c.execute(insert(officers_t), [asdict(officer)])

    def officer(self, officer_id: str) -> Officer | None:
        row = self._c.execute(select(officers_t).where(officers_t.c.id == officer_id)).mappings().first()
        return Officer(**row) if row else None

    def officer_by_key(self, public_key: str) -> Officer | None:
        row = self._c.execute(select(officers_t).where(officers_t.c.public_key == public_key)).mappings().first()
        return Officer(**row) if row else None

    def officers(self) -> list[Officer]:
        rows = self._c.execute(select(officers_t).order_by(officers_t.c.authority_id, officers_t.c.name))
        return [Officer(**r) for r in rows.mappings()]

    def add_handover(self, record: HandoverRecord) -> None:
        self._c.execute(insert(handovers_t), [asdict(record)])

    def handover(self, handover_id: str) -> HandoverRecord | None:
        row = self._c.execute(select(handovers_t).where(handovers_t.c.id == handover_id)).mappings().first()
        return HandoverRecord(**row) if row else None

    def update_handover(self, record: HandoverRecord) -> None:
        values = asdict(record)
        self._c.execute(update(handovers_t).where(handovers_t.c.id == values.pop("id")).values(**values))

    def handovers(self, movement_id: str | None = None, state: str | None = None) -> list[HandoverRecord]:
        query = select(handovers_t).order_by(handovers_t.c.occurred_at, handovers_t.c.id)
        if movement_id is not None:
            query = query.where(handovers_t.c.movement_id == movement_id)
        if state is not None:
            query = query.where(handovers_t.c.state == state)
        return [HandoverRecord(**r) for r in self._c.execute(query).mappings()]

    # --- incidents and overrides -------------------------------------------------------------------------------

    def add_incident(self, incident: Incident) -> None:
        row = asdict(incident)
        row["people"] = mapping.canonical_json(list(incident.people))
        self._c.execute(insert(incidents_t), [row])

    def incidents(self, movement_id: str | None = None, kinds: Iterable[str] | None = None) -> list[Incident]:
        query = select(incidents_t).order_by(incidents_t.c.occurred_at.desc(), incidents_t.c.id)
        if movement_id is not None:
            query = query.where(incidents_t.c.movement_id == movement_id)
        if kinds is not None:
            query = query.where(incidents_t.c.kind.in_(list(kinds)))
        return [_incident(r) for r in self._c.execute(query).mappings()]

    def add_overrides(self, overrides: Sequence[Override]) -> None:
        if overrides:
            self._c.execute(insert(overrides_t), [asdict(o) for o in overrides])

    def overrides(self, movement_id: str) -> list[Override]:
        rows = self._c.execute(
            select(overrides_t).where(overrides_t.c.movement_id == movement_id).order_by(overrides_t.c.recorded_at)
        )
        return [Override(**r) for r in rows.mappings()]

    # --- questions answered from the events --------------------------------------------------------------------

    def assessments(self, person_ids: Iterable[str]) -> dict[str, dict[str, str]]:
        ids = sorted(set(person_ids))
        found: dict[str, dict[str, str]] = {p: {} for p in ids}
        for chunk in in_chunks(ids):
            query = (
                select(
                    events_t.c.event_id, events_t.c.person_id, events_t.c.type, events_t.c.corrects, events_t.c.details
                )
                .where(
                    events_t.c.person_id.in_(chunk),
                    events_t.c.type.in_([EventType.ASSESSED.value, EventType.CORRECTED.value]),
                )
                .order_by(events_t.c.seq)
            )
            rows = list(self._c.execute(query))
            voided = {r.corrects for r in rows if r.type == EventType.CORRECTED.value}
            for row in rows:
                if row.type == EventType.ASSESSED.value and row.event_id not in voided:
                    detail = json.loads(row.details)
                    found[row.person_id][detail["kind"]] = detail["outcome"]
        return found

    def movement_events(self, movement_id: str) -> list[StoredEvent]:
        manifested = (
            select(events_t.c.person_id, func.min(events_t.c.seq).label("first"))
            .where(events_t.c.movement_id == movement_id, events_t.c.type == EventType.MANIFESTED.value)
            .group_by(events_t.c.person_id)
            .subquery()
        )
        query = (
            select(events_t)
            .join(
                manifested, and_(manifested.c.person_id == events_t.c.person_id, events_t.c.seq >= manifested.c.first)
            )
            .order_by(events_t.c.seq)
        )
        return [StoredEvent(seq=r["seq"], event=mapping.event(r)) for r in self._c.execute(query).mappings()]

    def unnotified_admissions(self) -> list[Admission]:
        latest = (
            select(events_t.c.person_id, func.max(events_t.c.seq).label("seq"))
            .where(events_t.c.type == EventType.ADMITTED.value)
            .group_by(events_t.c.person_id)
            .subquery()
        )
        notified = (
            select(events_t.c.person_id, func.max(events_t.c.seq).label("seq"))
            .where(events_t.c.type == EventType.NOTIFIED.value)
            .group_by(events_t.c.person_id)
            .subquery()
        )
        query = (
            select(events_t.c.person_id, events_t.c.facility_id, events_t.c.occurred_at, events_t.c.seq)
            .join(latest, latest.c.seq == events_t.c.seq)
            .outerjoin(notified, notified.c.person_id == events_t.c.person_id)
            .where((notified.c.seq.is_(None)) | (notified.c.seq < events_t.c.seq))
            .order_by(events_t.c.seq)
        )
        return [Admission(r.person_id, r.facility_id, r.occurred_at, r.seq) for r in self._c.execute(query)]

    def latest_occurred_at(self) -> datetime | None:
        value: datetime | None = self._c.execute(select(func.max(events_t.c.occurred_at))).scalar_one()
        return value

    def events_between(self, start: datetime, end: datetime) -> list[StoredEvent]:
        query = (
            select(events_t)
            .where(events_t.c.occurred_at >= start, events_t.c.occurred_at < end)
            .order_by(events_t.c.seq)
        )
        return [StoredEvent(seq=r["seq"], event=mapping.event(r)) for r in self._c.execute(query).mappings()]
