"""The JSON API, version 1: thin routes over the read-side services.

No route reveals identity (names, dates of birth, nationalities): people are named by their random id only. Counts
are public (report:read); a person's custody chain needs person:read over them, and each read is recorded in the
access log and the transparency log with its purpose (DESIGN.md, rule 8); the event stream is the log's (log:read);
movements are listed as far as the principal's scope goes.
"""

from __future__ import annotations

from typing import Annotated, Any, cast

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from handover.api import scoped
from handover.api.deps import Rt, Uow, WriteUow
from handover.api.problems import PROBLEM_BASE, problem, problem_response
from handover.core.custody.movements import Movement as MovementRecord
from handover.core.policy.access import Action, Principal, Purpose, Resource
from handover.gate import needing, needs
from handover.i18n import _
from handover.services import access_log, queries
from handover.services.errors import ConflictError
from handover.services.ports import AccountsUnitOfWork

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


PURPOSE_REQUIRED = "purpose-required"


@router.get(
    "/status",
    response_model=Status,
    summary="Counts derived from the custody log",
    dependencies=[needs(Resource.REPORT, Action.READ)],
)
def get_status(uow: Uow) -> dict[str, Any]:
    return queries.status(uow).as_dict()


@router.get(
    "/persons/{person_id}",
    response_model=Person,
    summary="One person's current custody and whole chain, by random id (the read is recorded, with its purpose)",
    responses={
        400: problem_response("A purpose is needed from this role (`rule` purpose-required), or is not one."),
        404: problem_response("No such person, or not one this account may see (problem document)."),
    },
)
def get_person(
    request: Request,
    person_id: str,
    uow: WriteUow,
    rt: Rt,
    who: Annotated[Principal, needing(Resource.PERSON, Action.READ)],
    purpose: Annotated[Purpose | None, Query(description="Why the record is read (some roles must say).")] = None,
    note: Annotated[str, Query(max_length=2000, description="The reason in words (kept, never logged).")] = "",
) -> Any:
    # The purpose first: asking without one tells nothing about whether the person exists.
    try:
        chosen = access_log.purpose_for(who, purpose)
    except ConflictError as missing:
        if missing.rule != PURPOSE_REQUIRED:
            raise
        return purpose_required(request, missing.message)
    scoped.person(uow, who, person_id, Resource.PERSON, Action.READ)
    answer = queries.person(uow, person_id).as_dict()
    access_log.record_read(cast(AccountsUnitOfWork, uow), rt, who, person_id, chosen, note)
    uow.commit()
    return answer


def purpose_required(request: Request, message: str) -> JSONResponse:
    return problem(
        request, 400, PROBLEM_BASE + PURPOSE_REQUIRED, _("A purpose is needed"), message, rule=PURPOSE_REQUIRED
    )


@router.get(
    "/facilities",
    response_model=list[FacilityOccupancy],
    summary="Occupancy per estate against capacity",
    dependencies=[needs(Resource.REPORT, Action.READ)],
)
def get_facilities(uow: Uow) -> list[dict[str, Any]]:
    facilities: list[dict[str, Any]] = queries.status(uow).as_dict()["facilities"]
    return facilities


@router.get(
    "/events",
    response_model=EventPage,
    summary="Custody events in log order (every event of every person: the log's readers only)",
    dependencies=[needs(Resource.LOG, Action.READ)],
)
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


@router.get("/movements", response_model=list[Movement], summary="Group transfers (those in the account's scope)")
def get_movements(uow: Uow, who: Annotated[Principal, needing(Resource.MOVEMENT, Action.READ)]) -> list[dict[str, Any]]:
    return [movement_dict(m) for m in scoped.movements(uow, who, queries.movements(uow))]


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
