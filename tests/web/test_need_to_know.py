"""Need to know on the pages, with real accounts signed in through the form, on both backends: who is sent to sign
in, who gets "not found" for what is out of their scope (exactly as for what does not exist), what the lists show
each role, and that every showing of a person's record is recorded with its purpose."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from handover.app import create_app
from handover.core.custody.model import TransportMode
from handover.core.custody.movements import Vehicle
from handover.core.policy.access import Role
from handover.services import access_log, transfers
from handover.services.registry import NewPerson, register_people
from handover.services.runtime import SimulatedClock, seeded_runtime
from handover.store.uow import Database
from tests.factories import T0, man
from tests.scenarios import ARRIVED_CODE, IN_TRANSIT_CODE, Scenario, transfer_scenario
from tests.web.accounts import signed_in_as
from tests.web.test_pages import text_of

NOW = T0 + timedelta(hours=4)


@dataclass
class World:
    db: Database
    scenario: Scenario
    french: str  # a French national held at Ghweran (everyone else is Iraqi)


@pytest.fixture
def world_of(world: Database) -> World:
    scenario = transfer_scenario(world)
    rt = seeded_runtime(31, SimulatedClock(NOW))
    with world.unit_of_work() as uow:
        [stored] = register_people(uow, rt, [NewPerson(man(900, nationality="FR"), "ghweran")], NOW)
        # M-003 goes by road under the Syrian ministry's escort; M-001 and M-002 by helicopter under US command.
        transfers.create_movement(uow, rt, "M-003", "ghweran-karkh", NOW + timedelta(days=1))
        leg = transfers.LegPlan(
            from_id="ghweran",
            to_id="karkh",
            mode=TransportMode.ROAD_CONVOY,
            escort_id="sy-moi",
            vehicles=(Vehicle("Bus 1", 40),),
            scheduled_departure=NOW + timedelta(days=1),
            scheduled_arrival=NOW + timedelta(days=1, hours=8),
        )
        transfers.plan_legs(uow, rt, "M-003", [leg])
        # F-001 goes from al-Hol to Jeddah-1: neither from nor to Karkh.
        transfers.create_movement(uow, rt, "F-001", "al-hol-jeddah", NOW + timedelta(days=2))
        uow.commit()
    return World(world, scenario, stored.event.person_id)


@pytest.fixture
def client(world_of: World) -> Iterator[TestClient]:
    with TestClient(create_app(world_of.db, runtime=seeded_runtime(32, SimulatedClock(NOW)))) as test_client:
        yield test_client


def reads_of(db: Database, person_id: str) -> list[tuple[str, str]]:
    """(reader id, purpose) of every recorded read of the person, newest first."""
    with db.unit_of_work(read_only=True) as uow:
        return [(r.reader_id, r.purpose) for r in access_log.reads_of(uow, person_id)]


def account_id(db: Database, name: str) -> str:
    with db.unit_of_work(read_only=True) as uow:
        found = uow.accounts.by_name(name)
    assert found is not None
    return found.id


def csrf_of(client: TestClient) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', client.get("/").text)  # the sign-out form carries it
    assert match, "not signed in"
    return match.group(1)


def board_codes(html: str) -> set[str]:
    return set(re.findall(r'data-testid="movement-([A-Z]-\d+)"', html))


def test_the_public_is_sent_to_sign_in_for_a_person(client: TestClient, world_of: World) -> None:
    person = world_of.scenario.moved[0]
    response = client.get(f"/persons/{person}", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/signin?next=/persons/{person}"
    assert reads_of(world_of.db, person) == []


def test_a_diplomat_reads_their_nationals_and_nobody_else(client: TestClient, world_of: World) -> None:
    diplomat = signed_in_as(client, "consul-fr", Role.DIPLOMAT, country="FR")
    national = diplomat.get(f"/persons/{world_of.french}")
    assert national.status_code == 200 and text_of(national.text, "person-id") == world_of.french
    assert 'data-testid="person-reads"' not in national.text  # who read whom is for those reading the access log
    assert reads_of(world_of.db, world_of.french) == [(account_id(world_of.db, "consul-fr"), "consular")]

    iraqi = world_of.scenario.moved[0]
    other = diplomat.get(f"/persons/{iraqi}")
    unknown = diplomat.get("/persons/no-such-person")
    assert other.status_code == unknown.status_code == 404
    assert text_of(other.text, "not-found-detail") == f"No person {iraqi}."  # said exactly as for an unknown id
    assert text_of(unknown.text, "not-found-detail") == "No person no-such-person."
    assert reads_of(world_of.db, iraqi) == []

    # The dashboard: the latest events of their nationals only, and the board is not theirs to see.
    html = diplomat.get("/").text
    assert re.findall(r'href="/persons/([^"]+)" data-testid="event-person-link"', html) == [world_of.french]
    denied = diplomat.get("/movements")
    assert denied.status_code == 403 and 'data-testid="denied"' in denied.text


def test_a_monitor_states_a_purpose_and_sees_who_read_the_record(client: TestClient, world_of: World) -> None:
    person = world_of.french
    monitor = signed_in_as(client, "monitor-a", Role.MONITOR)
    asked = monitor.get(f"/persons/{person}")
    assert asked.status_code == 200 and 'data-testid="purpose-form"' in asked.text
    assert 'data-testid="custody-chain"' not in asked.text
    assert reads_of(world_of.db, person) == []  # nothing recorded, nothing shown, until a purpose is given
    wrong = monitor.get(f"/persons/{person}", params={"purpose": "curiosity"})
    assert wrong.status_code == 422 and "is not a purpose" in text_of(wrong.text, "purpose-error")
    assert reads_of(world_of.db, person) == []

    shown = monitor.get(f"/persons/{person}", params={"purpose": "monitoring", "note": "quarterly check"})
    assert shown.status_code == 200 and 'data-testid="custody-chain"' in shown.text
    monitor_id = account_id(world_of.db, "monitor-a")
    assert reads_of(world_of.db, person) == [(monitor_id, "monitoring")]
    rows = re.findall(r'data-testid="read-row" data-seq="\d+" data-reader="([^"]+)" data-purpose="([^"]+)"', shown.text)
    assert rows == [(monitor_id, "monitoring")]  # the read just recorded is listed with the others
    assert "quarterly check" in shown.text


def test_a_field_officer_sees_the_movements_their_authority_escorts(client: TestClient, world_of: World) -> None:
    officer = signed_in_as(client, "escort-sy", Role.FIELD_OFFICER, authority_id="sy-moi")
    assert board_codes(officer.get("/movements").text) == {"M-003"}
    assert officer.get("/movements/M-003/checklist").status_code == 200
    for path in (f"/movements/{ARRIVED_CODE}", f"/movements/{IN_TRANSIT_CODE}/checklist", "/movements/M-999"):
        hidden = officer.get(path)
        assert hidden.status_code == 404 and 'data-testid="not-found"' in hidden.text, path
    assert text_of(officer.get(f"/movements/{ARRIVED_CODE}").text, "not-found-detail") == f"No movement {ARRIVED_CODE}."
    # Writing to a movement they do not escort is refused as for an unknown one, and records nothing.
    with world_of.db.unit_of_work(read_only=True) as uow:
        before = uow.custody.size()
    arrive = officer.post(f"/movements/{IN_TRANSIT_CODE}/arrive", data={"csrf": csrf_of(officer), "leg": "2"})
    assert arrive.status_code == 404 and 'data-testid="not-found"' in arrive.text
    with world_of.db.unit_of_work(read_only=True) as uow:
        assert uow.custody.size() == before

    coalition = TestClient(client.app)
    signed_in_as(coalition, "escort-us", Role.FIELD_OFFICER, authority_id="us-centcom")
    # The US command escorts M-001 and M-002 by helicopter, and M-003 and F-001 are on its routes.
    assert board_codes(coalition.get("/movements").text) == {ARRIVED_CODE, IN_TRANSIT_CODE, "M-003", "F-001"}


def test_an_intake_officer_works_their_own_facility(client: TestClient, world_of: World) -> None:
    officer = signed_in_as(client, "intake-karkh", Role.INTAKE_OFFICER, facility_id="karkh")
    index = officer.get("/intake").text
    assert re.findall(r'href="/intake/([^"]+)"', index) == ["karkh"]
    assert officer.get("/intake/karkh").status_code == 200
    elsewhere = officer.get("/intake/ghweran")
    assert elsewhere.status_code == 404 and text_of(elsewhere.text, "not-found-detail") == "No facility ghweran."
    admit = officer.post("/intake/ghweran/admit", data={"csrf": csrf_of(officer), "people": world_of.french})
    assert admit.status_code == 404
    # Movements to or from Karkh, not al-Hol's to Jeddah-1.
    assert board_codes(officer.get("/movements").text) == {ARRIVED_CODE, IN_TRANSIT_CODE, "M-003"}
    # People held at Karkh are theirs to read; people at Ghweran are not.
    assert officer.get(f"/persons/{world_of.scenario.moved[0]}").status_code == 200
    assert officer.get(f"/persons/{world_of.french}").status_code == 404


def test_an_administrator_reads_no_persons_record(client: TestClient, world_of: World) -> None:
    admin = signed_in_as(client, "admin-a", Role.ADMIN)
    response = admin.get(f"/persons/{world_of.french}")
    assert response.status_code == 403 and 'data-testid="denied"' in response.text
    assert reads_of(world_of.db, world_of.french) == []
    html = admin.get("/").text
    assert 'data-testid="latest-events"' not in html and "/persons/" not in html
