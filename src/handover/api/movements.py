"""Movements through the API: plan them (legs, manifest under safeguards), run them leg by leg, close them.

Thin routes: parse, check the account and its scope, call one service in the request's unit of work, commit. Any
refusal rolls the whole request back and answers a problem document: 409 naming the person or the movement, the
rule and the state; 403 when the account lacks the permission; 404 for a movement out of its scope, as for one that
does not exist.

What each route needs: reading a movement (its legs, people, report) movement:read over it; planning it (create,
legs, approve, cancel, manifest) plan:write, and the dry run of a manifest plan:read; running it (board, depart,
arrive, return to origin, reconcile) movement:write over it (a field officer: the movements their authority
escorts); admitting its people admission:write at its destination.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, Field, StringConstraints

from handover.api import scoped
from handover.api.deps import Rt, Uow, WriteUow
from handover.api.routes import Movement, movement_dict
from handover.api.schema import (
    READ_RESPONSES,
    WRITE_RESPONSES,
    EventList,
    Id,
    Leg,
    MovementRef,
    StrictModel,
    Text,
    When,
    events,
    leg_dict,
)
from handover.core.custody.model import TransportMode
from handover.core.custody.movements import Leg as LegRecord
from handover.core.custody.movements import Movement as MovementRecord
from handover.core.custody.movements import Vehicle as VehicleRecord
from handover.core.custody.movements import seat_limit
from handover.core.policy.access import Action, Principal, Resource, actor_for, facility_in_scope
from handover.core.policy.safeguards import Safeguard
from handover.gate import needing
from handover.services import reconciliation, transfers
from handover.services.ports import UnitOfWork

router = APIRouter()
Reads = Annotated[Principal, needing(Resource.MOVEMENT, Action.READ)]
Runs = Annotated[Principal, needing(Resource.MOVEMENT, Action.WRITE)]
Plans = Annotated[Principal, needing(Resource.PLAN, Action.WRITE)]
Checks = Annotated[Principal, needing(Resource.PLAN, Action.READ)]
Admits = Annotated[Principal, needing(Resource.ADMISSION, Action.WRITE)]
PersonIds = Annotated[list[Id], Field(min_length=1, max_length=5000)]
LegNumber = Annotated[int | None, Field(None, ge=1, le=1000, description="The leg; the next one due if absent.")]


# --- requests -------------------------------------------------------------------------------------------------------


class NewMovement(StrictModel):
    code: Id
    route_id: Id
    scheduled_at: When


class Vehicle(StrictModel):
    call_sign: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")]
    seats: int = Field(ge=1, le=10_000)


class LegPlan(StrictModel):
    from_id: Id
    to_id: Id
    mode: TransportMode
    escort_id: Id
    vehicles: list[Vehicle] = Field(min_length=1, max_length=100)
    scheduled_departure: When
    scheduled_arrival: When
    lodging: bool = Field(False, description="An overnight stop at the leg's end.")

    def plan(self) -> transfers.LegPlan:
        return transfers.LegPlan(
            from_id=self.from_id,
            to_id=self.to_id,
            mode=self.mode,
            escort_id=self.escort_id,
            vehicles=tuple(VehicleRecord(v.call_sign, v.seats) for v in self.vehicles),
            scheduled_departure=self.scheduled_departure,
            scheduled_arrival=self.scheduled_arrival,
            lodging=self.lodging,
        )


class LegPlans(StrictModel):
    legs: list[LegPlan] = Field(min_length=1, max_length=50)


class Cancellation(StrictModel):
    # Always a reason, even for a movement nobody is on yet: a cancelled movement is something a monitor asks about.
    reason: Annotated[str, StringConstraints(max_length=2000, pattern=r"^[^\x00]*\S[^\x00]*$")]
    occurred_at: When


class ManifestChange(StrictModel):
    person_ids: PersonIds
    occurred_at: When
    overrides: list[Safeguard] = Field(
        [], description="Safeguards to override for this request (needs the permission and a reason)."
    )
    reason: Text = Field("", description="Why the safeguards named in `overrides` are overridden.")


class ManifestCheck(StrictModel):
    person_ids: PersonIds


class ManifestRemoval(StrictModel):
    person_ids: PersonIds
    occurred_at: When
    reason: Text


class Boarding(StrictModel):
    person_ids: PersonIds
    occurred_at: When
    leg: LegNumber = None


class LegMove(StrictModel):
    occurred_at: When
    leg: LegNumber = None


class Admission(StrictModel):
    occurred_at: When
    person_ids: list[Id] | None = Field(
        None, min_length=1, max_length=5000, description="Who to admit; everyone arrived on the movement if absent."
    )


class Return(StrictModel):
    person_ids: PersonIds
    occurred_at: When


# --- answers --------------------------------------------------------------------------------------------------------


class OnBoard(BaseModel):
    person_id: str
    status: str
    estate: str
    custodian_id: str | None
    facility_id: str | None


class MovementDetail(Movement):
    route_id: str | None
    escort_id: str
    seats: int | None
    legs: list[Leg]
    people: list[OnBoard]


class LegProgress(EventList):
    movement: Movement
    leg: Leg | None


class Cancelled(EventList):
    movement: Movement


class Breach(BaseModel):
    person_id: str
    safeguard: str
    message: str


class CheckResult(BaseModel):
    movement: str
    ok: bool
    breaches: list[Breach]


class ReportMovement(BaseModel):
    id: str
    code: str
    state: str


class ReportLeg(BaseModel):
    number: int
    from_: str = Field(alias="from")
    to: str
    boarded: int
    accounted: int
    outcomes: dict[str, int]


class ReportIncident(BaseModel):
    id: str
    kind: str
    people: list[str]


class ReportOverride(BaseModel):
    person_id: str
    safeguards: list[str]
    reason: str
    by: str


class Report(BaseModel):
    movement: ReportMovement
    manifest: int
    departed: int
    accounted: int
    unaccounted: list[str]
    outcomes: dict[str, int]
    legs: list[ReportLeg]
    open_handovers: list[str]
    incidents: list[ReportIncident]
    overrides: list[ReportOverride]


def _legs(uow: UnitOfWork, legs: list[LegRecord]) -> list[dict[str, Any]]:
    return [leg_dict(leg, len(uow.operations.boarded(leg.id))) for leg in legs]


def _detail(uow: UnitOfWork, m: MovementRecord) -> dict[str, Any]:
    legs = transfers.legs(uow, m.id)
    people = [
        {
            "person_id": s.person_id,
            "status": s.status.value,
            "estate": s.estate.value,
            "custodian_id": s.custodian_id,
            "facility_id": s.facility_id,
        }
        for s in transfers.on_movement(uow, m.id)
    ]
    return movement_dict(m) | {
        "route_id": m.route_id,
        "escort_id": m.escort_id,
        "seats": seat_limit(legs),
        "legs": _legs(uow, legs),
        "people": people,
    }


def _progress(uow: UnitOfWork, movement: str, leg: LegRecord | None, stored: list[Any]) -> dict[str, Any]:
    m = transfers.movement(uow, movement)
    current = None
    if leg is not None:
        current = next(x for x in transfers.legs(uow, m.id) if x.id == leg.id)
    return {
        "movement": movement_dict(m),
        "leg": leg_dict(current, len(uow.operations.boarded(current.id))) if current else None,
    } | events(stored)


def _planned(uow: UnitOfWork, who: Principal, movement: str) -> None:
    scoped.movement(uow, who, movement, Action.WRITE, Resource.PLAN)


# --- reads ----------------------------------------------------------------------------------------------------------


@router.get(
    "/movements/{movement}",
    response_model=MovementDetail,
    summary="One movement with its legs and the people on it now",
    responses=READ_RESPONSES,
)
def get_movement(movement: MovementRef, uow: Uow, who: Reads) -> dict[str, Any]:
    return _detail(uow, scoped.movement(uow, who, movement))


@router.get(
    "/movements/{movement}/legs", response_model=list[Leg], summary="A movement's legs", responses=READ_RESPONSES
)
def get_legs(movement: MovementRef, uow: Uow, who: Reads) -> list[dict[str, Any]]:
    scoped.movement(uow, who, movement)
    return _legs(uow, transfers.legs(uow, movement))


@router.get(
    "/movements/{movement}/report",
    response_model=Report,
    summary="Departed against accounted for, per leg and per outcome; handovers, incidents, overrides",
    responses=READ_RESPONSES,
)
def get_report(movement: MovementRef, uow: Uow, who: Reads) -> dict[str, Any]:
    scoped.movement(uow, who, movement)
    return reconciliation.report(uow, movement).as_dict()


# --- planning -------------------------------------------------------------------------------------------------------


@router.post(
    "/movements",
    status_code=201,
    response_model=MovementDetail,
    summary="Create a draft movement on a route, with one planned leg per stretch",
    responses=WRITE_RESPONSES,
)
def create_movement(body: NewMovement, uow: WriteUow, rt: Rt, who: Plans) -> dict[str, Any]:
    created = transfers.create_movement(uow, rt, body.code, body.route_id, body.scheduled_at, actor_for(who))
    answer = _detail(uow, created)
    uow.commit()
    return answer


@router.put(
    "/movements/{movement}/legs",
    response_model=list[Leg],
    summary="Replace a draft or approved movement's legs (from its origin to its destination)",
    responses=WRITE_RESPONSES,
)
def plan_legs(movement: MovementRef, body: LegPlans, uow: WriteUow, rt: Rt, who: Plans) -> list[dict[str, Any]]:
    _planned(uow, who, movement)
    legs = transfers.plan_legs(uow, rt, movement, [leg.plan() for leg in body.legs], actor_for(who))
    uow.commit()
    return [leg_dict(leg, 0) for leg in legs]


@router.post(
    "/movements/{movement}/approve",
    response_model=Movement,
    summary="Approve a draft movement",
    responses=WRITE_RESPONSES,
)
def approve(movement: MovementRef, uow: WriteUow, who: Plans) -> dict[str, Any]:
    _planned(uow, who, movement)
    transfers.approve(uow, movement, actor_for(who))
    approved = transfers.movement(uow, movement)
    uow.commit()
    return movement_dict(approved)


@router.post(
    "/movements/{movement}/cancel",
    response_model=Cancelled,
    summary="Cancel a movement that has not left; everyone on it is taken off its manifest, with the reason",
    responses=WRITE_RESPONSES,
)
def cancel(movement: MovementRef, body: Cancellation, uow: WriteUow, rt: Rt, who: Plans) -> dict[str, Any]:
    _planned(uow, who, movement)
    stored = transfers.cancel(uow, rt, movement, body.reason, body.occurred_at, actor_for(who))
    cancelled = transfers.movement(uow, movement)
    uow.commit()
    return {"movement": movement_dict(cancelled)} | events(stored)


# --- the manifest ---------------------------------------------------------------------------------------------------


@router.post(
    "/movements/{movement}/manifest",
    status_code=201,
    response_model=EventList,
    summary="Put people on the manifest, under the safeguards (overrides need the permission and a reason)",
    responses=WRITE_RESPONSES,
)
def manifest(movement: MovementRef, body: ManifestChange, uow: WriteUow, rt: Rt, who: Plans) -> dict[str, Any]:
    _planned(uow, who, movement)
    actor = actor_for(who)
    stored = transfers.manifest(
        uow, rt, movement, body.person_ids, body.occurred_at, actor, overrides=body.overrides, reason=body.reason
    )
    uow.commit()
    return events(stored)


@router.post(
    "/movements/{movement}/manifest/check",
    response_model=CheckResult,
    summary="Dry run: the safeguards putting these people on the manifest would break (nothing is written)",
    responses=READ_RESPONSES,
)
def check_manifest(movement: MovementRef, body: ManifestCheck, uow: Uow, who: Checks) -> dict[str, Any]:
    m = scoped.movement(uow, who, movement, Action.READ, Resource.PLAN)
    found = transfers.check_manifest(uow, m.id, body.person_ids)
    return {
        "movement": m.code,
        "ok": not found,
        "breaches": [{"person_id": b.person_id, "safeguard": b.safeguard.value, "message": b.message} for b in found],
    }


@router.post(
    "/movements/{movement}/unmanifest",
    status_code=201,
    response_model=EventList,
    summary="Take people off the manifest, with the reason",
    responses=WRITE_RESPONSES,
)
def unmanifest(movement: MovementRef, body: ManifestRemoval, uow: WriteUow, rt: Rt, who: Plans) -> dict[str, Any]:
    _planned(uow, who, movement)
    actor = actor_for(who)
    stored = transfers.unmanifest(uow, rt, movement, body.person_ids, body.reason, body.occurred_at, actor)
    uow.commit()
    return events(stored)


# --- running it, leg by leg -----------------------------------------------------------------------------------------


@router.post(
    "/movements/{movement}/board",
    status_code=201,
    response_model=LegProgress,
    summary="Count people aboard the next leg (or the one named)",
    responses=WRITE_RESPONSES,
)
def board(movement: MovementRef, body: Boarding, uow: WriteUow, rt: Rt, who: Runs) -> dict[str, Any]:
    scoped.movement(uow, who, movement, Action.WRITE)
    leg = transfers.board(uow, rt, movement, body.person_ids, body.occurred_at, body.leg, actor_for(who))
    answer = _progress(uow, movement, leg, [])
    uow.commit()
    return answer


def _leg_after(uow: UnitOfWork, movement: str, number: int | None, departed: bool) -> LegRecord | None:
    """The leg a depart or arrive just moved: the one named, else the last one with that time set."""
    legs = transfers.legs(uow, movement)
    if number is not None:
        return next((leg for leg in legs if leg.number == number), None)
    moved = [leg for leg in legs if (leg.departed_at if departed else leg.arrived_at) is not None]
    return moved[-1] if moved else None


@router.post(
    "/movements/{movement}/depart",
    status_code=201,
    response_model=LegProgress,
    summary="The next leg (or the one named) departs; the first departure freezes the manifest",
    responses=WRITE_RESPONSES,
)
def depart(movement: MovementRef, body: LegMove, uow: WriteUow, rt: Rt, who: Runs) -> dict[str, Any]:
    scoped.movement(uow, who, movement, Action.WRITE)
    stored = transfers.depart(uow, rt, movement, body.occurred_at, body.leg, actor_for(who))
    answer = _progress(uow, movement, _leg_after(uow, movement, body.leg, departed=True), stored)
    uow.commit()
    return answer


@router.post(
    "/movements/{movement}/arrive",
    status_code=201,
    response_model=LegProgress,
    summary="The leg under way (or the one named) arrives; at the last leg's end everyone arrives at the destination",
    responses=WRITE_RESPONSES,
)
def arrive(movement: MovementRef, body: LegMove, uow: WriteUow, rt: Rt, who: Runs) -> dict[str, Any]:
    scoped.movement(uow, who, movement, Action.WRITE)
    stored = transfers.arrive(uow, rt, movement, body.occurred_at, body.leg, actor_for(who))
    answer = _progress(uow, movement, _leg_after(uow, movement, body.leg, departed=False), stored)
    uow.commit()
    return answer


@router.post(
    "/movements/{movement}/admit",
    status_code=201,
    response_model=EventList,
    summary="The destination admits arrived people (everyone the movement brought, unless named)",
    responses=WRITE_RESPONSES,
)
def admit(movement: MovementRef, body: Admission, uow: WriteUow, rt: Rt, who: Admits) -> dict[str, Any]:
    # Admission happens at the destination: whoever may not admit there finds no such movement.
    if not facility_in_scope(who, transfers.movement(uow, movement).destination_id, Resource.ADMISSION, Action.WRITE):
        raise scoped.no_movement(movement)
    stored = transfers.admit(uow, rt, movement, body.occurred_at, body.person_ids, actor_for(who))
    uow.commit()
    return events(stored)


@router.post(
    "/movements/{movement}/return",
    status_code=201,
    response_model=EventList,
    summary="People in transit brought back to the origin: they arrive there and are admitted again",
    responses=WRITE_RESPONSES,
)
def return_to_origin(movement: MovementRef, body: Return, uow: WriteUow, rt: Rt, who: Runs) -> dict[str, Any]:
    scoped.movement(uow, who, movement, Action.WRITE)
    stored = transfers.return_to_origin(uow, rt, movement, body.person_ids, body.occurred_at, actor_for(who))
    uow.commit()
    return events(stored)


@router.post(
    "/movements/{movement}/reconcile",
    response_model=Report,
    summary="Close an arrived movement: refused while any manifest line has no outcome or a handover is open",
    responses=WRITE_RESPONSES,
)
def reconcile(movement: MovementRef, uow: WriteUow, who: Runs) -> dict[str, Any]:
    scoped.movement(uow, who, movement, Action.WRITE)
    closed = reconciliation.reconcile(uow, movement, actor_for(who)).as_dict()
    uow.commit()
    return closed
