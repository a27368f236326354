"""Transfer operations in a real browser: a planner, field officers on phones and an intake officer take a group
from Ghweran through Rabia to Karkh, with the handover at the border signed in the browser by both officers'
own Ed25519 keys (WebCrypto); a wrong key is refused; a half-signed handover is an alert.

The operations are done as the operations team (a server whose every request acts as it); what a read-only role
sees is shown on a second server on the same database, by a monitor who signs in through the form with a password
and a TOTP code."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from handover.app import create_app
from handover.core.custody import Capacity, Facility
from handover.core.custody.handover import public_key_of
from handover.core.custody.model import FacilityKind, TransportMode
from handover.core.custody.movements import Route
from handover.core.policy.access import Role
from handover.services import handovers
from handover.services.reference import add_reference_data
from handover.services.runtime import SimulatedClock, seeded_runtime, system_runtime
from handover.store.uow import Database
from tests.factories import T0
from tests.journeys import clear
from tests.scenarios import IN_TRANSIT_CODE, Scenario, transfer_scenario
from tests.support.accounts import make_user
from tests.support.browser import launch
from tests.support.team import as_team
from tests.web.accounts import sign_in_page
from tests.web.live import serve, world_database

pytestmark = pytest.mark.browser

RABIA = Facility(
    "rabia", "Rabia border crossing", "IQ", FacilityKind.BORDER_CROSSING, 36.80, 42.10, "iq-moj", 2, Capacity()
)
CONVOY = Route(
    "ghweran-rabia-karkh", "ghweran", "karkh", ("kharab-al-jir", "rabia"), TransportMode.ROAD_CONVOY, "sy-moi", 700, 40
)
SEEDS = {name: hashlib.sha256(f"browser-officer-{name}".encode()).digest() for name in ("sy", "iq", "us", "wrong")}
OFFICERS = {"sy": ("Capt. Sami Haddad", "sy-moi"), "us": ("Sgt. Dana Cole", "us-centcom")}
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
SCREENSHOTS = Path("/tmp")


@dataclass
class Site:
    url: str  # acting as the operations team
    plain_url: str  # the same database, for real accounts signing in
    db: Database
    scenario: Scenario
    keys: dict[str, Path]
    officers: dict[str, str]  # "sy", "us" -> officer id

    @property
    def group(self) -> list[str]:
        """Four men still at Ghweran: the first three cleared for travel, the last one not."""
        return self.scenario.men[17:21]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    db = world_database(tmp_path_factory)
    scenario = transfer_scenario(db)
    keys_dir = tmp_path_factory.mktemp("keys")
    keys = {}
    for name, seed in SEEDS.items():
        keys[name] = keys_dir / f"{name}.key"
        keys[name].write_text(base64.b64encode(seed).decode() + "\n")  # as `handover officer keygen` writes it
    keys["garbage"] = keys_dir / "garbage.key"
    keys["garbage"].write_text("this is not a key\n")
    officers = {}
    with db.unit_of_work() as uow:
        rt = seeded_runtime(50, SimulatedClock(T0))
        add_reference_data(uow, [], [RABIA], [CONVOY])
        clear(uow, rt, scenario.men[17:20], T0)  # the legal reviewer's work, done before the planner starts
        for name, (officer, authority) in OFFICERS.items():
            officers[name] = handovers.register_officer(uow, rt, officer, authority, public_key_of(SEEDS[name])).id
        uow.commit()
    try:
        with (
            serve(as_team(create_app(db, checkpoint_interval=0))) as url,
            serve(create_app(db, checkpoint_interval=0)) as plain_url,
        ):
            yield Site(url, plain_url, db, scenario, keys, officers)
    finally:
        db.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright, launch(playwright) as chromium:
        yield chromium


class People:
    """Pages for the people taking part, each in a browser context of their own (own cookies, own screen)."""

    def __init__(self, browser: Browser, site: Site) -> None:
        self.browser = browser
        self.site = site
        self.contexts = []  # type: ignore[var-annotated]
        self.errors: list[str] = []
        self.posted: list[str] = []

    def open(self, phone: bool = False) -> Page:
        options = PHONE if phone else {"viewport": {"width": 1280, "height": 900}}
        context = self.browser.new_context(locale="en-GB", **options)  # type: ignore[arg-type]
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("request", lambda request: self.posted.append(request.post_data or ""))
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def people(browser: Browser, site: Site) -> Iterator[People]:
    found = People(browser, site)
    yield found
    found.close()
    assert not found.errors, found.errors


def no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.evaluate("document.body.scrollWidth") <= 390


def row(page: Page, person: str):  # type: ignore[no-untyped-def]
    return page.locator(f'[data-testid="board-row"][data-person="{person}"]')


def board_everyone_and_go(field: Page) -> None:
    """Count everyone left aboard the current leg, depart, and arrive at its end."""
    field.get_by_test_id("board-everyone").click()
    expect(field.get_by_test_id("depart-hint")).to_have_count(0)
    field.get_by_test_id("depart").click()
    expect(field.get_by_test_id("current-leg")).to_have_attribute("data-phase", "under-way")
    field.get_by_test_id("arrive").click()


def test_a_group_from_ghweran_through_rabia_to_karkh(site: Site, people: People) -> None:
    group = site.group
    uncleared = group[3]

    # The planner creates the movement on the convoy route and plans its legs.
    planner = people.open()
    planner.goto(site.url + "/movements")
    planner.get_by_test_id("create-open").click()
    planner.get_by_test_id("new-code").fill("C-100")
    planner.get_by_test_id("new-route").select_option("ghweran-rabia-karkh")
    planner.get_by_test_id("create-submit").click()
    expect(planner).to_have_url(site.url + "/movements/C-100")
    expect(planner.get_by_test_id("movement-state")).to_have_text("draft")
    expect(planner.get_by_test_id("leg")).to_have_count(3)
    planner.get_by_test_id("plan-open").click()
    rows = planner.get_by_test_id("leg-row")
    rows.nth(1).locator("select[name=lodging]").select_option("yes")
    rows.nth(2).locator("select[name=escort_id]").select_option("iq-moj")
    rows.nth(2).locator("input[name=vehicles]").fill("Bus 1: 20, Bus 2: 20")
    planner.get_by_test_id("plan-submit").click()
    expect(planner.get_by_test_id("lodging")).to_have_count(1)
    expect(planner.get_by_test_id("leg").nth(2).get_by_test_id("leg-escort")).to_have_text("Iraq Ministry of Justice")
    expect(planner.get_by_test_id("leg").nth(2).get_by_test_id("leg-seats")).to_have_text("40")

    # The manifest: the dry run shows the uncleared man's breaches; adding is refused; an override with a reason.
    planner.get_by_test_id("manifest-link").click()
    for person in group:
        planner.locator(f'[data-testid="candidate"][data-person="{person}"] input').check()
    planner.get_by_test_id("check-safeguards").click()
    breaches = planner.get_by_test_id("breach")
    expect(breaches).to_have_count(2)
    expect(breaches.nth(0)).to_have_attribute("data-person", uncleared)
    expect(breaches.nth(0)).to_have_attribute("data-safeguard", "fit-to-travel")
    expect(breaches.nth(1)).to_have_attribute("data-safeguard", "legal-review")
    planner.screenshot(path=str(SCREENSHOTS / "manifest-check.png"), full_page=True)
    planner.get_by_test_id("add-submit").click()
    expect(planner.get_by_test_id("refusal")).to_have_attribute("data-rule", "fit-to-travel")
    expect(planner.get_by_test_id("refusal-subject")).to_have_text(uncleared)
    expect(planner.get_by_test_id("manifest-empty")).to_be_visible()  # nothing was written
    expect(planner.get_by_test_id("breach")).to_have_count(2)  # every breach, not only the first
    planner.get_by_test_id("override-fit-to-travel").check()
    planner.get_by_test_id("override-legal-review").check()
    planner.get_by_test_id("override-reason").fill("Medical and legal reviews done on paper at Ghweran today")
    planner.get_by_test_id("add-submit").click()
    expect(planner.get_by_test_id("manifest-count")).to_have_text("4")
    expect(planner.get_by_test_id("line-overridden")).to_have_count(2)
    planner.goto(site.url + "/movements/C-100")
    planner.get_by_test_id("approve").click()
    expect(planner.get_by_test_id("movement-state")).to_have_text("approved")

    # The field officer boards them on a phone, one tap each, and the convoy leaves.
    field = people.open(phone=True)
    field.goto(site.url + "/movements/C-100/checklist")
    expect(field.get_by_test_id("current-leg")).to_have_attribute("data-phase", "boarding")
    expect(field.get_by_test_id("count-due")).to_have_text("4")
    expect(field.get_by_test_id("count-seats")).to_have_text("40")
    for n, person in enumerate(group, 1):
        row(field, person).get_by_test_id("board-checkbox").tap()
        expect(row(field, person)).to_have_attribute("data-boarded", "yes")
        expect(field.get_by_test_id("count-boarded")).to_have_text(str(n))
    no_sideways_scroll(field)
    field.screenshot(path=str(SCREENSHOTS / "checklist-phone.png"), full_page=True)
    field.get_by_test_id("depart").click()
    expect(field.get_by_test_id("current-leg")).to_have_attribute("data-phase", "under-way")
    field.get_by_test_id("arrive").click()
    board_everyone_and_go(field)  # leg 2, to Rabia
    expect(field.get_by_test_id("current-leg")).to_have_attribute("data-leg", "3")

    # The handover at the border: drawn up on the phone, signed by each officer with their own key.
    field.get_by_test_id("new-handover").click()
    expect(field.get_by_test_id("from-authority")).to_have_value("sy-moi")
    expect(field.get_by_test_id("place")).to_have_value("rabia")
    field.get_by_test_id("to-authority").select_option("iq-moj")
    expect(field.get_by_test_id("present-checkbox")).to_have_count(4)
    field.get_by_test_id("injuries").fill(f"{group[1]}: bruised wrist from the cuffs")
    no_sideways_scroll(field)
    field.get_by_test_id("handover-submit").click()
    expect(field.get_by_test_id("handover-state")).to_have_text("open")
    expect(field.get_by_test_id("count-handed_over")).to_have_text("4")
    expect(field.get_by_test_id("count-injury")).to_have_text("1")
    handover_path = field.url.removeprefix(site.url)

    field.get_by_test_id("key-file").set_input_files(site.keys["garbage"])
    expect(field.get_by_test_id("sign-status")).to_have_attribute("data-kind", "error")
    expect(field.get_by_test_id("sign")).to_be_disabled()
    field.get_by_test_id("key-file").set_input_files(site.keys["sy"])
    expect(field.get_by_test_id("sign-status")).to_contain_text("Capt. Sami Haddad")
    field.get_by_test_id("sign").click()
    expect(field.get_by_test_id("one-sided")).to_contain_text("waiting for Iraq Ministry of Justice")
    expect(field.get_by_test_id("signature-dispatching")).to_have_attribute("data-signed", "yes")
    no_sideways_scroll(field)
    field.screenshot(path=str(SCREENSHOTS / "handover-phone.png"), full_page=True)

    planner.goto(site.url + "/")
    alert = planner.locator('[data-testid="alert"][data-kind="handover_open"]').filter(
        has=planner.locator(f'a[href="{handover_path}"]')
    )
    expect(alert).to_have_count(1)

    # The receiving officer is registered with their public key, then signs on their own phone.
    planner.goto(site.url + "/officers")
    planner.get_by_test_id("officer-name").fill("Maj. Huda Karim")
    planner.get_by_test_id("officer-authority").select_option("iq-moj")
    planner.get_by_test_id("officer-key").fill(public_key_of(SEEDS["iq"]))
    planner.get_by_test_id("officer-submit").click()
    expect(planner.get_by_test_id("officer").filter(has_text="Maj. Huda Karim")).to_have_count(1)
    receiving = people.open(phone=True)
    receiving.goto(site.url + handover_path)
    receiving.get_by_test_id("key-file").set_input_files(site.keys["iq"])
    expect(receiving.get_by_test_id("sign-status")).to_contain_text("Maj. Huda Karim")
    receiving.get_by_test_id("sign").click()
    expect(receiving.get_by_test_id("handover-state")).to_contain_text("complete")
    expect(receiving.get_by_test_id("signature-receiving").get_by_test_id("signed-by")).to_have_text("Maj. Huda Karim")
    for seed in (SEEDS["sy"], SEEDS["iq"]):  # the keys never left the browsers
        assert not any(base64.b64encode(seed).decode() in body for body in people.posted)
    planner.goto(site.url + "/")
    expect(planner.locator(f'[data-testid="alert"] a[href="{handover_path}"]')).to_have_count(0)

    # The last leg, under Iraqi escort, to Karkh.
    field.goto(site.url + "/movements/C-100/checklist")
    board_everyone_and_go(field)
    expect(field.get_by_test_id("checklist-done")).to_be_visible()

    # The intake officer admits the group and records a family notification.
    intake = people.open()
    intake.goto(site.url + "/intake")
    intake.get_by_test_id("intake-karkh").get_by_test_id("intake-link").click()
    arrivals = intake.locator('[data-testid="arrival-group"][data-movement="C-100"]')
    expect(arrivals.get_by_test_id("arrival")).to_have_count(4)
    arrivals.get_by_test_id("admit").click()
    expect(intake.locator('[data-testid="arrival-group"][data-movement="C-100"]')).to_have_count(0)
    for person in group:
        expect(intake.locator(f'[data-testid="task"][data-person="{person}"]')).to_have_attribute("data-overdue", "no")
    task = intake.locator(f'[data-testid="task"][data-person="{group[0]}"]')
    task.get_by_test_id("channel").fill("phone call to the family via ICRC")
    task.get_by_test_id("notify").click()
    expect(intake.locator(f'[data-testid="task"][data-person="{group[0]}"]')).to_have_count(0)
    expect(intake.locator(f'[data-testid="task"][data-person="{group[1]}"]')).to_have_count(1)

    # The planner closes the movement: everyone accounted for.
    planner.goto(site.url + "/movements/C-100")
    planner.get_by_test_id("reconcile").click()
    expect(planner.get_by_test_id("movement-state")).to_have_text("reconciled")
    expect(planner.get_by_test_id("report-accounted")).to_have_text("4")
    expect(planner.get_by_test_id("report-unaccounted")).to_have_text("0")
    planner.screenshot(path=str(SCREENSHOTS / "movement-reconciled.png"), full_page=True)
    planner.goto(site.url + "/movements")
    expect(planner.get_by_test_id("state-reconciled").get_by_test_id("movement-C-100")).to_be_visible()


def open_handover_on_m002(site: Site, person: str, seed: int) -> str:
    """A handover of one of M-002's people from the escort (us-centcom) to Iraq, drawn up by the service."""
    clock = SimulatedClock(T0 + timedelta(hours=3))
    with site.db.unit_of_work() as uow:
        record = handovers.open_handover(
            uow, seeded_runtime(seed, clock), IN_TRANSIT_CODE, "kharab-al-jir",
            "us-centcom", "iq-moj", clock(), present=[person],
        )  # fmt: skip
        uow.commit()
    return record.id


def test_a_signature_made_with_the_wrong_key_is_refused(site: Site, people: People) -> None:
    handover_id = open_handover_on_m002(site, site.scenario.in_transit[0], 61)
    officer = people.open(phone=True)
    officer.goto(f"{site.url}/handovers/{handover_id}")
    officer.get_by_test_id("officer").select_option(site.officers["us"])
    officer.get_by_test_id("key-file").set_input_files(site.keys["wrong"])
    expect(officer.get_by_test_id("sign-status")).to_have_attribute("data-kind", "warn")  # no officer has this key
    officer.get_by_test_id("sign").click()
    expect(officer.get_by_test_id("refusal")).to_have_attribute("data-rule", "bad-signature")
    expect(officer.get_by_test_id("refusal-message")).to_contain_text("Sgt. Dana Cole")
    expect(officer.get_by_test_id("signature-dispatching")).to_have_attribute("data-signed", "no")
    expect(officer.get_by_test_id("handover-state")).to_have_text("open")
    with site.db.unit_of_work() as uow:
        record = handovers.handover(uow, handover_id)
    assert record.dispatching_signature is None and record.receiving_signature is None


def test_a_handover_signed_by_one_side_is_an_alert_on_the_dashboard(site: Site, people: People) -> None:
    handover_id = open_handover_on_m002(site, site.scenario.in_transit[1], 62)
    officer = people.open(phone=True)
    officer.goto(f"{site.url}/handovers/{handover_id}")
    officer.get_by_test_id("key-file").set_input_files(site.keys["us"])
    expect(officer.get_by_test_id("sign-status")).to_contain_text("Sgt. Dana Cole")
    officer.get_by_test_id("sign").click()
    expect(officer.get_by_test_id("one-sided")).to_be_visible()

    # A monitor, who reads movements but runs none, signs in on the plain server and sees the alert too.
    monitor = people.open()
    sign_in_page(monitor, site.plain_url, make_user(site.db, system_runtime(), "monitor-browser", Role.MONITOR))
    expect(monitor.get_by_test_id("signed-in-as")).to_contain_text("monitor-browser")
    alert = monitor.locator('[data-testid="alert"][data-kind="handover_open"]').filter(
        has=monitor.locator(f'a[href="/handovers/{handover_id}"]')
    )
    expect(alert.get_by_test_id("alert-label")).to_have_text("Handover signed by one side")
    expect(alert.get_by_test_id("alert-message")).to_have_text(
        "Handover at Kharab al-Jir signed by one side only; waiting for Iraq Ministry of Justice."
    )
    monitor.screenshot(path=str(SCREENSHOTS / "dashboard-alerts.png"), full_page=True)
    alert.get_by_test_id("alert-link").click()
    expect(monitor.get_by_test_id("one-sided")).to_contain_text("waiting for Iraq Ministry of Justice")
    expect(monitor.get_by_test_id("read-only")).to_be_visible()  # no key loading: monitors sign nothing
