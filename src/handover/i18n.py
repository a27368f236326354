"""Translations for every user-facing string (gettext catalogues under handover/locale, made with Babel).

Only the standard library is used here so the pure core can mark its refusal messages too.
"""

from __future__ import annotations

import gettext
from contextvars import ContextVar, Token
from functools import lru_cache
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"
DEFAULT_LANGUAGE = "en"

_language: ContextVar[str] = ContextVar("handover_language", default=DEFAULT_LANGUAGE)


@lru_cache(maxsize=16)
def translations(language: str) -> gettext.NullTranslations:
    return gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[language], fallback=True)


def gettext_(message: str) -> str:
    return translations(_language.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_language.get()).ngettext(singular, plural, n)


_ = gettext_


def use_language(language: str) -> Token[str]:
    """Switch the language for the current context (a request, a command); returns a token to reset it."""
    return _language.set(language)


def reset_language(token: Token[str]) -> None:
    _language.reset(token)


def current_language() -> str:
    return _language.get()
