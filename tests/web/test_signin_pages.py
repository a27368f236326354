"""Signing in and out through the pages: sessions in HttpOnly cookies, second factors, throttling, CSRF."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from handover.app import create_app
from handover.core.policy import signin
from handover.core.policy.access import Role
from handover.gate import SESSION_COOKIE
from handover.services import accounts
from handover.services.runtime import Runtime, SimulatedClock, seeded_runtime
from handover.store.uow import Database
from tests.factories import T0
from tests.support.accounts import cheap_hashing, make_user, sign_in
from tests.web.live import world_database


@pytest.fixture(autouse=True)
def _cheap() -> Iterator[None]:
    with cheap_hashing():
        yield


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(T0)


@pytest.fixture
def rt(clock: SimulatedClock) -> Runtime:
    return seeded_runtime(21, clock)


@pytest.fixture
def site(tmp_path_factory: pytest.TempPathFactory, rt: Runtime) -> Iterator[tuple[Database, TestClient]]:
    db = world_database(tmp_path_factory)
    try:
        with TestClient(create_app(db, runtime=rt), base_url="https://testserver") as client:
            yield db, client
    finally:
        db.dispose()


def test_signing_in_sets_a_strict_http_only_cookie_and_signing_out_ends_the_session(site, rt, clock) -> None:  # type: ignore[no-untyped-def]
    db, client = site
    user = make_user(db, rt, "mona", Role.MONITOR)
    response = sign_in(client, user, clock(), next_path="/access-log")
    assert response.status_code == 303 and response.headers["location"] == "/access-log"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "secure" in cookie
    secret = client.cookies[SESSION_COOKIE]
    assert user.password not in cookie

    page = client.get("/access-log")
    assert page.status_code == 200 and 'data-testid="signed-in-as"' in page.text and "mona" in page.text

    refused = client.post("/signout", data={"csrf": "not-the-token"}, follow_redirects=False)
    assert refused.status_code == 403 and client.get("/access-log").status_code == 200  # still signed in

    csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    out = client.post("/signout", data={"csrf": csrf}, follow_redirects=False)
    assert out.status_code == 303
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, secret)  # the old cookie, replayed: the session has ended on the server
    again = client.get("/access-log", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"].startswith("/signin?next=/access-log")


def test_a_wrong_password_or_code_is_refused_alike_and_sets_no_cookie(site, rt, clock) -> None:  # type: ignore[no-untyped-def]
    db, client = site
    user = make_user(db, rt, "mona", Role.MONITOR)
    wrong_password = client.post("/signin", data={"name": "mona", "password": "nope", "code": user.code(clock())})
    wrong_code = client.post("/signin", data={"name": "mona", "password": user.password, "code": "000000"})
    unknown = client.post("/signin", data={"name": "nobody", "password": "nope", "code": "123456"})
    for response in (wrong_password, wrong_code, unknown):
        assert response.status_code == 401 and SESSION_COOKIE not in response.headers.get("set-cookie", "")
        assert 'data-testid="signin-error"' in response.text
    no_code = client.post("/signin", data={"name": "mona", "password": user.password})
    assert no_code.status_code == 401 and "code" in no_code.text.lower()


def test_repeated_failures_are_throttled_even_for_the_right_password(site, rt, clock) -> None:  # type: ignore[no-untyped-def]
    db, client = site
    user = make_user(db, rt, "mona", Role.MONITOR)
    statuses = []
    for _attempt in range(20):
        statuses.append(client.post("/signin", data={"name": "mona", "password": "guess"}).status_code)
        if statuses[-1] == 429:
            break
    assert statuses[-1] == 429 and set(statuses[:-1]) == {401}
    right = client.post("/signin", data={"name": "mona", "password": user.password, "code": user.code(clock())})
    assert right.status_code == 429 and int(right.headers["retry-after"]) > 0
    clock.advance(signin.LOOKBACK + timedelta(minutes=1))
    assert sign_in(client, user, clock()).status_code == 303


def test_a_first_sign_in_changes_the_one_time_password_then_sets_up_the_second_factor(site, rt, clock) -> None:  # type: ignore[no-untyped-def]
    db, client = site
    with db.unit_of_work() as uow:
        _account, one_time = accounts.add_account(uow, rt, "dina", Role.DIPLOMAT, country="KZ")
        uow.commit()
    first = client.post("/signin", data={"name": "dina", "password": one_time}, follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/account/password"
    assert client.get("/access-log", follow_redirects=False).status_code == 303  # nothing else until it is done

    page = client.get("/account/password")
    csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    short = client.post("/account/password", data={"csrf": csrf, "current_password": one_time, "new_password": "x"})
    assert short.status_code == 422
    changed = client.post(
        "/account/password",
        data={"csrf": csrf, "current_password": one_time, "new_password": "a consular passphrase"},
        follow_redirects=False,
    )
    assert changed.status_code == 303 and changed.headers["location"] == "/account/second-factor"

    setup = client.get("/account/second-factor")
    key = setup.text.split('data-testid="totp-secret">', 1)[1].split("<", 1)[0]
    with db.unit_of_work() as uow:
        stored = uow.accounts.by_name("dina")
        assert stored is not None and stored.totp_secret is not None and signin.secret_text(stored.totp_secret) == key
        secret = stored.totp_secret
    bad = client.post("/account/second-factor", data={"csrf": csrf, "code": "000000"})
    assert bad.status_code == 422
    done = client.post(
        "/account/second-factor", data={"csrf": csrf, "code": signin.code_at(secret, clock())}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == "/"
    assert 'data-testid="signed-in-as"' in client.get("/").text
