"""Field officers' pages, made for a phone: the boarding checklist, departures and arrivals, incidents, and
two-party handovers signed in the browser with each officer's own Ed25519 key (the key never leaves the browser).

Reading needs movement:read and writing movement:write (incidents: incident:write), each over the movement's
scope: a field officer works the movements their authority escorts, and any other movement (or handover on one)
answers "not found", exactly like an unknown one. People a write names must be in the writer's scope too.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from handover.core.custody import PersonState, Status
from handover.core.custody.handover import DiscrepancyKind, Side
from handover.core.custody.movements import Leg, Movement, MovementState
from handover.core.policy.access import Action, Principal, Resource, actor_for, movement_in_scope
from handover.gate import needing
from handover.i18n import _
from handover.services import handovers, incidents, scope, transfers
from handover.services.errors import NotFoundError
from handover.services.ports import HandoverRecord, UnitOfWork
from handover.services.runtime import Runtime
from handover.web.common import (
    MovementReader,
    MovementWriter,
    Names,
    Uow,
    attempt,
    clean_id,
    clean_text,
    is_htmx,
    not_found,
    noted_people,
    own_people,
    parse_int,
    parse_time,
    person_ids,
    reading,
    redirect,
    render,
    runtime,
    scoped_movement,
)
from handover.web.labels import discrepancy_label, incident_kind_label, side_label
from handover.web.refusals import Refusal
from handover.web.views import (
    LegRow,
    PersonLine,
    facility_choices,
    handover_rows,
    leg_rows,
    manifest_people,
    movement_view,
    person_lines,
)

router = APIRouter(default_response_class=HTMLResponse)

Csrf = Annotated[str, Form()]
Text = Annotated[str, Form()]
Ids = Annotated[list[str], Form()]
_WITH_THE_GROUP = frozenset({Status.HELD, Status.IN_TRANSIT, Status.ARRIVED})


def _url(request: Request, name: str, **params: str) -> str:
    return request.url_for(name, **params).path


# --- the checklist -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Checklist:
    phase: str  # "not-ready" (not approved), "boarding", "under-way", "done"
    leg: LegRow | None
    leg_count: int
    people: list[PersonLine]  # due on the leg (boarding) or aboard it (under way)
    boarded: frozenset[str]
    due: int
    seats: int

    @property
    def boarded_count(self) -> int:
        return len(self.boarded)

    @property
    def all_boarded(self) -> bool:
        return self.due > 0 and all(p.person_id in self.boarded for p in self.people)


def _due(uow: UnitOfWork, m: Movement, leg: Leg) -> list[PersonState]:
    """Who should board `leg`: the manifest before the first departure, then whoever travels on the movement."""
    wanted = Status.HELD if leg.number == 1 else Status.IN_TRANSIT
    return [s for s in manifest_people(uow, m) if s.status is wanted]


def _checklist(uow: UnitOfWork, names: Names, m: Movement) -> Checklist:
    legs = uow.operations.legs(m.id)
    current = next((leg for leg in legs if leg.arrived_at is None), None)
    if current is None or m.state in (MovementState.CANCELLED, MovementState.RECONCILED):
        return Checklist("done", None, len(legs), [], frozenset(), 0, 0)
    [row] = leg_rows(names, [current])
    boarded = frozenset(uow.operations.boarded(current.id))
    if current.departed_at is None:
        due = _due(uow, m, current)
        phase = "boarding" if m.state in (MovementState.APPROVED, MovementState.IN_PROGRESS) else "not-ready"
        return Checklist(phase, row, len(legs), person_lines(uow, names, due), boarded, len(due), current.seats)
    aboard = [s for s in manifest_people(uow, m) if s.person_id in boarded and s.status in _WITH_THE_GROUP]
    return Checklist(
        "under-way", row, len(legs), person_lines(uow, names, aboard), boarded, len(boarded), current.seats
    )


def _checklist_context(request: Request, uow: UnitOfWork, m: Movement, refusal: Refusal | None) -> dict[str, Any]:
    names = Names(uow, [m.id])
    return {
        "m": movement_view(uow, names, m),
        "checklist": _checklist(uow, names, m),
        "handovers": handover_rows(names, uow.operations.handovers(movement_id=m.id)),
        "on_movement": person_lines(uow, names, manifest_people(uow, m)),
        "in_transit": person_lines(uow, names, [s for s in manifest_people(uow, m) if s.status is Status.IN_TRANSIT]),
        "incident_kinds": [(k.value, incident_kind_label(k.value)) for k in incidents.IncidentKind],
        "facilities": facility_choices(uow, names),
        "now": runtime(request).clock(),
        "refusal": refusal,
    }


def _checklist_page(
    request: Request, uow: UnitOfWork, who: Principal, ref: str, refusal: Refusal | None = None
) -> HTMLResponse:
    try:
        m = scoped_movement(uow, who, ref)
    except NotFoundError as missing:
        return not_found(request, missing.message)
    template = "_checklist.html" if is_htmx(request) else "checklist.html"
    context = _checklist_context(request, uow, m, refusal)
    return render(request, template, context, status_code=refusal.status if refusal else 200)


def _after(request: Request, who: Principal, ref: str, refusal: Refusal | None) -> Response:
    """HTMX gets the checklist back in place; a plain form post is redirected, or shown the refusal."""
    if refusal is None and not is_htmx(request):
        return redirect(_url(request, "web_checklist", ref=ref))
    with reading(request) as uow:
        return _checklist_page(request, uow, who, ref, refusal)


def _running(uow: UnitOfWork, who: Principal, ref: str) -> Movement:
    """The movement a write runs, when the writer's scope holds it (else refused as unknown)."""
    return scoped_movement(uow, who, ref, Action.WRITE)


@router.get("/movements/{ref}/checklist", name="web_checklist")
def checklist(request: Request, ref: str, uow: Uow, who: MovementReader) -> HTMLResponse:
    return _checklist_page(request, uow, who, ref)


@router.post("/movements/{ref}/board", name="web_board")
def board(
    request: Request,
    ref: str,
    who: MovementWriter,
    csrf: Csrf = "",
    leg: Text = "",
    person_id: Ids = [],  # noqa: B006 - FastAPI copies defaults
    everyone: Text = "",
    row: Text = "",
    occurred_at: Text = "",
) -> Response:
    """Count people aboard the current leg: one tapped row (HTMX answers that row), or everyone left."""

    def act(uow: UnitOfWork, rt: Runtime) -> object:
        m = _running(uow, who, ref)
        number = parse_int(leg, _("The leg"))
        chosen = own_people(uow, who, person_ids(person_id))
        if everyone == "yes":
            current = next((x for x in uow.operations.legs(m.id) if x.departed_at is None), None)
            if current is None:
                raise ValueError(_("Every leg of movement {code} has departed.").format(code=m.code))
            already = uow.operations.boarded(current.id)
            chosen = [s.person_id for s in _due(uow, m, current) if s.person_id not in already]
            number = current.number
        if not chosen:
            raise ValueError(_("Tick the people to count aboard."))
        return transfers.board(
            uow, rt, m.id, chosen, parse_time(occurred_at, rt), leg_number=number, actor=actor_for(who)
        )

    refusal = attempt(request, csrf, act).refusal
    if row != "yes" or not is_htmx(request):
        return _after(request, who, ref, refusal)
    with reading(request) as uow:
        try:
            m = scoped_movement(uow, who, ref)
        except NotFoundError as missing:
            return not_found(request, missing.message)
        context = _checklist_context(request, uow, m, refusal)
        tapped = set(person_id)
        context["rows"] = [p for p in context["checklist"].people if p.person_id in tapped]
        return render(request, "_board_update.html", context, status_code=refusal.status if refusal else 200)


@router.post("/movements/{ref}/depart", name="web_depart")
def depart(
    request: Request, ref: str, who: MovementWriter, csrf: Csrf = "", leg: Text = "", occurred_at: Text = ""
) -> Response:
    def act(uow: UnitOfWork, rt: Runtime) -> object:
        m = _running(uow, who, ref)
        return transfers.depart(
            uow, rt, m.id, parse_time(occurred_at, rt), parse_int(leg, _("The leg")), actor=actor_for(who)
        )

    return _after(request, who, ref, attempt(request, csrf, act).refusal)


@router.post("/movements/{ref}/arrive", name="web_arrive")
def arrive(
    request: Request, ref: str, who: MovementWriter, csrf: Csrf = "", leg: Text = "", occurred_at: Text = ""
) -> Response:
    def act(uow: UnitOfWork, rt: Runtime) -> object:
        m = _running(uow, who, ref)
        return transfers.arrive(
            uow, rt, m.id, parse_time(occurred_at, rt), parse_int(leg, _("The leg")), actor=actor_for(who)
        )

    return _after(request, who, ref, attempt(request, csrf, act).refusal)


@router.post("/movements/{ref}/return", name="web_return_to_origin")
def return_to_origin(
    request: Request,
    ref: str,
    who: MovementWriter,
    csrf: Csrf = "",
    person_id: Ids = [],  # noqa: B006 - FastAPI copies defaults
    occurred_at: Text = "",
) -> Response:
    """People in transit brought back to where they left from (their manifest line's outcome: returned)."""

    def act(uow: UnitOfWork, rt: Runtime) -> object:
        m = _running(uow, who, ref)
        chosen = own_people(uow, who, person_ids(person_id))
        if not chosen:
            raise ValueError(_("Tick the people brought back to the origin."))
        return transfers.return_to_origin(uow, rt, m.id, chosen, parse_time(occurred_at, rt), actor=actor_for(who))

    return _after(request, who, ref, attempt(request, csrf, act).refusal)


@router.post("/movements/{ref}/incidents", name="web_report_incident")
def report_incident(
    request: Request,
    ref: str,
    who: Annotated[Principal, needing(Resource.INCIDENT, Action.WRITE)],
    csrf: Csrf = "",
    kind: Text = "",
    person_id: Ids = [],  # noqa: B006
    people: Text = "",
    description: Text = "",
    facility_id: Text = "",
    occurred_at: Text = "",
) -> Response:
    def act(uow: UnitOfWork, rt: Runtime) -> object:
        try:
            what = incidents.IncidentKind(kind)
        except ValueError:
            raise ValueError(_("Choose what kind of incident happened.")) from None
        m = scoped_movement(uow, who, ref, Action.WRITE, Resource.INCIDENT)
        return incidents.report(
            uow,
            rt,
            what,
            parse_time(occurred_at, rt),
            clean_text(description, _("The description")),
            people=own_people(uow, who, person_ids(person_id, people)),
            movement_id=m.id,
            facility_id=clean_id(facility_id, _("The facility")) or None,
            actor=actor_for(who),
        )

    return _after(request, who, ref, attempt(request, csrf, act).refusal)


# --- handovers -----------------------------------------------------------------------------------------------------


def _holders(uow: UnitOfWork, m: Movement) -> list[str]:
    """Authorities holding people on the movement, most people first."""
    counts: dict[str, int] = {}
    for s in manifest_people(uow, m):
        if s.custodian_id and s.status in _WITH_THE_GROUP:
            counts[s.custodian_id] = counts.get(s.custodian_id, 0) + 1
    return sorted(counts, key=lambda a: -counts[a])


def _here(uow: UnitOfWork, m: Movement) -> tuple[str, int | None]:
    """Where the group is (a facility id) and the leg it is on: the end of the last leg that arrived, or the
    start of the next one."""
    legs = uow.operations.legs(m.id)
    arrived = [leg for leg in legs if leg.arrived_at is not None]
    under_way = next((leg for leg in legs if leg.departed_at is not None and leg.arrived_at is None), None)
    if under_way is not None:
        return under_way.to_id, under_way.number
    if arrived:
        return arrived[-1].to_id, arrived[-1].number
    return m.origin_id, legs[0].number if legs else None


@dataclass
class HandoverForm:
    from_authority: str = ""
    to_authority: str = ""
    place_id: str = ""
    leg: str = ""
    occurred_at: str = ""
    present: list[str] | None = None
    extra: str = ""
    injuries: str = ""


def _handover_people(uow: UnitOfWork, names: Names, m: Movement, from_authority: str) -> list[PersonLine]:
    held = [s for s in manifest_people(uow, m) if s.custodian_id == from_authority and s.status in _WITH_THE_GROUP]
    return person_lines(uow, names, held)


def _new_handover_page(
    request: Request, uow: UnitOfWork, who: Principal, ref: str, form: HandoverForm, refusal: Refusal | None = None
) -> HTMLResponse:
    try:
        m = scoped_movement(uow, who, ref)
    except NotFoundError as missing:
        return not_found(request, missing.message)
    names = Names(uow, [m.id])
    holders = _holders(uow, m)
    place, leg = _here(uow, m)
    if not form.from_authority:
        form.from_authority = holders[0] if holders else m.escort_id
    if not form.place_id:
        form.place_id = place
    if not form.leg and leg is not None:
        form.leg = str(leg)
    if not form.to_authority:
        destination = uow.reference.facility(m.destination_id)
        form.to_authority = destination.authority_id if destination else ""
    context = {
        "m": movement_view(uow, names, m),
        "form": form,
        "people": _handover_people(uow, names, m, form.from_authority),
        "holders": holders,
        "authorities": [(a.id, a.name) for a in uow.reference.authorities()],
        "facilities": facility_choices(uow, names),
        "now": runtime(request).clock(),
        "refusal": refusal,
    }
    return render(request, "handover_new.html", context, status_code=refusal.status if refusal else 200)


@router.get("/movements/{ref}/handovers/new", name="web_new_handover")
def new_handover(request: Request, ref: str, uow: Uow, who: MovementReader, from_authority: str = "") -> HTMLResponse:
    return _new_handover_page(request, uow, who, ref, HandoverForm(from_authority=from_authority))


@router.get("/movements/{ref}/handovers/people", name="web_handover_people")
def handover_people(
    request: Request, ref: str, uow: Uow, who: MovementReader, from_authority: str = ""
) -> HTMLResponse:
    """The people a dispatching authority holds on the movement (HTMX, when the officer changes the authority)."""
    try:
        m = scoped_movement(uow, who, ref)
    except NotFoundError as missing:
        return not_found(request, missing.message)
    people = _handover_people(uow, Names(uow, [m.id]), m, from_authority)
    return render(request, "_handover_people.html", {"people": people, "form": HandoverForm(present=None)})


@router.post("/movements/{ref}/handovers", name="web_open_handover")
def open_handover(
    request: Request,
    ref: str,
    who: MovementWriter,
    csrf: Csrf = "",
    from_authority: Text = "",
    to_authority: Text = "",
    place_id: Text = "",
    leg: Text = "",
    occurred_at: Text = "",
    present: Ids = [],  # noqa: B006
    listed: Text = "",
    extra: Text = "",
    injuries: Text = "",
) -> Response:
    form = HandoverForm(
        from_authority, to_authority, place_id, leg, occurred_at, present if listed else None, extra, injuries
    )

    def act(uow: UnitOfWork, rt: Runtime) -> str:
        m = _running(uow, who, ref)
        record = handovers.open_handover(
            uow,
            rt,
            m.id,
            clean_id(place_id, _("The place")),
            clean_id(from_authority, _("The dispatching authority")),
            clean_id(to_authority, _("The receiving authority")),
            parse_time(occurred_at, rt),
            present=own_people(uow, who, person_ids(present)) if listed else None,
            extra=noted_people(extra, _("An extra person")),
            injuries=noted_people(injuries, _("An injury note")),
            leg=parse_int(leg, _("The leg")),
            actor=actor_for(who),
        )
        return record.id

    done = attempt(request, csrf, act)
    if done.result is not None:
        return redirect(_url(request, "web_handover", handover_id=done.result))
    with reading(request) as uow:
        return _new_handover_page(request, uow, who, ref, form, done.refusal)


@dataclass(frozen=True, slots=True)
class SignatureView:
    side: str
    label: str
    authority_id: str
    authority: str
    officer: str  # who signed; empty while waiting
    signature: str


def scoped_handover(uow: UnitOfWork, who: Principal, handover_id: str, action: Action = Action.READ) -> HandoverRecord:
    """The handover if the principal may `action` its movement; out of scope is refused exactly as unknown."""
    record = handovers.handover(uow, handover_id)
    facts = scope.movement_facts(uow, record.movement_id)
    if facts is None or not movement_in_scope(who, facts, Resource.MOVEMENT, action):
        raise NotFoundError("handover", handover_id, _("No handover {id}.").format(id=handover_id))
    return record


def _handover_page(
    request: Request,
    uow: UnitOfWork,
    who: Principal,
    handover_id: str,
    refusal: Refusal | None = None,
    officer_id: str = "",
) -> HTMLResponse:
    try:
        record = scoped_handover(uow, who, handover_id)
    except NotFoundError as missing:
        return not_found(request, missing.message)
    m = transfers.movement(uow, record.movement_id)
    names = Names(uow, [m.id])
    document = json.loads(record.document)
    officers = {o.id: o for o in uow.operations.officers()}

    def signed_by(officer: str | None) -> str:
        return officers[officer].name if officer and officer in officers else (officer or "")

    signatures = [
        SignatureView(
            Side.DISPATCHING.value,
            side_label(Side.DISPATCHING),
            record.from_authority_id,
            names.authority(record.from_authority_id),
            signed_by(record.dispatching_officer_id),
            record.dispatching_signature or "",
        ),
        SignatureView(
            Side.RECEIVING.value,
            side_label(Side.RECEIVING),
            record.to_authority_id,
            names.authority(record.to_authority_id),
            signed_by(record.receiving_officer_id),
            record.receiving_signature or "",
        ),
    ]
    waiting = [s for s in signatures if not s.signature]
    injuries = {d["person_id"]: d["note"] for d in document["discrepancies"] if d["kind"] == DiscrepancyKind.INJURY}
    context = {
        "record": record,
        "m": movement_view(uow, names, m),
        "place": names.facility(record.place_id),
        "from": names.authority(record.from_authority_id),
        "to": names.authority(record.to_authority_id),
        "people": [{"id": p, "injury": injuries.get(p, "")} for p in document["people"]],
        "counts": document["counts"],
        "count_labels": {k.value: discrepancy_label(k) for k in DiscrepancyKind},
        "discrepancies": [
            {**d, "label": discrepancy_label(DiscrepancyKind(d["kind"]))} for d in document["discrepancies"]
        ],
        "signatures": signatures,
        "one_sided": len(waiting) == 1 and record.state == handovers.OPEN,
        "waiting": waiting,
        "officers": [
            {"id": o.id, "name": o.name, "authority": names.authority(o.authority_id), "key": o.public_key}
            for o in officers.values()
            if o.authority_id in {s.authority_id for s in waiting}
        ],
        "officer_id": officer_id,
        "document_b64": base64.b64encode(record.document.encode()).decode(),
        "refusal": refusal,
    }
    return render(request, "handover.html", context, status_code=refusal.status if refusal else 200)


@router.get("/handovers/{handover_id}", name="web_handover")
def handover(request: Request, handover_id: str, uow: Uow, who: MovementReader) -> HTMLResponse:
    return _handover_page(request, uow, who, handover_id)


@router.post("/handovers/{handover_id}/sign", name="web_sign_handover")
def sign_handover(
    request: Request,
    handover_id: str,
    who: MovementWriter,
    csrf: Csrf = "",
    officer_id: Text = "",
    side: Text = "",
    signature: Text = "",
) -> Response:
    """One officer's signature, made in their browser over the document's exact bytes. Custody passes when the
    second side signs."""

    def act(uow: UnitOfWork, rt: Runtime) -> object:
        record = scoped_handover(uow, who, handover_id, Action.WRITE)
        officer = handovers.officer(uow, clean_id(officer_id, _("The officer")))
        if side:
            try:
                which = Side(side)
            except ValueError:
                raise ValueError(_("The side is dispatching or receiving.")) from None
        else:
            which = Side.RECEIVING if officer.authority_id == record.to_authority_id else Side.DISPATCHING
        if not signature.strip():
            raise ValueError(_("There is no signature: load your key file and sign in this page."))
        return handovers.sign(uow, rt, handover_id, officer.id, which, signature, actor=actor_for(who))

    done = attempt(request, csrf, act)
    if done.refusal is None:
        return redirect(_url(request, "web_handover", handover_id=handover_id))
    with reading(request) as uow:
        return _handover_page(request, uow, who, handover_id, done.refusal, officer_id)
