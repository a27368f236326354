"""The JSON API on both backends: every endpoint's answer, paging, and problem documents (RFC 9457).

The client acts as the operations team (tests/support/team.py); who may read what is in test_scope.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from handover.api.problems import PROBLEM_BASE, PROBLEM_MEDIA_TYPE, install_problem_handlers
from handover.app import create_app
from handover.services.errors import ConflictError, Refused, RefusedError, Rule
from handover.settings import get_settings
from handover.store.uow import Database
from tests.scenarios import (
    ARRIVED_CODE,
    IN_TRANSIT_CODE,
    PLANNED,
    Scenario,
    expected_log_size,
    transfer_scenario,
)
from tests.support.team import as_team


@pytest.fixture
def scenario(world: Database) -> Scenario:
    return transfer_scenario(world)


@pytest.fixture
def client(world: Database, scenario: Scenario) -> Iterator[TestClient]:
    with TestClient(as_team(create_app(world))) as test_client:
        yield test_client


def assert_problem(response, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    assert body["type"]
    return body


def test_status_counts_follow_the_scenario(client: TestClient, scenario: Scenario) -> None:
    body = client.get("/api/v1/status").json()
    assert body["log_size"] == expected_log_size(scenario) == scenario.log_size == 164
    assert body["registered"] == 43
    assert body["planned"] == PLANNED
    assert body["moved"] == 12
    assert body["in_transit"] == 5
    assert body["held_at_origin"] == 26
    assert body["by_status"] == {"held": 38, "in_transit": 5}
    assert body["in_transit_by_movement"] == {IN_TRANSIT_CODE: 5}


def test_person_shows_custody_and_chain_but_no_identity(client: TestClient, scenario: Scenario) -> None:
    person_id = scenario.moved[0]
    response = client.get(f"/api/v1/persons/{person_id}")
    assert response.status_code == 200
    body = response.json()
    assert body["person_id"] == person_id
    assert (body["status"], body["facility_id"], body["custodian_id"]) == ("held", "karkh", "iq-moj")
    assert body["origin_id"] == "ghweran"
    assert body["movement_id"] is None
    assert [e["type"] for e in body["chain"]] == [
        "registered",
        "assessed",
        "assessed",
        "manifested",
        "departed",
        "handed_over",
        "arrived",
        "handed_over",
        "admitted",
    ]
    seqs = [e["seq"] for e in body["chain"]]
    assert seqs == sorted(seqs)
    text = response.text
    for identity_field in ("Mohammed", "محمد", "name", "birth", "nationalit"):
        assert identity_field not in text


def test_person_in_transit(client: TestClient, scenario: Scenario) -> None:
    body = client.get(f"/api/v1/persons/{scenario.in_transit[0]}").json()
    assert (body["status"], body["custodian_id"], body["facility_id"]) == ("in_transit", "us-centcom", None)
    assert body["movement_id"] is not None


def test_unknown_person_is_a_404_problem(client: TestClient) -> None:
    body = assert_problem(client.get("/api/v1/persons/nobody-here"), 404)
    assert "nobody-here" in body["detail"]
    assert body["type"] == PROBLEM_BASE + "not-found"
    assert body["instance"] == "/api/v1/persons/nobody-here"


def test_facilities_occupancy_against_capacity(client: TestClient) -> None:
    facilities = {f["id"]: f for f in client.get("/api/v1/facilities").json()}
    assert set(facilities) == {"ghweran", "al-hol", "karkh", "jeddah-1", "kharab-al-jir"}
    karkh = facilities["karkh"]
    assert karkh["held"] == {"adult_men": 12, "adult_women": 0, "minors": 0}
    assert karkh["capacity"]["adult_men"] == 60
    assert karkh["free"]["adult_men"] == 48
    assert (karkh["received"], karkh["total"], karkh["awaiting_admission"]) == (12, 12, 0)
    assert facilities["ghweran"]["held"]["adult_men"] == 13
    assert facilities["ghweran"]["received"] == 0
    assert facilities["al-hol"]["held"] == {"adult_men": 0, "adult_women": 5, "minors": 8}
    assert facilities["jeddah-1"]["total"] == 0


def test_movements(client: TestClient) -> None:
    movements = {m["code"]: m for m in client.get("/api/v1/movements").json()}
    assert set(movements) == {ARRIVED_CODE, IN_TRANSIT_CODE}
    arrived = movements[ARRIVED_CODE]
    assert (arrived["origin"], arrived["destination"], arrived["mode"]) == ("ghweran", "karkh", "helicopter")
    assert arrived["state"] == "arrived"
    assert movements[IN_TRANSIT_CODE]["state"] == "in_progress"
    assert arrived["scheduled_at"].startswith("2026-01-21T")
    assert set(arrived) == {"id", "code", "origin", "destination", "mode", "state", "scheduled_at"}


def test_events_first_page(client: TestClient, scenario: Scenario) -> None:
    body = client.get("/api/v1/events").json()
    assert body["log_size"] == scenario.log_size
    assert [e["seq"] for e in body["events"]] == list(range(100))
    assert body["next_after"] == 99
    first = body["events"][0]
    assert (first["type"], first["facility_id"], first["authority_id"]) == ("registered", "ghweran", "sy-moi")
    assert first["person_id"] == scenario.men[0]


@pytest.mark.parametrize("limit", [1, 7, 1000])
def test_events_paging_walks_the_whole_log_in_order(client: TestClient, scenario: Scenario, limit: int) -> None:
    seen: list[int] = []
    after: int | None = -1
    pages = 0
    while after is not None:
        response = client.get("/api/v1/events", params={"after": after, "limit": limit})
        assert response.status_code == 200
        body = response.json()
        assert len(body["events"]) <= limit
        seen += [e["seq"] for e in body["events"]]
        after = body["next_after"]
        pages += 1
        assert pages <= scenario.log_size + 1
    assert seen == list(range(scenario.log_size))
    assert pages == -(-scenario.log_size // limit)


def test_events_after_the_end_is_empty(client: TestClient, scenario: Scenario) -> None:
    body = client.get("/api/v1/events", params={"after": scenario.log_size - 1}).json()
    assert body == {"events": [], "log_size": scenario.log_size, "next_after": None}


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 1001}, {"limit": "many"}, {"after": -2}, {"after": "x"}])
def test_invalid_event_query_is_a_422_problem(client: TestClient, params: dict[str, object]) -> None:
    body = assert_problem(client.get("/api/v1/events", params=params), 422)
    assert body["errors"]
    (name,) = params
    assert body["errors"][0]["loc"] == ["query", name]


def test_docs_and_openapi_are_served(client: TestClient) -> None:
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
    spec = client.get("/api/openapi.json").json()
    assert {
        "/api/v1/status",
        "/api/v1/persons/{person_id}",
        "/api/v1/facilities",
        "/api/v1/events",
        "/api/v1/movements",
    } <= set(spec["paths"])
    assert not any(path.startswith("/partials") or path == "/" for path in spec["paths"])
    limit_422 = spec["paths"]["/api/v1/events"]["get"]["responses"]["422"]
    assert PROBLEM_MEDIA_TYPE in limit_422["content"]
    assert client.get("/redoc").status_code == 404


def test_unknown_route_is_a_problem(client: TestClient) -> None:
    assert_problem(client.get("/api/v1/nothing-here"), 404)


# Problem handlers for errors no read route raises yet: a tiny app with routes that raise them.


@pytest.fixture
def raising_client() -> Iterator[TestClient]:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/refused")
    def refused() -> None:
        raise RefusedError(
            Refused("p-1", Rule.NOT_HELD, "in transit on movement m-1", "Person p-1 cannot be released.")
        )

    @app.get("/conflict")
    def conflict() -> None:
        raise ConflictError("M-9", "manifest-frozen", "in_progress", "The manifest of M-9 is frozen.")

    @app.get("/bad")
    def bad() -> None:
        raise ValueError("planned total must not be negative")

    @app.get("/broken")
    def broken() -> None:
        raise RuntimeError("secret internals")

    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_refusal_is_a_409_problem_naming_person_rule_and_state(raising_client: TestClient) -> None:
    body = assert_problem(raising_client.get("/refused"), 409)
    assert body["type"] == PROBLEM_BASE + "not-held"
    assert body["rule"] == "not-held"
    assert body["person_id"] == "p-1"
    assert body["state"] == "in transit on movement m-1"
    assert body["detail"] == "Person p-1 cannot be released."


def test_conflict_is_a_409_problem(raising_client: TestClient) -> None:
    body = assert_problem(raising_client.get("/conflict"), 409)
    assert body["type"] == PROBLEM_BASE + "manifest-frozen"
    assert (body["subject"], body["rule"], body["state"]) == ("M-9", "manifest-frozen", "in_progress")


def test_value_error_is_a_400_problem(raising_client: TestClient) -> None:
    body = assert_problem(raising_client.get("/bad"), 400)
    assert body["detail"] == "planned total must not be negative"


def test_unexpected_error_is_a_500_problem_without_internals(raising_client: TestClient) -> None:
    response = raising_client.get("/broken")
    body = assert_problem(response, 500)
    assert "secret" not in response.text
    assert body["type"] == PROBLEM_BASE + "server-error"


def test_create_app_without_a_database_uses_the_configured_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'configured.sqlite3'}"
    monkeypatch.setenv("HANDOVER_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        app = create_app()
        assert app.state.database.url == url
        app.state.database.migrate()
        with TestClient(app) as client:
            assert client.get("/api/v1/status").json()["log_size"] == 0
    finally:
        get_settings.cache_clear()
