"""The demo's accounts and repatriation cases: one account per role (demo databases only), countries accepting,
refusing and silent, a group repatriated through a signed handover; repeatable from the seed."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from handover.core.custody import EventType, Status
from handover.core.policy import signin
from handover.core.policy.access import Role
from handover.core.repatriation.cases import CaseState
from handover.demo.accounts import USERS, DemoAccount, add_demo_accounts, demo_runtime
from handover.demo.build import build_demo
from handover.demo.repatriation import STANCES, DemoRepatriation, add_demo_repatriation
from handover.services import accounts, rebuild, repatriation
from handover.services.errors import ConflictError
from handover.services.runtime import SimulatedClock, seeded_runtime
from handover.store.uow import Database

SEED, PEOPLE = 3, 3000  # enough Kazakh men at Ghweran for the first group of ten
START = datetime(2026, 2, 1, tzinfo=UTC)
_TABLES = ("accounts", "api_tokens", "repatriation_cases", "repatriation_case_events", "repatriation_requests")


def _build(path: str) -> tuple[Database, list[DemoAccount], DemoRepatriation]:
    db = Database(f"sqlite:///{path}")
    db.migrate()
    build_demo(db.unit_of_work, seed=SEED, people=PEOPLE)
    clock = SimulatedClock(START)
    rt = demo_runtime(SEED, clock)
    with db.unit_of_work() as uow:
        users = add_demo_accounts(uow, rt, seed=SEED)
        result = add_demo_repatriation(uow, rt, clock, users, seed=SEED)
        uow.commit()
    return db, users, result


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Database, list[DemoAccount], DemoRepatriation]:
    return _build(str(tmp_path_factory.mktemp("demo") / "demo.sqlite3"))


def test_demo_accounts_only_in_a_demo_database(db: Database) -> None:
    with db.unit_of_work() as uow, pytest.raises(ConflictError) as refused:
        add_demo_accounts(uow, seeded_runtime(1, SimulatedClock(START)))
    assert refused.value.rule == "demo-only"


def test_one_account_per_role_that_signs_in_with_its_published_password(demo) -> None:  # type: ignore[no-untyped-def]
    db, users, _result = demo
    assert {u.role for u in users} == set(Role) - {Role.PUBLIC}
    assert [u.name for u in users] == [u.name for u in USERS]
    clock = SimulatedClock(START)
    rt = seeded_runtime(99, clock)
    for user in users:
        assert user.totp_secret is not None  # every demo role sees personal data or grants roles
        code = signin.code_at(signin_secret(user.totp_secret), clock())
        with db.unit_of_work() as uow:
            signed = accounts.sign_in(uow, rt, user.name, user.password, "127.0.0.1", code)
        assert signed.principal.role is user.role and not signed.must_set_up_second_factor
        assert user.name in user.line() and user.password in user.line()
    with db.unit_of_work() as uow:  # idempotent: listed again, nothing made twice
        again = add_demo_accounts(uow, rt, seed=SEED)
        assert [(u.name, u.password) for u in again] == [(u.name, u.password) for u in users]
        assert uow.accounts.count() == len(USERS)


def signin_secret(text: str) -> bytes:
    import base64

    return base64.b32decode(text + "=" * (-len(text) % 8))


def test_countries_accept_refuse_and_stay_silent(demo) -> None:  # type: ignore[no-untyped-def]
    db, users, result = demo
    planner = next(u.principal for u in users if u.role is Role.PLANNER)
    with db.unit_of_work() as uow:
        summaries = {s.country: s for s in repatriation.summaries(uow, planner, START)}
    expected = {s.country: dict(s.outcomes) for s in STANCES}
    for country, summary in summaries.items():
        counts = {state: n for state, n in summary.counts.items() if n}
        assert counts == {state: n for state, n in expected[country].items() if n}, country
    assert summaries["KZ"].counts[CaseState.REPATRIATED] == 10
    assert summaries["GB"].counts[CaseState.REFUSED] == 4
    assert summaries["DE"].counts[CaseState.REQUESTED] == 4  # no answer
    assert result.total == sum(s.total for s in summaries.values())
    # The French diplomat sees France's cases and no other.
    french = next(u.principal for u in users if u.principal.country == "FR")
    with db.unit_of_work() as uow:
        assert {c.country for c in repatriation.cases(uow, french)} == {"FR"}


def test_the_first_kazakh_group_left_by_a_signed_handover(demo) -> None:  # type: ignore[no-untyped-def]
    db, _users, result = demo
    left = [c for c in result.cases["KZ"] if c.state == CaseState.REPATRIATED.value]
    with db.unit_of_work() as uow:
        states = uow.custody.states([c.person_id for c in left])
        assert all(s.status is Status.REPATRIATED and s.custodian_id == "kz-gov" for s in states.values())
        for case in left:
            kinds = [e.event.type for e in uow.custody.chain(case.person_id)]
            # Arrived at the airport, handed over to Kazakhstan there, received by it, repatriated.
            assert kinds[-4:] == [EventType.ARRIVED, EventType.HANDED_OVER, EventType.ADMITTED, EventType.REPATRIATED]
        handovers = uow.operations.handovers(movement_id=result.movements[0])
        assert {(h.to_authority_id, h.state) for h in handovers} == {("us-centcom", "complete"), ("kz-gov", "complete")}
        assert repatriation.accepted_person_ids(uow) >= {
            c.person_id for c in result.cases["KZ"] if c.state == CaseState.SCHEDULED.value
        }
        report = rebuild.compare(uow)
    assert report.differences == [] and report.broken == []
    assert Counter(c.state for c in result.cases["KZ"])[CaseState.SCHEDULED.value] == 3


def test_the_same_seed_makes_the_same_accounts_and_cases(demo, tmp_path_factory: pytest.TempPathFactory) -> None:  # type: ignore[no-untyped-def]
    first = demo[0]
    second, _users, _result = _build(str(tmp_path_factory.mktemp("again") / "demo.sqlite3"))

    def dump(db: Database) -> dict[str, list[tuple]]:  # type: ignore[type-arg]
        with db.engine.connect() as conn:
            return {
                t: [tuple(r) for r in conn.execute(sa.text(f"SELECT * FROM {t} ORDER BY 1")).all()] for t in _TABLES
            }

    assert dump(first) == dump(second)
