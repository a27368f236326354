"""The rest of the daily work through the API: assessments, incidents, family notifications, alerts, the daily roll
and the safeguard policy.

What each route needs: assessments assessment:write over each person (a legal reviewer: those awaiting review);
incidents incident:write over the movement, facility or people concerned (and incident:read to list them, as far as
the account's scope goes); family notifications admission:read/write over the facility or person (an intake officer:
their own facility); alerts incident:read (each one kept only when in scope); the daily roll is aggregate counts,
public like the status (report:read); the safeguard policy safeguards:read/write.
"""

from __future__ import annotations

from datetime import UTC, date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import AfterValidator, BaseModel, Field

from handover.api import scoped
from handover.api.deps import NotificationHours, Rt, Uow, Who, WriteUow
from handover.api.routes import Event
from handover.api.schema import (
    READ_RESPONSES,
    WRITE_RESPONSES,
    EventList,
    Id,
    Name,
    PathId,
    StrictModel,
    When,
    events,
)
from handover.core.policy.access import Action, Principal, Resource, actor_for, facility_in_scope
from handover.core.policy.safeguards import ALL, FIT_TO_TRAVEL, LEGAL_REVIEW, Safeguard
from handover.gate import needing, needs
from handover.services import assessments, incidents, queries, reconciliation, transfers
from handover.services.incidents import IncidentKind
from handover.services.person_events import EventRequest, PersonEventType, record_event
from handover.services.ports import Incident, UnitOfWork

router = APIRouter()
Reviews = Annotated[Principal, needing(Resource.ASSESSMENT, Action.WRITE)]
Reports = Annotated[Principal, needing(Resource.INCIDENT, Action.WRITE)]
Incidents = Annotated[Principal, needing(Resource.INCIDENT, Action.READ)]
Admissions = Annotated[Principal, needing(Resource.ADMISSION, Action.READ)]
Notifies = Annotated[Principal, needing(Resource.ADMISSION, Action.WRITE)]


# --- assessments ----------------------------------------------------------------------------------------------------


class Assessment(StrictModel):
    person_ids: list[Id] = Field(min_length=1, max_length=5000)
    kind: Literal["fit_to_travel", "legal_review"] = Field(description=f"{FIT_TO_TRAVEL} or {LEGAL_REVIEW}.")
    outcome: Annotated[str, Field(min_length=1, max_length=32, description="fit or unfit; cleared or risk.")]
    occurred_at: When


@router.post(
    "/assessments",
    status_code=201,
    response_model=EventList,
    summary="Record a fit-to-travel or legal-review outcome for people (one event each)",
    responses=WRITE_RESPONSES,
)
def assess(body: Assessment, uow: WriteUow, rt: Rt, who: Reviews) -> dict[str, Any]:
    scoped.people(uow, who, body.person_ids, Resource.ASSESSMENT, Action.WRITE)
    actor = actor_for(who)
    stored = assessments.assess(uow, rt, body.person_ids, body.kind, body.outcome, body.occurred_at, actor)
    uow.commit()
    return events(stored)


# --- incidents ------------------------------------------------------------------------------------------------------


class NewIncident(StrictModel):
    kind: IncidentKind
    occurred_at: When
    description: Annotated[str, Field(min_length=1, max_length=2000, pattern=r"^[^\x00]*$")]
    people: list[Id] = Field([], max_length=5000)
    movement: Id | None = Field(None, description="The movement it happened on (id or code).")
    facility_id: Id | None = Field(
        None, description="Where the people are taken (a recapture, a return from hospital; the hospital if known)."
    )


class IncidentOut(BaseModel):
    id: str
    kind: str
    occurred_at: str
    recorded_at: str
    movement_id: str | None
    facility_id: str | None
    people: list[str]
    description: str
    recorded_by: str


class Reported(BaseModel):
    incident: IncidentOut
    events: list[Event]


def incident_dict(i: Incident) -> dict[str, Any]:
    return {
        "id": i.id,
        "kind": i.kind,
        "occurred_at": i.occurred_at.isoformat(),
        "recorded_at": i.recorded_at.isoformat(),
        "movement_id": i.movement_id,
        "facility_id": i.facility_id,
        "people": list(i.people),
        "description": i.description,
        "recorded_by": i.recorded_by,
    }


@router.post(
    "/incidents",
    status_code=201,
    response_model=Reported,
    summary="Report an incident; escapes, deaths, hospitalisations, returns and recaptures change custody",
    responses=WRITE_RESPONSES,
)
def report_incident(body: NewIncident, uow: WriteUow, rt: Rt, who: Reports) -> dict[str, Any]:
    _incident_in_scope(uow, who, body)
    incident, stored = incidents.report(
        uow,
        rt,
        body.kind,
        body.occurred_at,
        body.description,
        people=body.people,
        movement_id=body.movement,
        facility_id=body.facility_id,
        actor=actor_for(who),
    )
    uow.commit()
    return {"incident": incident_dict(incident)} | events(stored)


def _incident_in_scope(uow: UnitOfWork, who: Principal, body: NewIncident) -> None:
    """404 (as if absent) for a movement, facility or person of the report the account may not report on. People
    taken into custody at a facility (a recapture, a return from hospital) are in scope through that facility."""
    write, resource = Action.WRITE, Resource.INCIDENT
    if scoped.everything(who, resource, write):
        return
    if body.movement is not None:
        scoped.movement(uow, who, body.movement, write, resource)
    if body.facility_id is not None:
        scoped.facility(uow, who, body.facility_id, resource, write)
    if body.facility_id is None or body.kind not in (IncidentKind.RECAPTURE, IncidentKind.HOSPITAL_RETURN):
        scoped.people(uow, who, body.people, resource, write)


@router.get("/incidents", response_model=list[IncidentOut], summary="Incidents, latest first", responses=READ_RESPONSES)
def list_incidents(
    uow: Uow,
    who: Incidents,
    movement: Annotated[str | None, Query(max_length=64, description="Only this movement's (id or code).")] = None,
) -> list[dict[str, Any]]:
    if movement is not None:
        scoped.movement(uow, who, movement, Action.READ, Resource.INCIDENT)
    return [incident_dict(i) for i in incidents.incidents(uow, movement) if scoped.sees_incident(uow, who, i)]


# --- family notification (Mandela rule 68) --------------------------------------------------------------------------


class NotificationTask(BaseModel):
    person_id: str
    facility_id: str
    admitted_at: str
    due_at: str
    overdue: bool


class Notification(StrictModel):
    channel: Name = Field(description="How the family was told: ICRC message, phone, letter, ...")
    occurred_at: When


@router.get(
    "/notifications",
    response_model=list[NotificationTask],
    summary="Admitted people whose family has not been notified yet, with the overdue ones flagged",
    responses=READ_RESPONSES,
)
def notification_tasks(
    uow: Uow,
    rt: Rt,
    who: Admissions,
    configured: NotificationHours,
    hours: Annotated[int | None, Query(ge=1, le=24 * 365, description="Override the configured hours.")] = None,
    overdue: Annotated[bool, Query(description="Only the overdue ones.")] = False,
) -> list[dict[str, Any]]:
    tasks = reconciliation.notification_tasks(uow, rt.clock(), hours or configured)
    return [
        {
            "person_id": t.person_id,
            "facility_id": t.facility_id,
            "admitted_at": t.admitted_at.isoformat(),
            "due_at": t.due_at.isoformat(),
            "overdue": t.overdue,
        }
        for t in tasks
        if (t.overdue or not overdue) and facility_in_scope(who, t.facility_id, Resource.ADMISSION, Action.READ)
    ]


@router.post(
    "/persons/{person_id}/notifications",
    status_code=201,
    response_model=Event,
    summary="Record that a person's family was notified (a `notified` custody event)",
    responses=WRITE_RESPONSES,
)
def notify(person_id: PathId, body: Notification, uow: WriteUow, rt: Rt, who: Notifies) -> dict[str, Any]:
    scoped.person(uow, who, person_id, Resource.ADMISSION, Action.WRITE)
    request = EventRequest(type=PersonEventType.NOTIFIED, occurred_at=body.occurred_at, channel=body.channel)
    stored = record_event(uow, rt, person_id, request)
    uow.commit()
    return queries.event_dict(stored)


# --- alerts and the daily roll --------------------------------------------------------------------------------------


class Alert(BaseModel):
    kind: str
    subject: str
    message: str
    at: str


@router.get(
    "/alerts",
    response_model=list[Alert],
    summary="Escapes and deaths, half-signed handovers, overdue family notifications; latest first",
    responses=READ_RESPONSES,
)
def alerts(uow: Uow, rt: Rt, hours: NotificationHours, who: Incidents) -> list[dict[str, Any]]:
    found = _in_scope(uow, who, reconciliation.alerts(uow, rt.clock(), hours))
    return [{"kind": a.kind, "subject": a.subject, "message": a.message, "at": a.at.isoformat()} for a in found]


def _in_scope(uow: UnitOfWork, who: Principal, found: list[reconciliation.Alert]) -> list[reconciliation.Alert]:
    """The alerts the account may see: an incident's as the incident, a half-signed handover's as its movement, and
    the count of overdue family notifications (across every facility) only if it sees every facility's admissions."""
    every_admission = scoped.everything(who, Resource.ADMISSION, Action.READ)
    if every_admission and scoped.everything(who, Resource.INCIDENT, Action.READ):
        return found
    by_id = {i.id: i for i in uow.operations.incidents()} if found else {}
    kept = []
    for alert in found:
        if alert.kind == "handover_open":
            handover = uow.operations.handover(alert.subject)
            seen = handover is not None and scoped.sees_movement(uow, who, handover.movement_id, Action.READ)
        elif alert.kind == "notification_overdue":
            seen = every_admission
        else:
            incident = by_id.get(alert.subject)
            seen = incident is not None and scoped.sees_incident(uow, who, incident)
        if seen:
            kept.append(alert)
    return kept


def _day(day: date | None) -> date | None:
    if day is not None and not date(1900, 1, 1) <= day < date(2200, 1, 1):
        raise ValueError("must be between 1900 and 2200")
    return day


class RollCount(BaseModel):
    facility_id: str
    name: str
    in_: int = Field(alias="in")
    out: int
    held: int
    in_transit: int
    expected: int
    capacity: int
    free: int


class Roll(BaseModel):
    day: date
    facilities: list[RollCount]


@router.get(
    "/roll",
    response_model=Roll,
    summary="The daily roll per facility: in, out, held, in transit, expected, capacity, free",
    responses=READ_RESPONSES,
    dependencies=[needs(Resource.REPORT, Action.READ)],
)
def roll(
    uow: Uow,
    rt: Rt,
    day: Annotated[date | None, Query(description="YYYY-MM-DD (UTC); today if absent."), AfterValidator(_day)] = None,
) -> dict[str, Any]:
    when = day or rt.clock().astimezone(UTC).date()
    return {"day": when, "facilities": [c.as_dict() for c in reconciliation.roll(uow, when)]}


# --- the safeguard policy -------------------------------------------------------------------------------------------


class SafeguardPolicy(BaseModel):
    applying: list[Safeguard]
    available: list[Safeguard]


class PolicyChange(StrictModel):
    applying: list[Safeguard] = Field(max_length=len(ALL))


def _policy(applying: frozenset[Safeguard]) -> dict[str, Any]:
    return {"applying": sorted(applying), "available": sorted(ALL)}


@router.get(
    "/policy/safeguards",
    response_model=SafeguardPolicy,
    summary="Which safeguards apply",
    responses=READ_RESPONSES,
    dependencies=[needs(Resource.SAFEGUARDS, Action.READ)],
)
def get_policy(uow: Uow) -> dict[str, Any]:
    return _policy(transfers.safeguards_applying(uow))


@router.put(
    "/policy/safeguards",
    response_model=SafeguardPolicy,
    summary="Set which safeguards apply (needs the permission to override safeguards)",
    responses=WRITE_RESPONSES,
    dependencies=[needs(Resource.SAFEGUARDS, Action.WRITE)],
)
def set_policy(body: PolicyChange, uow: WriteUow, actor: Who) -> dict[str, Any]:
    transfers.set_safeguards(uow, body.applying, actor)
    applying = transfers.safeguards_applying(uow)
    uow.commit()
    return _policy(applying)
