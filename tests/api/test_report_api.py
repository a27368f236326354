"""The public report through the API: anyone reads releases; the admin makes them, when due, and a refusal is a 409
problem document naming its rule (on SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from handover.api.problems import PROBLEM_BASE, PROBLEM_MEDIA_TYPE
from handover.app import create_app
from handover.core.policy.access import Role
from handover.core.tlog.note import Signer
from handover.services import log
from handover.services.registry import NewPerson, register_people
from handover.services.runtime import SimulatedClock, seeded_runtime
from handover.store.uow import Database
from tests.factories import T0, man
from tests.scenarios import transfer_scenario
from tests.support.accounts import bearer, cheap_hashing, make_user, token_for

SIGNER = Signer.generate("test.example/report-api")
NOW = T0 + timedelta(days=1)


@dataclass
class Site:
    client: TestClient
    db: Database
    clock: SimulatedClock
    tokens: dict[Role, str]


@pytest.fixture
def site(world: Database) -> Iterator[Site]:
    transfer_scenario(world)
    clock = SimulatedClock(NOW)
    rt = seeded_runtime(61, clock)
    with world.unit_of_work() as uow:
        log.sign_checkpoint(uow, SIGNER, NOW)
        uow.commit()
    with cheap_hashing():
        roles = (Role.ADMIN, Role.PLANNER, Role.MONITOR)
        tokens = {role: token_for(world, rt, make_user(world, rt, role.value, role)) for role in roles}
    with TestClient(create_app(world, runtime=rt, checkpoint_interval=0)) as client:
        yield Site(client, world, clock, tokens)


def _problem(response, rule: str, status: int = 409) -> dict:  # type: ignore[no-untyped-def, type-arg]
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body = response.json()
    assert body["type"] == PROBLEM_BASE + rule and body["rule"] == rule
    return body  # type: ignore[no-any-return]


def _grow_log(site: Site) -> int:
    """One more person registered and a new checkpoint signed over it; its size."""
    rt = seeded_runtime(62, SimulatedClock(site.clock()))
    with site.db.unit_of_work() as uow:
        register_people(uow, rt, [NewPerson(man(900), "ghweran")], site.clock())
        uow.commit()
    with site.db.unit_of_work() as uow:
        size = log.sign_checkpoint(uow, SIGNER, site.clock()).size
        uow.commit()
    return size


def test_reading_is_public_and_there_is_nothing_before_the_first_release(site: Site) -> None:
    missing = site.client.get("/api/v1/report")
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert site.client.get("/api/v1/report/releases").json() == []
    assert site.client.get("/api/v1/report/releases/1").status_code == 404


def test_only_the_admin_makes_a_release(site: Site) -> None:
    anonymous = site.client.post("/api/v1/report/releases")
    assert anonymous.status_code == 401 and anonymous.json()["rule"] == "sign-in-required"
    for role in (Role.PLANNER, Role.MONITOR):
        refused = site.client.post("/api/v1/report/releases", headers=bearer(site.tokens[role]))
        assert refused.status_code == 403 and refused.json()["rule"] == "permission-required", role
    assert site.client.get("/api/v1/report/releases").json() == []


def test_the_admin_releases_and_anyone_reads_it_as_stored(site: Site) -> None:
    made = site.client.post("/api/v1/report/releases", headers=bearer(site.tokens[Role.ADMIN]))
    assert made.status_code == 201, made.text
    assert made.headers["content-type"] == "application/json"
    assert made.headers["location"] == "/api/v1/report/releases/1"
    doc = made.json()
    assert doc["format"] == "handover-transparency-report/1" and doc["release"] == 1
    with site.db.unit_of_work() as uow:
        size = log.latest_checkpoint(uow).size
    assert doc["checkpoint"]["size"] == size and doc["computed_from"] == f"log entries 0 to {size - 1}"
    assert doc["counts"][0] == {"name": "registered", "value": 43}

    latest = site.client.get("/api/v1/report")  # no token: the public
    assert latest.status_code == 200 and latest.content == made.content
    one = site.client.get("/api/v1/report/releases/1")
    assert one.content == made.content and "immutable" in one.headers["cache-control"]
    assert site.client.get("/api/v1/report/releases").json() == [
        {
            "number": 1,
            "published_at": NOW.isoformat().replace("+00:00", "Z"),
            "checkpoint_size": size,
            "links": {
                "self": "/api/v1/report/releases/1",
                "document": "/report/1/report.json",
                "page": "/report/1",
            },
        }
    ]


def test_a_release_is_refused_when_current_or_not_due_and_forced_through(site: Site) -> None:
    admin = bearer(site.tokens[Role.ADMIN])
    assert site.client.post("/api/v1/report/releases", headers=admin, json={}).status_code == 201
    same = _problem(site.client.post("/api/v1/report/releases", headers=admin), "report-current")
    assert same["detail"].startswith("Release 1 ")

    site.clock.advance(timedelta(days=1))
    _grow_log(site)
    early = _problem(site.client.post("/api/v1/report/releases", headers=admin), "report-not-due")
    due = (NOW + timedelta(days=7)).isoformat(timespec="minutes")
    assert due in early["detail"] and "every 7 days" in early["detail"]
    assert site.client.get("/api/v1/report/releases/2").status_code == 404  # nothing was written

    forced = site.client.post("/api/v1/report/releases", headers=admin, json={"force": True})
    assert forced.status_code == 201, forced.text
    assert forced.json()["release"] == 2 and forced.json()["differencing"]["previous_release"] == 1


def test_a_release_is_made_without_force_once_due(site: Site) -> None:
    admin = bearer(site.tokens[Role.ADMIN])
    assert site.client.post("/api/v1/report/releases", headers=admin).status_code == 201
    site.clock.advance(timedelta(days=7))
    size = _grow_log(site)
    made = site.client.post("/api/v1/report/releases", headers=admin)
    assert made.status_code == 201, made.text
    assert json.loads(made.content)["checkpoint"]["size"] == size
    assert [r["number"] for r in site.client.get("/api/v1/report/releases").json()] == [1, 2]
