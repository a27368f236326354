"""Words and numbers shared by the charts and the PDF, in the reader's language (handover.i18n)."""

from __future__ import annotations

from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.numbers import format_decimal

from handover.i18n import DEFAULT_LANGUAGE, _, current_language

SUPPRESSED_MARK = "x"


def N_(message: str) -> str:
    """Marks a message for extraction (Babel's default keyword) where it must be translated later, at render time."""
    return message


# Translated when rendered, not at import: the language is chosen per request.
_COUNT_LABELS = {
    "registered": N_("Registered"),
    "moved": N_("Moved"),
    "held": N_("Held"),
    "in_transit": N_("In transit"),
    "repatriated": N_("Repatriated"),
    "released": N_("Released"),
    "escaped": N_("Escaped"),
    "recaptured": N_("Recaptured"),
    "died": N_("Died"),
    "hospitalised": N_("Hospitalised"),
    "awaiting_safeguards": N_("Awaiting safeguards"),
}


@lru_cache(maxsize=32)
def _locale(language: str) -> Locale:
    try:
        return Locale.parse(language.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(DEFAULT_LANGUAGE)


def number(value: int) -> str:
    return format_decimal(value, locale=_locale(current_language()))


def count_label(name: str) -> str:
    """A count's name for reading; a name this version does not know is shown as it is."""
    label = _COUNT_LABELS.get(name)
    return _(label) if label is not None else name


def suppressed_legend(threshold: int) -> str:
    return _("{mark}: suppressed: fewer than {threshold} people, or hidden so the others cannot be worked out").format(
        mark=SUPPRESSED_MARK, threshold=threshold
    )
