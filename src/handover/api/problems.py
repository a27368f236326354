"""RFC 9457 problem documents: every refusal, conflict and bad request answers `application/problem+json`.

A problem names what went wrong in a stable `type` URI (one per rule), a short translated `title`, the HTTP
`status` and a `detail` a user can act on. Refusals add the person, the rule and the state (DESIGN.md, rule 7).
"""

from __future__ import annotations

from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from handover.gate import Denied
from handover.i18n import _
from handover.services.access import ForbiddenError
from handover.services.errors import ConflictError, NotFoundError, RefusedError

PROBLEM_MEDIA_TYPE = "application/problem+json"
# Problem types are identifiers, not links: they stay stable whatever host serves the API.
PROBLEM_BASE = "https://handover.example/problems/"
NOT_FOUND_TYPE = PROBLEM_BASE + "not-found"
INVALID_REQUEST_TYPE = PROBLEM_BASE + "invalid-request"
BAD_REQUEST_TYPE = PROBLEM_BASE + "bad-request"
SERVER_ERROR_TYPE = PROBLEM_BASE + "server-error"


class Problem(BaseModel):
    """An RFC 9457 problem document; extension members depend on the type."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None


# Inline schema for OpenAPI, listed under the problem media type (FastAPI's `model=` would list it as JSON).
PROBLEM_SCHEMA: dict[str, Any] = Problem.model_json_schema()


def problem_response(description: str) -> dict[str, Any]:
    """An entry for a route's `responses=` documenting a problem answer."""
    return {"description": description, "content": {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_SCHEMA}}}


def problem(request: Request, status: int, type_: str, title: str, detail: str, **members: Any) -> JSONResponse:
    body: dict[str, Any] = {
        "type": type_,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **members,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE)


def _not_found(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, NotFoundError)
    return problem(request, 404, NOT_FOUND_TYPE, _("Not found"), exc.message, kind=exc.kind, id=exc.identifier)


def _refused(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RefusedError)
    refused = exc.refused
    return problem(
        request,
        409,
        PROBLEM_BASE + refused.rule.value,
        _("Refused by a custody rule"),
        refused.message,
        person_id=refused.person_id,
        rule=refused.rule.value,
        state=refused.state,
    )


def _conflict(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ConflictError)
    return problem(
        request,
        409,
        PROBLEM_BASE + exc.rule,
        _("Conflict with the current state"),
        exc.message,
        subject=exc.subject,
        rule=exc.rule,
        state=exc.state,
    )


def _forbidden(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ForbiddenError)
    return problem(
        request,
        403,
        PROBLEM_BASE + exc.rule,
        _("Not permitted"),
        exc.message,
        subject=exc.subject,
        rule=exc.rule,
        state=exc.state,
    )


def denied_problem(request: Request, exc: Denied) -> JSONResponse:
    """A route the principal may not use: 401 (with how to authenticate) without an account, else 403."""
    title = _("Not authenticated") if exc.status == 401 else _("Not permitted")
    response = problem(request, exc.status, PROBLEM_BASE + exc.rule, title, exc.message, rule=exc.rule)
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"' if exc.bad_token else "Bearer"
    return response


def _location(loc: Sequence[Any]) -> str:
    return ".".join(str(part) for part in loc)


def _invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # Only the parts that are always JSON and never echo a whole request body back.
    errors = [
        {
            "loc": [str(p) for p in e.get("loc", ())],
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in exc.errors()
    ]
    detail = "; ".join(f"{_location(e['loc'])}: {e['msg']}" for e in errors) or _("The request is not valid.")
    return problem(request, 422, INVALID_REQUEST_TYPE, _("The request is not valid"), detail, errors=errors)


def _bad_request(request: Request, exc: Exception) -> JSONResponse:
    return problem(request, 400, BAD_REQUEST_TYPE, _("Bad request"), str(exc))


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    try:
        phrase = HTTPStatus(exc.status_code).phrase
    except ValueError:
        phrase = str(exc.status_code)
    detail = exc.detail if isinstance(exc.detail, str) else phrase
    response = problem(request, exc.status_code, "about:blank", phrase, detail)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def _server_error(request: Request, exc: Exception) -> JSONResponse:
    # Starlette logs the exception and re-raises it after this answer; the client learns nothing internal.
    return problem(
        request,
        500,
        SERVER_ERROR_TYPE,
        _("Internal error"),
        _("Something went wrong on our side; nothing you sent caused it."),
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Answer service errors, invalid requests and HTTP errors with problem documents."""
    app.add_exception_handler(NotFoundError, _not_found)
    app.add_exception_handler(RefusedError, _refused)
    app.add_exception_handler(ConflictError, _conflict)
    # A subclass of ConflictError: handlers are looked up along the exception's MRO, so this one wins.
    app.add_exception_handler(ForbiddenError, _forbidden)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(ValueError, _bad_request)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _server_error)
