"""Planners' pages: the movement board, one movement (legs, report, reconciliation) and its manifest.

Reading needs movement:read, over the reader's scope (the board lists only the movements they may see; any other
answers "not found"); planning (creating, approving, cancelling, legs, the manifest) needs plan:write; reconciling
a movement that has arrived is running it (movement:write).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from handover.core.custody.model import TransportMode
from handover.core.custody.movements import Movement, Vehicle
from handover.core.policy.access import Action, Principal, Resource, actor_for, may
from handover.core.policy.safeguards import Safeguard
from handover.i18n import _
from handover.services import reconciliation, transfers
from handover.services.errors import NotFoundError
from handover.services.ports import UnitOfWork
from handover.services.runtime import Runtime
from handover.web.common import (
    MovementReader,
    MovementWriter,
    Names,
    PlanReader,
    PlanWriter,
    Uow,
    attempt,
    clean_id,
    clean_text,
    movements_in_scope,
    not_found,
    parse_time,
    person_ids,
    reading,
    redirect,
    render,
    runtime,
    scoped_movement,
)
from handover.web.labels import (
    incident_kind_label,
    mode_label,
    movement_state_label,
    outcome_label,
    safeguard_label,
)
from handover.web.refusals import SERVICE_ERRORS, Refusal, refusal_of
from handover.web.views import (
    STATE_ORDER,
    breach_rows,
    facility_choices,
    handover_rows,
    held_at,
    manifest_people,
    movement_view,
    person_lines,
)

router = APIRouter(default_response_class=HTMLResponse)

CANDIDATE_LIMIT = 300  # people listed to choose from; others can be typed in by id
Csrf = Annotated[str, Form()]
Text = Annotated[str, Form()]
Ids = Annotated[list[str], Form()]


def _url(request: Request, name: str, **params: str) -> str:
    return request.url_for(name, **params).path


# --- the board -----------------------------------------------------------------------------------------------------


@dataclass
class NewMovementForm:
    code: str = ""
    route_id: str = ""
    scheduled_at: str = ""


def _board(
    request: Request,
    uow: UnitOfWork,
    who: Principal,
    refusal: Refusal | None = None,
    form: NewMovementForm | None = None,
) -> HTMLResponse:
    names = Names(uow)
    views = [movement_view(uow, names, m) for m in movements_in_scope(uow, who, _by_schedule(uow))]
    columns = [
        (state.value, movement_state_label(state), [v for v in views if v.state == state.value])
        for state in STATE_ORDER
    ]
    routes = [
        {
            "id": r.id,
            "label": " → ".join(names.facility(f) for f in (r.origin_id, *r.via, r.destination_id)),
            "mode": mode_label(r.mode),
        }
        for r in uow.reference.routes()
    ]
    context = {
        "columns": columns,
        "total": len(views),
        "routes": routes,
        "form": form or NewMovementForm(scheduled_at=""),
        "now": runtime(request).clock(),
        "refusal": refusal,
    }
    return render(request, "board.html", context, status_code=refusal.status if refusal else 200)


def _by_schedule(uow: UnitOfWork) -> list[Movement]:
    return sorted(uow.movements.all(), key=lambda m: (m.scheduled_at, m.code))


@router.get("/movements", name="web_movements")
def board(request: Request, uow: Uow, who: MovementReader) -> HTMLResponse:
    return _board(request, uow, who)


@router.post("/movements", name="web_create_movement")
def create_movement(
    request: Request,
    who: PlanWriter,
    csrf: Csrf = "",
    code: Text = "",
    route_id: Text = "",
    scheduled_at: Text = "",
) -> Response:
    form = NewMovementForm(code, route_id, scheduled_at)

    def act(uow: UnitOfWork, rt: Runtime) -> str:
        if not code.strip():
            raise ValueError(_("A movement needs a code."))
        created = transfers.create_movement(
            uow,
            rt,
            clean_id(code, _("The code")),
            clean_id(route_id, _("The route")),
            parse_time(scheduled_at, rt),
            actor=actor_for(who),
        )
        return created.code

    done = attempt(request, csrf, act)
    if done.result is not None:
        return redirect(_url(request, "web_movement", ref=done.result))
    with reading(request) as uow:
        return _board(request, uow, who, done.refusal, form)


# --- one movement --------------------------------------------------------------------------------------------------


def _movement_page(
    request: Request,
    uow: UnitOfWork,
    who: Principal,
    ref: str,
    refusal: Refusal | None = None,
    legs_form: dict[str, Any] | None = None,
) -> HTMLResponse:
    try:
        m = scoped_movement(uow, who, ref)
    except NotFoundError as missing:
        return not_found(request, missing.message)
    names = Names(uow, [m.id])
    view = movement_view(uow, names, m)
    report = reconciliation.report(uow, m.id)
    context = {
        "m": view,
        "report": report,
        "lines": report.lines,
        "leg_counts": report.legs,
        "handovers": handover_rows(names, report.handovers),
        "incidents": [
            {"kind": incident_kind_label(i.kind), "people": i.people, "description": i.description, "at": i.occurred_at}
            for i in report.incidents
        ],
        "overrides": report.overrides,
        "outcome_labels": {o.value: outcome_label(o.value) for o in reconciliation.Outcome},
        "facilities": facility_choices(uow, names),
        "authorities": [(a.id, a.name) for a in uow.reference.authorities()],
        "modes": [(mode.value, mode_label(mode)) for mode in TransportMode],
        "legs_form": legs_form,
        "now": runtime(request).clock(),
        "refusal": refusal,
    }
    return render(request, "movement.html", context, status_code=refusal.status if refusal else 200)


def _after(request: Request, who: Principal, ref: str, refusal: Refusal | None) -> Response:
    """Post/redirect/get on success; the movement's page again, with the refusal, when refused."""
    if refusal is None:
        return redirect(_url(request, "web_movement", ref=ref))
    with reading(request) as uow:
        return _movement_page(request, uow, who, ref, refusal)


def _planned(uow: UnitOfWork, who: Principal, ref: str) -> str:
    """The movement a planning write is about, by id: unknown and out of scope alike are refused as unknown."""
    return scoped_movement(uow, who, ref, Action.WRITE, Resource.PLAN).id


@router.get("/movements/{ref}", name="web_movement")
def movement(request: Request, ref: str, uow: Uow, who: MovementReader) -> HTMLResponse:
    return _movement_page(request, uow, who, ref)


@router.post("/movements/{ref}/approve", name="web_approve_movement")
def approve(request: Request, ref: str, who: PlanWriter, csrf: Csrf = "") -> Response:
    done = attempt(request, csrf, lambda uow, rt: transfers.approve(uow, _planned(uow, who, ref), actor=actor_for(who)))
    return _after(request, who, ref, done.refusal)


@router.post("/movements/{ref}/cancel", name="web_cancel_movement")
def cancel(
    request: Request, ref: str, who: PlanWriter, csrf: Csrf = "", reason: Text = "", occurred_at: Text = ""
) -> Response:
    def act(uow: UnitOfWork, rt: Runtime) -> object:
        why = clean_text(reason, _("The reason"))
        if not why:
            raise ValueError(_("Cancelling a movement needs a reason."))
        return transfers.cancel(
            uow, rt, _planned(uow, who, ref), why, parse_time(occurred_at, rt), actor=actor_for(who)
        )

    return _after(request, who, ref, attempt(request, csrf, act).refusal)


@router.post("/movements/{ref}/reconcile", name="web_reconcile_movement")
def reconcile(request: Request, ref: str, who: MovementWriter, csrf: Csrf = "") -> Response:
    def act(uow: UnitOfWork, rt: Runtime) -> object:
        m = scoped_movement(uow, who, ref, Action.WRITE)
        return reconciliation.reconcile(uow, m.id, actor=actor_for(who))

    return _after(request, who, ref, attempt(request, csrf, act).refusal)


def _vehicles(text: str, number: int) -> tuple[Vehicle, ...]:
    """`call sign: seats, ...`, or a bare number of seats for one vehicle."""
    vehicles = []
    for n, part in enumerate(p.strip() for p in text.split(",")):
        if not part:
            continue
        call_sign, _sep, seats = part.rpartition(":")
        try:
            count = int(seats.strip())
        except ValueError:
            raise ValueError(
                _("Leg {n}: vehicles are written `call sign: seats`, separated by commas.").format(n=number)
            ) from None
        vehicles.append(Vehicle(clean_text(call_sign, _("A call sign"), 64) or f"vehicle-{n + 1}", count))
    return tuple(vehicles)


@router.post("/movements/{ref}/legs", name="web_plan_legs")
def plan_legs(
    request: Request,
    ref: str,
    who: PlanWriter,
    csrf: Csrf = "",
    from_id: Ids = [],  # noqa: B006 - FastAPI copies defaults
    to_id: Ids = [],  # noqa: B006
    mode: Ids = [],  # noqa: B006
    escort_id: Ids = [],  # noqa: B006
    vehicles: Ids = [],  # noqa: B006
    departs: Ids = [],  # noqa: B006
    arrives: Ids = [],  # noqa: B006
    lodging: Ids = [],  # noqa: B006
) -> Response:
    rows = list(zip(from_id, to_id, mode, escort_id, vehicles, departs, arrives, lodging, strict=False))

    def act(uow: UnitOfWork, rt: Runtime) -> object:
        plans = []
        for number, (start, end, how, escort, cars, dep, arr, stop) in enumerate(
            (r for r in rows if r[0].strip() or r[1].strip()), 1
        ):
            try:
                kind = TransportMode(how)
            except ValueError:
                raise ValueError(_("Leg {n}: {mode} is not a mode of transport.").format(n=number, mode=how)) from None
            plans.append(
                transfers.LegPlan(
                    from_id=clean_id(start, _("A leg's start")),
                    to_id=clean_id(end, _("A leg's end")),
                    mode=kind,
                    escort_id=clean_id(escort, _("A leg's escort")),
                    vehicles=_vehicles(cars, number),
                    scheduled_departure=parse_time(dep, rt),
                    scheduled_arrival=parse_time(arr, rt),
                    lodging=stop == "yes",
                )
            )
        return transfers.plan_legs(uow, rt, _planned(uow, who, ref), plans, actor=actor_for(who))

    done = attempt(request, csrf, act)
    if done.refusal is None:
        return redirect(_url(request, "web_movement", ref=ref))
    submitted = [
        {"from_id": r[0], "to_id": r[1], "mode": r[2], "escort_id": r[3], "vehicles": r[4], "departs": r[5],
         "arrives": r[6], "lodging": r[7] == "yes"}
        for r in rows
    ]  # fmt: skip
    with reading(request) as uow:
        return _movement_page(request, uow, who, ref, done.refusal, legs_form={"rows": submitted})


# --- the manifest --------------------------------------------------------------------------------------------------


@dataclass
class ManifestForm:
    chosen: list[str] = field(default_factory=list)
    typed: str = ""
    overrides: list[str] = field(default_factory=list)
    reason: str = ""
    occurred_at: str = ""
    removing: list[str] = field(default_factory=list)
    removal_reason: str = ""


def _manifest_page(
    request: Request,
    uow: UnitOfWork,
    who: Principal,
    ref: str,
    refusal: Refusal | None = None,
    form: ManifestForm | None = None,
    check: list[Any] | None = None,
) -> HTMLResponse:
    try:
        m = scoped_movement(uow, who, ref)
    except NotFoundError as missing:
        return not_found(request, missing.message)
    form = form or ManifestForm()
    names = Names(uow, [m.id])
    view = movement_view(uow, names, m)
    on_board = manifest_people(uow, m)
    lines = person_lines(uow, names, on_board, view.breaches)
    # People to choose from are offered to those who may put them on the manifest.
    candidates = (
        held_at(uow, m.origin_id) if view.manifest_open and may(who.grants, Resource.PLAN, Action.WRITE) else []
    )
    if check is None and refusal is not None and (form.chosen or form.typed):
        # Refused: show every safeguard the request breaks, not only the first, so the planner can fix or override.
        try:
            check = breach_rows(uow, m, person_ids(form.chosen, form.typed))
        except SERVICE_ERRORS:
            check = None
    context = {
        "m": view,
        "lines": lines,
        "candidates": person_lines(uow, names, candidates[:CANDIDATE_LIMIT]),
        "candidate_total": len(candidates),
        "form": form,
        "check": check,
        "checked_people": len(person_ids(form.chosen, form.typed)) if check is not None else 0,
        "safeguards": [(s.value, safeguard_label(s)) for s in Safeguard],
        "now": runtime(request).clock(),
        "refusal": refusal,
    }
    return render(request, "manifest.html", context, status_code=refusal.status if refusal else 200)


@router.get("/movements/{ref}/manifest", name="web_manifest")
def manifest(request: Request, ref: str, uow: Uow, who: MovementReader) -> HTMLResponse:
    return _manifest_page(request, uow, who, ref)


@router.get("/movements/{ref}/manifest/check", name="web_check_manifest")
def check_manifest(
    request: Request,
    ref: str,
    uow: Uow,
    who: PlanReader,
    person_id: Annotated[list[str], Query()] = [],  # noqa: B006
    people: str = "",
) -> HTMLResponse:
    """The dry run planners see before they add anyone: which safeguards the chosen people would break (HTMX)."""
    try:
        chosen = person_ids(person_id, people)
        m = scoped_movement(uow, who, ref, Action.READ, Resource.PLAN)
        rows = breach_rows(uow, m, chosen)
    except SERVICE_ERRORS as error:
        refusal = refusal_of(error)
        return render(request, "_safeguard_check.html", {"check": None, "checked_people": 0, "refusal": refusal})
    context = {"check": rows, "checked_people": len(chosen), "refusal": None}
    return render(request, "_safeguard_check.html", context)


@router.post("/movements/{ref}/manifest", name="web_add_to_manifest")
def add_to_manifest(
    request: Request,
    ref: str,
    who: PlanWriter,
    csrf: Csrf = "",
    person_id: Ids = [],  # noqa: B006
    people: Text = "",
    override: Ids = [],  # noqa: B006
    reason: Text = "",
    occurred_at: Text = "",
) -> Response:
    form = ManifestForm(chosen=person_id, typed=people, overrides=override, reason=reason, occurred_at=occurred_at)

    def act(uow: UnitOfWork, rt: Runtime) -> object:
        chosen = person_ids(person_id, people)
        if not chosen:
            raise ValueError(_("Choose or type the people to put on the manifest."))
        try:
            overrides = [Safeguard(code) for code in override]
        except ValueError:
            raise ValueError(_("Unknown safeguard to override.")) from None
        return transfers.manifest(
            uow,
            rt,
            _planned(uow, who, ref),
            chosen,
            parse_time(occurred_at, rt),
            overrides=overrides,
            reason=clean_text(reason, _("The reason")),
            actor=actor_for(who),
        )

    done = attempt(request, csrf, act)
    if done.refusal is None:
        return redirect(_url(request, "web_manifest", ref=ref))
    with reading(request) as uow:
        return _manifest_page(request, uow, who, ref, done.refusal, form)


@router.post("/movements/{ref}/manifest/remove", name="web_remove_from_manifest")
def remove_from_manifest(
    request: Request,
    ref: str,
    who: PlanWriter,
    csrf: Csrf = "",
    person_id: Ids = [],  # noqa: B006
    reason: Text = "",
    occurred_at: Text = "",
) -> Response:
    form = ManifestForm(removing=person_id, removal_reason=reason)

    def act(uow: UnitOfWork, rt: Runtime) -> object:
        chosen = person_ids(person_id)
        if not chosen:
            raise ValueError(_("Tick the people to take off the manifest."))
        return transfers.unmanifest(
            uow,
            rt,
            _planned(uow, who, ref),
            chosen,
            clean_text(reason, _("The reason")),
            parse_time(occurred_at, rt),
            actor=actor_for(who),
        )

    done = attempt(request, csrf, act)
    if done.refusal is None:
        return redirect(_url(request, "web_manifest", ref=ref))
    with reading(request) as uow:
        return _manifest_page(request, uow, who, ref, done.refusal, form)
