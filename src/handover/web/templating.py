"""The Jinja2 environment for pages: gettext from handover.i18n, numbers and direction from Babel."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from babel import Locale, UnknownLocaleError
from babel.numbers import format_decimal, format_percent
from fastapi.templating import Jinja2Templates
from starlette.requests import Request

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


def _page_context(request: Request) -> dict[str, Any]:
    language = current_language()
    return {"lang": language, "text_direction": text_direction(language)}


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
    return Jinja2Templates(env=env, context_processors=[_page_context])


templates = make_templates()
