"""The Jinja2 environment for pages: gettext from handover.i18n, numbers and direction from Babel."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
from babel import Locale, UnknownLocaleError
from babel.numbers import format_decimal, format_percent
from fastapi.templating import Jinja2Templates
from starlette.requests import Request

from handover.core.policy.access import ANONYMOUS, Action, Principal, Resource, may
from handover.i18n import DEFAULT_LANGUAGE, current_language, gettext_, ngettext

TEMPLATES = Path(__file__).resolve().parent / "templates"


@lru_cache(maxsize=32)
def babel_locale(language: str) -> Locale:
    """Babel's locale for a catalogue's language code, English when Babel does not know it."""
    try:
        return Locale.parse(language.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(DEFAULT_LANGUAGE)


def number(value: int | float) -> str:
    return format_decimal(value, locale=babel_locale(current_language()))


def percent(value: float) -> str:
    return format_percent(value, format="#,##0.#%", locale=babel_locale(current_language()))


def text_direction(language: str) -> str:
    return "rtl" if babel_locale(language).character_order == "right-to-left" else "ltr"


def utc(moment: datetime | None) -> str:
    """A time for reading, in UTC: YYYY-MM-DD HH:MM (empty for none)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if moment is not None else ""


def iso(moment: datetime | None) -> str:
    """A time for machines (the datetime attribute of <time>), in UTC."""
    return moment.astimezone(UTC).isoformat() if moment is not None else ""


def input_time(moment: datetime | None) -> str:
    """The value of a datetime-local input, in UTC (forms say that times are UTC)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M") if moment is not None else ""


def here(request: Request) -> str:
    """The page the user is on, to come back to after signing in: this URL for a GET, the page the form was on
    (its Referer, when on this site) for a POST."""
    if request.method == "GET":
        return request.url.path + (f"?{request.url.query}" if request.url.query else "")
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc == request.url.netloc and referer.path.startswith("/"):
        return referer.path + (f"?{referer.query}" if referer.query else "")
    return "/"


def _principal(request: Request) -> Principal:
    found = getattr(request.state, "principal", None)
    return found if isinstance(found, Principal) else ANONYMOUS


def _page_context(request: Request) -> dict[str, Any]:
    language = current_language()
    principal = _principal(request)
    current = getattr(request.state, "session", None)

    def allowed(permission: str) -> bool:
        """For templates: `allowed("movement:write")` shows a form only to those whose role may use it."""
        resource, _sep, action = permission.partition(":")
        return may(principal.grants, Resource(resource), Action(action))

    return {
        "lang": language,
        "text_direction": text_direction(language),
        "user": principal if principal.account_id else None,
        "operator": bool(principal.account_id),  # signed in: forms show, and their routes check the permission
        "allowed": allowed,
        "csrf_token": getattr(current, "csrf", ""),
        "here": here(request),
    }


def make_templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(gettext=gettext_, ngettext=ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters["number"] = number
    env.filters["percent"] = percent
    env.filters["utc"] = utc
    env.filters["iso"] = iso
    env.filters["input_time"] = input_time
    return Jinja2Templates(env=env, context_processors=[_page_context])


templates = make_templates()
