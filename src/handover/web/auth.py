"""Who may write from the browser, until accounts exist: whoever signed in with the operator token.

Signing in sets an HttpOnly, SameSite=Strict cookie holding a random session id and its HMAC under the operator
token; nothing is stored on the server, and changing the token signs everyone out. Each POST form carries a CSRF
token derived from the session id the same way (HTMX requests send it as X-CSRF-Token). Every comparison is
constant-time. Pages without the cookie are read-only.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from starlette.requests import Request

from handover.i18n import _
from handover.web.refusals import Refusal, denied

COOKIE = "handover_operator"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"


@dataclass(frozen=True, slots=True)
class Session:
    id: str
    csrf: str


def operator_token(request: Request) -> str | None:
    """The configured operator token; None (writes disabled) when there is none or it is empty."""
    token = getattr(request.app.state, "operator_token", None)
    return token if isinstance(token, str) and token else None


def _mac(token: str, purpose: str, session_id: str) -> str:
    return hmac.new(token.encode(), f"{purpose}:{session_id}".encode(), hashlib.sha256).hexdigest()


def token_matches(request: Request, submitted: str) -> bool:
    token = operator_token(request)
    return token is not None and secrets.compare_digest(submitted.encode(), token.encode())


def new_cookie(request: Request) -> str:
    token = operator_token(request)
    if token is None:
        raise ValueError("no operator token is configured")
    session_id = secrets.token_urlsafe(24)
    return f"{session_id}.{_mac(token, 'session', session_id)}"


def session(request: Request) -> Session | None:
    """The operator's session if the request carries a valid cookie for the current token."""
    token = operator_token(request)
    value = request.cookies.get(COOKIE, "")
    if token is None or not value:
        return None
    session_id, _dot, mac = value.partition(".")
    if not session_id or not secrets.compare_digest(mac.encode(), _mac(token, "session", session_id).encode()):
        return None
    return Session(session_id, _mac(token, "csrf", session_id))


def write_refusal(request: Request, csrf: str) -> Refusal | None:
    """None when the request may write; else why not, as a refusal the page shows."""
    if operator_token(request) is None:
        return denied(
            "writes-disabled",
            _("Writes are disabled: no operator token is configured on this server (HANDOVER_OPERATOR_TOKEN)."),
            403,
        )
    current = session(request)
    if current is None:
        return denied(
            "operator-sign-in-required", _("Sign in as the operator to make changes; this page is read-only."), 401
        )
    submitted = csrf or request.headers.get(CSRF_HEADER, "")
    if not secrets.compare_digest(submitted.encode(), current.csrf.encode()):
        return denied(
            "csrf-token-invalid",
            _("The form's security token is missing or out of date: reload the page and try again."),
            403,
        )
    return None
