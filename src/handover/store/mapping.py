"""Rows to core objects and back."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Any

from handover.core.custody import (
    Authority,
    Capacity,
    CustodyEvent,
    Estate,
    EventType,
    Facility,
    PersonState,
    Status,
)
from handover.core.custody.identity import Identity
from handover.core.custody.model import AuthorityKind, FacilityKind, Sex, TransportMode
from handover.core.custody.movements import Movement, MovementState, Route
from handover.services.ports import CurrentCustody, PersonRecord

_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def canonical_json(value: Any) -> str:
    return _CANONICAL.encode(value)


def authority_row(a: Authority) -> dict[str, Any]:
    return {"id": a.id, "name": a.name, "kind": a.kind.value, "country": a.country}


def authority(row: Mapping[str, Any]) -> Authority:
    return Authority(id=row["id"], name=row["name"], kind=AuthorityKind(row["kind"]), country=row["country"])


def facility_row(f: Facility) -> dict[str, Any]:
    return {
        "id": f.id,
        "name": f.name,
        "name_ar": f.name_ar,
        "country": f.country,
        "kind": f.kind.value,
        "latitude": f.latitude,
        "longitude": f.longitude,
        "authority_id": f.authority_id,
        "security_level": f.security_level,
        "capacity_adult_men": f.capacity.adult_men,
        "capacity_adult_women": f.capacity.adult_women,
        "capacity_minors": f.capacity.minors,
    }


def facility(row: Mapping[str, Any]) -> Facility:
    return Facility(
        id=row["id"],
        name=row["name"],
        name_ar=row["name_ar"],
        country=row["country"],
        kind=FacilityKind(row["kind"]),
        latitude=row["latitude"],
        longitude=row["longitude"],
        authority_id=row["authority_id"],
        security_level=row["security_level"],
        capacity=Capacity(row["capacity_adult_men"], row["capacity_adult_women"], row["capacity_minors"]),
    )


def route_row(r: Route) -> dict[str, Any]:
    return {
        "id": r.id,
        "origin_id": r.origin_id,
        "destination_id": r.destination_id,
        "via": json.dumps(list(r.via)),
        "mode": r.mode.value,
        "escort_id": r.escort_id,
        "distance_km": r.distance_km,
        "seats": r.seats,
    }


def route(row: Mapping[str, Any]) -> Route:
    return Route(
        id=row["id"],
        origin_id=row["origin_id"],
        destination_id=row["destination_id"],
        via=tuple(json.loads(row["via"])),
        mode=TransportMode(row["mode"]),
        escort_id=row["escort_id"],
        distance_km=row["distance_km"],
        seats=row["seats"],
    )


def movement_row(m: Movement) -> dict[str, Any]:
    return {
        "id": m.id,
        "code": m.code,
        "route_id": m.route_id,
        "origin_id": m.origin_id,
        "destination_id": m.destination_id,
        "mode": m.mode.value,
        "escort_id": m.escort_id,
        "state": m.state.value,
        "scheduled_at": m.scheduled_at,
    }


def movement(row: Mapping[str, Any]) -> Movement:
    return Movement(
        id=row["id"],
        code=row["code"],
        route_id=row["route_id"],
        origin_id=row["origin_id"],
        destination_id=row["destination_id"],
        mode=TransportMode(row["mode"]),
        escort_id=row["escort_id"],
        state=MovementState(row["state"]),
        scheduled_at=row["scheduled_at"],
    )


def person_row(p: PersonRecord) -> dict[str, Any]:
    i = p.identity
    return {
        "id": p.id,
        "name_ar": i.name_ar,
        "name_latin": i.name_latin,
        "aliases": canonical_json(list(i.aliases)),
        "sex": i.sex.value,
        "birth_date": i.birth_date,
        "age_estimated": i.age_estimated,
        "nationality": i.nationality,
        "nationalities": canonical_json(list(i.nationalities)),
        "mother_id": i.mother_id,
        "estate": p.estate,
        "identity_salt": p.identity_salt,
        "identity_commitment": p.identity_commitment,
    }


def person(row: Mapping[str, Any]) -> PersonRecord:
    born = row["birth_date"]
    identity = Identity(
        name_ar=row["name_ar"],
        name_latin=row["name_latin"],
        aliases=tuple(json.loads(row["aliases"])),
        sex=Sex(row["sex"]),
        birth_date=born if isinstance(born, date) or born is None else date.fromisoformat(born),
        age_estimated=bool(row["age_estimated"]),
        nationalities=tuple(json.loads(row["nationalities"])),
        mother_id=row["mother_id"],
    )
    return PersonRecord(
        id=row["id"],
        identity=identity,
        estate=row["estate"],
        identity_salt=row["identity_salt"],
        identity_commitment=row["identity_commitment"],
    )


def event_row(seq: int, e: CustodyEvent) -> dict[str, Any]:
    return {
        "seq": seq,
        "event_id": e.event_id,
        "person_id": e.person_id,
        "type": e.type.value,
        "occurred_at": e.occurred_at,
        "recorded_at": e.recorded_at,
        "facility_id": e.facility_id,
        "authority_id": e.authority_id,
        "movement_id": e.movement_id,
        "corrects": e.corrects,
        "details": canonical_json(dict(e.details)),
    }


def event(row: Mapping[str, Any]) -> CustodyEvent:
    return CustodyEvent(
        event_id=row["event_id"],
        person_id=row["person_id"],
        type=EventType(row["type"]),
        occurred_at=row["occurred_at"],
        recorded_at=row["recorded_at"],
        facility_id=row["facility_id"],
        authority_id=row["authority_id"],
        movement_id=row["movement_id"],
        corrects=row["corrects"],
        details=tuple(sorted(json.loads(row["details"]).items())),
    )


def current_row(c: CurrentCustody) -> dict[str, Any]:
    s = c.state
    return {
        "person_id": s.person_id,
        "status": s.status.value,
        "estate": s.estate.value,
        "custodian_id": s.custodian_id,
        "facility_id": s.facility_id,
        "movement_id": s.movement_id,
        "origin_id": c.origin_id,
        "last_event_id": s.last_event_id,
        "event_count": s.event_count,
    }


def state(row: Mapping[str, Any]) -> PersonState:
    return PersonState(
        person_id=row["person_id"],
        status=Status(row["status"]),
        estate=Estate(row["estate"]),
        custodian_id=row["custodian_id"],
        facility_id=row["facility_id"],
        movement_id=row["movement_id"],
        last_event_id=row["last_event_id"],
        event_count=row["event_count"],
    )


def current(row: Mapping[str, Any]) -> CurrentCustody:
    return CurrentCustody(state=state(row), origin_id=row["origin_id"])
