"""Refusals as pages show them: what was refused, who or what it concerns, the rule and the state (rule 7).

A service's refusal (RefusedError, ConflictError, NotFoundError, ValueError) and a write the page may not make (no
operator sign-in, a missing form token) become one `Refusal`, rendered by templates/_refusal.html, never a 500.
"""

from __future__ import annotations

from dataclasses import dataclass

from handover.i18n import _
from handover.services.access import ForbiddenError
from handover.services.errors import ConflictError, NotFoundError, RefusedError

# What services raise for a request that breaks a rule or names something that does not exist.
SERVICE_ERRORS = (RefusedError, ConflictError, NotFoundError, ValueError)


@dataclass(frozen=True, slots=True)
class Refusal:
    title: str
    message: str
    subject: str  # the person (or movement, handover, officer) it concerns; empty when none
    rule: str
    state: str
    status: int  # the HTTP status the page answers with


def refusal_of(error: Exception) -> Refusal:
    if isinstance(error, RefusedError):
        r = error.refused
        return Refusal(_("Refused"), r.message, r.person_id, r.rule.value, r.state, 409)
    if isinstance(error, ForbiddenError):
        return Refusal(_("Not allowed"), error.message, error.subject, error.rule, error.state, 403)
    if isinstance(error, ConflictError):
        return Refusal(_("Refused"), error.message, error.subject, error.rule, error.state, 409)
    if isinstance(error, NotFoundError):
        return Refusal(
            _("Not found"), error.message, error.identifier, f"unknown-{error.kind}", _("does not exist"), 404
        )
    return Refusal(_("Not valid"), str(error), "", "invalid-input", "", 422)


def denied(rule: str, message: str, status: int) -> Refusal:
    return Refusal(_("Not allowed"), message, "", rule, _("read-only"), status)
