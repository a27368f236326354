"""Intake officers' pages: per facility, who arrived and awaits admission, the admission form, and the families
still to be notified (Mandela rule 68), overdue ones first.

Reading needs admission:read and writing admission:write, over the facility: an intake officer sees and works their
own facility only (the index lists only it; any other answers "not found", exactly like an unknown facility), and
the people a write names must be held or awaited there.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from handover.core.custody import EventType, Status
from handover.core.policy.access import Action, Principal, Resource, actor_for, facility_in_scope
from handover.gate import needing
from handover.i18n import _
from handover.services import reconciliation, scope, transfers
from handover.services.errors import NotFoundError
from handover.services.person_events import EventRequest, record_event
from handover.services.ports import UnitOfWork
from handover.services.runtime import Runtime
from handover.web.common import (
    Names,
    Uow,
    attempt,
    clean_id,
    clean_text,
    not_found,
    notification_hours,
    own_people,
    parse_time,
    person_ids,
    reading,
    redirect,
    render,
    runtime,
    scoped_movement,
)
from handover.web.refusals import Refusal
from handover.web.views import PersonLine, awaiting_admission, person_lines

router = APIRouter(default_response_class=HTMLResponse)

Csrf = Annotated[str, Form()]
Text = Annotated[str, Form()]
Ids = Annotated[list[str], Form()]
Reader = Annotated[Principal, needing(Resource.ADMISSION, Action.READ)]
Writer = Annotated[Principal, needing(Resource.ADMISSION, Action.WRITE)]


@dataclass(frozen=True, slots=True)
class ArrivalGroup:
    movement_id: str
    code: str  # empty for people who arrived on no movement (back from hospital)
    origin: str
    people: list[PersonLine]
    not_handed_over: int  # people still in another authority's custody: a signed handover comes first


@dataclass(frozen=True, slots=True)
class TaskRow:
    person_id: str
    admitted_at: datetime
    due_at: datetime
    overdue: bool


def _tasks(request: Request, uow: UnitOfWork, facility_id: str | None = None) -> list[TaskRow]:
    tasks = reconciliation.notification_tasks(uow, runtime(request).clock(), notification_hours(request))
    rows = [
        TaskRow(t.person_id, t.admitted_at, t.due_at, t.overdue)
        for t in tasks
        if facility_id is None or t.facility_id == facility_id
    ]
    return sorted(rows, key=lambda t: (not t.overdue, t.due_at, t.person_id))


@dataclass(frozen=True, slots=True)
class FacilityQueue:
    id: str
    name: str
    country: str
    awaiting: int
    to_notify: int
    overdue: int


@router.get("/intake", name="web_intake")
def intake(request: Request, uow: Uow, who: Reader) -> HTMLResponse:
    """Every facility in the reader's scope that holds people or has arrivals: how many await admission, how many
    families to notify."""
    names = Names(uow)
    tasks = reconciliation.notification_tasks(uow, runtime(request).clock(), notification_hours(request))
    awaiting: Counter[str] = Counter()
    for row in uow.custody.place_counts():
        if row.status == Status.ARRIVED.value and row.facility_id is not None:
            awaiting[row.facility_id] += row.count
    queues = []
    for f in uow.reference.facilities():
        if f.capacity.total == 0 and not awaiting[f.id]:
            continue
        if not facility_in_scope(who, f.id, Resource.ADMISSION, Action.READ):
            continue
        mine = [t for t in tasks if t.facility_id == f.id]
        overdue = sum(1 for t in mine if t.overdue)
        queues.append(FacilityQueue(f.id, names.facility(f.id), f.country, awaiting[f.id], len(mine), overdue))
    queues.sort(key=lambda q: (-q.awaiting, -q.overdue, q.name))
    return render(request, "intake_index.html", {"facilities": queues, "hours": notification_hours(request)})


def _queue_page(
    request: Request,
    uow: UnitOfWork,
    who: Principal,
    facility_id: str,
    refusal: Refusal | None = None,
    chosen: list[str] | None = None,
) -> HTMLResponse:
    try:
        scope.visible_facility(uow, who, facility_id, Resource.ADMISSION)
    except NotFoundError as missing:
        return not_found(request, missing.message)
    facility = uow.reference.facility(facility_id)
    assert facility is not None  # visible_facility found it
    states = awaiting_admission(uow, facility.id)
    names = Names(uow, [s.movement_id for s in states])
    movements = {m.id: m for m in uow.movements.all()}
    groups = []
    for movement_id in dict.fromkeys(s.movement_id or "" for s in states):
        m = movements.get(movement_id)
        people = [s for s in states if (s.movement_id or "") == movement_id]
        groups.append(
            ArrivalGroup(
                movement_id,
                m.code if m else "",
                names.facility(m.origin_id) if m else "",
                person_lines(uow, names, people),
                sum(1 for s in people if s.custodian_id != facility.authority_id),
            )
        )
    context = {
        "facility": {
            "id": facility.id,
            "name": names.facility(facility.id),
            "country": facility.country,
            "authority": names.authority(facility.authority_id),
        },
        "groups": groups,
        "tasks": _tasks(request, uow, facility.id),
        "hours": notification_hours(request),
        "chosen": chosen,
        "now": runtime(request).clock(),
        "refusal": refusal,
    }
    return render(request, "intake.html", context, status_code=refusal.status if refusal else 200)


@router.get("/intake/{facility_id}", name="web_arrivals")
def arrivals(request: Request, facility_id: str, uow: Uow, who: Reader) -> HTMLResponse:
    return _queue_page(request, uow, who, facility_id)


def _after(
    request: Request, who: Principal, facility_id: str, refusal: Refusal | None, chosen: list[str] | None = None
) -> Response:
    if refusal is None:
        return redirect(request.url_for("web_arrivals", facility_id=facility_id).path)
    with reading(request) as uow:
        return _queue_page(request, uow, who, facility_id, refusal, chosen)


@router.post("/intake/{facility_id}/admit", name="web_admit")
def admit(
    request: Request,
    facility_id: str,
    who: Writer,
    csrf: Csrf = "",
    movement: Text = "",
    person_id: Ids = [],  # noqa: B006 - FastAPI copies defaults
    people: Text = "",
    occurred_at: Text = "",
) -> Response:
    """Admit people a movement brought here: those ticked (and typed), or all of them when none are."""

    def act(uow: UnitOfWork, rt: Runtime) -> object:
        scope.visible_facility(uow, who, facility_id, Resource.ADMISSION, Action.WRITE)
        chosen = own_people(uow, who, person_ids(person_id, people))
        at = parse_time(occurred_at, rt)
        if movement:
            m = scoped_movement(uow, who, clean_id(movement, _("The movement")))
            if m.destination_id != facility_id:
                raise ValueError(
                    _("Movement {code} is bound for {destination}, not {facility}.").format(
                        code=m.code, destination=m.destination_id, facility=facility_id
                    )
                )
            return transfers.admit(uow, rt, m.id, at, chosen or None, actor=actor_for(who))
        if not chosen:
            raise ValueError(_("Tick the people to admit."))
        return [
            record_event(
                uow, rt, p, EventRequest(type=EventType.ADMITTED.value, occurred_at=at, facility_id=facility_id)
            )
            for p in chosen
        ]

    done = attempt(request, csrf, act)
    return _after(request, who, facility_id, done.refusal, person_id)


@router.post("/intake/{facility_id}/notify", name="web_record_notification")
def record_notification(
    request: Request,
    facility_id: str,
    who: Writer,
    csrf: Csrf = "",
    person_id: Text = "",
    channel: Text = "",
    occurred_at: Text = "",
) -> Response:
    """Record that a person's family was told of their admission (a NOTIFIED custody event)."""

    def act(uow: UnitOfWork, rt: Runtime) -> object:
        scope.visible_facility(uow, who, facility_id, Resource.ADMISSION, Action.WRITE)
        how = clean_text(channel, _("The channel"), 200)
        if not how:
            raise ValueError(_("Say how the family was notified (phone, letter, ICRC, ...)."))
        (person,) = own_people(uow, who, [clean_id(person_id, _("The person"))])
        request_ = EventRequest(type=EventType.NOTIFIED.value, occurred_at=parse_time(occurred_at, rt), channel=how)
        return record_event(uow, rt, person, request_)

    return _after(request, who, facility_id, attempt(request, csrf, act).refusal)
