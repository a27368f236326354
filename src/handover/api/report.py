"""The public transparency report over the API: the latest release, the history, one release, and making a new one.

Reading is public (report:read). Making a release (report:write, the admin's) counts the log at its latest signed
checkpoint and refuses with a 409 problem naming the rule: `report-not-due` before the cadence has passed (unless
`force`), `report-current` when the latest release already stands on that checkpoint, `report-disclosive` when the
figures cannot be published safely. The documents are served as stored, byte for byte, so that what
`handover verify --report` checks is what was published.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, cast

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response
from pydantic import BaseModel

from handover.api.deps import Rt, Uow, WriteUow
from handover.api.problems import problem_response
from handover.core.policy.access import Action, Resource
from handover.gate import needs
from handover.services import report, report_context
from handover.services.ports import AccountsUnitOfWork

router = APIRouter(
    prefix="/report",
    responses={404: problem_response("No such release, or none yet (problem document).")},
)
PUBLIC = [needs(Resource.REPORT, Action.READ)]
MEDIA_TYPE = "application/json"
IMMUTABLE = "public, max-age=31536000, immutable"


class ReleaseLinks(BaseModel):
    self: str
    document: str
    page: str


class ReleaseSummary(BaseModel):
    number: int
    published_at: datetime
    checkpoint_size: int
    links: ReleaseLinks


class NewRelease(BaseModel):
    force: bool = False
    """Release before the cadence has passed (the other refusals still hold)."""


def _links(request: Request, number: int) -> ReleaseLinks:
    return ReleaseLinks(
        self=request.url_for("api_report_release", number=number).path,
        document=request.url_for("web_report_json", number=number).path,
        page=request.url_for("web_report_release", number=number).path,
    )


def _document(body: bytes, cache: str) -> Response:
    return Response(body, media_type=MEDIA_TYPE, headers={"Cache-Control": cache})


@router.get(
    "",
    summary="The latest release of the public transparency report (handover-transparency-report/1)",
    dependencies=PUBLIC,
    response_class=Response,
    responses={200: {"content": {MEDIA_TYPE: {}}, "description": "The release document, as stored."}},
)
def latest_report(uow: Uow) -> Response:
    # The latest changes with each release: revalidate rather than cache.
    return _document(report.document(cast(AccountsUnitOfWork, uow)), "no-cache")


@router.get(
    "/releases", response_model=list[ReleaseSummary], summary="Every release, oldest first", dependencies=PUBLIC
)
def releases(request: Request, uow: Uow) -> list[ReleaseSummary]:
    return [
        ReleaseSummary(
            number=r.number,
            published_at=r.published_at,
            checkpoint_size=r.checkpoint_size,
            links=_links(request, r.number),
        )
        for r in report.history(cast(AccountsUnitOfWork, uow))
    ]


@router.get(
    "/releases/{number}",
    name="api_report_release",
    summary="One release's document, as stored (releases never change)",
    dependencies=PUBLIC,
    response_class=Response,
    responses={200: {"content": {MEDIA_TYPE: {}}, "description": "The release document, as stored."}},
)
def one_release(number: int, uow: Uow) -> Response:
    return _document(report.document(cast(AccountsUnitOfWork, uow), number), IMMUTABLE)


@router.post(
    "/releases",
    status_code=201,
    summary="Make a new release at the latest signed checkpoint (when due, or with force)",
    dependencies=[needs(Resource.REPORT, Action.WRITE)],
    response_class=Response,
    responses={
        201: {"content": {MEDIA_TYPE: {}}, "description": "The new release's document."},
        409: problem_response("Not due yet, already current, or disclosive (`rule` says which)."),
    },
)
def make_release(
    request: Request, uow: WriteUow, rt: Rt, body: Annotated[NewRelease | None, Body()] = None
) -> Response:
    accounts_uow = cast(AccountsUnitOfWork, uow)
    now = rt.clock()
    made = report_context.make_release(accounts_uow, now, force=body.force if body is not None else False)
    uow.commit()
    stored = report.document(accounts_uow, made.number)
    location = request.url_for("api_report_release", number=made.number).path
    return Response(stored, status_code=201, media_type=MEDIA_TYPE, headers={"Location": location})
