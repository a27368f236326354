"""Who is signed in on a page, and whether a form may write.

Sessions are server-side (`handover.services.sessions`): the cookie holds a random secret, HttpOnly and
SameSite=Strict (Secure over HTTPS). Each form carries a CSRF token derived from the secret (HTMX requests send it
as X-CSRF-Token); every comparison is constant-time. A request with a bearer token carries no cookie-borne
authority, so it needs no CSRF token. `handover.gate.principal` leaves the session and principal on request.state.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi.responses import RedirectResponse, Response
from starlette.requests import Request

from handover.core.policy.access import ANONYMOUS, Principal
from handover.gate import Denied
from handover.i18n import _
from handover.services import sessions
from handover.web.refusals import Refusal, denied
from handover.web.templating import templates

CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"


def current_session(request: Request) -> sessions.Current | None:
    found = getattr(request.state, "session", None)
    return found if isinstance(found, sessions.Current) else None


def current_principal(request: Request) -> Principal:
    found = getattr(request.state, "principal", None)
    return found if isinstance(found, Principal) else ANONYMOUS


def write_refusal(request: Request, csrf: str) -> Refusal | None:
    """None when the request may write (its route has checked the permission); else why not, for the page."""
    if request.headers.get("authorization"):
        return None  # a bearer token: not sent by a browser on its own, so not forgeable across sites
    current = current_session(request)
    if current is None or not current.principal.account_id:
        return denied("sign-in-required", _("Sign in to make changes; this page is read-only."), 401)
    submitted = csrf or request.headers.get(CSRF_HEADER, "")
    if not sessions.csrf_matches(current, submitted):
        return denied(
            "csrf-token-invalid",
            _("The form's security token is missing or out of date: reload the page and try again."),
            403,
        )
    return None


def sign_in_url(request: Request) -> str:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/signin?next=" + quote(here, safe="/")


def denied_page(request: Request, exc: Denied) -> Response:
    """The public is sent to sign in (back here afterwards); a signed-in user who may not see this is told why."""
    if exc.status == 401 and request.method == "GET" and not exc.bad_token:
        if request.headers.get("hx-request") == "true":
            return Response(status_code=401, headers={"HX-Redirect": sign_in_url(request)})
        return RedirectResponse(sign_in_url(request), status_code=303)
    refusal = denied(exc.rule, exc.message, exc.status)
    return templates.TemplateResponse(
        request, "denied.html", {"refusal": refusal}, status_code=exc.status, headers={"Cache-Control": "no-store"}
    )
