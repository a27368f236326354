"""The transfer pages without a browser, on both backends: the board, manifests under safeguards, the field
checklist, signed handovers, intake and notifications, the dashboard's alerts and roll, and who may write.

What the operations do is tested as the operations team (tests/support/team.py); who may do it, with real
accounts signed in through the sign-in form (here, and in tests/web/test_need_to_know.py; signing in itself is
tests/web/test_signin_pages.py's).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from handover.app import create_app
from handover.core.custody.handover import public_key_of, sign
from handover.core.custody.model import TransportMode
from handover.core.custody.movements import Route
from handover.core.policy.access import Role
from handover.core.policy.safeguards import FIT_TO_TRAVEL, LEGAL_REVIEW
from handover.services import assessments, handovers, incidents, transfers
from handover.services.reference import add_reference_data
from handover.services.runtime import Runtime, SimulatedClock, seeded_runtime
from handover.store.uow import Database
from tests.factories import T0
from tests.journeys import board_and_depart, clear, hand_over, travel_to_destination
from tests.scenarios import ARRIVED_CODE, IN_TRANSIT_CODE, Scenario, transfer_scenario
from tests.support.team import TEAM_CSRF, as_team
from tests.web.accounts import signed_in_as
from tests.web.test_pages import text_of

NOW = T0 + timedelta(hours=4)
SY_KEY = hashlib.sha256(b"page-test-sy-officer").digest()
IQ_KEY = hashlib.sha256(b"page-test-iq-officer").digest()
OTHER_KEY = hashlib.sha256(b"someone-else").digest()


_seeds = itertools.count(100)


@dataclass
class Site:
    client: TestClient
    db: Database
    scenario: Scenario
    clock: SimulatedClock

    def csrf(self, path: str = "/movements") -> str:
        match = re.search(r'name="csrf" value="([^"]+)"', self.client.get(path).text)
        assert match, "no form token on the page"
        return match.group(1)

    def post(self, path: str, data: dict[str, object], **kwargs: object):  # type: ignore[no-untyped-def]
        return self.client.post(path, data={"csrf": self.csrf(), **data}, follow_redirects=False, **kwargs)


@pytest.fixture
def scenario(world: Database) -> Scenario:
    return transfer_scenario(world)


@pytest.fixture
def site(world: Database, scenario: Scenario) -> Iterator[Site]:
    """The operations team at work."""
    clock = SimulatedClock(NOW)
    app = as_team(create_app(world, runtime=seeded_runtime(5, clock)))
    with TestClient(app) as client:
        yield Site(client, world, scenario, clock)


@pytest.fixture
def signed_in(site: Site) -> Site:
    return site


@pytest.fixture
def anonymous(world: Database, scenario: Scenario) -> Iterator[TestClient]:
    """Someone with no account, on the same database (a clock of its own: the team's is advanced by tests)."""
    with TestClient(create_app(world, runtime=seeded_runtime(6, SimulatedClock(NOW)))) as client:
        yield client


def fresh(site: Site) -> Runtime:
    """A runtime of its own for each step a test takes through the services (ids never repeat)."""
    return seeded_runtime(next(_seeds), site.clock)


def refusal(html: str) -> dict[str, str]:
    match = re.search(r'data-testid="refusal" data-rule="([^"]*)" data-status="(\d+)"', html)
    assert match, "no refusal on the page"
    found = {"rule": match.group(1), "status": match.group(2), "message": text_of(html, "refusal-message")}
    if 'data-testid="refusal-subject"' in html:
        found["subject"] = text_of(html, "refusal-subject")
    if 'data-testid="refusal-state"' in html:
        found["state"] = text_of(html, "refusal-state")
    return found


def log_size(db: Database) -> int:
    with db.unit_of_work() as uow:
        return uow.custody.size()


def new_movement(site: Site, code: str = "M-010", route: str = "ghweran-karkh") -> None:
    response = site.post("/movements", {"code": code, "route_id": route, "scheduled_at": "2026-01-22T06:00"})
    assert response.status_code == 303 and response.headers["location"] == f"/movements/{code}"


def rest_of_the_men(site: Site) -> list[str]:
    """Men still at ghweran and on no movement (the scenario moved the first 17)."""
    return site.scenario.men[17:]


# --- who may write ---------------------------------------------------------------------------------------------


def test_the_team_page_carries_its_form_token(site: Site) -> None:
    assert site.csrf() == TEAM_CSRF
    html = site.client.get("/movements").text
    assert 'data-testid="create-movement"' in html and 'data-testid="read-only"' not in html


def test_the_public_is_sent_to_sign_in_and_writes_nothing(site: Site, anonymous: TestClient) -> None:
    page = anonymous.get("/movements", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/signin?next=/movements"
    before = log_size(site.db)
    response = anonymous.post("/movements", data={"code": "M-X", "route_id": "ghweran-karkh"}, follow_redirects=False)
    assert response.status_code == 401 and 'data-testid="denied"' in response.text
    assert 'data-testid="movement-M-X"' not in site.client.get("/movements").text and log_size(site.db) == before


def test_a_forged_cookie_is_not_a_session(anonymous: TestClient) -> None:
    anonymous.cookies.set("handover_session", "abc.def")
    response = anonymous.get("/movements", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/signin")


def test_writes_need_the_form_token(signed_in: Site) -> None:
    response = signed_in.client.post(
        "/movements", data={"code": "M-X", "route_id": "ghweran-karkh"}, follow_redirects=False
    )
    assert response.status_code == 403 and refusal(response.text)["rule"] == "csrf-token-invalid"
    response = signed_in.client.post(
        "/movements", data={"csrf": "0" * 64, "code": "M-X", "route_id": "ghweran-karkh"}, follow_redirects=False
    )
    assert response.status_code == 403 and refusal(response.text)["rule"] == "csrf-token-invalid"
    assert 'data-testid="movement-M-X"' not in signed_in.client.get("/movements").text


def test_a_role_that_may_read_but_not_plan_sees_no_forms(anonymous: TestClient) -> None:
    officer = signed_in_as(anonymous, "escort-a", Role.FIELD_OFFICER, authority_id="us-centcom")
    html = officer.get("/movements").text
    assert 'data-testid="read-only"' in html and 'data-testid="create-movement"' not in html
    assert 'data-testid="signin-link"' not in html  # signed in already: nothing to sign in for
    csrf = re.search(r'name="csrf" value="([^"]+)"', html)
    assert csrf is not None  # the sign-out form
    refused = officer.post(
        "/movements", data={"csrf": csrf.group(1), "code": "M-X", "route_id": "ghweran-karkh"}, follow_redirects=False
    )
    assert refused.status_code == 403 and 'data-testid="denied"' in refused.text


# --- the board and a movement ------------------------------------------------------------------------------------


def test_board_lists_movements_by_state_with_legs_seats_and_safeguards(site: Site) -> None:
    html = site.client.get("/movements").text
    arrived = re.search(r'data-testid="state-arrived">(.*?)</section>', html, re.S)
    in_progress = re.search(r'data-testid="state-in_progress">(.*?)</section>', html, re.S)
    assert arrived and in_progress
    assert f'data-testid="movement-{ARRIVED_CODE}"' in arrived.group(1)
    card = in_progress.group(1)
    assert f'data-testid="movement-{IN_TRANSIT_CODE}"' in card
    assert text_of(card, "manifest-count") == "5" and text_of(card, "seats") == "40"
    assert text_of(card, "movement-route").startswith("Ghweran prison → Karkh Central Prison")
    legs = re.findall(r'data-testid="leg" data-leg="(\d)" data-state="(\w+)"', card)
    assert legs == [("1", "departed"), ("2", "planned")]
    assert text_of(card, "leg-mode") == "helicopter" and text_of(card, "leg-escort") == "US Central Command"
    assert 'data-testid="leg-departed"' in card
    assert text_of(arrived.group(1), "manifest-count") == "12"


def test_create_approve_and_cancel(signed_in: Site) -> None:
    new_movement(signed_in)
    page = signed_in.client.get("/movements/M-010").text
    assert 'data-state="draft"' in page and text_of(page, "seats") == "40"
    assert 'data-testid="safeguard-state" data-open="0"' in page
    assert signed_in.post("/movements/M-010/approve", {}).status_code == 303
    assert 'data-state="approved"' in signed_in.client.get("/movements/M-010").text
    # The same code twice is refused, on the board, with the rule.
    again = signed_in.post("/movements", {"code": "M-010", "route_id": "ghweran-karkh"})
    assert again.status_code == 409
    assert refusal(again.text) | {"message": ""} == {
        "rule": "movement-code-taken", "status": "409", "message": "", "subject": "M-010", "state": "exists",
    }  # fmt: skip
    blank = signed_in.post("/movements/M-010/cancel", {"reason": "  "})
    assert blank.status_code == 422 and "needs a reason" in refusal(blank.text)["message"]
    assert signed_in.post("/movements/M-010/cancel", {"reason": "weather"}).status_code == 303
    assert 'data-state="cancelled"' in signed_in.client.get("/movements/M-010").text
    approve = signed_in.post("/movements/M-010/approve", {})
    assert approve.status_code == 409
    assert refusal(approve.text)["rule"] == "movement-state" and refusal(approve.text)["state"] == "cancelled"


def test_plan_legs_with_lodging_and_vehicles(signed_in: Site) -> None:
    new_movement(signed_in)
    form = {
        "from_id": ["ghweran", "kharab-al-jir", ""],
        "to_id": ["kharab-al-jir", "karkh", ""],
        "mode": ["road_convoy", "helicopter", "road_convoy"],
        "escort_id": ["sy-moi", "us-centcom", "sy-moi"],
        "vehicles": ["Bus 1: 30, Bus 2: 30", "Chinook 1: 33", ""],
        "departs": ["2026-01-22T06:00", "2026-01-23T06:00", ""],
        "arrives": ["2026-01-22T14:00", "2026-01-23T09:00", ""],
        "lodging": ["yes", "no", "no"],
    }
    assert signed_in.post("/movements/M-010/legs", form).status_code == 303
    page = signed_in.client.get("/movements/M-010").text
    assert re.findall(r'data-testid="leg-seats">(\d+)<', page) == ["60", "33"]
    assert text_of(page, "seats") == "33" and page.count('data-testid="lodging"') == 1
    assert "Bus 1: 30, Bus 2: 30" in page
    broken = dict(form, to_id=["al-hol", "karkh", ""])
    refused = signed_in.post("/movements/M-010/legs", broken)
    assert refused.status_code == 409 and refusal(refused.text)["rule"] == "legs-do-not-join"
    assert 'name="to_id"' in refused.text and '<details class="plan" open>' in refused.text  # the form, kept open
    bad_vehicles = signed_in.post("/movements/M-010/legs", dict(form, vehicles=["Bus: many", "", ""]))
    assert bad_vehicles.status_code == 422 and "call sign: seats" in refusal(bad_vehicles.text)["message"]


# --- the manifest ------------------------------------------------------------------------------------------------


def test_manifest_check_shows_breaches_before_adding(signed_in: Site) -> None:
    new_movement(signed_in)
    men = rest_of_the_men(signed_in)
    page = signed_in.client.get("/movements/M-010/manifest").text
    candidates = re.findall(r'data-testid="candidate" data-person="([^"]+)"', page)
    assert sorted(candidates) == sorted(men)  # held at the origin, on no movement
    check = signed_in.client.get("/movements/M-010/manifest/check", params={"person_id": men[:2]})
    assert check.status_code == 200 and "<html" not in check.text
    breaches = re.findall(r'data-safeguard="([^"]+)" data-person="([^"]+)"', check.text)
    assert sorted(breaches) == sorted([(s, p) for p in men[:2] for s in ("fit-to-travel", "legal-review")])
    with signed_in.db.unit_of_work() as uow:
        clear(uow, fresh(signed_in), men[:2], NOW)
        uow.commit()
    ok = signed_in.client.get("/movements/M-010/manifest/check", params={"people": f"{men[0]}, {men[1]}"})
    assert 'data-testid="no-breaches"' in ok.text and "these 2 people" in ok.text
    unknown = signed_in.client.get("/movements/M-010/manifest/check", params={"people": "nobody-here"})
    assert refusal(unknown.text)["rule"] == "unknown-person"


def test_adding_is_refused_with_every_breach_then_overridden_with_a_reason(signed_in: Site) -> None:
    new_movement(signed_in)
    men = rest_of_the_men(signed_in)
    with signed_in.db.unit_of_work() as uow:
        clear(uow, fresh(signed_in), men[:2], NOW)
        uow.commit()
    before = log_size(signed_in.db)
    refused = signed_in.post("/movements/M-010/manifest", {"person_id": men[:3]})
    assert refused.status_code == 409
    found = refusal(refused.text)
    assert found["rule"] == "fit-to-travel" and found["subject"] == men[2] and found["state"] == "draft"
    assert f"Person {men[2]} cannot be put on movement M-010" in found["message"]
    assert re.findall(r'data-testid="breach" data-safeguard="([^"]+)"', refused.text) == [
        "fit-to-travel", "legal-review",
    ]  # fmt: skip
    assert refused.text.count('data-testid="candidate-checkbox" checked') == 3  # the choice is kept
    assert log_size(signed_in.db) == before

    no_reason = signed_in.post(
        "/movements/M-010/manifest", {"person_id": men[:3], "override": ["fit-to-travel", "legal-review"]}
    )
    assert no_reason.status_code == 409 and refusal(no_reason.text)["rule"] == "reason-required"
    added = signed_in.post(
        "/movements/M-010/manifest",
        {"person_id": men[:3], "override": ["fit-to-travel", "legal-review"], "reason": "court order 12/2026"},
    )
    assert added.status_code == 303
    page = signed_in.client.get("/movements/M-010/manifest").text
    assert text_of(page, "manifest-count") == "3"
    line = re.search(rf'data-testid="manifest-line" data-person="{men[2]}">(.*?)</tr>', page, re.S)
    assert line and line.group(1).count('data-testid="line-overridden"') == 2
    assert "court order 12/2026 (Operations team)" in line.group(1)  # the account that overrode
    assert 'data-testid="safeguard-state" data-open="0" data-overridden="1"' in page
    assert log_size(signed_in.db) == before + 3


def test_a_minor_needs_their_mother_on_the_same_movement(signed_in: Site) -> None:
    new_movement(signed_in, "F-001", "al-hol-jeddah")
    child = signed_in.scenario.children[0]
    with signed_in.db.unit_of_work() as uow:
        record = uow.persons.get(child)
        assert record is not None
        mother = record.identity.mother_id
        assert mother is not None
        clear(uow, fresh(signed_in), [child, mother], NOW)
        uow.commit()
    alone = signed_in.post("/movements/F-001/manifest", {"people": child})
    assert alone.status_code == 409
    assert refusal(alone.text)["rule"] == "minor-with-guardian" and refusal(alone.text)["subject"] == child
    together = signed_in.post("/movements/F-001/manifest", {"people": f"{mother}\n{child}"})
    assert together.status_code == 303


def test_taking_people_off_needs_a_reason(signed_in: Site) -> None:
    new_movement(signed_in)
    men = rest_of_the_men(signed_in)
    with signed_in.db.unit_of_work() as uow:
        clear(uow, fresh(signed_in), men[:2], NOW)
        uow.commit()
    assert signed_in.post("/movements/M-010/manifest", {"person_id": men[:2]}).status_code == 303
    blank = signed_in.post("/movements/M-010/manifest/remove", {"person_id": [men[0]], "reason": ""})
    assert blank.status_code == 422 and "needs a reason" in refusal(blank.text)["message"]
    assert (
        signed_in.post("/movements/M-010/manifest/remove", {"person_id": [men[0]], "reason": "sick"}).status_code == 303
    )
    page = signed_in.client.get("/movements/M-010/manifest").text
    assert re.findall(r'data-testid="manifest-line" data-person="([^"]+)"', page) == [men[1]]
    frozen = signed_in.client.get(f"/movements/{IN_TRANSIT_CODE}/manifest").text
    assert 'data-testid="manifest-frozen"' in frozen and 'data-testid="add-form"' not in frozen


# --- the field checklist ----------------------------------------------------------------------------------------


def ready_movement(site: Site, people: int = 3) -> list[str]:
    """M-010 approved with `people` cleared men on its manifest."""
    men = rest_of_the_men(site)[:people]
    with site.db.unit_of_work() as uow:
        rt = fresh(site)
        clear(uow, rt, men, NOW)
        transfers.create_movement(uow, rt, "M-010", "ghweran-karkh", NOW)
        transfers.manifest(uow, rt, "M-010", men, NOW)
        transfers.approve(uow, "M-010")
        uow.commit()
    return men


def test_checklist_boards_one_tap_at_a_time(signed_in: Site) -> None:
    men = ready_movement(signed_in)
    page = signed_in.client.get("/movements/M-010/checklist").text
    assert 'data-phase="boarding"' in page
    assert (text_of(page, "count-boarded"), text_of(page, "count-due"), text_of(page, "count-seats")) == (
        "0",
        "3",
        "40",
    )
    assert page.count('hx-post="/movements/M-010/board"') == 4  # three rows and "everyone"
    csrf = signed_in.csrf("/movements/M-010/checklist")
    tap = signed_in.client.post(
        "/movements/M-010/board",
        data={"person_id": men[0], "leg": "1", "row": "yes"},
        headers={"HX-Request": "true", "X-CSRF-Token": csrf},
    )
    assert tap.status_code == 200 and "<html" not in tap.text
    assert re.findall(r'data-testid="board-row" data-person="([^"]+)" data-boarded="(\w+)"', tap.text) == [
        (men[0], "yes")
    ]
    assert 'id="board-counts" class="board-counts" data-testid="board-counts" hx-swap-oob="true"' in tap.text
    assert text_of(tap.text, "count-boarded") == "1"
    again = signed_in.client.post(
        "/movements/M-010/board",
        data={"person_id": men[0], "leg": "1", "row": "yes"},
        headers={"HX-Request": "true", "X-CSRF-Token": csrf},
    )
    assert again.status_code == 409 and refusal(again.text)["rule"] == "already-boarded"
    assert 'data-boarded="yes"' in again.text  # the row still says aboard

    early = signed_in.post("/movements/M-010/depart", {"leg": "1"})
    assert early.status_code == 409
    assert refusal(early.text)["rule"] == "not-boarded" and "2 people due on it are not counted aboard" in early.text
    everyone = signed_in.post("/movements/M-010/board", {"everyone": "yes"})
    assert everyone.status_code == 303
    assert text_of(signed_in.client.get("/movements/M-010/checklist").text, "count-boarded") == "3"
    assert signed_in.post("/movements/M-010/depart", {"leg": "1"}).status_code == 303
    page = signed_in.client.get("/movements/M-010/checklist").text
    assert 'data-phase="under-way"' in page and 'data-testid="arrive"' in page
    assert len(re.findall(r'data-testid="aboard-row"', page)) == 3
    assert signed_in.post("/movements/M-010/arrive", {"leg": "1"}).status_code == 303
    page = signed_in.client.get("/movements/M-010/checklist").text
    assert 'data-leg="2" data-phase="boarding"' in page and text_of(page, "count-due") == "3"


def test_checklist_of_a_draft_cannot_board(signed_in: Site) -> None:
    new_movement(signed_in)
    page = signed_in.client.get("/movements/M-010/checklist").text
    assert 'data-phase="not-ready"' in page and 'data-testid="not-ready"' in page


def test_incident_from_the_checklist(signed_in: Site) -> None:
    men = ready_movement(signed_in)
    with signed_in.db.unit_of_work() as uow:
        board_and_depart(uow, fresh(signed_in), "M-010", NOW)
        uow.commit()
    missing = signed_in.post("/movements/M-010/incidents", {"kind": "escape", "description": "ran"})
    assert missing.status_code == 422 and "must name the people" in refusal(missing.text)["message"]
    done = signed_in.post("/movements/M-010/incidents", {"kind": "escape", "person_id": [men[0]], "description": "ran"})
    assert done.status_code == 303
    dashboard = signed_in.client.get("/").text
    assert re.search(r'data-testid="alert" data-kind="escape"', dashboard)
    assert men[0] in text_of(dashboard, "alert-message")


# --- handovers ---------------------------------------------------------------------------------------------------


def register_officers(site: Site) -> dict[str, str]:
    with site.db.unit_of_work() as uow:
        rt = fresh(site)
        sy = handovers.register_officer(uow, rt, "Capt. Sami", "sy-moi", public_key_of(SY_KEY))
        iq = handovers.register_officer(uow, rt, "Maj. Huda", "iq-moj", public_key_of(IQ_KEY))
        uow.commit()
    return {"sy-moi": sy.id, "iq-moj": iq.id}


def handover_id_from(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 303, response.text
    return response.headers["location"].rsplit("/", 1)[1]


def signature(key: bytes, document: str) -> str:
    return base64.b64encode(sign(key, document.encode())).decode()


def test_handover_document_signed_by_both_sides(signed_in: Site) -> None:
    men = ready_movement(signed_in)
    officers = register_officers(signed_in)
    with signed_in.db.unit_of_work() as uow:
        board_and_depart(uow, fresh(signed_in), "M-010", NOW)
        uow.commit()
    form = signed_in.client.get("/movements/M-010/handovers/new").text
    assert re.findall(r'data-testid="present-checkbox" checked', form) and form.count("present-checkbox") == 3
    assert 'value="sy-moi" selected' in form  # the authority holding them
    people = signed_in.client.get("/movements/M-010/handovers/people", params={"from_authority": "iq-moj"})
    assert 'data-testid="nobody-held"' in people.text
    opened = signed_in.post(
        "/movements/M-010/handovers",
        {
            "from_authority": "sy-moi",
            "to_authority": "iq-moj",
            "place_id": "kharab-al-jir",
            "leg": "1",
            "listed": "yes",
            "present": men[:2],
            "injuries": f"{men[1]}: bruised wrist",
        },
    )
    handover_id = handover_id_from(opened)
    page = signed_in.client.get(f"/handovers/{handover_id}").text
    counts = {k: text_of(page, f"count-{k}") for k in ("handed_over", "missing", "extra", "injury")}
    assert counts == {"handed_over": "2", "missing": "1", "extra": "0", "injury": "1"}
    assert re.findall(r'data-testid="discrepancy" data-kind="(\w+)" data-person="([^"]+)"', page) == sorted(
        [("injury", men[1]), ("missing", men[2])], key=lambda d: (d[1], d[0])
    )
    assert 'data-testid="one-sided"' not in page
    with signed_in.db.unit_of_work() as uow:
        record = handovers.handover(uow, handover_id)
    # The page carries the document's exact bytes for the browser to sign.
    assert f'data-document="{base64.b64encode(record.document.encode()).decode()}"' in page
    assert text_of(page, "document-text").replace("&#34;", '"') == record.document

    before = log_size(signed_in.db)
    first = signed_in.post(
        f"/handovers/{handover_id}/sign",
        {"officer_id": officers["sy-moi"], "signature": signature(SY_KEY, record.document)},
    )
    assert first.status_code == 303
    page = signed_in.client.get(f"/handovers/{handover_id}").text
    assert 'data-testid="one-sided"' in page and "waiting for Iraq Ministry of Justice" in page
    assert 'data-testid="signature-dispatching" data-signed="yes"' in page
    assert log_size(signed_in.db) == before  # custody has not passed
    alert = re.search(r'data-testid="alert" data-kind="handover_open">(.*?)</li>', signed_in.client.get("/").text, re.S)
    assert alert and f'href="/handovers/{handover_id}"' in alert.group(1)

    second = signed_in.post(
        f"/handovers/{handover_id}/sign",
        {"officer_id": officers["iq-moj"], "signature": signature(IQ_KEY, record.document)},
    )
    assert second.status_code == 303
    page = signed_in.client.get(f"/handovers/{handover_id}").text
    assert 'data-state="complete"' in page and text_of(page, "signed-by") == "Capt. Sami"
    assert log_size(signed_in.db) == before + 2
    assert 'data-kind="handover_open"' not in signed_in.client.get("/").text


def test_a_signature_by_the_wrong_key_is_refused(signed_in: Site) -> None:
    ready_movement(signed_in)
    officers = register_officers(signed_in)
    with signed_in.db.unit_of_work() as uow:
        board_and_depart(uow, fresh(signed_in), "M-010", NOW)
        record = handovers.open_handover(uow, fresh(signed_in), "M-010", "ghweran", "sy-moi", "us-centcom", NOW)
        uow.commit()
    forged = signed_in.post(
        f"/handovers/{record.id}/sign",
        {"officer_id": officers["sy-moi"], "signature": signature(OTHER_KEY, record.document)},
    )
    assert forged.status_code == 409
    found = refusal(forged.text)
    assert found["rule"] == "bad-signature" and "Capt. Sami" in found["message"]
    wrong_side = signed_in.post(
        f"/handovers/{record.id}/sign",
        {"officer_id": officers["iq-moj"], "signature": signature(IQ_KEY, record.document)},
    )
    assert wrong_side.status_code == 409 and refusal(wrong_side.text)["rule"] == "wrong-authority"
    empty = signed_in.post(f"/handovers/{record.id}/sign", {"officer_id": officers["sy-moi"], "signature": ""})
    assert empty.status_code == 422
    page = signed_in.client.get(f"/handovers/{record.id}").text
    assert 'data-signed="yes"' not in page and 'data-state="open"' in page


def test_officers_page_registers_public_keys(signed_in: Site) -> None:
    response = signed_in.post(
        "/officers", {"name": "Lt. Omar", "authority_id": "iq-moj", "public_key": public_key_of(IQ_KEY)}
    )
    assert response.status_code == 303
    page = signed_in.client.get("/officers").text
    assert "Lt. Omar" in page and public_key_of(IQ_KEY) in page
    bad = signed_in.post("/officers", {"name": "X", "authority_id": "iq-moj", "public_key": "not a key"})
    assert bad.status_code == 422 and "not usable" in refusal(bad.text)["message"]
    taken = signed_in.post("/officers", {"name": "Y", "authority_id": "iq-moj", "public_key": public_key_of(IQ_KEY)})
    assert taken.status_code == 409 and refusal(taken.text)["rule"] == "key-taken"


# --- intake ------------------------------------------------------------------------------------------------------


def arrived_at_karkh(site: Site) -> list[str]:
    """M-002's five men handed to Iraq and arrived at karkh, awaiting admission."""
    with site.db.unit_of_work() as uow:
        rt = fresh(site)
        travel_to_destination(uow, rt, IN_TRANSIT_CODE, NOW)
        hand_over(uow, rt, IN_TRANSIT_CODE, "us-centcom", "iq-moj", "karkh", NOW)
        uow.commit()
    return site.scenario.in_transit


def test_arrivals_queue_admission_and_notification(signed_in: Site) -> None:
    people = arrived_at_karkh(signed_in)
    index = signed_in.client.get("/intake").text
    assert text_of(re.search(r'data-testid="intake-karkh">(.*?)</tr>', index, re.S).group(1), "awaiting") == "5"  # type: ignore[union-attr]
    page = signed_in.client.get("/intake/karkh").text
    assert re.findall(r'data-testid="arrival-group" data-movement="([^"]+)"', page) == [IN_TRANSIT_CODE]
    assert sorted(re.findall(r'data-testid="arrival" data-person="([^"]+)"', page)) == sorted(people)

    stranger = signed_in.scenario.men[-1]
    refused = signed_in.post("/intake/karkh/admit", {"movement": IN_TRANSIT_CODE, "person_id": [people[0], stranger]})
    assert refused.status_code == 409
    found = refusal(refused.text)
    assert found["rule"] == "not-on-arriving-manifest" and found["subject"] == stranger
    assert "held at ghweran" in found["state"]
    assert refused.text.count('data-testid="admit-checkbox" checked') == 1  # the ticks are kept

    assert (
        signed_in.post("/intake/karkh/admit", {"movement": IN_TRANSIT_CODE, "person_id": people[:2]}).status_code == 303
    )
    page = signed_in.client.get("/intake/karkh").text
    assert len(re.findall(r'data-testid="arrival" ', page)) == 3

    def tasks(html: str) -> dict[str, str]:
        """Each of M-002's people with a notification task, and whether it is overdue (M-001's have tasks too)."""
        found = dict(re.findall(r'data-testid="task" data-person="([^"]+)" data-overdue="(\w+)"', html))
        return {p: found[p] for p in people if p in found}

    assert tasks(page) == {people[0]: "no", people[1]: "no"}
    assert signed_in.post("/intake/karkh/admit", {"movement": IN_TRANSIT_CODE}).status_code == 303  # the rest
    page = signed_in.client.get("/intake/karkh").text
    assert 'data-testid="no-arrivals"' in page and tasks(page) == dict.fromkeys(people, "no")

    signed_in.clock.advance(timedelta(hours=25))
    page = signed_in.client.get("/intake/karkh").text
    assert tasks(page) == dict.fromkeys(people, "yes") and 'data-testid="overdue"' in page
    assert 'data-kind="notification_overdue"' in signed_in.client.get("/").text
    blank = signed_in.post("/intake/karkh/notify", {"person_id": people[0], "channel": ""})
    assert blank.status_code == 422
    assert signed_in.post("/intake/karkh/notify", {"person_id": people[0], "channel": "phone"}).status_code == 303
    page = signed_in.client.get("/intake/karkh").text
    assert tasks(page) == dict.fromkeys(people[1:], "yes")
    with signed_in.db.unit_of_work() as uow:
        assert [e.event.type.value for e in uow.custody.chain(people[0])][-1] == "notified"


def test_admission_refused_for_the_wrong_estate(signed_in: Site) -> None:
    """A woman and child brought to an adult men's prison are refused at the door, with the rule."""
    with signed_in.db.unit_of_work() as uow:
        rt = fresh(signed_in)
        record = uow.persons.get(signed_in.scenario.children[0])
        assert record is not None and record.identity.mother_id is not None
        pair = [record.identity.mother_id, record.id]
        add_reference_data(
            uow,
            [],
            [],
            [Route("al-hol-karkh", "al-hol", "karkh", (), TransportMode.ROAD_CONVOY, "us-centcom", 600, 40)],
        )
        clear(uow, rt, pair, NOW)
        transfers.create_movement(uow, rt, "W-001", "al-hol-karkh", NOW)
        transfers.manifest(uow, rt, "W-001", pair, NOW, overrides=["destination-capacity"], reason="test")  # type: ignore[list-item]
        transfers.approve(uow, "W-001")
        board_and_depart(uow, rt, "W-001", NOW)
        transfers.arrive(uow, rt, "W-001", NOW)
        hand_over(uow, rt, "W-001", "sy-moi", "iq-moj", "karkh", NOW)
        uow.commit()
    refused = signed_in.post("/intake/karkh/admit", {"movement": "W-001"})
    assert refused.status_code == 409
    found = refusal(refused.text)
    assert found["rule"] == "estate-not-held" and found["subject"] in pair


# --- the dashboard -----------------------------------------------------------------------------------------------


def test_dashboard_roll_and_no_alerts(site: Site) -> None:
    html = site.client.get("/").text
    assert 'data-testid="no-alerts"' in html
    assert text_of(html, "roll-day") == "2026-01-21"
    karkh = re.search(r'data-testid="roll-karkh">(.*?)</tr>', html, re.S)
    ghweran = re.search(r'data-testid="roll-ghweran">(.*?)</tr>', html, re.S)
    assert karkh and ghweran
    values = {k: text_of(karkh.group(1), f"roll-{k}") for k in ("in", "held", "in-transit", "expected", "free")}
    assert values == {"in": "12", "held": "12", "in-transit": "5", "expected": "5", "free": "48"}
    assert text_of(ghweran.group(1), "roll-out") == "17" and text_of(ghweran.group(1), "roll-held") == "13"


def test_dashboard_alerts_for_a_death(site: Site) -> None:
    with site.db.unit_of_work() as uow:
        incidents.report(
            uow, fresh(site), incidents.IncidentKind.DEATH, NOW, "cardiac arrest",
            people=[site.scenario.men[-1]],
        )  # fmt: skip
        uow.commit()
    html = site.client.get("/").text
    assert re.search(r'data-testid="alert" data-kind="death"', html) and text_of(html, "alert-label") == "Death"


# --- refusals are pages, never a 500 -----------------------------------------------------------------------------


def test_unknown_things_are_404_pages(site: Site) -> None:
    for path in ("/movements/NOPE", "/movements/NOPE/manifest", "/movements/NOPE/checklist", "/handovers/nope",
                 "/intake/nowhere", "/movements/NOPE/handovers/new"):  # fmt: skip
        response = site.client.get(path)
        assert response.status_code == 404 and response.headers["content-type"].startswith("text/html"), path
        assert 'data-testid="not-found"' in response.text


def test_bad_input_is_refused_on_the_page(signed_in: Site) -> None:
    new_movement(signed_in)
    cases = [
        ("/movements", {"code": "M\x00", "route_id": "ghweran-karkh"}, 422),
        ("/movements", {"code": "M-020", "route_id": "nowhere"}, 404),
        ("/movements", {"code": "M-020", "route_id": "ghweran-karkh", "scheduled_at": "tomorrow"}, 422),
        ("/movements/M-010/manifest", {"people": "a b\x07"}, 422),
        ("/movements/M-010/manifest", {"people": ""}, 422),
        ("/movements/M-010/manifest", {"people": "x", "override": ["magic"], "reason": "r"}, 422),
        ("/movements/M-010/depart", {"leg": "one"}, 422),
        ("/movements/M-010/board", {"leg": "1", "person_id": ["nobody"]}, 409),
        ("/movements/M-010/incidents", {"kind": "alien"}, 422),
        ("/movements/NOPE/approve", {}, 404),
        ("/handovers/nope/sign", {"officer_id": "x", "signature": "AAAA"}, 404),
        ("/intake/karkh/admit", {"movement": "NOPE"}, 404),
        ("/intake/karkh/notify", {"person_id": "nobody", "channel": "phone"}, 404),
    ]
    for path, data, status in cases:
        response = signed_in.post(path, data)
        assert response.status_code == status, (path, data, response.status_code, response.text[:300])
        assert response.headers["content-type"].startswith("text/html")
        if status != 404 or "refusal" in response.text:
            assert 'data-testid="refusal"' in response.text or 'data-testid="not-found"' in response.text


def test_assessment_outcome_shows_on_the_manifest(signed_in: Site) -> None:
    new_movement(signed_in)
    man = rest_of_the_men(signed_in)[0]
    with signed_in.db.unit_of_work() as uow:
        rt = fresh(signed_in)
        assessments.assess(uow, rt, [man], FIT_TO_TRAVEL, "unfit", NOW)
        assessments.assess(uow, rt, [man], LEGAL_REVIEW, "cleared", NOW)
        uow.commit()
    page = signed_in.client.get("/movements/M-010/manifest").text
    row = re.search(rf'data-testid="candidate" data-person="{man}">(.*?)</tr>', page, re.S)
    assert row and "<td>unfit</td><td>cleared</td>" in row.group(1)


def test_people_brought_back_to_the_origin(signed_in: Site) -> None:
    men = ready_movement(signed_in)
    with signed_in.db.unit_of_work() as uow:
        board_and_depart(uow, fresh(signed_in), "M-010", NOW)
        uow.commit()
    page = signed_in.client.get("/movements/M-010/checklist").text
    assert page.count('data-testid="return-form"') == 1
    assert signed_in.post("/movements/M-010/return", {"person_id": [men[0]]}).status_code == 303
    with signed_in.db.unit_of_work() as uow:
        state = uow.custody.states([men[0]])[men[0]]
    assert (state.status.value, state.facility_id, state.movement_id) == ("held", "ghweran", None)
    report = signed_in.client.get("/movements/M-010").text
    assert 'data-outcome="returned"' in report and text_of(report, "report-accounted") == "1"
    nobody = signed_in.post("/movements/M-010/return", {})
    assert nobody.status_code == 422


def test_arrivals_not_yet_handed_over_say_so(signed_in: Site) -> None:
    with signed_in.db.unit_of_work() as uow:
        travel_to_destination(uow, fresh(signed_in), IN_TRANSIT_CODE, NOW)
        uow.commit()
    page = signed_in.client.get("/intake/karkh").text
    assert "5 of them are not yet in the custody of Iraq Ministry of Justice" in text_of(page, "not-handed-over")
    assert f'href="/movements/{IN_TRANSIT_CODE}/handovers/new"' in page
    refused = signed_in.post("/intake/karkh/admit", {"movement": IN_TRANSIT_CODE})
    assert refused.status_code == 409 and refusal(refused.text)["rule"] == "custodian-mismatch"
