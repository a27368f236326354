"""Repatriation cases as a pure state machine (every refusal, and random walks), country summaries, documents."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handover.core.repatriation import documents
from handover.core.repatriation.cases import (
    FINAL,
    NEEDS_REASON,
    TRANSITIONS,
    CaseAction,
    CaseRefused,
    CaseRule,
    CaseState,
    allowed,
    decide,
    summarise,
)

S, A = CaseState, CaseAction


def test_the_way_to_repatriation() -> None:
    state = S.IDENTIFIED
    for action in (A.REQUEST, A.OPEN_TALKS, A.ACCEPT, A.SCHEDULE, A.COMPLETE):
        result = decide("case-1", state, action)
        assert isinstance(result, CaseState), result
        state = result
    assert state is S.REPATRIATED


@pytest.mark.parametrize(
    ("state", "action", "reason", "target"),
    [
        (S.REQUESTED, A.ACCEPT, "", S.ACCEPTED),  # accepted without talks
        (S.SCHEDULED, A.POSTPONE, "flight cancelled", S.ACCEPTED),
        (S.ACCEPTED, A.REFUSE, "the government changed its mind", S.REFUSED),
        (S.IDENTIFIED, A.WITHDRAW, "not a national after all", S.WITHDRAWN),
        (S.REFUSED, A.REOPEN, "new government", S.IDENTIFIED),
        (S.WITHDRAWN, A.REOPEN, "nationality confirmed", S.IDENTIFIED),
    ],
)
def test_other_transitions(state: CaseState, action: CaseAction, reason: str, target: CaseState) -> None:
    assert decide("c", state, action, reason) is target


ALL_PAIRS = [(s, a) for s in CaseState for a in CaseAction]


@pytest.mark.parametrize(("state", "action"), [p for p in ALL_PAIRS if p not in TRANSITIONS])
def test_every_transition_not_in_the_table_is_refused_naming_case_rule_and_state(
    state: CaseState, action: CaseAction
) -> None:
    refused = decide("case-42", state, action, "a reason")
    assert isinstance(refused, CaseRefused)
    assert refused.case_id == "case-42" and refused.state is state and refused.action is action
    assert refused.rule is (CaseRule.CASE_CLOSED if state in FINAL else CaseRule.NOT_ALLOWED)
    assert "case-42" in refused.message and state.value in refused.message


@pytest.mark.parametrize(("state", "action"), [p for p in TRANSITIONS if p[1] in NEEDS_REASON])
def test_refusing_withdrawing_postponing_and_reopening_need_a_reason(state: CaseState, action: CaseAction) -> None:
    refused = decide("case-7", state, action, "   ")
    assert isinstance(refused, CaseRefused) and refused.rule is CaseRule.REASON_REQUIRED
    assert "case-7" in refused.message


def test_a_repatriated_case_is_closed() -> None:
    assert allowed(S.REPATRIATED) == []
    for action in CaseAction:
        result = decide("c", S.REPATRIATED, action, "reason")
        assert isinstance(result, CaseRefused) and result.rule is CaseRule.CASE_CLOSED


@given(st.lists(st.tuples(st.sampled_from(list(CaseAction)), st.booleans()), max_size=40))
def test_random_walks_stay_in_the_table(steps: list[tuple[CaseAction, bool]]) -> None:
    state = S.IDENTIFIED
    history = [state]
    for action, with_reason in steps:
        result = decide("c", state, action, "because" if with_reason else "")
        if isinstance(result, CaseRefused):
            # Refused exactly when the table has no such step, the case is closed, or a needed reason is missing.
            assert (state, action) not in TRANSITIONS or state in FINAL or (action in NEEDS_REASON and not with_reason)
            assert result.state is state
            continue
        assert TRANSITIONS[(state, action)] is result
        assert state not in FINAL
        state = result
        history.append(state)
    # Nothing follows repatriation; repatriation follows only scheduling.
    if S.REPATRIATED in history:
        assert history[-1] is S.REPATRIATED and history[-2] is S.SCHEDULED


def test_every_state_is_reachable_from_identified() -> None:
    reached, frontier = {S.IDENTIFIED}, [S.IDENTIFIED]
    while frontier:
        state = frontier.pop()
        for (source, _action), target in TRANSITIONS.items():
            if source is state and target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(CaseState)


NOW = datetime(2026, 2, 10, tzinfo=UTC)


def test_a_country_summary_counts_every_state_and_times_in_state() -> None:
    summary = summarise(
        "KZ",
        [
            (S.ACCEPTED, NOW - timedelta(days=2)),
            (S.ACCEPTED, NOW - timedelta(days=4)),
            (S.ACCEPTED, NOW - timedelta(days=9)),
            (S.REFUSED, NOW - timedelta(hours=12)),
        ],
        NOW,
    )
    assert summary.counts[S.ACCEPTED] == 3 and summary.counts[S.REFUSED] == 1 and summary.counts[S.REQUESTED] == 0
    assert summary.total == 4 and summary.open == 3
    assert summary.time_in_state[S.ACCEPTED].median_days == 4.0
    assert summary.time_in_state[S.ACCEPTED].longest_days == 9.0
    assert summary.time_in_state[S.REFUSED].median_days == 0.5
    assert S.REQUESTED not in summary.time_in_state


# --- documents ------------------------------------------------------------------------------------------------------

PDF = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


@pytest.mark.parametrize(
    ("data", "media_type"),
    [(PDF, documents.MediaType.PDF), (PNG, documents.MediaType.PNG), (JPEG, documents.MediaType.JPEG)],
)
def test_types_are_sniffed_from_the_bytes(data: bytes, media_type: documents.MediaType) -> None:
    assert documents.sniff(data) is media_type
    checked = documents.check(data)
    assert isinstance(checked, documents.CheckedDocument)
    assert checked.media_type is media_type and checked.size == len(data)
    assert checked.sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize(
    ("data", "declared", "rule"),
    [
        (b"", None, documents.DocumentRule.EMPTY),
        (b"MZ\x90\x00 a Windows program", "application/pdf", documents.DocumentRule.TYPE_NOT_ALLOWED),
        (b"<html><script>alert(1)</script>", "image/png", documents.DocumentRule.TYPE_NOT_ALLOWED),
        (b"GIF89a....", None, documents.DocumentRule.TYPE_NOT_ALLOWED),
        (PNG, "application/pdf", documents.DocumentRule.TYPE_MISMATCH),  # declared PDF, is a PNG
        (PDF, "text/html", documents.DocumentRule.TYPE_MISMATCH),
        (b"%PDF-" + b"0" * documents.MAX_BYTES, "application/pdf", documents.DocumentRule.TOO_LARGE),
    ],
)
def test_refused_documents(data: bytes, declared: str | None, rule: documents.DocumentRule) -> None:
    refused = documents.check(data, declared)
    assert isinstance(refused, documents.DocumentRefused) and refused.rule is rule


def test_declared_types_are_compared_not_trusted() -> None:
    assert isinstance(documents.check(JPEG, "image/jpg"), documents.CheckedDocument)
    assert isinstance(documents.check(PDF, "application/pdf; name=x.pdf"), documents.CheckedDocument)
    exactly = b"%PDF-" + b"0" * (documents.MAX_BYTES - 5)
    assert isinstance(documents.check(exactly), documents.CheckedDocument)
