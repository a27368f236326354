"""Signing in and out, and what a new account must do first: change its one-time password, set up its second factor.

Sign-in takes the name, the password and (for roles that see personal data) the code from an authenticator, in one
form. Every attempt is recorded, failures are throttled per name and per address (`services.accounts.sign_in`), and
a refused attempt says how long to wait. In demo mode the page lists the demo's accounts with their published
passwords and current codes, so anyone trying the demo can sign in as each role.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from handover.core.policy import signin
from handover.demo.accounts import USERS, demo_password, demo_totp_secret
from handover.demo.build import DEMO_KEY
from handover.gate import OPEN, SESSION_COOKIE, session_of
from handover.i18n import _
from handover.services import accounts, sessions
from handover.services.accounts import SignInError
from handover.services.errors import ConflictError
from handover.web.common import redirect, render, runtime
from handover.web.refusals import SERVICE_ERRORS

router = APIRouter(default_response_class=HTMLResponse, dependencies=[OPEN])

NEXT_FOR_STAGE = {
    sessions.CHANGE_PASSWORD: "/account/password",
    sessions.SET_UP_SECOND_FACTOR: "/account/second-factor",
}


def _next(target: str) -> str:
    """Only a path on this site (never another origin) to go back to after signing in or out."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


def _address(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


def _demo_accounts(request: Request) -> list[dict[str, Any]]:
    """The demo's accounts, passwords and current codes: only on a database the demo built."""
    with request.app.state.database.unit_of_work(read_only=True) as uow:
        demo = uow.meta.get(DEMO_KEY)
        if demo is None:
            return []
        seed = int(json.loads(demo).get("seed", 2026))
        names = {a.name for a in uow.accounts.all()}
    now = runtime(request).clock()
    shown = []
    for user in USERS:
        if user.name not in names:
            continue
        secret = demo_totp_secret(seed, user)
        shown.append(
            {
                "name": user.name,
                "role": user.role.value,
                "scope": user.facility_id or user.country or user.authority_id or "",
                "password": demo_password(seed, user.name),
                "code": signin.code_at(secret, now) if secret is not None else "",
            }
        )
    return shown


def _page(request: Request, next_path: str, error: str = "", status_code: int = 200, name: str = "") -> HTMLResponse:
    context = {"next": _next(next_path), "error": error, "name": name, "demo_accounts": _demo_accounts(request)}
    return render(request, "signin.html", context, status_code=status_code)


def _set_cookie(request: Request, response: Response, secret: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=int(sessions.LIFETIME.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )


@router.get("/signin", name="web_signin")
def signin_page(request: Request, next: str = "/") -> HTMLResponse:
    return _page(request, next)


@router.post("/signin", name="web_signin_post")
def sign_in(
    request: Request,
    name: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    code: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    rt = runtime(request)
    database = request.app.state.database
    with database.unit_of_work() as uow:
        try:
            signed_in = accounts.sign_in(uow, rt, name, password, _address(request), code.strip() or None)
        except SignInError as error:
            uow.commit()  # failures are counted even though the sign-in is refused
            status = 429 if error.retry_after else 401
            refused = _page(request, next, error.message, status, name=name.strip().lower()[:64])
            if error.retry_after:
                refused.headers["Retry-After"] = str(error.retry_after)
            return refused
        secret = sessions.start(uow, rt, signed_in)
        uow.commit()
    stage = sessions.stage_for(signed_in.account)
    response = redirect(NEXT_FOR_STAGE.get(stage, _next(next)))
    _set_cookie(request, response, secret)
    return response


@router.post("/signout", name="web_signout")
def sign_out(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    current = session_of(request)
    if current is not None:
        if not sessions.csrf_matches(current, csrf or request.headers.get("x-csrf-token", "")):
            request.state.session = current
            return _page(request, "/", _("The form's security token is missing or out of date."), 403)
        with request.app.state.database.unit_of_work() as uow:
            sessions.end(uow, runtime(request), request.cookies.get(SESSION_COOKIE, ""))
            uow.commit()
    response = redirect("/signin")
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


def _setup_page(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    return render(request, template, context, status_code=status_code)


@router.get("/account/password", name="web_password")
def password_page(request: Request) -> Response:
    current = session_of(request)
    if current is None:
        return redirect("/signin?next=/account/password")
    request.state.session = current
    return _setup_page(request, "password.html", {"account": current.account, "error": ""})


@router.post("/account/password", name="web_password_post")
def change_password(
    request: Request,
    current_password: Annotated[str, Form()] = "",
    new_password: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    current = session_of(request)
    if current is None:
        return redirect("/signin?next=/account/password")
    request.state.session = current
    if not sessions.csrf_matches(current, csrf):
        context = {"account": current.account, "error": _("The form's security token is missing or out of date.")}
        return _setup_page(request, "password.html", context, 403)
    rt = runtime(request)
    try:
        with request.app.state.database.unit_of_work() as uow:
            changed = accounts.change_password(uow, rt, current.account.id, current_password, new_password)
            stage = sessions.advance(uow, current.session, changed)
            uow.commit()
    except SERVICE_ERRORS as error:
        message = error.message if isinstance(error, ConflictError) else str(error)
        return _setup_page(request, "password.html", {"account": current.account, "error": message}, 422)
    return redirect(NEXT_FOR_STAGE.get(stage, "/"))


@router.get("/account/second-factor", name="web_second_factor")
def second_factor_page(request: Request) -> Response:
    current = session_of(request)
    if current is None:
        return redirect("/signin?next=/account/second-factor")
    request.state.session = current
    if current.account.totp_confirmed:
        return redirect("/")
    with request.app.state.database.unit_of_work() as uow:
        # A new secret each time the page is opened before one is confirmed: an old one shown elsewhere is void.
        setup = accounts.begin_second_factor(uow, runtime(request), current.account.name)
        uow.commit()
    context = {"account": current.account, "setup": setup, "error": ""}
    response = _setup_page(request, "second_factor.html", context)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/account/second-factor", name="web_second_factor_post")
def confirm_second_factor(
    request: Request, code: Annotated[str, Form()] = "", csrf: Annotated[str, Form()] = ""
) -> Response:
    current = session_of(request)
    if current is None:
        return redirect("/signin?next=/account/second-factor")
    request.state.session = current
    error = ""
    if not sessions.csrf_matches(current, csrf):
        error = _("The form's security token is missing or out of date.")
    else:
        try:
            with request.app.state.database.unit_of_work() as uow:
                changed = accounts.confirm_second_factor(uow, runtime(request), current.account.name, code.strip())
                stage = sessions.advance(uow, current.session, changed)
                uow.commit()
            return redirect(NEXT_FOR_STAGE.get(stage, "/"))
        except SERVICE_ERRORS as refused:
            error = refused.message if isinstance(refused, ConflictError) else str(refused)
    with request.app.state.database.unit_of_work() as uow:
        found = uow.accounts.get(current.account.id)
    secret = found.totp_secret if found is not None else None
    setup = (
        accounts.SecondFactorSetup(
            signin.secret_text(secret), signin.provisioning_uri(secret, current.account.name, accounts.ISSUER)
        )
        if secret is not None
        else None
    )
    context = {"account": current.account, "setup": setup, "error": error}
    return _setup_page(request, "second_factor.html", context, 422)
