"""Repatriation cases through the API: list and read them, open them, move them through their states, send requests
to countries, schedule them on a movement, complete them after the signed handover, and attach documents.

Thin routes over `handover.services.repatriation`, which checks scope: a case (or document, or country) outside the
principal's scope answers 404 exactly like a missing one. People appear by their random id only. Downloading a
document is a read of the person's record (a note verbale, a passport copy): it is recorded in the access log.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, StringConstraints

from handover.api.deps import Rt, unit_of_work, write_unit_of_work
from handover.api.problems import PROBLEM_BASE, problem, problem_response
from handover.api.schema import Id, PathId, StrictModel, Text, When, events
from handover.core.policy.access import Action, Principal, Purpose, Resource, country_in_scope, may
from handover.core.repatriation import documents as docs
from handover.core.repatriation.cases import CaseAction, CaseState, CountrySummary, allowed
from handover.gate import needing
from handover.i18n import _
from handover.services import access_log, repatriation
from handover.services.errors import ConflictError, NotFoundError
from handover.services.ports import AccountsUnitOfWork, BlobStore, CaseDocument, CaseEvent, RepatriationCase
from handover.services.ports import RepatriationRequest as RequestRecord
from handover.store.documents import FileBlobs

router = APIRouter(prefix="/repatriation")

Reader = Annotated[Principal, needing(Resource.REPATRIATION, Action.READ)]
Writer = Annotated[Principal, needing(Resource.REPATRIATION, Action.WRITE)]
DocumentReader = Annotated[Principal, needing(Resource.DOCUMENT, Action.READ)]
DocumentWriter = Annotated[Principal, needing(Resource.DOCUMENT, Action.WRITE)]
# Completing a case records custody events (admitted by the country's authority, repatriated): whoever runs the
# case's movement does it, as the service requires, so the route asks what running a movement asks.
Escort = Annotated[Principal, needing(Resource.MOVEMENT, Action.WRITE)]

CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$", to_upper=True)]
CountryPath = Annotated[str, Path(pattern=r"^[A-Za-z]{2}$", description="Two-letter country code.")]
Reference = Annotated[str, StringConstraints(max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")]
Title = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]*\S[^\x00-\x1f\x7f]*$")
]

RESPONSES: dict[int | str, dict[str, Any]] = {
    400: problem_response("Bad request (problem document)."),
    401: problem_response("No valid token or session (problem document; see WWW-Authenticate)."),
    403: problem_response("The role or token lacks the permission, or may see this case but not change it."),
    404: problem_response("No such case, document, movement or country among those the principal may see."),
    422: problem_response("The request is not valid (problem document with an `errors` list)."),
}
WRITE_RESPONSES: dict[int | str, dict[str, Any]] = RESPONSES | {
    409: problem_response(
        "Refused by a rule about the case (with `subject`, `rule` and `state`): a transition the case's state does "
        "not allow, a missing reason, a person who is not a national, ... Nothing was written."
    ),
}
UPLOAD_RESPONSES: dict[int | str, dict[str, Any]] = WRITE_RESPONSES | {
    413: problem_response(f"The file is larger than {docs.MAX_BYTES:,} bytes (rule `document-too-large`)."),
    415: problem_response(
        "The file is not a PDF, PNG or JPEG by its content (rule `document-type-not-allowed`), or its declared type "
        "is not what its content is (rule `document-type-mismatch`)."
    ),
}


# --- dependencies ---------------------------------------------------------------------------------------------------


def blob_store(request: Request) -> BlobStore:
    """Where documents' bytes live: `app.state.blobs` when set (tests, a deployment), else var/documents."""
    found: BlobStore | None = getattr(request.app.state, "blobs", None)
    if found is None:
        found = request.app.state.blobs = FileBlobs()
    return found


# The API's units of work, typed with the repositories of accounts and repatriation the services here need.
Uow = Annotated[AccountsUnitOfWork, Depends(unit_of_work)]
WriteUow = Annotated[AccountsUnitOfWork, Depends(write_unit_of_work, scope="function")]
Blobs = Annotated[BlobStore, Depends(blob_store)]


# --- answers --------------------------------------------------------------------------------------------------------


class Case(BaseModel):
    id: str
    person_id: str
    country: str
    state: CaseState
    state_since: datetime
    opened_at: datetime
    authority_id: str | None
    movement_id: str | None
    scheduled_for: datetime | None
    can: list[CaseAction] = Field(description="The actions the case's state allows.")


class Step(BaseModel):
    action: str
    from_state: CaseState | None
    to_state: CaseState
    at: datetime
    actor_id: str
    actor: str = Field(description="The account's display name.")
    note: str


class Document(BaseModel):
    id: str
    case_id: str
    title: str
    media_type: str
    size: int
    sha256: str
    uploaded_at: datetime
    uploaded_by: str
    href: str


class CaseDetail(Case):
    history: list[Step]
    documents: list[Document] | None = Field(description="Absent (null) when the principal may not read documents.")


class CountryRequest(BaseModel):
    id: str
    country: str
    sent_on: date
    reference: str
    notes: str
    created_at: datetime
    created_by: str
    case_ids: list[str]


class Wait(BaseModel):
    cases: int
    median_days: float
    longest_days: float


class Summary(BaseModel):
    country: str
    total: int
    open: int
    counts: dict[CaseState, int]
    time_in_state: dict[CaseState, Wait] = Field(description="Only states that hold cases now.")


class Completed(Case):
    events: list[dict[str, Any]]


def _case(found: RepatriationCase) -> Case:
    state = CaseState(found.state)
    return Case(
        id=found.id,
        person_id=found.person_id,
        country=found.country,
        state=state,
        state_since=found.state_since,
        opened_at=found.opened_at,
        authority_id=found.authority_id,
        movement_id=found.movement_id,
        scheduled_for=found.scheduled_for,
        can=allowed(state),
    )


def _steps(uow: AccountsUnitOfWork, history: list[CaseEvent]) -> list[Step]:
    names: dict[str, str] = {}
    for event in history:
        if event.actor_id not in names:
            account = uow.accounts.get(event.actor_id)
            names[event.actor_id] = account.display_name if account is not None else event.actor_id
    return [
        Step(
            action=e.action,
            from_state=CaseState(e.from_state) if e.from_state else None,
            to_state=CaseState(e.to_state),
            at=e.at,
            actor_id=e.actor_id,
            actor=names[e.actor_id],
            note=e.note,
        )
        for e in history
    ]


def _document(request: Request, found: CaseDocument) -> Document:
    return Document(
        id=found.id,
        case_id=found.case_id,
        title=found.title,
        media_type=found.media_type,
        size=found.size,
        sha256=found.sha256,
        uploaded_at=found.uploaded_at,
        uploaded_by=found.uploaded_by,
        href=request.url_for("api_repatriation_document", document_id=found.id).path,
    )


def _request(found: RequestRecord) -> CountryRequest:
    return CountryRequest(
        id=found.id,
        country=found.country,
        sent_on=found.sent_on,
        reference=found.reference,
        notes=found.notes,
        created_at=found.created_at,
        created_by=found.created_by,
        case_ids=list(found.case_ids),
    )


def _summary(found: CountrySummary) -> Summary:
    return Summary(
        country=found.country,
        total=found.total,
        open=found.open,
        counts=dict(found.counts),
        time_in_state={
            state: Wait(cases=w.cases, median_days=w.median_days, longest_days=w.longest_days)
            for state, w in found.time_in_state.items()
        },
    )


# --- reading --------------------------------------------------------------------------------------------------------


@router.get("/cases", response_model=list[Case], summary="Repatriation cases in scope", responses=RESPONSES)
def list_cases(
    uow: Uow,
    who: Reader,
    country: Annotated[CountryCode | None, Query(description="Only this country's cases.")] = None,
    state: Annotated[list[CaseState] | None, Query(description="Only cases in these states (repeatable).")] = None,
) -> list[Case]:
    """A diplomat sees their own country's cases only; asking for another country's answers an empty list."""
    return [_case(x) for x in repatriation.cases(uow, who, country=country, states=state)]


@router.get(
    "/cases/{case_id}",
    response_model=CaseDetail,
    summary="One case with its history and its documents",
    responses=RESPONSES,
)
def get_case(case_id: PathId, uow: Uow, who: Reader, request: Request) -> CaseDetail:
    found = repatriation.case(uow, who, case_id)
    documents = None
    if may(who.grants, Resource.DOCUMENT, Action.READ):
        documents = [_document(request, d) for d in repatriation.documents(uow, who, found.id)]
    history = _steps(uow, repatriation.history(uow, who, found.id))
    return CaseDetail(**_case(found).model_dump(), history=history, documents=documents)


@router.get(
    "/cases/{case_id}/documents",
    response_model=list[Document],
    summary="A case's documents (titles, types, sizes; not their content)",
    responses=RESPONSES,
)
def list_documents(case_id: PathId, uow: Uow, who: DocumentReader, request: Request) -> list[Document]:
    return [_document(request, d) for d in repatriation.documents(uow, who, case_id)]


@router.get(
    "/countries",
    response_model=list[Summary],
    summary="Per country in scope: cases per state, and how long those in a state have been in it",
    responses=RESPONSES,
)
def list_countries(uow: Uow, who: Reader, rt: Rt) -> list[Summary]:
    return [_summary(x) for x in repatriation.summaries(uow, who, rt.clock())]


@router.get(
    "/countries/{country}",
    response_model=Summary,
    summary="One country's cases per state and how long they have been in it",
    responses=RESPONSES,
)
def get_country(country: CountryPath, uow: Uow, who: Reader, rt: Rt) -> Summary:
    return _summary(repatriation.country_summary(uow, who, country.upper(), rt.clock()))


@router.get(
    "/countries/{country}/requests",
    response_model=list[CountryRequest],
    summary="The requests sent to a country, oldest first",
    responses=RESPONSES,
)
def list_requests(country: CountryPath, uow: Uow, who: Reader) -> list[CountryRequest]:
    code = country.upper()
    if not country_in_scope(who, code):  # not found, like the country's summary (the service answers nothing)
        raise NotFoundError("country", code, _("No repatriation cases for {country}.").format(country=code))
    return [_request(x) for x in repatriation.requests(uow, who, code)]


# --- changing cases -------------------------------------------------------------------------------------------------


class NewCase(StrictModel):
    person_id: Id
    country: CountryCode
    note: Text = ""


class Act(StrictModel):
    action: Literal["open-talks", "accept", "refuse", "withdraw", "reopen", "postpone"] = Field(
        description="Requests, scheduling and completion have routes of their own."
    )
    reason: Text = Field("", description="Needed to refuse, withdraw, postpone or reopen.")


class NewRequest(StrictModel):
    case_ids: list[Id] = Field(min_length=1, max_length=5000)
    sent_on: date
    reference: Reference = ""
    notes: Text = ""


class Scheduling(StrictModel):
    movement: Id = Field(description="The movement (id or code, draft or approved) that carries the person out.")
    on: When
    authority_id: Id | None = Field(None, description="The country's receiving authority; the case's if absent.")


class Completion(StrictModel):
    occurred_at: When


@router.post(
    "/cases", status_code=201, response_model=Case, summary="Open a case (identified)", responses=WRITE_RESPONSES
)
def open_case(body: NewCase, uow: WriteUow, rt: Rt, who: Writer) -> Case:
    opened = repatriation.open_case(uow, rt, who, body.person_id, body.country, body.note)
    uow.commit()
    return _case(opened)


@router.post(
    "/cases/{case_id}/actions",
    response_model=Case,
    summary="Open talks, accept, refuse, withdraw, reopen or postpone a case",
    responses=WRITE_RESPONSES,
)
def act(case_id: PathId, body: Act, uow: WriteUow, rt: Rt, who: Writer) -> Case:
    moved = repatriation.act(uow, rt, who, case_id, CaseAction(body.action), body.reason)
    uow.commit()
    return _case(moved)


@router.post(
    "/countries/{country}/requests",
    status_code=201,
    response_model=CountryRequest,
    summary="Ask a country to take back the people of these cases (identified cases become requested)",
    responses=WRITE_RESPONSES,
)
def send_request(country: CountryPath, body: NewRequest, uow: WriteUow, rt: Rt, who: Writer) -> CountryRequest:
    sent = repatriation.send_request(
        uow, rt, who, country.upper(), body.case_ids, body.sent_on, body.reference, body.notes
    )
    uow.commit()
    return _request(sent)


@router.post(
    "/cases/{case_id}/schedule",
    response_model=Case,
    summary="Schedule an accepted case on a draft or approved movement, to the country's receiving authority",
    responses=WRITE_RESPONSES,
)
def schedule(case_id: PathId, body: Scheduling, uow: WriteUow, rt: Rt, who: Writer) -> Case:
    scheduled = repatriation.schedule(uow, rt, who, case_id, body.movement, body.on, body.authority_id)
    uow.commit()
    return _case(scheduled)


@router.post(
    "/cases/{case_id}/complete",
    response_model=Completed,
    summary="After the signed handover to the country's authority: record the repatriation and close the case",
    responses=WRITE_RESPONSES,
)
def complete(case_id: PathId, body: Completion, uow: WriteUow, rt: Rt, who: Escort) -> Completed:
    closed, stored = repatriation.complete(uow, rt, who, case_id, body.occurred_at)
    answer = Completed(**_case(closed).model_dump(), **events(stored))
    uow.commit()
    return answer


# --- documents ------------------------------------------------------------------------------------------------------

_STATUS = {
    docs.DocumentRule.TOO_LARGE.value: 413,
    docs.DocumentRule.TYPE_NOT_ALLOWED.value: 415,
    docs.DocumentRule.TYPE_MISMATCH.value: 415,
    docs.DocumentRule.EMPTY.value: 422,
}
# What clients send when they do not know the type: not a claim to compare with the content.
_UNDECLARED = frozenset({"", "application/octet-stream", "binary/octet-stream"})


def _document_problem(request: Request, case_id: str, state: str, rule: str, message: str) -> JSONResponse:
    return problem(
        request,
        _STATUS[rule],
        PROBLEM_BASE + rule,
        _("The document is not accepted"),
        message,
        subject=case_id,
        rule=rule,
        state=state,
        max_bytes=docs.MAX_BYTES,
        accepted_types=[t.value for t in docs.MediaType],
    )


@router.post(
    "/cases/{case_id}/documents",
    status_code=201,
    response_model=Document,
    summary="Attach a PDF, PNG or JPEG to a case (judged by its content; at most 5 MB)",
    responses=UPLOAD_RESPONSES,
)
def attach_document(
    case_id: PathId,
    file: Annotated[UploadFile, File(description="The document: PDF, PNG or JPEG.")],
    title: Annotated[Title, Form(description="What the document is (a note verbale, a passport copy).")],
    request: Request,
    uow: WriteUow,
    rt: Rt,
    who: DocumentWriter,
    blobs: Blobs,
) -> Document | JSONResponse:
    # Read one byte past the limit, not the whole upload: that is enough to refuse it.
    data = file.file.read(docs.MAX_BYTES + 1)
    declared = (file.content_type or "").split(";", 1)[0].strip().lower()
    if len(data) > docs.MAX_BYTES:
        found = repatriation.case(uow, who, case_id)  # out of scope: 404, before saying anything about the file
        size = file.size if file.size is not None else len(data)
        message = _("The file is {size:,} bytes; at most {limit:,} are accepted.").format(
            size=size, limit=docs.MAX_BYTES
        )
        return _document_problem(request, found.id, found.state, docs.DocumentRule.TOO_LARGE.value, message)
    try:
        attached = repatriation.attach_document(
            uow, rt, who, blobs, case_id, data, title, None if declared in _UNDECLARED else declared
        )
    except ConflictError as refused:
        if refused.rule not in _STATUS:
            raise
        return _document_problem(request, refused.subject, refused.state, refused.rule, refused.message)
    uow.commit()
    return _document(request, attached)


_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_EXTENSIONS = {docs.MediaType.PDF.value: "pdf", docs.MediaType.PNG.value: "png", docs.MediaType.JPEG.value: "jpg"}


def _filename(found: CaseDocument) -> str:
    """An ASCII file name from the title (never a path), with the extension of the stored type."""
    stem = _UNSAFE_NAME.sub("-", found.title).strip("-.")[:80] or found.id
    return f"{stem}.{_EXTENSIONS.get(found.media_type, 'bin')}"


@router.get(
    "/documents/{document_id}",
    name="api_repatriation_document",
    summary="A document's content, as an attachment; the read is recorded in the access log",
    response_class=Response,
    responses=RESPONSES
    | {
        200: {"description": "The file, with its stored type.", "content": {t.value: {} for t in docs.MediaType}},
        422: problem_response("Not valid, or no `purpose` from a role that must state one (rule `purpose-required`)."),
    },
)
def download_document(
    document_id: PathId,
    uow: WriteUow,
    rt: Rt,
    who: DocumentReader,
    blobs: Blobs,
    request: Request,
    purpose: Annotated[Purpose | None, Query(description="Why the document is read (some roles must say).")] = None,
) -> Response:
    found, data = repatriation.document_content(uow, who, blobs, document_id)
    case = repatriation.case(uow, who, found.case_id)
    try:
        access_log.record_read(uow, rt, who, case.person_id, purpose, f"document {found.id} of case {case.id}")
    except ConflictError as refused:
        # Reading a document is reading the person's record: a role that must say why, and did not, is asked to
        # (422); a principal who may not read people's records at all (a narrowed token) may not read it (403).
        status = {"purpose-required": 422, "permission-required": 403}.get(refused.rule)
        if status is None:
            raise
        title = _("A purpose is required") if status == 422 else _("Not permitted")
        return problem(request, status, PROBLEM_BASE + refused.rule, title, refused.message, rule=refused.rule)
    uow.commit()
    return Response(
        data,
        media_type=found.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{_filename(found)}"',
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "no-store",
        },
    )
