"""Signing in, the second factor, signing out and a refused cross-site write, in real headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from handover.app import create_app
from handover.core.policy.access import Role
from handover.services.runtime import system_runtime
from handover.store.uow import Database
from tests.scenarios import Scenario, transfer_scenario
from tests.support.accounts import User, cheap_hashing, make_user
from tests.support.browser import launch
from tests.web.live import serve, world_database

pytestmark = pytest.mark.browser


@dataclass
class Site:
    url: str
    db: Database
    scenario: Scenario
    users: dict[str, User]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    db = world_database(tmp_path_factory)
    scenario = transfer_scenario(db)
    rt = system_runtime()
    with cheap_hashing():
        # One account per test: a TOTP code is accepted once, so a second sign-in in the same 30 s would be refused.
        users = {
            "monitor": make_user(db, rt, "mona", Role.MONITOR),
            "admin": make_user(db, rt, "ada", Role.ADMIN),
            "tamper": make_user(db, rt, "tess", Role.MONITOR),
        }
        try:
            with serve(create_app(db)) as url:
                yield Site(url, db, scenario, users)
        finally:
            db.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright, launch(playwright) as chromium:
        yield chromium


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    yield page
    context.close()


def _sign_in(page: Page, site: Site, user: User, next_path: str = "/") -> None:
    page.goto(f"{site.url}/signin?next={next_path}")
    page.get_by_test_id("name").fill(user.name)
    page.get_by_test_id("password").fill(user.password)
    page.get_by_test_id("code").fill(user.code(datetime.now(UTC)))
    page.get_by_test_id("signin-submit").click()


def test_a_monitor_signs_in_with_a_code_reads_a_record_and_signs_out(page: Page, site: Site) -> None:
    person = site.scenario.moved[0]
    page.goto(f"{site.url}/persons/{person}")
    expect(page).to_have_url(f"{site.url}/signin?next=/persons/{person}")  # the public is sent to sign in

    _sign_in(page, site, site.users["monitor"], f"/persons/{person}")
    expect(page).to_have_url(f"{site.url}/persons/{person}")
    expect(page.get_by_test_id("signed-in-as")).to_contain_text("mona")
    # A monitor has no usual purpose: the record opens once one is stated, and that read is recorded.
    page.get_by_label("Purpose").select_option("monitoring")
    page.get_by_role("button", name="Open the record").click()
    expect(page.locator("body")).to_contain_text(person)
    with site.db.unit_of_work(read_only=True) as uow:
        reads = uow.access_log.for_person(person)
    assert [(r.reader_id, r.purpose) for r in reads] == [(site.users["monitor"].account.id, "monitoring")]

    page.get_by_test_id("signout").click()
    expect(page).to_have_url(f"{site.url}/signin")
    expect(page.get_by_test_id("signin-link")).to_be_visible()
    page.goto(f"{site.url}/persons/{person}")
    expect(page).to_have_url(f"{site.url}/signin?next=/persons/{person}")


def test_a_wrong_code_is_refused(page: Page, site: Site) -> None:
    user = site.users["tamper"]
    page.goto(f"{site.url}/signin")
    page.get_by_test_id("name").fill(user.name)
    page.get_by_test_id("password").fill(user.password)
    page.get_by_test_id("code").fill("000000" if user.code(datetime.now(UTC)) != "000000" else "111111")
    page.get_by_test_id("signin-submit").click()
    expect(page.get_by_test_id("signin-error")).to_be_visible()
    expect(page.get_by_test_id("signin-link")).to_be_visible()


def test_a_forged_form_token_and_a_cross_site_form_are_refused(page: Page, site: Site) -> None:
    _sign_in(page, site, site.users["admin"], "/officers")
    expect(page).to_have_url(f"{site.url}/officers")
    expect(page.get_by_test_id("signed-in-as")).to_contain_text("ada")

    # Same site, the form's token altered: refused, and still signed in.
    page.locator("form[action='/signout'] input[name='csrf']").evaluate("input => input.value = 'forged'")
    page.get_by_test_id("signout").click()
    expect(page.get_by_test_id("signin-error")).to_contain_text("security token")
    page.goto(f"{site.url}/officers")
    expect(page.get_by_test_id("signed-in-as")).to_contain_text("ada")

    # Another site's page posting to ours: the SameSite=Strict cookie is not sent, so the write is refused.
    with site.db.unit_of_work(read_only=True) as uow:
        before = len(uow.operations.officers())
    page.set_content(
        f"""<form id="evil" method="post" action="{site.url}/officers">
        <input name="name" value="Forged officer"><input name="authority_id" value="us-centcom">
        <input name="public_key" value="AAAA"></form>"""
    )
    with page.expect_navigation():
        page.locator("#evil").evaluate("form => form.submit()")
    expect(page.locator("body")).not_to_contain_text("Forged officer")
    with site.db.unit_of_work(read_only=True) as uow:
        assert len(uow.operations.officers()) == before
