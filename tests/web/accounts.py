"""Signing real accounts in on the pages, for tests of who may see what: an account made with
tests/support/accounts.py (with the app's own runtime, so ids never repeat), then the sign-in form posted as a
browser does, with the password and the current code; the client keeps the session cookie it gets back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from fastapi.testclient import TestClient

from handover.core.policy.access import Role
from handover.services.runtime import Runtime
from tests.support.accounts import User, make_user, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Page


def runtime_of(client: TestClient) -> Runtime:
    rt: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    return rt


def user_of(client: TestClient, name: str, role: Role, **scope: str) -> User:
    """A new account on the client's app's database."""
    return make_user(client.app.state.database, runtime_of(client), name, role, **scope)  # type: ignore[attr-defined,arg-type]


def signed_in_as(client: TestClient, name: str, role: Role, **scope: str) -> TestClient:
    """A new account of `role`, signed in on `client` through the form."""
    response = sign_in(client, user_of(client, name, role, **scope), runtime_of(client).clock())
    assert response.status_code == 303 and response.headers["location"] == "/", response.text
    return client


def sign_in_page(page: Page, url: str, user: User) -> None:
    """Sign in through the form in a real browser, on a server that keeps the system's time."""
    page.goto(url + "/signin")
    page.get_by_test_id("name").fill(user.name)
    page.get_by_test_id("password").fill(user.password)
    if user.secret is not None:
        page.get_by_test_id("code").fill(user.code(datetime.now(UTC)))
    page.get_by_test_id("signin-submit").click()
