"""The JSON API's write side for people: registration, one person's events and corrections.

Routes parse, check the account and its scope, call one service and commit; movements, handovers and the other
operations are in `movements`, `handovers` and `operations`.

Every route runs in one unit of work: it commits only after the service returns, and any refusal or error rolls the
whole request back, so nothing is partly written (DESIGN.md, rule 7). Refusals answer 409 problem documents naming
the person, the rule and the state.

What each route needs (DESIGN.md, rule 8): these are the facility's record of the people it holds, so all of them
need admission:write, over the facility (registration) or the person (events, corrections). An event recorded here
that is a safeguard review (`assessed`) needs assessment:write as well, and one that is an incident (escape, death,
hospital, recapture) incident:write, each over the person; an event that brings someone into a facility (recapture,
arrival, admission) may be recorded by whoever may write that facility's records.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import Field

from handover.api import scoped
from handover.api.deps import Rt, WriteUow
from handover.api.routes import Event
from handover.api.schema import (
    WRITE_RESPONSES,
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
from handover.core.policy.access import Action, Principal, Resource
from handover.gate import needing
from handover.services import custody, queries, registry
from handover.services.person_events import EventRequest, PersonEventType, record_event

router = APIRouter(responses=WRITE_RESPONSES)
Records = Annotated[Principal, needing(Resource.ADMISSION, Action.WRITE)]

# The resource an event of each type belongs to, beyond the facility's record (admission).
EVENT_RESOURCE: dict[PersonEventType, Resource] = {
    PersonEventType.ASSESSED: Resource.ASSESSMENT,
    PersonEventType.HOSPITALISED: Resource.INCIDENT,
    PersonEventType.ESCAPED: Resource.INCIDENT,
    PersonEventType.RECAPTURED: Resource.INCIDENT,
    PersonEventType.DIED: Resource.INCIDENT,
}
# Events that bring the person into the facility named: the facility's scope is enough (an escaped person is nobody's).
INTO_FACILITY = frozenset({PersonEventType.RECAPTURED, PersonEventType.ARRIVED, PersonEventType.ADMITTED})


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
def register_people(body: Registration, uow: WriteUow, rt: Rt, who: Records) -> dict[str, Any]:
    scoped.facility(uow, who, body.facility_id, Resource.ADMISSION, Action.WRITE)
    people = [registry.NewPerson(p.identity(), body.facility_id, body.custodian_id, p.person_id) for p in body.people]
    stored = registry.register_people(uow, rt, people, body.occurred_at)
    uow.commit()
    return events(stored)


@router.post(
    "/persons/{person_id}/events", status_code=201, response_model=Event, summary="Record an event for one person"
)
def record_person_event(person_id: PathId, body: PersonEvent, uow: WriteUow, rt: Rt, who: Records) -> dict[str, Any]:
    resource = EVENT_RESOURCE.get(body.type, Resource.ADMISSION)
    scoped.must(who, resource, Action.WRITE)
    if body.facility_id is not None:
        scoped.facility(uow, who, body.facility_id, resource, Action.WRITE)
    if body.type not in INTO_FACILITY or body.facility_id is None:
        scoped.person(uow, who, person_id, resource, Action.WRITE)
    stored = record_event(uow, rt, person_id, EventRequest(**body.model_dump()))
    uow.commit()
    return queries.event_dict(stored)


@router.post(
    "/persons/{person_id}/corrections",
    status_code=201,
    response_model=Event,
    summary="Void one earlier event of a person by a correction that points at it",
)
def correct(person_id: PathId, body: Correction, uow: WriteUow, rt: Rt, who: Records) -> dict[str, Any]:
    scoped.person(uow, who, person_id, Resource.ADMISSION, Action.WRITE)
    stored = custody.correct(uow, rt, person_id, body.target_event_id, body.reason)
    uow.commit()
    return queries.event_dict(stored)
