"""The JSON API's write side for custody: thin routes that parse, require the operator, call one service and commit.

Every route runs in one unit of work: it commits only after the service returns, and any refusal or error rolls the
whole request back, so nothing is partly written (DESIGN.md, rule 7). Refusals answer 409 problem documents naming
the person, the rule and the state. Until accounts exist one operator token guards every write (rule 8 comes with
accounts); reads stay as they are.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from handover.api.deps import Rt, WriteUow, require_operator
from handover.api.problems import problem_response
from handover.api.routes import Event, Movement, movement_dict
from handover.core.custody import Sex
from handover.core.custody.identity import Identity
from handover.services import custody, queries, registry, transfers
from handover.services.person_events import EventRequest, PersonEventType, record_event
from handover.services.ports import StoredEvent

router = APIRouter(
    dependencies=[Depends(require_operator)],
    responses={
        400: problem_response("Bad request (problem document)."),
        401: problem_response("No valid operator token (problem document; see WWW-Authenticate)."),
        403: problem_response("Writes are disabled: no operator token is configured (problem document)."),
        404: problem_response("A person, facility, authority, route or movement named does not exist."),
        409: problem_response(
            "Refused by a custody rule (with `person_id`, `rule` and `state`) or in conflict with a movement's state "
            "(with `subject`, `rule` and `state`). Nothing was written."
        ),
        422: problem_response("The request is not valid (problem document with an `errors` list)."),
    },
)

# Ids and free text are bounded by the columns they end up in (64 characters for ids), and control characters are
# refused: PostgreSQL rejects NUL in text, which would otherwise surface as a 500 for bad input.
Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=300, pattern=r"^[^\x00-\x1f\x7f]+$")]
Text = Annotated[str, StringConstraints(max_length=2000, pattern=r"^[^\x00]*$")]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
PathId = Annotated[str, Path(max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")]
MovementRef = Annotated[str, Path(max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$", description="Movement id or code.")]


class StrictModel(BaseModel):
    # A misspelt field is an error, not something to drop silently (it would leave part of the request unrecorded).
    model_config = ConfigDict(extra="forbid")


class NewPerson(StrictModel):
    person_id: Id | None = Field(None, description="Optional: lets children in the same request name their mother.")
    name_ar: Name
    name_latin: Name
    aliases: list[Name] = []
    sex: Sex
    birth_date: date | None = Field(None, description="YYYY-MM-DD; an estimate when `age_estimated`.")
    age_estimated: bool = False
    nationalities: list[Country] = Field([], description="ISO 3166-1 alpha-2 codes, main nationality first.")
    mother_id: Id | None = None

    def identity(self) -> Identity:
        return Identity(
            name_ar=self.name_ar,
            name_latin=self.name_latin,
            aliases=tuple(self.aliases),
            sex=self.sex,
            birth_date=self.birth_date,
            age_estimated=self.age_estimated,
            nationalities=tuple(self.nationalities),
            mother_id=self.mother_id,
        )


class Registration(StrictModel):
    facility_id: Id
    custodian_id: Id | None = Field(None, description="Defaults to the facility's operating authority.")
    occurred_at: AwareDatetime
    people: list[NewPerson] = Field(min_length=1)


class PersonEvent(StrictModel):
    type: PersonEventType
    occurred_at: AwareDatetime
    facility_id: Id | None = None
    authority_id: Id | None = None
    kind: Text | None = None
    outcome: Text | None = None
    reason: Text | None = None
    place: Text | None = None
    channel: Text | None = None
    country: Country | None = None


class Correction(StrictModel):
    target_event_id: Id
    # No minimum length here: a blank reason is refused by the custody rule (reason-required), like any other.
    reason: Text


class NewMovement(StrictModel):
    code: Id
    route_id: Id
    scheduled_at: AwareDatetime


class ManifestChange(StrictModel):
    person_ids: list[Id] = Field(min_length=1)
    occurred_at: AwareDatetime


class ManifestRemoval(ManifestChange):
    reason: Text


class Occurred(StrictModel):
    occurred_at: AwareDatetime


class Handover(StrictModel):
    from_authority_id: Id
    to_authority_id: Id
    place_id: Id | None = None
    occurred_at: AwareDatetime


class Admission(StrictModel):
    occurred_at: AwareDatetime
    person_ids: list[Id] | None = Field(None, description="Who to admit; everyone arrived on the movement if absent.")


class EventList(BaseModel):
    events: list[Event]


def _events(stored: list[StoredEvent]) -> dict[str, Any]:
    return {"events": [queries.event_dict(e) for e in stored]}


@router.post("/persons", status_code=201, response_model=EventList, summary="Register people (identity is not echoed)")
def register_people(body: Registration, uow: WriteUow, rt: Rt) -> dict[str, Any]:
    people = [registry.NewPerson(p.identity(), body.facility_id, body.custodian_id, p.person_id) for p in body.people]
    stored = registry.register_people(uow, rt, people, body.occurred_at)
    uow.commit()
    return _events(stored)


@router.post(
    "/persons/{person_id}/events", status_code=201, response_model=Event, summary="Record an event for one person"
)
def record_person_event(person_id: PathId, body: PersonEvent, uow: WriteUow, rt: Rt) -> dict[str, Any]:
    stored = record_event(uow, rt, person_id, EventRequest(**body.model_dump()))
    uow.commit()
    return queries.event_dict(stored)


@router.post(
    "/persons/{person_id}/corrections",
    status_code=201,
    response_model=Event,
    summary="Void one earlier event of a person by a correction that points at it",
)
def correct(person_id: PathId, body: Correction, uow: WriteUow, rt: Rt) -> dict[str, Any]:
    stored = custody.correct(uow, rt, person_id, body.target_event_id, body.reason)
    uow.commit()
    return queries.event_dict(stored)


@router.post("/movements", status_code=201, response_model=Movement, summary="Create a draft movement on a route")
def create_movement(body: NewMovement, uow: WriteUow, rt: Rt) -> dict[str, Any]:
    created = transfers.create_movement(uow, rt, body.code, body.route_id, body.scheduled_at)
    uow.commit()
    return movement_dict(created)


@router.post("/movements/{movement}/approve", response_model=Movement, summary="Approve a draft movement")
def approve(movement: MovementRef, uow: WriteUow) -> dict[str, Any]:
    transfers.approve(uow, movement)
    approved = transfers.movement(uow, movement)
    uow.commit()
    return movement_dict(approved)


@router.post(
    "/movements/{movement}/manifest", status_code=201, response_model=EventList, summary="Put people on the manifest"
)
def manifest(movement: MovementRef, body: ManifestChange, uow: WriteUow, rt: Rt) -> dict[str, Any]:
    stored = transfers.manifest(uow, rt, movement, body.person_ids, body.occurred_at)
    uow.commit()
    return _events(stored)


@router.post(
    "/movements/{movement}/unmanifest",
    status_code=201,
    response_model=EventList,
    summary="Take people off the manifest, with the reason",
)
def unmanifest(movement: MovementRef, body: ManifestRemoval, uow: WriteUow, rt: Rt) -> dict[str, Any]:
    stored = transfers.unmanifest(uow, rt, movement, body.person_ids, body.reason, body.occurred_at)
    uow.commit()
    return _events(stored)


@router.post(
    "/movements/{movement}/depart",
    status_code=201,
    response_model=EventList,
    summary="Everyone on the manifest departs; the manifest freezes",
)
def depart(movement: MovementRef, body: Occurred, uow: WriteUow, rt: Rt) -> dict[str, Any]:
    stored = transfers.depart(uow, rt, movement, body.occurred_at)
    uow.commit()
    return _events(stored)


@router.post(
    "/movements/{movement}/handover",
    status_code=201,
    response_model=EventList,
    summary="Custody of everyone on the movement passes to another authority",
)
def hand_over(movement: MovementRef, body: Handover, uow: WriteUow, rt: Rt) -> dict[str, Any]:
    stored = transfers.hand_over(
        uow, rt, movement, body.from_authority_id, body.to_authority_id, body.place_id, body.occurred_at
    )
    uow.commit()
    return _events(stored)


@router.post(
    "/movements/{movement}/arrive",
    status_code=201,
    response_model=EventList,
    summary="Everyone in transit arrives at the destination",
)
def arrive(movement: MovementRef, body: Occurred, uow: WriteUow, rt: Rt) -> dict[str, Any]:
    stored = transfers.arrive(uow, rt, movement, body.occurred_at)
    uow.commit()
    return _events(stored)


@router.post(
    "/movements/{movement}/admit",
    status_code=201,
    response_model=EventList,
    summary="The destination admits arrived people",
)
def admit(movement: MovementRef, body: Admission, uow: WriteUow, rt: Rt) -> dict[str, Any]:
    stored = transfers.admit(uow, rt, movement, body.occurred_at, body.person_ids)
    uow.commit()
    return _events(stored)
