"""Repatriation cases through the API, on both backends, with real accounts and their tokens: who sees and moves
which cases, documents (limits, types, the download's headers, the read recorded), country summaries, and one case
from opening to the signed handover to the country's authority and `repatriated`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from handover.api.problems import PROBLEM_BASE
from handover.app import create_app
from handover.core.custody import EventType, Status
from handover.core.repatriation.documents import MAX_BYTES
from handover.gate import declared, routes
from handover.services import access_log
from handover.store.documents import FileBlobs
from handover.store.uow import Database
from tests.api.support import assert_problem, at, board_and_depart, clear, hand_over, manifest, ok
from tests.support.accounts import bearer, cheap_hashing, token_for
from tests.support.repatriation import PDF, PNG, ROAD, RepatriationWorld, repatriation_world
from tests.support.team import as_team

CASES = "/api/v1/repatriation/cases"


@pytest.fixture(autouse=True)
def _cheap_hashing() -> Iterator[None]:
    with cheap_hashing():
        yield


@pytest.fixture
def w(world: Database) -> RepatriationWorld:
    return repatriation_world(world)


@pytest.fixture
def app(w: RepatriationWorld, tmp_path: Path) -> FastAPI:
    made = create_app(w.db, runtime=w.rt)
    made.state.blobs = FileBlobs(tmp_path / "documents")
    return made


class As:
    """Requests of one account, with its own token."""

    def __init__(self, client: TestClient, token: str) -> None:
        self.client = client
        self.headers = bearer(token)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, headers=self.headers, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.client.post(path, headers=self.headers, **kwargs)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@pytest.fixture
def planner(client: TestClient, w: RepatriationWorld) -> As:
    return As(client, token_for(w.db, w.rt, w.planner))


@pytest.fixture
def kz(client: TestClient, w: RepatriationWorld) -> As:
    return As(client, token_for(w.db, w.rt, w.diplomat_kz))


@pytest.fixture
def fr(client: TestClient, w: RepatriationWorld) -> As:
    return As(client, token_for(w.db, w.rt, w.diplomat_fr))


@pytest.fixture
def monitor(client: TestClient, w: RepatriationWorld) -> As:
    return As(client, token_for(w.db, w.rt, w.monitor))


def _open(by: As, person: str, country: str) -> dict[str, Any]:
    body: dict[str, Any] = ok(by.post(CASES, json={"person_id": person, "country": country, "note": "identified"}))
    return body


def _cases(planner: As, w: RepatriationWorld) -> tuple[list[str], str]:
    """Cases for the three Kazakhs and the French national, all requested; their ids."""
    kazakh = [_open(planner, p, "KZ")["id"] for p in w.kazakhs]
    french = _open(planner, w.french, "fr")["id"]
    for country, ids in (("KZ", kazakh), ("FR", [french])):
        sent = ok(
            planner.post(
                f"/api/v1/repatriation/countries/{country}/requests",
                json={"case_ids": ids, "sent_on": "2026-01-21", "reference": f"NV-{country}-1", "notes": "first"},
            )
        )
        assert sorted(sent["case_ids"]) == sorted(ids) and sent["country"] == country
    return kazakh, french


def _act(by: As, case_id: str, action: str, reason: str = "") -> Any:
    return by.post(f"{CASES}/{case_id}/actions", json={"action": action, "reason": reason})


def test_every_route_declares_one_repatriation_permission(app: FastAPI) -> None:
    found = {
        f"{' '.join(sorted(r.methods))} {r.path}": str(declared(r))
        for r in routes(app)
        if r.path.startswith("/api/v1/repatriation")
    }
    assert found == {
        "GET /api/v1/repatriation/cases": "repatriation:read",
        "POST /api/v1/repatriation/cases": "repatriation:write",
        "GET /api/v1/repatriation/cases/{case_id}": "repatriation:read",
        "POST /api/v1/repatriation/cases/{case_id}/actions": "repatriation:write",
        "POST /api/v1/repatriation/cases/{case_id}/schedule": "repatriation:write",
        "POST /api/v1/repatriation/cases/{case_id}/complete": "movement:write",
        "GET /api/v1/repatriation/cases/{case_id}/documents": "document:read",
        "POST /api/v1/repatriation/cases/{case_id}/documents": "document:write",
        "GET /api/v1/repatriation/documents/{document_id}": "document:read",
        "GET /api/v1/repatriation/countries": "repatriation:read",
        "GET /api/v1/repatriation/countries/{country}": "repatriation:read",
        "GET /api/v1/repatriation/countries/{country}/requests": "repatriation:read",
        "POST /api/v1/repatriation/countries/{country}/requests": "repatriation:write",
    }


def test_the_public_is_asked_to_authenticate(client: TestClient, planner: As, w: RepatriationWorld) -> None:
    case_id = _open(planner, w.kazakhs[0], "KZ")["id"]
    for path in (CASES, f"{CASES}/{case_id}", "/api/v1/repatriation/countries"):
        body = assert_problem(client.get(path), 401)
        assert body["rule"] == "sign-in-required"
    refused = client.post(f"{CASES}/{case_id}/actions", json={"action": "withdraw", "reason": "x"})
    assert_problem(refused, 401)
    assert refused.headers["www-authenticate"] == "Bearer"
    assert_problem(client.get(CASES, headers=bearer("hvr_not-a-token")), 401)


def test_a_diplomat_sees_and_moves_only_their_own_country(
    planner: As, kz: As, fr: As, monitor: As, w: RepatriationWorld
) -> None:
    kazakh, french = _cases(planner, w)

    # The planner sees every case; the Kazakh diplomat only Kazakhstan's, whatever they ask for.
    assert {c["id"] for c in ok(planner.get(CASES), 200)} == {*kazakh, french}
    mine = ok(kz.get(CASES), 200)
    assert {c["id"] for c in mine} == set(kazakh) and {c["country"] for c in mine} == {"KZ"}
    assert ok(kz.get(CASES, params={"country": "FR"}), 200) == []
    assert ok(kz.get(CASES, params={"state": "requested"}), 200) == mine
    assert ok(kz.get(CASES, params={"state": "accepted"}), 200) == []
    assert "name" not in str(mine).lower()  # ids and states only

    # Another country's case answers exactly as a case that does not exist.
    hidden = assert_problem(kz.get(f"{CASES}/{french}"), 404)
    absent = assert_problem(kz.get(f"{CASES}/no-such-case"), 404)
    assert (hidden["type"], hidden["title"]) == (absent["type"], absent["title"])
    assert hidden["detail"].replace(french, "X") == absent["detail"].replace("no-such-case", "X")
    for attempt in (_act(kz, french, "accept"), _act(kz, french, "withdraw", "no")):
        assert_problem(attempt, 404)
    assert_problem(kz.get(f"{CASES}/{french}/documents"), 404)
    assert_problem(kz.get("/api/v1/repatriation/countries/FR"), 404)
    assert_problem(kz.get("/api/v1/repatriation/countries/FR/requests"), 404)
    assert ok(fr.get(f"{CASES}/{french}"), 200)["state"] == "requested"  # untouched

    # Their own: requested -> in talks -> accepted, each step in the history under their account.
    case = kazakh[0]
    talks = ok(_act(kz, case, "open-talks"), 200)
    assert talks["state"] == "in_talks" and "accept" in talks["can"]
    accepted = ok(_act(kz, case, "accept"), 200)
    assert accepted["state"] == "accepted" and accepted["can"] == ["schedule", "refuse", "withdraw"]
    detail = ok(kz.get(f"{CASES}/{case}"), 200)
    steps = [(s["action"], s["from_state"], s["to_state"]) for s in detail["history"]]
    assert steps == [
        ("open", None, "identified"),
        ("request", "identified", "requested"),
        ("open-talks", "requested", "in_talks"),
        ("accept", "in_talks", "accepted"),
    ]
    actors = [s["actor_id"] for s in detail["history"]]
    assert actors == [w.planner.account.id] * 2 + [w.diplomat_kz.account.id] * 2
    assert detail["history"][-1]["actor"] == "diplomat-kz" and detail["documents"] == []

    # Refusals name the case, the rule and the state; nothing changes.
    again = assert_problem(_act(kz, case, "accept"), 409)
    assert (again["rule"], again["subject"], again["state"]) == ("case-transition-not-allowed", case, "accepted")
    no_reason = assert_problem(_act(kz, kazakh[1], "refuse"), 409)
    assert no_reason["type"] == PROBLEM_BASE + "case-reason-required"
    assert_problem(_act(kz, case, "schedule"), 422)  # scheduling has its own route
    # A country's diplomat may not open cases for another country; the monitor reads but changes nothing.
    assert_problem(kz.post(CASES, json={"person_id": w.french, "country": "FR"}), 403)
    assert_problem(_act(monitor, case, "withdraw", "no"), 403)
    assert len(ok(monitor.get(CASES), 200)) == 4
    assert ok(kz.get(f"{CASES}/{case}"), 200)["state"] == "accepted"


def test_country_summaries_and_requests(planner: As, kz: As, w: RepatriationWorld) -> None:
    kazakh, _french = _cases(planner, w)
    ok(_act(kz, kazakh[0], "open-talks"), 200)
    w.clock.advance(timedelta(days=3))
    summaries = {s["country"]: s for s in ok(planner.get("/api/v1/repatriation/countries"), 200)}
    assert set(summaries) == {"FR", "KZ"}
    kazakhstan = summaries["KZ"]
    assert kazakhstan["total"] == 3 and kazakhstan["open"] == 3
    assert kazakhstan["counts"]["requested"] == 2 and kazakhstan["counts"]["in_talks"] == 1
    assert kazakhstan["counts"]["repatriated"] == 0
    assert kazakhstan["time_in_state"]["requested"] == {"cases": 2, "median_days": 3.0, "longest_days": 3.0}
    assert set(kazakhstan["time_in_state"]) == {"requested", "in_talks"}
    assert [s["country"] for s in ok(kz.get("/api/v1/repatriation/countries"), 200)] == ["KZ"]
    assert ok(kz.get("/api/v1/repatriation/countries/kz"), 200) == kazakhstan
    sent = ok(kz.get("/api/v1/repatriation/countries/KZ/requests"), 200)
    assert [(r["sent_on"], r["reference"], r["notes"]) for r in sent] == [("2026-01-21", "NV-KZ-1", "first")]
    assert sorted(sent[0]["case_ids"]) == sorted(kazakh)
    # The diplomat sends a reminder naming cases requested or in talks: no state changes.
    reminder = ok(
        kz.post(
            "/api/v1/repatriation/countries/KZ/requests",
            json={"case_ids": kazakh[:2], "sent_on": "2026-01-24", "notes": "reminder"},
        )
    )
    assert reminder["created_by"] == w.diplomat_kz.account.id
    assert [c["state"] for c in ok(kz.get(CASES), 200)].count("requested") == 2
    assert_problem(
        kz.post("/api/v1/repatriation/countries/FR/requests", json={"case_ids": kazakh[:1], "sent_on": "2026-01-24"}),
        403,
    )
    assert_problem(kz.post("/api/v1/repatriation/countries/KZ/requests", json={"case_ids": []}), 422)


def _upload(by: As, case_id: str, data: bytes, media_type: str, title: str = "Note verbale") -> Any:
    files = {"file": ("document", data, media_type)}
    return by.post(f"{CASES}/{case_id}/documents", files=files, data={"title": title})


def test_documents_within_limits_and_refused_by_rule(
    planner: As, kz: As, fr: As, monitor: As, w: RepatriationWorld, tmp_path: Path
) -> None:
    case_id = _open(planner, w.kazakhs[0], "KZ")["id"]
    document = ok(_upload(kz, case_id, PDF, "application/pdf", "Note verbale 14/2026"))
    assert (document["media_type"], document["size"], document["uploaded_by"]) == (
        "application/pdf",
        len(PDF),
        w.diplomat_kz.account.id,
    )
    png = ok(_upload(planner, case_id, PNG, "application/octet-stream", "Passport copy"))  # judged by content
    assert png["media_type"] == "image/png"

    listed = ok(kz.get(f"{CASES}/{case_id}"), 200)["documents"]
    assert [d["id"] for d in listed] == [document["id"], png["id"]]
    got = kz.get(document["href"])
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-disposition"] == 'attachment; filename="Note-verbale-14-2026.pdf"'
    assert got.headers["cache-control"] == "no-store"
    # Reading the document is reading the person's record: recorded, with the diplomat's usual purpose.
    with w.db.unit_of_work() as uow:
        reads = access_log.reads_of(uow, w.kazakhs[0])
    assert [(r.reader_id, r.purpose) for r in reads] == [(w.diplomat_kz.account.id, "consular")]
    assert document["id"] in reads[0].note

    # Out of scope: as absent. The monitor must say why it reads.
    assert_problem(fr.get(document["href"]), 404)
    assert_problem(fr.get(f"{CASES}/{case_id}/documents"), 404)
    assert_problem(_upload(fr, case_id, PDF, "application/pdf"), 404)
    assert_problem(kz.get("/api/v1/repatriation/documents/no-such-document"), 404)
    assert assert_problem(monitor.get(document["href"]), 422)["rule"] == "purpose-required"
    assert monitor.get(document["href"], params={"purpose": "monitoring"}).content == PDF
    assert_problem(_upload(monitor, case_id, PDF, "application/pdf"), 403)

    for data, declared_type, status, rule in (
        (PDF + b"\0" * MAX_BYTES, "application/pdf", 413, "document-too-large"),
        (b"<script>alert(1)</script>", "text/html", 415, "document-type-not-allowed"),
        (b"MZ\x90\x00", "application/pdf", 415, "document-type-not-allowed"),
        (PDF, "image/png", 415, "document-type-mismatch"),
        (b"", "application/pdf", 422, "document-empty"),
    ):
        body = assert_problem(_upload(kz, case_id, data, declared_type), status)
        assert (body["rule"], body["type"], body["subject"]) == (rule, PROBLEM_BASE + rule, case_id)
        assert body["max_bytes"] == MAX_BYTES and body["accepted_types"]
    too_big = assert_problem(_upload(kz, case_id, PDF + b"\0" * MAX_BYTES, "application/pdf"), 413)
    assert f"{len(PDF) + MAX_BYTES:,}" in too_big["detail"] and f"{MAX_BYTES:,}" in too_big["detail"]
    assert_problem(_upload(kz, case_id, PDF, "application/pdf", title=" "), 422)
    assert len(ok(kz.get(f"{CASES}/{case_id}/documents"), 200)) == 2
    stored = sorted(p.name for p in (tmp_path / "documents").rglob("*") if p.is_file())
    assert stored == sorted([document["sha256"], png["sha256"]])


def test_a_case_from_opening_to_repatriation_through_a_signed_handover(
    app: FastAPI, planner: As, kz: As, w: RepatriationWorld
) -> None:
    """Open, request, talks, accepted, scheduled on a movement to the airport, run by the operations team, handed
    over to Kazakhstan by a handover both officers sign, completed by the escort: repatriated."""
    person = w.kazakhs[0]
    case = _open(planner, person, "KZ")["id"]
    ok(
        planner.post(
            "/api/v1/repatriation/countries/KZ/requests",
            json={"case_ids": [case], "sent_on": "2026-01-21", "reference": "NV-KZ-14"},
        )
    )
    ok(_act(kz, case, "open-talks"), 200)
    ok(_act(kz, case, "accept"), 200)

    # The operations team runs the movement (a second app on the same database, acting as the team).
    with TestClient(as_team(create_app(w.db, runtime=w.rt))) as team:
        code = "REPAT-KZ-1"
        ok(team.post("/api/v1/movements", json={"code": code, "route_id": ROAD.id, "scheduled_at": at(60)}))
        scheduled = ok(kz.post(f"{CASES}/{case}/schedule", json={"movement": code, "on": at(60)}), 200)
        assert scheduled["state"] == "scheduled" and scheduled["authority_id"] == "kz-gov"
        ok(team.post(f"/api/v1/movements/{code}/approve"), 200)
        clear(team, [person])
        manifest(team, code, [person])
        hand_over(team, code, "sy-moi", "us-centcom", "ghweran", minutes=25)
        board_and_depart(team, code, minutes=30)

        # In transit with the escort: not yet Kazakhstan's. Only an escort of the movement completes the case.
        escort = As(kz.client, token_for(w.db, w.rt, w.escort))
        early = assert_problem(escort.post(f"{CASES}/{case}/complete", json={"occurred_at": at(40)}), 409)
        assert early["rule"] == "not-handed-over" and early["subject"] == case
        assert_problem(kz.post(f"{CASES}/{case}/complete", json={"occurred_at": at(40)}), 403)

        ok(team.post(f"/api/v1/movements/{code}/arrive", json={"occurred_at": at(90)}))
        hand_over(team, code, "us-centcom", "kz-gov", ROAD.destination_id, minutes=100)

    done = ok(escort.post(f"{CASES}/{case}/complete", json={"occurred_at": at(120)}), 200)
    assert done["state"] == "repatriated" and done["can"] == []
    assert [(e["type"], e["authority_id"]) for e in done["events"]] == [
        ("admitted", "kz-gov"),
        ("repatriated", "kz-gov"),
    ]

    # The custody chain ends with Kazakhstan's authority, after the signed handover to it.
    with w.db.unit_of_work() as uow:
        chain = [s.event for s in uow.custody.chain(person)]
        state = uow.custody.states([person])[person]
    assert [e.type for e in chain][-3:] == [EventType.HANDED_OVER, EventType.ADMITTED, EventType.REPATRIATED]
    assert {e.authority_id for e in chain[-3:]} == {"kz-gov"}
    assert state.status is Status.REPATRIATED and state.custodian_id == "kz-gov"

    # The case's history is complete, each step under the account that took it; nothing more can happen.
    detail = ok(kz.get(f"{CASES}/{case}"), 200)
    assert [(s["action"], s["to_state"], s["actor_id"]) for s in detail["history"]] == [
        ("open", "identified", w.planner.account.id),
        ("request", "requested", w.planner.account.id),
        ("open-talks", "in_talks", w.diplomat_kz.account.id),
        ("accept", "accepted", w.diplomat_kz.account.id),
        ("schedule", "scheduled", w.diplomat_kz.account.id),
        ("complete", "repatriated", w.escort.account.id),
    ]
    closed = assert_problem(_act(kz, case, "withdraw", "too late"), 409)
    assert (closed["rule"], closed["state"]) == ("case-closed", "repatriated")
    summary = ok(kz.get("/api/v1/repatriation/countries/KZ"), 200)
    assert summary["counts"]["repatriated"] == 1 and summary["open"] == 0
