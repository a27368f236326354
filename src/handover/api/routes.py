"""The JSON API, version 1: thin routes over the read-side services.

No route reveals identity (names, dates of birth, nationalities): people are named by their random id only, until
accounts and need-to-know access exist (DESIGN.md, rule 8).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from handover.api.deps import Uow
from handover.api.problems import problem_response
from handover.core.custody.movements import Movement as MovementRecord
from handover.services import queries

router = APIRouter(
    responses={
        400: problem_response("Bad request (problem document)."),
        422: problem_response("The request is not valid (problem document with an `errors` list)."),
    }
)


class FacilityOccupancy(BaseModel):
    id: str
    name: str
    country: str
    kind: str
    held: dict[str, int]
    capacity: dict[str, int]
    free: dict[str, int]
    total: int
    received: int
    awaiting_admission: int


class Status(BaseModel):
    log_size: int
    registered: int
    planned: int
    moved: int
    in_transit: int
    held_at_origin: int
    by_status: dict[str, int]
    in_transit_by_movement: dict[str, int]
    facilities: list[FacilityOccupancy]


class Event(BaseModel):
    seq: int
    event_id: str
    person_id: str
    type: str
    occurred_at: str
    recorded_at: str
    facility_id: str | None
    authority_id: str | None
    movement_id: str | None
    corrects: str | None
    details: dict[str, str]
    corrected: bool = False


class Person(BaseModel):
    person_id: str
    status: str
    estate: str
    custodian_id: str | None
    facility_id: str | None
    movement_id: str | None
    origin_id: str
    chain: list[Event]


class EventPage(BaseModel):
    events: list[Event]
    log_size: int
    next_after: int | None


class Movement(BaseModel):
    id: str
    code: str
    origin: str
    destination: str
    mode: str
    state: str
    scheduled_at: str


@router.get("/status", response_model=Status, summary="Counts derived from the custody log")
def get_status(uow: Uow) -> dict[str, Any]:
    return queries.status(uow).as_dict()


@router.get(
    "/persons/{person_id}",
    response_model=Person,
    summary="One person's current custody and whole chain, by random id",
    responses={404: problem_response("No such person (problem document).")},
)
def get_person(person_id: str, uow: Uow) -> dict[str, Any]:
    return queries.person(uow, person_id).as_dict()


@router.get("/facilities", response_model=list[FacilityOccupancy], summary="Occupancy per estate against capacity")
def get_facilities(uow: Uow) -> list[dict[str, Any]]:
    facilities: list[dict[str, Any]] = queries.status(uow).as_dict()["facilities"]
    return facilities


@router.get("/events", response_model=EventPage, summary="Custody events in log order")
def get_events(
    uow: Uow,
    after: int = Query(-1, ge=-1, description="Log index to continue after; -1 starts at the beginning."),
    limit: int = Query(100, ge=1, le=1000, description="Most events to return."),
) -> dict[str, Any]:
    page = queries.events(uow, after=after, limit=limit)
    return {
        "events": [queries.event_dict(e) for e in page.events],
        "log_size": page.log_size,
        "next_after": page.next_after,
    }


@router.get("/movements", response_model=list[Movement], summary="Group transfers")
def get_movements(uow: Uow) -> list[dict[str, Any]]:
    return [movement_dict(m) for m in queries.movements(uow)]


def movement_dict(m: MovementRecord) -> dict[str, Any]:
    """A movement as the API shows it (reads and writes alike)."""
    return {
        "id": m.id,
        "code": m.code,
        "origin": m.origin_id,
        "destination": m.destination_id,
        "mode": m.mode.value,
        "state": m.state.value,
        "scheduled_at": m.scheduled_at.isoformat(),
    }
