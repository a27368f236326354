"""Repatriation cases: a country of origin asked to take back one of its nationals, as a pure state machine.

    identified --request--> requested --open-talks--> in_talks
    requested | in_talks --accept--> accepted --schedule--> scheduled --complete--> repatriated
    scheduled --postpone--> accepted
    requested | in_talks | accepted | scheduled --refuse--> refused
    identified | requested | in_talks | accepted | scheduled --withdraw--> withdrawn
    refused | withdrawn --reopen--> identified

`repatriated` is final: the person has left custody, in the log. A refusal by the country, a withdrawal, a
postponement and a reopening need a reason. `decide` returns the next state or a refusal naming the case, the rule
and the state; it never raises for a request a user could make.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from handover.i18n import _


class CaseState(StrEnum):
    IDENTIFIED = "identified"
    REQUESTED = "requested"
    IN_TALKS = "in_talks"
    ACCEPTED = "accepted"
    SCHEDULED = "scheduled"
    REPATRIATED = "repatriated"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


class CaseAction(StrEnum):
    REQUEST = "request"
    OPEN_TALKS = "open-talks"
    ACCEPT = "accept"
    SCHEDULE = "schedule"
    POSTPONE = "postpone"
    COMPLETE = "complete"
    REFUSE = "refuse"
    WITHDRAW = "withdraw"
    REOPEN = "reopen"


S, A = CaseState, CaseAction
_OPEN = (S.IDENTIFIED, S.REQUESTED, S.IN_TALKS, S.ACCEPTED, S.SCHEDULED)

TRANSITIONS: Mapping[tuple[CaseState, CaseAction], CaseState] = {
    (S.IDENTIFIED, A.REQUEST): S.REQUESTED,
    (S.REQUESTED, A.OPEN_TALKS): S.IN_TALKS,
    (S.REQUESTED, A.ACCEPT): S.ACCEPTED,
    (S.IN_TALKS, A.ACCEPT): S.ACCEPTED,
    (S.ACCEPTED, A.SCHEDULE): S.SCHEDULED,
    (S.SCHEDULED, A.POSTPONE): S.ACCEPTED,
    (S.SCHEDULED, A.COMPLETE): S.REPATRIATED,
    **{(state, A.REFUSE): S.REFUSED for state in (S.REQUESTED, S.IN_TALKS, S.ACCEPTED, S.SCHEDULED)},
    **{(state, A.WITHDRAW): S.WITHDRAWN for state in _OPEN},
    (S.REFUSED, A.REOPEN): S.IDENTIFIED,
    (S.WITHDRAWN, A.REOPEN): S.IDENTIFIED,
}

FINAL = frozenset({S.REPATRIATED})
# Still to be decided or carried out: what a country summary calls open.
OPEN = frozenset(_OPEN)
# The country has agreed to take the person back: the planner treats them as leaving, not as someone to move on.
LEAVING = frozenset({S.ACCEPTED, S.SCHEDULED})
NEEDS_REASON = frozenset({A.REFUSE, A.WITHDRAW, A.POSTPONE, A.REOPEN})


class CaseRule(StrEnum):
    CASE_CLOSED = "case-closed"
    NOT_ALLOWED = "case-transition-not-allowed"
    REASON_REQUIRED = "case-reason-required"


@dataclass(frozen=True, slots=True)
class CaseRefused:
    """Why a case cannot take an action; nothing is written."""

    case_id: str
    rule: CaseRule
    state: CaseState
    action: CaseAction
    message: str

    def __str__(self) -> str:
        return self.message


def allowed(state: CaseState) -> list[CaseAction]:
    """The actions a case in `state` can take, in the order of the enum (for pages to offer)."""
    return [action for action in CaseAction if (state, action) in TRANSITIONS]


def decide(case_id: str, state: CaseState, action: CaseAction, reason: str = "") -> CaseState | CaseRefused:
    """The state `action` takes the case to, or why it cannot."""
    if state in FINAL:
        message = _("Case {case} is {state}: it is closed, and nothing more can happen to it.")
        return CaseRefused(case_id, CaseRule.CASE_CLOSED, state, action, message.format(case=case_id, state=state))
    target = TRANSITIONS.get((state, action))
    if target is None:
        can = ", ".join(a.value for a in allowed(state))
        message = _("Case {case} is {state}: it cannot {action} (it can: {allowed}).")
        return CaseRefused(
            case_id,
            CaseRule.NOT_ALLOWED,
            state,
            action,
            message.format(case=case_id, state=state, action=action, allowed=can),
        )
    if action in NEEDS_REASON and not reason.strip():
        message = _("Case {case} is {state}: to {action} it, give a reason.")
        return CaseRefused(
            case_id, CaseRule.REASON_REQUIRED, state, action, message.format(case=case_id, state=state, action=action)
        )
    return target


# --- a country's cases at a glance ----------------------------------------------------------------------------------

_DAY = 86400.0


@dataclass(frozen=True, slots=True)
class TimeInState:
    cases: int
    median_days: float
    longest_days: float


@dataclass(frozen=True, slots=True)
class CountrySummary:
    """Counts per state and how long the cases now in each state have been there."""

    country: str
    counts: Mapping[CaseState, int]
    time_in_state: Mapping[CaseState, TimeInState]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def open(self) -> int:
        return sum(n for state, n in self.counts.items() if state in OPEN)


def summarise(country: str, cases: Iterable[tuple[CaseState, datetime]], now: datetime) -> CountrySummary:
    """`cases` are each case's state and when it entered it. Every state is counted, zeros included."""
    waits: dict[CaseState, list[float]] = {state: [] for state in CaseState}
    for state, since in cases:
        waits[state].append(max(0.0, (now - since).total_seconds() / _DAY))
    counts = {state: len(days) for state, days in waits.items()}
    times = {
        state: TimeInState(len(days), round(statistics.median(days), 1), round(max(days), 1))
        for state, days in waits.items()
        if days
    }
    return CountrySummary(country, counts, times)
