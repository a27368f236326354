"""Repatriation pages: the countries with their cases per state and how long those have waited; one country's page
(its requests, its cases, forms to open, request and act); one case's page (its history and documents).

People appear by their random id only: showing who they are would be a read of their record. A diplomat sees their
own country alone; another country's page or case is not found, exactly like one that does not exist. Documents are
downloaded through the API route, which records the read in the access log.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Annotated, cast

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from handover.core.policy.access import Action, Principal, Purpose, Resource, may, must_state_purpose
from handover.core.repatriation import documents as docs
from handover.core.repatriation.cases import CaseAction, CaseState, CountrySummary, allowed
from handover.gate import needing
from handover.i18n import _
from handover.services import repatriation
from handover.services.errors import ConflictError, NotFoundError
from handover.services.ports import AccountsUnitOfWork, BlobStore, RepatriationCase, UnitOfWork
from handover.services.runtime import Runtime
from handover.store.documents import FileBlobs
from handover.web.common import (
    Names,
    Uow,
    attempt,
    clean_id,
    clean_text,
    not_found,
    parse_time,
    reading,
    redirect,
    render,
    runtime,
)
from handover.web.refusals import Refusal

router = APIRouter(default_response_class=HTMLResponse)

Reader = Annotated[Principal, needing(Resource.REPATRIATION, Action.READ)]
Writer = Annotated[Principal, needing(Resource.REPATRIATION, Action.WRITE)]
DocumentWriter = Annotated[Principal, needing(Resource.DOCUMENT, Action.WRITE)]
Csrf = Annotated[str, Form()]
Text = Annotated[str, Form()]
Ids = Annotated[list[str], Form()]

STATES = list(CaseState)
# Taken on the case's own forms (scheduling) or by the escort (completion), or by a request to the country.
_ELSEWHERE = frozenset({CaseAction.REQUEST, CaseAction.SCHEDULE, CaseAction.COMPLETE})
# Cases a request may name: identified ones become requested; requested or in talks are named again (a reminder).
_REQUESTABLE = frozenset({CaseState.IDENTIFIED, CaseState.REQUESTED, CaseState.IN_TALKS})
_UPLOAD_STATUS = {
    docs.DocumentRule.TOO_LARGE.value: 413,
    docs.DocumentRule.TYPE_NOT_ALLOWED.value: 415,
    docs.DocumentRule.TYPE_MISMATCH.value: 415,
    docs.DocumentRule.EMPTY.value: 422,
}
_UNDECLARED = frozenset({"", "application/octet-stream", "binary/octet-stream"})


def _accounts(uow: UnitOfWork) -> AccountsUnitOfWork:
    return cast(AccountsUnitOfWork, uow)


def _blobs(request: Request) -> BlobStore:
    """Where documents' bytes live: `app.state.blobs` when set (tests, a deployment), else var/documents."""
    found: BlobStore | None = getattr(request.app.state, "blobs", None)
    if found is None:
        found = request.app.state.blobs = FileBlobs()
    return found


def _country(code: str) -> str:
    text = code.strip().upper()
    if len(text) != 2 or not text.isalpha() or not text.isascii():
        raise NotFoundError("country", code[:8], _("{code} is not a two-letter country code.").format(code=code[:8]))
    return text


# --- what the pages show --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StateCell:
    state: str
    count: int
    median_days: float | None
    longest_days: float | None


@dataclass(frozen=True, slots=True)
class CountryRow:
    country: str
    total: int
    open: int
    cells: list[StateCell]


def _row(summary: CountrySummary) -> CountryRow:
    cells = []
    for state in STATES:
        wait = summary.time_in_state.get(state)
        cells.append(
            StateCell(
                state.value,
                summary.counts.get(state, 0),
                wait.median_days if wait else None,
                wait.longest_days if wait else None,
            )
        )
    return CountryRow(summary.country, summary.total, summary.open, cells)


@dataclass(frozen=True, slots=True)
class CaseRow:
    id: str
    person_id: str
    state: str
    since: datetime
    movement: str
    scheduled_for: datetime | None
    actions: list[str]  # what this page's act form offers
    requestable: bool


def _case_row(found: RepatriationCase, names: Names) -> CaseRow:
    state = CaseState(found.state)
    return CaseRow(
        found.id,
        found.person_id,
        found.state,
        found.state_since,
        names.movement(found.movement_id) if found.movement_id else "",
        found.scheduled_for,
        [a.value for a in allowed(state) if a not in _ELSEWHERE],
        state in _REQUESTABLE,
    )


# --- pages ----------------------------------------------------------------------------------------------------------


@router.get("/repatriation", name="web_repatriation")
def countries_page(request: Request, uow: Uow, who: Reader) -> HTMLResponse:
    """Every country with cases the principal may see (a diplomat: their own), counts and time in state."""
    rows = [_row(s) for s in repatriation.summaries(_accounts(uow), who, runtime(request).clock())]
    return render(request, "repatriation.html", {"rows": rows, "states": [s.value for s in STATES]})


def _country_page(
    request: Request, who: Principal, uow: UnitOfWork, country: str, refusal: Refusal | None = None
) -> HTMLResponse:
    accounts_uow = _accounts(uow)
    try:
        code = _country(country)
        summary = repatriation.country_summary(accounts_uow, who, code, runtime(request).clock())
    except NotFoundError as missing:
        return not_found(request, missing.message)
    found = repatriation.cases(accounts_uow, who, country=code)
    names = Names(uow, [c.movement_id for c in found])
    order = {state.value: n for n, state in enumerate(STATES)}
    rows = sorted((_case_row(c, names) for c in found), key=lambda r: (order[r.state], r.since, r.id))
    context = {
        "country": code,
        "row": _row(summary),
        "states": [s.value for s in STATES],
        "requests": list(reversed(repatriation.requests(accounts_uow, who, code))),
        "cases": rows,
        "today": runtime(request).clock().date().isoformat(),
        "refusal": refusal,
    }
    return render(request, "repatriation_country.html", context, status_code=refusal.status if refusal else 200)


@router.get("/repatriation/{country}", name="web_repatriation_country")
def country_page(request: Request, country: str, uow: Uow, who: Reader) -> HTMLResponse:
    return _country_page(request, who, uow, country)


def _case_page(
    request: Request, who: Principal, uow: UnitOfWork, case_id: str, refusal: Refusal | None = None
) -> HTMLResponse:
    accounts_uow = _accounts(uow)
    try:
        found = repatriation.case(accounts_uow, who, case_id)
    except NotFoundError as missing:
        return not_found(request, missing.message)
    history = repatriation.history(accounts_uow, who, found.id)
    actors = {e.actor_id for e in history}
    accounts = {a.id: a.display_name for a in accounts_uow.accounts.all() if a.id in actors}
    documents = []
    if may(who.grants, Resource.DOCUMENT, Action.READ):
        documents = repatriation.documents(accounts_uow, who, found.id)
    names = Names(uow, [found.movement_id])
    context = {
        "case": _case_row(found, names),
        "country": found.country,
        "opened_at": found.opened_at,
        "authority": names.authority(found.authority_id) if found.authority_id else "",
        "history": history,
        "actors": accounts,
        "documents": documents,
        "reads_documents": may(who.grants, Resource.DOCUMENT, Action.READ),
        "must_state_purpose": must_state_purpose(who.role),
        "purposes": [p.value for p in Purpose],
        "max_bytes": docs.MAX_BYTES,
        "schedulable": found.state == CaseState.ACCEPTED.value,
        "refusal": refusal,
    }
    return render(request, "repatriation_case.html", context, status_code=refusal.status if refusal else 200)


@router.get("/repatriation/cases/{case_id}", name="web_repatriation_case")
def case_page(request: Request, case_id: str, uow: Uow, who: Reader) -> HTMLResponse:
    return _case_page(request, who, uow, case_id)


# --- writes ---------------------------------------------------------------------------------------------------------


def _after_country(request: Request, who: Principal, country: str, refusal: Refusal | None) -> Response:
    if refusal is None:
        return redirect(request.url_for("web_repatriation_country", country=country.upper()).path)
    with reading(request) as uow:
        return _country_page(request, who, uow, country, refusal)


def _after_case(request: Request, who: Principal, case_id: str, refusal: Refusal | None) -> Response:
    if refusal is None:
        return redirect(request.url_for("web_repatriation_case", case_id=case_id).path)
    with reading(request) as uow:
        return _case_page(request, who, uow, case_id, refusal)


@router.post("/repatriation/{country}/cases", name="web_repatriation_open")
def open_case(
    request: Request, country: str, who: Writer, csrf: Csrf = "", person_id: Text = "", note: Text = ""
) -> Response:
    """Open a case (identified) for a national of the country in custody, named by their id."""

    def act(uow: UnitOfWork, rt: Runtime) -> RepatriationCase:
        person = clean_id(person_id, _("The person"))
        if not person:
            raise ValueError(_("Give the id of the person to repatriate."))
        return repatriation.open_case(_accounts(uow), rt, who, person, _country(country), clean_text(note, _("Note")))

    return _after_country(request, who, country, attempt(request, csrf, act).refusal)


@router.post("/repatriation/{country}/requests", name="web_repatriation_request")
def send_request(
    request: Request,
    country: str,
    who: Writer,
    csrf: Csrf = "",
    case_id: Ids = [],  # noqa: B006 - FastAPI copies defaults
    sent_on: Text = "",
    reference: Text = "",
    notes: Text = "",
) -> Response:
    """Ask the country to take back the people of the ticked cases, on a date, with a reference and notes."""

    def act(uow: UnitOfWork, rt: Runtime) -> object:
        chosen = [clean_id(c, _("A case")) for c in case_id if c.strip()]
        if not chosen:
            raise ValueError(_("Tick the cases the request names."))
        try:
            on = date.fromisoformat(sent_on.strip()) if sent_on.strip() else rt.clock().date()
        except ValueError:
            raise ValueError(_("{value} is not a date: use YYYY-MM-DD.").format(value=sent_on[:20])) from None
        return repatriation.send_request(
            _accounts(uow),
            rt,
            who,
            _country(country),
            chosen,
            on,
            clean_text(reference, _("Reference"), 200),
            clean_text(notes, _("Notes")),
        )

    return _after_country(request, who, country, attempt(request, csrf, act).refusal)


@router.post("/repatriation/cases/{case_id}/act", name="web_repatriation_act")
def act_on_case(
    request: Request,
    case_id: str,
    who: Writer,
    csrf: Csrf = "",
    action: Text = "",
    reason: Text = "",
    back: Text = "",
) -> Response:
    """Open talks, accept, refuse, withdraw, reopen or postpone (with a reason where the step needs one)."""

    def act(uow: UnitOfWork, rt: Runtime) -> RepatriationCase:
        try:
            chosen = CaseAction(action.strip())
        except ValueError:
            raise ValueError(_("Choose what to do with the case.")) from None
        if chosen in _ELSEWHERE:
            raise ValueError(_("Requests, scheduling and completion have forms of their own."))
        return repatriation.act(_accounts(uow), rt, who, case_id, chosen, clean_text(reason, _("Reason")))

    refusal = attempt(request, csrf, act).refusal
    if back.strip():  # acted from the country's page: back there
        return _after_country(request, who, back.strip()[:8], refusal)
    return _after_case(request, who, case_id, refusal)


@router.post("/repatriation/cases/{case_id}/schedule", name="web_repatriation_schedule")
def schedule_case(
    request: Request,
    case_id: str,
    who: Writer,
    csrf: Csrf = "",
    movement: Text = "",
    on: Text = "",
    authority_id: Text = "",
) -> Response:
    """Schedule an accepted case on a draft or approved movement, handing the person to the country's authority."""

    def act(uow: UnitOfWork, rt: Runtime) -> RepatriationCase:
        chosen = clean_id(movement, _("The movement"))
        if not chosen:
            raise ValueError(_("Name the movement (its code) that carries the person out."))
        receiving = clean_id(authority_id, _("The authority")) or None
        return repatriation.schedule(_accounts(uow), rt, who, case_id, chosen, parse_time(on, rt), receiving)

    return _after_case(request, who, case_id, attempt(request, csrf, act).refusal)


@router.post("/repatriation/cases/{case_id}/documents", name="web_repatriation_upload")
def upload_document(
    request: Request,
    case_id: str,
    who: DocumentWriter,
    file: Annotated[UploadFile, File()],
    csrf: Csrf = "",
    title: Text = "",
) -> Response:
    """Attach a PDF, PNG or JPEG to the case; judged by its content, at most 5 MB."""

    def act(uow: UnitOfWork, rt: Runtime) -> object:
        accounts_uow = _accounts(uow)
        data = file.file.read(docs.MAX_BYTES + 1)  # one byte past the limit is enough to refuse it
        if len(data) > docs.MAX_BYTES:
            found = repatriation.case(accounts_uow, who, case_id)
            size = file.size if file.size is not None else len(data)
            raise ConflictError(
                found.id,
                docs.DocumentRule.TOO_LARGE.value,
                found.state,
                _("The file is {size:,} bytes; at most {limit:,} are accepted.").format(
                    size=size, limit=docs.MAX_BYTES
                ),
            )
        declared = (file.content_type or "").split(";", 1)[0].strip().lower()
        return repatriation.attach_document(
            accounts_uow,
            rt,
            who,
            _blobs(request),
            case_id,
            data,
            clean_text(title, _("Title"), 200),
            None if declared in _UNDECLARED else declared,
        )

    refusal = attempt(request, csrf, act).refusal
    if refusal is not None and refusal.rule in _UPLOAD_STATUS:
        refusal = replace(refusal, status=_UPLOAD_STATUS[refusal.rule])
    return _after_case(request, who, case_id, refusal)
