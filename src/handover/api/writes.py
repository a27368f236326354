"""The JSON API's write side for people: registration, one person's events and corrections.

Routes parse, require the operator, call one service and commit; movements, handovers and the other operations are
in `movements`, `handovers` and `operations`.

Every route runs in one unit of work: it commits only after the service returns, and any refusal or error rolls the
whole request back, so nothing is partly written (DESIGN.md, rule 7). Refusals answer 409 problem documents naming
the person, the rule and the state. Until accounts exist one operator token guards every write (rule 8 comes with
accounts); reads stay as they are.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import Field

from handover.api.deps import Rt, WriteUow, require_operator
from handover.api.routes import Event
from handover.api.schema import (
    OPERATOR_RESPONSES,
    Country,
    EventList,
    Id,
    Name,
    PathId,
    StrictModel,
    Text,
    When,
    events,
)
from handover.core.custody import Sex
from handover.core.custody.identity import Identity
from handover.services import custody, queries, registry
from handover.services.person_events import EventRequest, PersonEventType, record_event

router = APIRouter(dependencies=[Depends(require_operator)], responses=OPERATOR_RESPONSES)


class NewPerson(StrictModel):
    person_id: Id | None = Field(None, description="Optional: lets children in the same request name their mother.")
    name_ar: Name
    name_latin: Name
    aliases: list[Name] = Field([])
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
    occurred_at: When
    people: list[NewPerson] = Field(min_length=1)


class PersonEvent(StrictModel):
    type: PersonEventType
    occurred_at: When
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


@router.post("/persons", status_code=201, response_model=EventList, summary="Register people (identity is not echoed)")
def register_people(body: Registration, uow: WriteUow, rt: Rt) -> dict[str, Any]:
    people = [registry.NewPerson(p.identity(), body.facility_id, body.custodian_id, p.person_id) for p in body.people]
    stored = registry.register_people(uow, rt, people, body.occurred_at)
    uow.commit()
    return events(stored)


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
