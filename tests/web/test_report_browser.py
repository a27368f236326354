"""The public report in a real browser, without signing in: the counts, a suppressed cell's x with its explanation,
the checkpoint the figures stand on, and the charts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from handover.app import create_app
from handover.core.tlog.note import Signer
from handover.services import log
from tests.factories import T0
from tests.scenarios import transfer_scenario
from tests.support.browser import launch
from tests.support.report import store_release
from tests.web.live import serve, world_database

pytestmark = pytest.mark.browser

SIGNER = Signer.generate("test.example/report-browser")
SCREENSHOT = Path("/tmp/report.png")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    db = world_database(tmp_path_factory)
    transfer_scenario(db)
    with db.unit_of_work() as uow:
        size = log.sign_checkpoint(uow, SIGNER, T0 + timedelta(days=1)).size
        uow.commit()
    store_release(db)
    try:
        with serve(create_app(db, signer=SIGNER, checkpoint_interval=0)) as url:
            yield url, size
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


def test_the_public_reads_the_report_without_signing_in(site: tuple[str, int], page: Page) -> None:
    url, size = site
    page.goto(url + "/")
    page.get_by_test_id("nav-report").click()
    expect(page).to_have_url(url + "/report")
    expect(page.get_by_test_id("signin-link")).to_be_visible()  # nobody is signed in
    expect(page.get_by_test_id("report-release")).to_contain_text("Release 1")

    expect(page.get_by_test_id("count-registered").get_by_test_id("count-value")).to_have_text("7,000")
    expect(page.get_by_test_id("count-moved").get_by_test_id("count-value")).to_have_text("363")

    held = page.get_by_test_id("table-held_by_facility_and_estate")
    karkh = held.locator("tbody tr").nth(1)
    expect(karkh.locator("th")).to_have_text("Karkh prison")
    minors = karkh.get_by_test_id("cell").nth(2)
    expect(minors).to_have_text("x")
    expect(minors.locator("abbr")).to_have_attribute(
        "title", "suppressed: not published, to protect the people counted"
    )
    expect(page.get_by_test_id("suppressed-legend")).to_contain_text("fewer than 10 people")

    expect(page.get_by_test_id("report-checkpoint-size")).to_have_text(f"{size:,}")
    expect(page.get_by_test_id("report-computed-from")).to_contain_text(f"log entries 0 to {size - 1}")
    expect(page.get_by_test_id("report-verify-command")).to_contain_text(SIGNER.verifier.vkey)

    chart = page.get_by_test_id("chart-cumulative")
    chart.scroll_into_view_if_needed()
    expect(chart).to_be_visible()
    assert chart.evaluate("image => image.complete && image.naturalWidth > 0")
    page.screenshot(path=str(SCREENSHOT), full_page=True)
