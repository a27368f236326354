"""Helpers for API tests: requests as a user would send them, checked to succeed, and problem-document checks.

Officers sign handover documents here as they would on their own devices: with their own Ed25519 seed, over the
document's exact bytes as the API answers them.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from httpx2 import Response

from handover.api.problems import PROBLEM_BASE, PROBLEM_MEDIA_TYPE
from handover.core.custody import Rule
from handover.core.custody.handover import public_key_of, sign
from tests.factories import T0

JSON = {"content-type": "application/json"}


def at(minutes: int = 0) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat()


def man(n: int = 0, **extra: Any) -> dict[str, Any]:
    person = {
        "name_ar": f"محمد {n}",
        "name_latin": f"Mohammed {n}",
        "aliases": [f"Muhammad {n}"],
        "sex": "male",
        "birth_date": "1990-01-01",
        "age_estimated": False,
        "nationalities": ["IQ"],
    }
    return person | extra


def woman(n: int = 0, **extra: Any) -> dict[str, Any]:
    person = {"name_ar": f"فاطمة {n}", "name_latin": f"Fatima {n}", "sex": "female", "birth_date": "1995-05-05"}
    return person | {"age_estimated": True, "nationalities": ["IQ"]} | extra


def child(mother_id: str, n: int = 0, **extra: Any) -> dict[str, Any]:
    person = {"name_ar": f"علي {n}", "name_latin": f"Ali {n}", "sex": "male", "birth_date": "2018-03-03"}
    return person | {"age_estimated": True, "nationalities": ["IQ"], "mother_id": mother_id} | extra


def ok(response: Response, status: int = 201) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def register(client: TestClient, facility: str, people: list[dict[str, Any]]) -> list[str]:
    body = ok(client.post("/api/v1/persons", json={"facility_id": facility, "occurred_at": at(), "people": people}))
    return [e["person_id"] for e in body["events"]]


def men(client: TestClient, count: int = 1, facility: str = "ghweran") -> list[str]:
    return register(client, facility, [man(n) for n in range(count)])


def event(client: TestClient, person: str, type_: str, **fields: Any) -> dict[str, Any]:
    payload = {"type": type_, "occurred_at": at(10)} | fields
    result: dict[str, Any] = ok(client.post(f"/api/v1/persons/{person}/events", json=payload))
    return result


def assess(client: TestClient, people: list[str], kind: str, outcome: str) -> list[dict[str, Any]]:
    payload = {"person_ids": people, "kind": kind, "outcome": outcome, "occurred_at": at(5)}
    found: list[dict[str, Any]] = ok(client.post("/api/v1/assessments", json=payload))["events"]
    return found


def clear(client: TestClient, people: list[str]) -> None:
    """Fit to travel and legally cleared: what a cross-border manifest needs under the default policy."""
    assess(client, people, "fit_to_travel", "fit")
    assess(client, people, "legal_review", "cleared")


def movement(client: TestClient, code: str = "M-1", route: str = "ghweran-karkh", approve: bool = True) -> str:
    body = ok(client.post("/api/v1/movements", json={"code": code, "route_id": route, "scheduled_at": at(60)}))
    if approve:
        ok(client.post(f"/api/v1/movements/{code}/approve"), 200)
    return str(body["id"])


def manifest(client: TestClient, code: str, people: list[str], **extra: Any) -> list[dict[str, Any]]:
    payload = {"person_ids": people, "occurred_at": at(20)} | extra
    found: list[dict[str, Any]] = ok(client.post(f"/api/v1/movements/{code}/manifest", json=payload))["events"]
    return found


def due(client: TestClient, code: str) -> list[str]:
    """Who should board the movement's next leg: everyone held on its manifest, or everyone in transit on it."""
    detail = ok(client.get(f"/api/v1/movements/{code}"), 200)
    first = all(leg["departed_at"] is None for leg in detail["legs"])
    wanted = "held" if first else "in_transit"
    return [p["person_id"] for p in detail["people"] if p["status"] == wanted]


def board(client: TestClient, code: str, people: list[str] | None = None, minutes: int = 30) -> dict[str, Any]:
    payload = {"person_ids": people if people is not None else due(client, code), "occurred_at": at(minutes)}
    result: dict[str, Any] = ok(client.post(f"/api/v1/movements/{code}/board", json=payload))
    return result


def depart(client: TestClient, code: str, minutes: int = 30) -> dict[str, Any]:
    result: dict[str, Any] = ok(client.post(f"/api/v1/movements/{code}/depart", json={"occurred_at": at(minutes)}))
    return result


def board_and_depart(client: TestClient, code: str, minutes: int = 30) -> dict[str, Any]:
    board(client, code, minutes=minutes)
    return depart(client, code, minutes)


def arrive(client: TestClient, code: str, minutes: int = 90) -> dict[str, Any]:
    result: dict[str, Any] = ok(client.post(f"/api/v1/movements/{code}/arrive", json={"occurred_at": at(minutes)}))
    return result


def travel(client: TestClient, code: str, minutes: int = 90) -> None:
    """Every remaining leg: board, depart and arrive, to the destination."""
    for leg in ok(client.get(f"/api/v1/movements/{code}/legs"), 200):
        if leg["departed_at"] is None:
            board_and_depart(client, code, minutes)
        if leg["arrived_at"] is None:
            arrive(client, code, minutes)


# Officers: one per authority, each with their own key.


def seed(authority: str, n: int = 0) -> bytes:
    return hashlib.sha256(f"api-test-officer-{n}-{authority}".encode()).digest()


def officer(client: TestClient, authority: str, n: int = 0) -> str:
    """The id of the test officer of `authority` (registered on first use)."""
    key = public_key_of(seed(authority, n))
    for found in ok(client.get("/api/v1/officers"), 200):
        if found["public_key"] == key:
            return str(found["id"])
    body = ok(
        client.post(
            "/api/v1/officers",
            json={"name": f"Officer {n} of {authority}", "authority_id": authority, "public_key": key},
        )
    )
    return str(body["id"])


def signature(seed_bytes: bytes, document: str) -> str:
    return base64.b64encode(sign(seed_bytes, document.encode())).decode()


def open_handover(
    client: TestClient, code: str, from_: str, to: str, place: str, minutes: int = 40, **extra: Any
) -> dict[str, Any]:
    payload = {"from_authority_id": from_, "to_authority_id": to, "place_id": place, "occurred_at": at(minutes)}
    result: dict[str, Any] = ok(client.post(f"/api/v1/movements/{code}/handovers", json=payload | extra))
    return result


def sign_side(client: TestClient, handover: dict[str, Any], side: str, authority: str) -> dict[str, Any]:
    payload = {
        "officer_id": officer(client, authority),
        "side": side,
        "signature": signature(seed(authority), handover["document"]),
    }
    result: dict[str, Any] = ok(client.post(f"/api/v1/handovers/{handover['id']}/signatures", json=payload))
    return result


def hand_over(
    client: TestClient, code: str, from_: str, to: str, place: str, minutes: int = 40, **extra: Any
) -> dict[str, Any]:
    """Open a handover document and have both officers sign it: custody passes."""
    opened = open_handover(client, code, from_, to, place, minutes, **extra)
    sign_side(client, opened, "dispatching", from_)
    return sign_side(client, opened, "receiving", to)


# Reads and checks.


def log_size(client: TestClient) -> int:
    size: int = client.get("/api/v1/status").json()["log_size"]
    return size


def chain(client: TestClient, person: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = client.get(f"/api/v1/persons/{person}").json()["chain"]
    return events


def status_of(client: TestClient, person: str) -> str:
    found: str = client.get(f"/api/v1/persons/{person}").json()["status"]
    return found


def assert_problem(response: Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"] and body["detail"] and body["type"]
    return body


def refused(client: TestClient, path: str, payload: dict[str, Any], rule: Rule, person: str) -> dict[str, Any]:
    """POST `payload`, expect a refusal by a custody `rule` naming `person` and their state, and an unchanged log."""
    before = log_size(client)
    body = assert_problem(client.post(path, json=payload), 409)
    assert body["type"] == PROBLEM_BASE + rule.value
    assert body["rule"] == rule.value
    assert body["person_id"] == person
    assert body["state"] and body["state"] in body["detail"]
    assert person in body["detail"]
    assert body["instance"] == path
    assert log_size(client) == before, "a refused request wrote something"
    return body


def conflict(
    client: TestClient,
    path: str,
    payload: dict[str, Any] | None,
    rule: str,
    state: str | None = None,
    subject: str | None = None,
    status: int = 409,
) -> dict[str, Any]:
    """POST `payload`, expect a refusal by `rule` naming its subject (a person or a movement) and a state, and an
    unchanged log."""
    before = log_size(client)
    body = assert_problem(client.post(path, json=payload), status)
    assert (body["rule"], body["type"]) == (rule, PROBLEM_BASE + rule)
    assert body["subject"] and body["state"]
    if state is not None:
        assert body["state"] == state
    if subject is not None:
        assert body["subject"] == subject
        assert subject in body["detail"] or subject in body["instance"]
    assert body["instance"] == path
    assert log_size(client) == before, "a refused request wrote something"
    return body
