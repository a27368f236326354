"""Repatriation pages with real accounts signed in through the sign-in form (password and authenticator code): what a
diplomat, a planner and a monitor see and may do, the forms' writes (with their CSRF token), document uploads and
their refusals, and the public sent to sign in. People appear by id, never by name."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response

from handover.app import create_app
from handover.core.repatriation.documents import MAX_BYTES
from handover.gate import SESSION_COOKIE, declared, routes
from handover.services import repatriation, sessions, transfers
from handover.store.documents import FileBlobs
from handover.store.uow import Database
from tests.support.accounts import User, sign_in
from tests.support.repatriation import PDF, ROAD, RepatriationWorld, repatriation_world


@pytest.fixture
def w(world: Database) -> RepatriationWorld:
    return repatriation_world(world)


@pytest.fixture
def app(w: RepatriationWorld, tmp_path: Path) -> FastAPI:
    made = create_app(w.db, runtime=w.rt)
    made.state.blobs = FileBlobs(tmp_path / "documents")
    return made


@pytest.fixture
def cases(w: RepatriationWorld) -> dict[str, str]:
    """A case for each Kazakh (the first two requested) and for the French national; ids by person."""
    with w.db.unit_of_work() as uow:
        planner = w.planner.principal
        opened = {p: repatriation.open_case(uow, w.rt, planner, p, "KZ").id for p in w.kazakhs}
        opened[w.french] = repatriation.open_case(uow, w.rt, planner, w.french, "FR").id
        first = [opened[p] for p in w.kazakhs[:2]]
        repatriation.send_request(uow, w.rt, planner, "KZ", first, w.clock().date(), "NV-KZ-7", "Two nationals")
        uow.commit()
    return opened


class Browser:
    """A browser signed in as one account: its own cookies, and the form token of its session."""

    def __init__(self, app: FastAPI, user: User, w: RepatriationWorld) -> None:
        self.client = TestClient(app)
        signed_in = sign_in(self.client, user, w.clock())
        assert signed_in.status_code == 303, signed_in.text
        self.csrf = sessions.csrf_token(self.client.cookies[SESSION_COOKIE])

    def get(self, path: str) -> Response:
        return self.client.get(path, follow_redirects=False)

    def post(self, path: str, data: dict[str, Any], **kwargs: Any) -> Response:
        return self.client.post(path, data={"csrf": self.csrf, **data}, follow_redirects=False, **kwargs)


def _state(w: RepatriationWorld, case_id: str) -> str:
    with w.db.unit_of_work() as uow:
        found = uow.repatriation.case(case_id)
    assert found is not None
    return found.state


def test_every_page_declares_one_permission(app: FastAPI) -> None:
    found = {
        f"{' '.join(sorted(r.methods))} {r.path}": str(declared(r))
        for r in routes(app)
        if r.path.startswith("/repatriation")
    }
    assert found == {
        "GET /repatriation": "repatriation:read",
        "GET /repatriation/{country}": "repatriation:read",
        "GET /repatriation/cases/{case_id}": "repatriation:read",
        "POST /repatriation/{country}/cases": "repatriation:write",
        "POST /repatriation/{country}/requests": "repatriation:write",
        "POST /repatriation/cases/{case_id}/act": "repatriation:write",
        "POST /repatriation/cases/{case_id}/schedule": "repatriation:write",
        "POST /repatriation/cases/{case_id}/documents": "document:write",
    }


def test_the_public_is_sent_to_sign_in(app: FastAPI, cases: dict[str, str]) -> None:
    public = TestClient(app)
    case_id = next(iter(cases.values()))
    for path in ("/repatriation", "/repatriation/KZ", f"/repatriation/cases/{case_id}"):
        answer = public.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == f"/signin?next={path}"
    refused = public.post(f"/repatriation/cases/{case_id}/act", data={"action": "withdraw", "reason": "x"})
    assert refused.status_code == 401
    assert "Mohammed" not in refused.text


def test_a_diplomat_sees_and_moves_their_own_country_only(
    app: FastAPI, w: RepatriationWorld, cases: dict[str, str]
) -> None:
    kz = Browser(app, w.diplomat_kz, w)
    index = kz.get("/repatriation")
    assert index.status_code == 200
    assert re.findall(r'data-testid="country-([A-Z]{2})"', index.text) == ["KZ"]

    page = kz.get("/repatriation/KZ").text
    assert set(re.findall(r'data-testid="case" data-case="([^"]+)"', page)) == {cases[p] for p in w.kazakhs}
    assert 'data-testid="request-notes">Two nationals' in page and "NV-KZ-7" in page
    assert 'data-testid="act-form"' in page and 'data-testid="open-form"' in page
    for person in w.kazakhs:
        assert person in page
    assert "Mohammed" not in page and "محمد" not in page  # ids, never names

    french = cases[w.french]
    for path in ("/repatriation/FR", f"/repatriation/cases/{french}"):
        hidden = kz.get(path)
        assert hidden.status_code == 404 and w.french not in hidden.text
    absent = kz.get("/repatriation/cases/no-such-case")
    assert absent.status_code == 404

    # Their own case: requested -> in talks -> accepted, from the country page and the case page.
    case_id = cases[w.kazakhs[0]]
    moved = kz.post(f"/repatriation/cases/{case_id}/act", {"action": "open-talks", "back": "KZ"})
    assert moved.status_code == 303 and moved.headers["location"] == "/repatriation/KZ"
    moved = kz.post(f"/repatriation/cases/{case_id}/act", {"action": "accept"})
    assert moved.headers["location"] == f"/repatriation/cases/{case_id}"
    assert _state(w, case_id) == "accepted"
    case_page = kz.get(f"/repatriation/cases/{case_id}").text
    assert re.findall(r'data-testid="step" data-action="([^"]+)"', case_page) == [
        "open",
        "request",
        "open-talks",
        "accept",
    ]
    assert 'data-testid="schedule-form"' in case_page and "Mohammed" not in case_page
    with w.db.unit_of_work() as uow:
        transfers.create_movement(uow, w.rt, "REPAT-KZ-9", ROAD.id, w.clock() + timedelta(days=2))
        uow.commit()
    unknown = kz.post(f"/repatriation/cases/{case_id}/schedule", {"movement": "NO-SUCH", "on": ""})
    assert unknown.status_code == 404 and _state(w, case_id) == "accepted"
    scheduled = kz.post(f"/repatriation/cases/{case_id}/schedule", {"movement": "REPAT-KZ-9", "on": "2026-01-23 08:00"})
    assert scheduled.status_code == 303 and _state(w, case_id) == "scheduled"
    assert 'data-testid="movement">REPAT-KZ-9' in kz.get(f"/repatriation/cases/{case_id}").text

    # Another country's case: not found, and unchanged; a refusal names its rule; no form token, no write.
    refused = kz.post(f"/repatriation/cases/{french}/act", {"action": "withdraw", "reason": "no"})
    assert refused.status_code == 404 and _state(w, french) == "identified"
    no_reason = kz.post(f"/repatriation/cases/{cases[w.kazakhs[1]]}/act", {"action": "refuse"})
    assert no_reason.status_code == 409
    assert 'data-rule="case-reason-required"' in no_reason.text
    forged = kz.client.post(
        f"/repatriation/cases/{cases[w.kazakhs[1]]}/act",
        data={"action": "withdraw", "reason": "forged", "csrf": "wrong"},
    )
    assert forged.status_code == 403 and _state(w, cases[w.kazakhs[1]]) == "requested"


def test_a_planner_sees_every_country_and_works_cases(
    app: FastAPI, w: RepatriationWorld, cases: dict[str, str]
) -> None:
    planner = Browser(app, w.planner, w)
    index = planner.get("/repatriation").text
    assert re.findall(r'data-testid="country-([A-Z]{2})"', index) == ["FR", "KZ"]
    kazakhstan = re.search(r'data-testid="country-KZ".*?</tr>', index, re.S)
    assert kazakhstan is not None
    assert 'data-testid="state-requested" data-count="2"' in kazakhstan.group(0)
    assert 'data-testid="state-identified" data-count="1"' in kazakhstan.group(0)

    third = cases[w.kazakhs[2]]
    sent = planner.post(
        "/repatriation/KZ/requests",
        {"case_id": [third], "sent_on": "2026-01-22", "reference": "NV-KZ-8", "notes": "The third"},
    )
    assert sent.status_code == 303 and _state(w, third) == "requested"
    page = planner.get("/repatriation/KZ").text
    assert "NV-KZ-8" in page and "The third" in page and "2026-01-22" in page
    assert 'data-testid="state-requested" data-count="3"' in page

    # Opening twice is refused on the page, naming the rule.
    twice = planner.post("/repatriation/KZ/cases", {"person_id": w.kazakhs[0]})
    assert twice.status_code == 409 and 'data-rule="case-exists"' in twice.text
    nobody = planner.post("/repatriation/KZ/requests", {"case_id": []})
    assert nobody.status_code == 422


def test_a_monitor_reads_without_forms(app: FastAPI, w: RepatriationWorld, cases: dict[str, str]) -> None:
    monitor = Browser(app, w.monitor, w)
    page = monitor.get("/repatriation/KZ").text
    assert 'data-testid="case"' in page
    assert 'data-testid="act-form"' not in page and 'data-testid="request-form"' not in page
    case_page = monitor.get(f"/repatriation/cases/{cases[w.french]}").text
    assert 'data-testid="upload-form"' not in case_page and 'data-testid="act-form"' not in case_page
    refused = monitor.post(f"/repatriation/cases/{cases[w.french]}/act", {"action": "withdraw", "reason": "no"})
    assert refused.status_code == 403 and _state(w, cases[w.french]) == "identified"


def test_documents_uploaded_on_the_case_page(
    app: FastAPI, w: RepatriationWorld, cases: dict[str, str], tmp_path: Path
) -> None:
    kz = Browser(app, w.diplomat_kz, w)
    case_id = cases[w.kazakhs[0]]
    path = f"/repatriation/cases/{case_id}/documents"
    uploaded = kz.post(path, {"title": "Note verbale"}, files={"file": ("nv.pdf", PDF, "application/pdf")})
    assert uploaded.status_code == 303
    page = kz.get(f"/repatriation/cases/{case_id}").text
    links = re.findall(r'href="(/api/v1/repatriation/documents/[^"]+)" data-testid="download">Note verbale<', page)
    assert len(links) == 1 and 'data-testid="upload-form"' in page
    got = kz.client.get(links[0])  # the session cookie is enough to read
    assert got.content == PDF and got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-disposition"].startswith("attachment;")

    for data, media_type, status, rule in (
        (PDF + b"\0" * MAX_BYTES, "application/pdf", 413, "document-too-large"),
        (b"<html><script>alert(1)</script>", "text/html", 415, "document-type-not-allowed"),
    ):
        refused = kz.post(path, {"title": "x"}, files={"file": ("x", data, media_type)})
        assert refused.status_code == status and f'data-rule="{rule}"' in refused.text
    french = kz.post(
        f"/repatriation/cases/{cases[w.french]}/documents",
        {"title": "x"},
        files={"file": ("x.pdf", PDF, "application/pdf")},
    )
    assert french.status_code == 404
    with w.db.unit_of_work() as uow:
        assert len(uow.repatriation.documents(case_id)) == 1
        assert uow.repatriation.documents(cases[w.french]) == []

    # A monitor must say why before opening a document: the page asks.
    monitor = Browser(app, w.monitor, w)
    monitor_page = monitor.get(f"/repatriation/cases/{case_id}").text
    assert 'name="purpose"' in monitor_page
