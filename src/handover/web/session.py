"""The operator's sign-in page: until accounts exist, writes from the browser need the operator token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from handover.i18n import _
from handover.web.auth import COOKIE, new_cookie, operator_token, session, token_matches, write_refusal
from handover.web.common import redirect, render

router = APIRouter(default_response_class=HTMLResponse)


def _next(target: str) -> str:
    """Only a path on this site (never another origin) to go back to after signing in or out."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


def _page(request: Request, next_path: str, error: str = "", status_code: int = 200) -> HTMLResponse:
    context = {"next": _next(next_path), "error": error, "enabled": operator_token(request) is not None}
    return render(request, "signin.html", context, status_code=status_code)


@router.get("/signin", name="web_signin")
def signin_page(request: Request, next: str = "/") -> HTMLResponse:
    return _page(request, next)


@router.post("/signin", name="web_signin_post")
def signin(request: Request, token: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/") -> Response:
    if operator_token(request) is None:
        message = _("Writes are disabled: no operator token is configured on this server (HANDOVER_OPERATOR_TOKEN).")
        return _page(request, next, message, 403)
    if not token_matches(request, token):
        return _page(request, next, _("That is not the operator token."), 401)
    response = redirect(_next(next))
    response.set_cookie(
        COOKIE,
        new_cookie(request),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/signout", name="web_signout")
def signout(request: Request, csrf: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/") -> Response:
    if session(request) is not None and write_refusal(request, csrf) is not None:
        return _page(request, next, _("The form's security token is missing or out of date."), 403)
    response = redirect(_next(next))
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response
