"""The Plan page: the planner's schedule from a start date, why it is not faster, the forecast beside it, the day's
draft movements to adopt, and the plan as CSV and JSON. The work is in handover.web.planner.

Reading the plan and its exports needs plan:read; adopting a day into draft movements needs plan:write.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from handover.core.policy.access import Action, Resource, actor_for
from handover.core.policy.safeguards import Safeguard
from handover.gate import needs
from handover.i18n import _
from handover.services import planning
from handover.services.ports import UnitOfWork
from handover.services.runtime import Runtime
from handover.web import planner
from handover.web.auth import write_refusal
from handover.web.common import PlanWriter, Uow, attempt, parse_int, reading, redirect, render, runtime
from handover.web.refusals import SERVICE_ERRORS, Refusal, refusal_of

router = APIRouter(default_response_class=HTMLResponse)
READS = [needs(Resource.PLAN, Action.READ)]

Text = Annotated[str, Form()]
PERSON_RULES = frozenset(s.value for s in Safeguard)


def _start(value: str) -> date | None:
    text = value.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(_("{value} is not a date: use YYYY-MM-DD.").format(value=text[:20])) from None


def _page(
    request: Request,
    uow: UnitOfWork,
    start: str,
    refusal: Refusal | None = None,
    adopted: str = "",
    adopted_day: str = "",
) -> HTMLResponse:
    today = runtime(request).clock().date()
    try:
        chosen = _start(start)
    except ValueError as error:
        refusal, chosen = refusal or refusal_of(error), None
    try:
        found = planner.current(request, uow, chosen, today)
    except SERVICE_ERRORS as error:
        refusal = refusal or refusal_of(error)
        found = planner.parameters_and_key(request, uow, chosen, today)
    codes = [c for c in adopted.split(",") if c and uow.movements.by_code(c) is not None]
    context = {
        **planner.page_context(uow, found),
        "refusal": refusal,
        "refused_person": refusal.subject if refusal is not None and refusal.rule in PERSON_RULES else "",
        "adopted": codes,
        "adopted_day": adopted_day,
    }
    return render(request, "plan.html", context, status_code=refusal.status if refusal else 200)


@router.get("/plan", name="web_plan", dependencies=READS)
def plan_page(request: Request, uow: Uow, start: str = "", adopted: str = "", day: str = "") -> HTMLResponse:
    return _page(request, uow, start, adopted=adopted, adopted_day=day)


def _export(request: Request, uow: UnitOfWork, start: str) -> planner.Current | Response:
    try:
        return planner.current(request, uow, _start(start), runtime(request).clock().date())
    except SERVICE_ERRORS as error:
        refused = refusal_of(error)
        return JSONResponse(
            {"type": "about:blank", "title": refused.title, "status": refused.status, "detail": refused.message},
            status_code=refused.status,
            media_type="application/problem+json",
        )


@router.get("/plan.json", name="web_plan_json", response_class=JSONResponse, dependencies=READS)
def plan_json(request: Request, uow: Uow, start: str = "") -> Response:
    found = _export(request, uow, start)
    if isinstance(found, Response):
        return found
    return JSONResponse(planner.as_json(found))


@router.get("/plan.csv", name="web_plan_csv", response_class=Response, dependencies=READS)
def plan_csv(request: Request, uow: Uow, start: str = "") -> Response:
    found = _export(request, uow, start)
    if isinstance(found, Response):
        return found
    name = f"plan-{found.start.isoformat()}.csv"
    return Response(
        planner.as_csv(uow, found),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


@router.post("/plan/adopt", name="web_adopt_plan_day")
def adopt_day(
    request: Request, who: PlanWriter, csrf: Text = "", start: Text = "", day: Text = "", plan: Text = ""
) -> Response:
    """Adopt one day of the plan the planner was looking at: its drafts become draft movements with manifests."""
    refusal = write_refusal(request, csrf)
    if refusal is None:
        with reading(request) as uow:
            refusal, found = _plan_for(request, uow, start, plan, day)
        if refusal is None and found is not None:
            result, chosen = found

            def act(uow: UnitOfWork, rt: Runtime) -> list[str]:
                return planning.adopt(uow, rt, result, chosen, actor=actor_for(who))

            done = attempt(request, csrf, act)
            if done.result is not None:
                url = request.url_for("web_plan").include_query_params(
                    start=result.start.isoformat(), day=str(chosen), adopted=",".join(done.result)
                )
                return redirect(f"{url.path}?{url.query}")
            refusal = done.refusal
    with reading(request) as uow:
        return _page(request, uow, start, refusal)


def _plan_for(
    request: Request, uow: UnitOfWork, start: str, token: str, day: str
) -> tuple[Refusal | None, tuple[planning.PlanResult, int] | None]:
    """The plan the form was sent from, and the day to adopt; or why not."""
    try:
        chosen = parse_int(day, _("The day"))
        if chosen is None:
            raise ValueError(_("Say which day of the plan to adopt."))
        found = planner.current(request, uow, _start(start), runtime(request).clock().date())
    except SERVICE_ERRORS as error:
        return refusal_of(error), None
    if found.computed is None:
        return refusal_of(ValueError(_("No plan can be made from this start date."))), None
    result = found.computed.result
    if not any(d.day == chosen for d in result.drafts):
        return refusal_of(ValueError(_("Day {day} of this plan has no draft movements.").format(day=chosen))), None
    if planner.day_token(found.key, result.drafts, chosen) != token:
        return (
            Refusal(
                _("Refused"),
                _(
                    "The plan has changed since this page was loaded (the log or the parameters moved on). "
                    "Review the plan below, then adopt the day again."
                ),
                "",
                "plan-changed",
                _("out of date"),
                409,
            ),
            None,
        )
    return None, (result, chosen)
