"""The log's panel and a person's proofs in a real browser: from the dashboard to a downloaded receipt."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from handover.app import create_app
from handover.core.custody import leaf
from handover.core.tlog.checkpoint import Checkpoint
from handover.core.tlog.hashing import leaf_hash
from handover.core.tlog.note import Signer, open_note
from handover.core.tlog.proof import parse_proof, verify_proof
from handover.services import log
from handover.services.ports import StoredCheckpoint
from handover.services.runtime import SimulatedClock, seeded_runtime
from handover.store.uow import Database
from tests.factories import T0
from tests.journeys import hand_over
from tests.scenarios import IN_TRANSIT_CODE, Scenario, transfer_scenario
from tests.support.browser import launch
from tests.support.team import as_team
from tests.web.live import serve, world_database

pytestmark = pytest.mark.browser

SIGNER = Signer.generate("test.example/log")
PERSON_SCREENSHOT = Path("/tmp/person.png")
PERSON_PHONE_SCREENSHOT = Path("/tmp/person-phone.png")
DASHBOARD_SCREENSHOT = Path("/tmp/dashboard-log.png")
DASHBOARD_PHONE_SCREENSHOT = Path("/tmp/dashboard-log-phone.png")
AFTER_CHECKPOINT = 5  # M-002's second handover, one event per person on it


@dataclass
class Site:
    url: str
    db: Database
    scenario: Scenario
    checkpoint: StoredCheckpoint


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The test scenario, a checkpoint over it, then M-002 handed to Iraq's custody after the checkpoint."""
    db = world_database(tmp_path_factory)
    scenario = transfer_scenario(db)
    signed_at = T0 + timedelta(hours=3)
    with db.unit_of_work() as uow:
        checkpoint = log.sign_checkpoint(uow, SIGNER, signed_at)
        uow.commit()
    clock = SimulatedClock(signed_at)
    with db.unit_of_work() as uow:
        hand_over(uow, seeded_runtime(9, clock), IN_TRANSIT_CODE, "us-centcom", "iq-moj", "karkh", clock())
        uow.commit()
    try:
        with serve(as_team(create_app(db, signer=SIGNER, checkpoint_interval=0))) as url:
            yield Site(url, db, scenario, checkpoint)
    finally:
        db.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright, launch(playwright) as chromium:
        yield chromium


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB", accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, errors


def test_from_the_dashboard_to_a_verified_receipt(site: Site, page: Page) -> None:
    page.goto(site.url + "/")
    panel = page.get_by_test_id("log-panel")
    expect(panel.get_by_test_id("checkpoint-size")).to_have_text(str(site.scenario.log_size))
    expect(panel.get_by_test_id("checkpoint-key-name")).to_have_text(SIGNER.name)
    expect(panel.get_by_test_id("checkpoint-key-id")).to_have_text(f"{SIGNER.key_id:08x}")
    expect(panel.get_by_test_id("checkpoint-after")).to_contain_text(f"{AFTER_CHECKPOINT} events recorded after")
    expect(panel.get_by_test_id("checkpoint-link")).to_have_attribute("href", "/log/checkpoint")
    panel.screenshot(path=str(DASHBOARD_SCREENSHOT))

    # The newest event is M-002's handover to Iraq, after the checkpoint; open that person's page.
    newest = page.get_by_test_id("latest-events").get_by_test_id("event-row").first
    expect(newest).to_have_attribute("data-type", "handed_over")
    person_id = newest.get_by_test_id("event-person-link").get_attribute("href").rsplit("/", 1)[1]  # type: ignore[union-attr]
    assert person_id in site.scenario.in_transit
    newest.get_by_test_id("event-person-link").click()
    expect(page).to_have_url(f"{site.url}/persons/{person_id}")
    expect(page.get_by_test_id("person-id")).to_have_text(person_id)
    expect(page.get_by_test_id("current-status")).to_have_text("in transit")

    events = page.get_by_test_id("chain-event")
    expect(events).to_have_count(7)
    verified = page.locator('[data-testid="chain-event"][data-inclusion="verified"]')
    expect(verified).to_have_count(6)
    for n in range(6):
        expect(verified.nth(n).get_by_test_id("inclusion-badge")).to_have_text(
            f"verified in checkpoint of size {site.scenario.log_size}"
        )
    pending = page.locator('[data-testid="chain-event"][data-inclusion="pending"]')
    expect(pending).to_have_count(1)
    expect(pending.get_by_test_id("inclusion-badge")).to_have_text("not yet in a checkpoint")
    expect(pending.get_by_test_id("receipt-link")).to_have_count(0)

    first = events.first
    hashes = first.get_by_test_id("proof-hash")
    expect(hashes.first).to_be_hidden()
    first.locator("summary").click()
    expect(hashes.first).to_be_visible()
    with site.db.unit_of_work() as uow:
        stored = uow.custody.chain(person_id)[0]
        expected = log.inclusion_proof(uow, stored.seq, site.checkpoint.size)
    expect(hashes).to_have_count(len(expected))
    page.screenshot(path=str(PERSON_SCREENSHOT), full_page=True)

    with page.expect_download() as download_info:
        first.get_by_test_id("receipt-link").click()
    download = download_info.value
    assert download.suggested_filename == f"{stored.event.event_id}.tlog-proof"
    proof = parse_proof(Path(download.path()).read_text(encoding="utf-8"))
    assert proof.index == stored.seq and list(proof.hashes) == expected
    checkpoint = Checkpoint.parse(open_note(proof.checkpoint, [SIGNER.verifier]).text)
    assert checkpoint.size == site.scenario.log_size and checkpoint.root == site.checkpoint.root
    assert verify_proof(proof, leaf_hash(leaf.encode(stored.event)), checkpoint)


def test_unknown_person_page(site: Site, page: Page) -> None:
    response = page.goto(site.url + "/persons/not-a-person")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Person not found")
    page.get_by_test_id("back-to-dashboard").click()
    expect(page.get_by_test_id("log-panel")).to_be_visible()


@pytest.mark.parametrize("where", ["dashboard", "person"])
def test_phone_width_has_no_horizontal_scroll(site: Site, browser: Browser, where: str) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    try:
        page = context.new_page()
        if where == "dashboard":
            page.goto(site.url + "/")
            expect(page.get_by_test_id("checkpoint-root")).to_be_visible()
            page.get_by_test_id("log-panel").screenshot(path=str(DASHBOARD_PHONE_SCREENSHOT))
        else:
            page.goto(f"{site.url}/persons/{site.scenario.moved[0]}")
            expect(page.locator('[data-inclusion="verified"]')).to_have_count(9)
            for summary in page.locator("details.proof summary").all()[:2]:
                summary.click()  # open proofs: their hashes must wrap, not widen the page
            expect(page.get_by_test_id("proof-hash").first).to_be_visible()
            page.screenshot(path=str(PERSON_PHONE_SCREENSHOT), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert page.evaluate("document.body.scrollWidth") <= 390
    finally:
        context.close()
