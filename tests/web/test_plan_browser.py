"""The Plan page in a real browser: its charts are drawn (inline SVG from the server, nothing fetched elsewhere),
and a planner adopts the first day of the plan with the button and lands on the new draft movements."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from handover.app import create_app
from handover.services import transfers
from handover.store.uow import Database
from tests.support.browser import launch
from tests.support.team import as_team
from tests.web.live import serve, world_database
from tests.web.test_plan_pages import populate

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Database]]:
    db = world_database(tmp_path_factory)
    populate(db)
    try:
        with serve(as_team(create_app(db, checkpoint_interval=0))) as url:  # the operations team plans
            yield url, db
    finally:
        db.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright, launch(playwright) as chromium:
        yield chromium


def test_the_plan_page_draws_its_charts_and_adopts_a_day(browser: Browser, site: tuple[str, Database]) -> None:
    url, db = site
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    page = context.new_page()
    errors: list[str] = []
    elsewhere: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: None if request.url.startswith(url) else elsewhere.append(request.url))
    try:
        page.goto(url + "/")
        expect(page.get_by_test_id("signed-in-as")).to_contain_text("Operations team")
        page.get_by_test_id("nav-plan").click()
        expect(page.get_by_test_id("plan-headline")).to_contain_text("10 of 42 people are still waiting")

        # The charts are there and drawn: bars with a size, lines, the forecast's bands and the plan's marker.
        timeline = page.locator('svg[data-testid="timeline-chart"]')
        expect(timeline).to_be_visible()
        assert (timeline.bounding_box() or {"width": 0})["width"] > 500
        bars = page.locator('[data-testid="timeline-chart-bar"]')
        assert bars.count() > 0
        box = bars.first.bounding_box()
        assert box is not None and box["height"] > 0 and box["width"] > 0
        expect(page.locator('[data-testid="utilisation-chart-line"] polyline')).to_have_count(2)
        expect(page.locator('[data-testid="forecast-chart-band"]')).to_have_count(5)
        expect(page.get_by_test_id("forecast-chart-marker")).to_be_visible()
        expect(page.get_by_test_id("bottleneck-message").first).to_contain_text("not cleared")

        # Adopt the first day with its button: its drafts become draft movements on the board.
        first_day = page.get_by_test_id("draft-day").first
        people = int(first_day.get_by_test_id("day-people").inner_text())
        first_day.get_by_test_id("adopt").click()
        expect(page.get_by_test_id("adopted")).to_be_visible()
        links = page.get_by_test_id("adopted-movement")
        assert links.count() >= 1
        codes = links.all_inner_texts()
        with db.unit_of_work(read_only=True) as uow:
            on_board = sum(len(uow.custody.on_movement(transfers.movement(uow, code).id)) for code in codes)
        assert on_board == people
        links.first.click()
        expect(page.locator("h1")).to_contain_text(codes[0])
        assert not errors, errors
        assert not elsewhere, elsewhere
    finally:
        context.close()
