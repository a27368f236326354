"""Errors services raise; the API turns them into RFC 9457 problem documents."""

from __future__ import annotations

from handover.core.custody.refusals import Refused, RefusedError, Rule

__all__ = ["ConflictError", "NotFoundError", "Refused", "RefusedError", "Rule"]


class NotFoundError(LookupError):
    """A named thing (person, facility, movement, ...) does not exist."""

    def __init__(self, kind: str, identifier: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.identifier = identifier
        self.message = message


class ConflictError(Exception):
    """A request that breaks a rule about something other than one person (a movement, the whole database)."""

    def __init__(self, subject: str, rule: str, state: str, message: str) -> None:
        super().__init__(message)
        self.subject = subject
        self.rule = rule
        self.state = state
        self.message = message
