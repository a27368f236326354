"""The dashboard in a real browser: a uvicorn server in a thread, headless Chromium through Playwright."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from handover.app import create_app
from handover.services.registry import NewPerson, register_people
from handover.services.runtime import system_runtime
from handover.store.uow import Database
from tests.factories import T0, man
from tests.scenarios import Scenario, transfer_scenario
from tests.support.browser import launch
from tests.support.team import as_team
from tests.web.live import serve, world_database

pytestmark = pytest.mark.browser

SCREENSHOT = Path("/tmp/dashboard.png")
PHONE_SCREENSHOT = Path("/tmp/dashboard-phone.png")


@dataclass
class Site:
    url: str
    db: Database
    scenario: Scenario


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    db = world_database(tmp_path_factory)
    scenario = transfer_scenario(db)
    try:
        with serve(as_team(create_app(db))) as url:  # the team: who may read the latest events
            yield Site(url, db, scenario)
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
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, errors


def test_dashboard_shows_progress_occupancy_and_events(site: Site, page: Page) -> None:
    page.goto(site.url + "/")
    expect(page.get_by_test_id("headline")).to_have_text("12 moved of 7,000 planned")
    expect(page.get_by_test_id("progress")).to_have_attribute("aria-valuenow", "12")
    expect(page.get_by_test_id("in-transit")).to_have_text("5")

    karkh = page.get_by_test_id("occupancy-karkh-adult_men")
    expect(karkh.get_by_test_id("held")).to_have_text("12")
    expect(karkh.get_by_test_id("capacity")).to_have_text("60")
    expect(page.get_by_test_id("occupancy-karkh").get_by_test_id("facility-name")).to_have_text("Karkh Central Prison")

    rows = page.get_by_test_id("latest-events").get_by_test_id("event-row")
    expect(rows).to_have_count(20)
    expect(rows.first.get_by_test_id("event-seq")).to_have_text(str(site.scenario.log_size - 1))
    assert page.evaluate("typeof window.htmx") == "object"
    assert page.evaluate("document.documentElement.dir") == "ltr"
    page.screenshot(path=str(SCREENSHOT), full_page=True)


def test_latest_events_refresh_through_htmx(site: Site, page: Page) -> None:
    page.goto(site.url + "/")
    rows = page.get_by_test_id("latest-events").get_by_test_id("event-row")
    expect(rows).to_have_count(20)
    top = int(rows.first.get_attribute("data-seq") or "-1")

    with site.db.unit_of_work() as uow:  # a new event arrives while the page is open
        register_people(uow, system_runtime(), [NewPerson(man(999), "ghweran")], T0)
        uow.commit()

    with page.expect_response(lambda r: r.url.endswith("/partials/latest-events") and r.ok):
        page.evaluate("htmx.trigger('#latest-events', 'refresh')")
    expect(rows.first).to_have_attribute("data-seq", str(top + 1))
    expect(rows.first.get_by_test_id("event-type")).to_have_text("registered")
    expect(rows).to_have_count(20)


def test_phone_width_has_no_horizontal_scroll(site: Site, browser: Browser) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    try:
        page = context.new_page()
        page.goto(site.url + "/")
        expect(page.get_by_test_id("headline")).to_be_visible()
        expect(page.get_by_test_id("latest-events").get_by_test_id("event-row")).to_have_count(20)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert page.evaluate("document.body.scrollWidth") <= 390
        page.screenshot(path=str(PHONE_SCREENSHOT), full_page=True)
    finally:
        context.close()
