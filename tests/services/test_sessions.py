"""Browser sessions: what a session may do at each stage, and when it stops working."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from handover.core.policy import signin
from handover.core.policy.access import ANONYMOUS, Role
from handover.services import accounts, sessions
from handover.services.runtime import Runtime, SimulatedClock, seeded_runtime
from handover.store.uow import Database
from tests.factories import T0, add_world
from tests.support.accounts import User, cheap_hashing, make_user

ADDRESS = "203.0.113.9"


@pytest.fixture(autouse=True)
def _cheap() -> Iterator[None]:
    with cheap_hashing():
        yield


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(T0)


@pytest.fixture
def rt(clock: SimulatedClock) -> Runtime:
    return seeded_runtime(11, clock)


@pytest.fixture
def places(db: Database) -> Database:
    with db.unit_of_work() as uow:
        add_world(uow)
        uow.commit()
    return db


def _start(db: Database, rt: Runtime, name: str, password: str, code: str | None = None) -> str:
    with db.unit_of_work() as uow:
        signed = accounts.sign_in(uow, rt, name, password, ADDRESS, code)
        secret = sessions.start(uow, rt, signed)
        uow.commit()
    return secret


def _current(db: Database, rt: Runtime, secret: str) -> sessions.Current | None:
    with db.unit_of_work(read_only=True) as uow:
        return sessions.current(uow, rt, secret)


def test_a_full_session_acts_as_its_account_until_it_ends(places: Database, rt: Runtime, clock: SimulatedClock) -> None:
    user: User = make_user(places, rt, "mona", Role.MONITOR)
    secret = _start(places, rt, user.name, user.password, user.code(clock()))
    found = _current(places, rt, secret)
    assert found is not None and found.stage == sessions.FULL
    assert found.principal.account_id == user.account.id and found.principal.role is Role.MONITOR
    assert sessions.csrf_matches(found, sessions.csrf_token(secret))
    assert not sessions.csrf_matches(found, sessions.csrf_token(secret + "x")) and not sessions.csrf_matches(found, "")
    with places.unit_of_work() as uow:
        stored = uow.accounts.session_by_hash(found.session.token_hash)
        assert stored is not None and secret not in repr(stored)  # only its hash is kept
        sessions.end(uow, rt, secret)
        uow.commit()
    assert _current(places, rt, secret) is None


def test_a_session_expires(places: Database, rt: Runtime, clock: SimulatedClock) -> None:
    user = make_user(places, rt, "mona", Role.MONITOR)
    secret = _start(places, rt, user.name, user.password, user.code(clock()))
    clock.advance(sessions.LIFETIME - timedelta(seconds=1))
    assert _current(places, rt, secret) is not None
    clock.advance(timedelta(seconds=1))
    assert _current(places, rt, secret) is None


def test_disabling_an_account_or_resetting_its_password_ends_its_sessions(
    places: Database, rt: Runtime, clock: SimulatedClock
) -> None:
    mona = make_user(places, rt, "mona", Role.MONITOR)
    pat = make_user(places, rt, "pat", Role.PLANNER)
    first = _start(places, rt, mona.name, mona.password, mona.code(clock()))
    second = _start(places, rt, pat.name, pat.password, pat.code(clock()))
    with places.unit_of_work() as uow:
        accounts.disable(uow, rt, "mona")
        accounts.reset_password(uow, rt, "pat")
        uow.commit()
    assert _current(places, rt, first) is None
    assert _current(places, rt, second) is None


def test_a_role_change_takes_effect_on_the_next_request(places: Database, rt: Runtime, clock: SimulatedClock) -> None:
    user = make_user(places, rt, "pat", Role.PLANNER)
    secret = _start(places, rt, user.name, user.password, user.code(clock()))
    with places.unit_of_work() as uow:
        accounts.set_role(uow, rt, "pat", Role.MONITOR)
        uow.commit()
    found = _current(places, rt, secret)
    assert found is not None and found.principal.role is Role.MONITOR


def test_a_new_account_can_do_nothing_until_its_password_is_changed_and_its_second_factor_set_up(
    places: Database, rt: Runtime, clock: SimulatedClock
) -> None:
    with places.unit_of_work() as uow:
        _account, one_time = accounts.add_account(uow, rt, "newbie", Role.INTAKE_OFFICER, facility_id="karkh")
        uow.commit()
    secret = _start(places, rt, "newbie", one_time)
    found = _current(places, rt, secret)
    assert found is not None and found.stage == sessions.CHANGE_PASSWORD and found.principal == ANONYMOUS

    with places.unit_of_work() as uow:
        changed = accounts.change_password(uow, rt, found.account.id, one_time, "a much better password")
        assert sessions.advance(uow, found.session, changed) == sessions.SET_UP_SECOND_FACTOR
        uow.commit()
    found = _current(places, rt, secret)
    assert found is not None and found.principal == ANONYMOUS

    with places.unit_of_work() as uow:
        setup = accounts.begin_second_factor(uow, rt, "newbie")
        uow.commit()
    with places.unit_of_work() as uow:
        stored = uow.accounts.by_name("newbie")
        assert stored is not None and stored.totp_secret is not None
        assert signin.secret_text(stored.totp_secret) == setup.secret  # the key the page shows is the one in force
        confirmed = accounts.confirm_second_factor(uow, rt, "newbie", signin.code_at(stored.totp_secret, clock()))
        assert sessions.advance(uow, found.session, confirmed) == sessions.FULL
        uow.commit()
    found = _current(places, rt, secret)
    assert found is not None and found.principal.role is Role.INTAKE_OFFICER and found.principal.facility_id == "karkh"
