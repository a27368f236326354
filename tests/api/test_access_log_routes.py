"""The access log through the API and its page: every read of a person's record is listed, for monitors only."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from handover.app import create_app
from handover.core.policy.access import Role
from handover.services.runtime import SimulatedClock, seeded_runtime
from handover.store.uow import Database
from tests.factories import T0
from tests.scenarios import Scenario, transfer_scenario
from tests.support.accounts import bearer, cheap_hashing, make_user, token_for


@pytest.fixture
def site(world: Database) -> Iterator[tuple[TestClient, Scenario, dict[str, str]]]:
    scenario = transfer_scenario(world)
    rt = seeded_runtime(51, SimulatedClock(T0 + timedelta(hours=6)))
    with cheap_hashing():
        users = {
            "monitor": make_user(world, rt, "mona", Role.MONITOR),
            "planner": make_user(world, rt, "pat", Role.PLANNER),
            "intake": make_user(world, rt, "ida", Role.INTAKE_OFFICER, facility_id="karkh"),
        }
        tokens = {name: token_for(world, rt, user) for name, user in users.items()}
    with TestClient(create_app(world, runtime=rt)) as client:
        yield client, scenario, tokens


def test_reads_are_listed_for_monitors_with_who_when_and_why(site) -> None:  # type: ignore[no-untyped-def]
    client, scenario, tokens = site
    person = scenario.moved[0]  # admitted at karkh: in the intake officer's scope
    assert client.get(f"/api/v1/persons/{person}", headers=bearer(tokens["planner"])).status_code == 200
    assert client.get(f"/api/v1/persons/{person}", headers=bearer(tokens["intake"])).status_code == 200
    refused = client.get(f"/api/v1/persons/{person}", headers=bearer(tokens["monitor"]))
    assert refused.status_code in (400, 422) and refused.json()["rule"] == "purpose-required"
    stated = client.get(
        f"/api/v1/persons/{person}",
        params={"purpose": "monitoring", "note": "quarterly check"},
        headers=bearer(tokens["monitor"]),
    )
    assert stated.status_code == 200

    reads = client.get("/api/v1/access-log", params={"person_id": person}, headers=bearer(tokens["monitor"])).json()
    assert [(r["reader"], r["purpose"], r["note"]) for r in reads] == [
        ("mona", "monitoring", "quarterly check"),
        ("ida", "intake", ""),
        ("pat", "operations", ""),
    ]
    indexes = [r["log_index"] for r in reads]
    assert indexes == sorted(indexes, reverse=True) and len(set(indexes)) == 3  # each its own log entry

    page = client.get("/access-log", params={"person": person}, headers=bearer(tokens["monitor"]))
    assert (
        page.status_code == 200 and page.text.count('data-testid="access-row"') == 3 and "quarterly check" in page.text
    )


def test_only_monitors_and_admins_see_the_access_log(site) -> None:  # type: ignore[no-untyped-def]
    client, _scenario, tokens = site
    assert client.get("/api/v1/access-log").status_code == 401
    assert client.get("/api/v1/access-log", headers=bearer(tokens["planner"])).status_code == 403
    assert client.get("/access-log", headers=bearer(tokens["intake"])).status_code == 403
    assert client.get("/access-log", follow_redirects=False).status_code == 303
