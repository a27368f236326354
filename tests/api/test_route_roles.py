"""Every route, for every role, against one table: allowed or denied, and never a 500.

`ROUTES` below is the table: every route of the app and the permission (`resource:action`) it needs, or `open`.
Whether a role holds a permission comes from the grants of DESIGN.md's roles (`ROLE_GRANTS`). The test checks
that the app's routes are exactly the table's and declare what it says, then sends every request as every role
(the public without a token, the others with a real API token of a real account): a permission the role lacks is
401 for the public (a page sends it to sign in) and 403 for an account; a permission it holds gets past the gate
(any answer but 401, 403 and 5xx: a 404 for a record out of its scope is the scope check working, a 422 a body the
test did not fill in).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from handover import gate
from handover.app import create_app
from handover.core.policy.access import ROLE_GRANTS, Action, Resource, Role, may
from handover.services.runtime import SimulatedClock, seeded_runtime
from tests.factories import T0
from tests.scenarios import Scenario, transfer_scenario
from tests.support.accounts import User, cheap_hashing, make_user, token_for
from tests.web.live import world_database

# THE table: every route of the app, and what it needs.
ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/status"): "report:read",
    ("GET", "/api/v1/persons/{person_id}"): "person:read",
    ("GET", "/api/v1/facilities"): "report:read",
    ("GET", "/api/v1/events"): "log:read",
    ("GET", "/api/v1/movements"): "movement:read",
    ("POST", "/api/v1/persons"): "admission:write",
    ("POST", "/api/v1/persons/{person_id}/events"): "admission:write",
    ("POST", "/api/v1/persons/{person_id}/corrections"): "admission:write",
    ("GET", "/api/v1/movements/{movement}"): "movement:read",
    ("GET", "/api/v1/movements/{movement}/legs"): "movement:read",
    ("GET", "/api/v1/movements/{movement}/report"): "movement:read",
    ("POST", "/api/v1/movements"): "plan:write",
    ("PUT", "/api/v1/movements/{movement}/legs"): "plan:write",
    ("POST", "/api/v1/movements/{movement}/approve"): "plan:write",
    ("POST", "/api/v1/movements/{movement}/cancel"): "plan:write",
    ("POST", "/api/v1/movements/{movement}/manifest"): "plan:write",
    ("POST", "/api/v1/movements/{movement}/manifest/check"): "plan:read",
    ("POST", "/api/v1/movements/{movement}/unmanifest"): "plan:write",
    ("POST", "/api/v1/movements/{movement}/board"): "movement:write",
    ("POST", "/api/v1/movements/{movement}/depart"): "movement:write",
    ("POST", "/api/v1/movements/{movement}/arrive"): "movement:write",
    ("POST", "/api/v1/movements/{movement}/admit"): "admission:write",
    ("POST", "/api/v1/movements/{movement}/return"): "movement:write",
    ("POST", "/api/v1/movements/{movement}/reconcile"): "movement:write",
    ("POST", "/api/v1/officers"): "reference:write",
    ("GET", "/api/v1/officers"): "reference:read",
    ("GET", "/api/v1/officers/{officer_id}"): "reference:read",
    ("POST", "/api/v1/movements/{movement}/handovers"): "movement:write",
    ("GET", "/api/v1/handovers"): "movement:read",
    ("GET", "/api/v1/handovers/{handover_id}"): "movement:read",
    ("GET", "/api/v1/handovers/{handover_id}/document"): "movement:read",
    ("POST", "/api/v1/handovers/{handover_id}/signatures"): "movement:write",
    ("POST", "/api/v1/assessments"): "assessment:write",
    ("POST", "/api/v1/incidents"): "incident:write",
    ("GET", "/api/v1/incidents"): "incident:read",
    ("GET", "/api/v1/notifications"): "admission:read",
    ("POST", "/api/v1/persons/{person_id}/notifications"): "admission:write",
    ("GET", "/api/v1/alerts"): "incident:read",
    ("GET", "/api/v1/roll"): "report:read",
    ("GET", "/api/v1/policy/safeguards"): "safeguards:read",
    ("PUT", "/api/v1/policy/safeguards"): "safeguards:write",
    ("GET", "/api/v1/plan/parameters"): "plan:read",
    ("PUT", "/api/v1/plan/parameters"): "plan:write",
    ("GET", "/api/v1/plan"): "plan:read",
    ("GET", "/api/v1/plan.csv"): "plan:read",
    ("GET", "/api/v1/forecast"): "plan:read",
    ("POST", "/api/v1/plan/adopt"): "plan:write",
    ("GET", "/api/v1/access-log"): "access-log:read",
    ("GET", "/api/v1/repatriation/cases"): "repatriation:read",
    ("GET", "/api/v1/repatriation/cases/{case_id}"): "repatriation:read",
    ("GET", "/api/v1/repatriation/cases/{case_id}/documents"): "document:read",
    ("GET", "/api/v1/repatriation/countries"): "repatriation:read",
    ("GET", "/api/v1/repatriation/countries/{country}"): "repatriation:read",
    ("GET", "/api/v1/repatriation/countries/{country}/requests"): "repatriation:read",
    ("POST", "/api/v1/repatriation/cases"): "repatriation:write",
    ("POST", "/api/v1/repatriation/cases/{case_id}/actions"): "repatriation:write",
    ("POST", "/api/v1/repatriation/countries/{country}/requests"): "repatriation:write",
    ("POST", "/api/v1/repatriation/cases/{case_id}/schedule"): "repatriation:write",
    ("POST", "/api/v1/repatriation/cases/{case_id}/complete"): "movement:write",
    ("POST", "/api/v1/repatriation/cases/{case_id}/documents"): "document:write",
    ("GET", "/api/v1/repatriation/documents/{document_id}"): "document:read",
    ("GET", "/api/v1/report"): "report:read",
    ("GET", "/api/v1/report/releases"): "report:read",
    ("GET", "/api/v1/report/releases/{number}"): "report:read",
    ("POST", "/api/v1/report/releases"): "report:write",
    ("GET", "/api/v1/log/checkpoint"): "checkpoint:read",
    ("GET", "/api/v1/log/inclusion"): "checkpoint:read",
    ("GET", "/api/v1/log/consistency"): "checkpoint:read",
    ("GET", "/api/v1/log/receipts/{event_id}"): "checkpoint:read",
    ("GET", "/log/checkpoint"): "checkpoint:read",
    ("GET", "/log/tile/entries/{path:path}"): "log:read",
    ("GET", "/log/tile/{path:path}"): "checkpoint:read",
    ("GET", "/log/status"): "report:read",
    ("GET", "/log/identities"): "log:read",
    ("GET", "/access-log"): "access-log:read",
    ("GET", "/"): "report:read",
    ("GET", "/partials/latest-events"): "person:read",
    ("GET", "/persons/{person_id:path}"): "person:read",
    ("GET", "/movements"): "movement:read",
    ("POST", "/movements"): "plan:write",
    ("GET", "/movements/{ref}"): "movement:read",
    ("POST", "/movements/{ref}/approve"): "plan:write",
    ("POST", "/movements/{ref}/cancel"): "plan:write",
    ("POST", "/movements/{ref}/reconcile"): "movement:write",
    ("POST", "/movements/{ref}/legs"): "plan:write",
    ("GET", "/movements/{ref}/manifest"): "movement:read",
    ("GET", "/movements/{ref}/manifest/check"): "plan:read",
    ("POST", "/movements/{ref}/manifest"): "plan:write",
    ("POST", "/movements/{ref}/manifest/remove"): "plan:write",
    ("GET", "/plan"): "plan:read",
    ("GET", "/plan.json"): "plan:read",
    ("GET", "/plan.csv"): "plan:read",
    ("POST", "/plan/adopt"): "plan:write",
    ("GET", "/movements/{ref}/checklist"): "movement:read",
    ("POST", "/movements/{ref}/board"): "movement:write",
    ("POST", "/movements/{ref}/depart"): "movement:write",
    ("POST", "/movements/{ref}/arrive"): "movement:write",
    ("POST", "/movements/{ref}/return"): "movement:write",
    ("POST", "/movements/{ref}/incidents"): "incident:write",
    ("GET", "/movements/{ref}/handovers/new"): "movement:read",
    ("GET", "/movements/{ref}/handovers/people"): "movement:read",
    ("POST", "/movements/{ref}/handovers"): "movement:write",
    ("GET", "/handovers/{handover_id}"): "movement:read",
    ("POST", "/handovers/{handover_id}/sign"): "movement:write",
    ("GET", "/intake"): "admission:read",
    ("GET", "/intake/{facility_id}"): "admission:read",
    ("POST", "/intake/{facility_id}/admit"): "admission:write",
    ("POST", "/intake/{facility_id}/notify"): "admission:write",
    ("GET", "/officers"): "reference:read",
    ("POST", "/officers"): "reference:write",
    ("GET", "/repatriation"): "repatriation:read",
    ("GET", "/repatriation/{country}"): "repatriation:read",
    ("GET", "/repatriation/cases/{case_id}"): "repatriation:read",
    ("POST", "/repatriation/{country}/cases"): "repatriation:write",
    ("POST", "/repatriation/{country}/requests"): "repatriation:write",
    ("POST", "/repatriation/cases/{case_id}/act"): "repatriation:write",
    ("POST", "/repatriation/cases/{case_id}/schedule"): "repatriation:write",
    ("POST", "/repatriation/cases/{case_id}/documents"): "document:write",
    ("GET", "/report"): "report:read",
    ("GET", "/report/{number}"): "report:read",
    ("GET", "/report/{number}/report.json"): "report:read",
    ("GET", "/report/{number}/report.csv"): "report:read",
    ("GET", "/report/{number}/counts.csv"): "report:read",
    ("GET", "/report/{number}/report.pdf"): "report:read",
    ("GET", "/report/{number}/{chart}.svg"): "report:read",
    ("GET", "/signin"): "open",
    ("POST", "/signin"): "open",
    ("POST", "/signout"): "open",
    ("GET", "/account/password"): "open",
    ("POST", "/account/password"): "open",
    ("GET", "/account/second-factor"): "open",
    ("POST", "/account/second-factor"): "open",
}

# Ids for the routes' path parameters: real records of the world below where one exists, else a plausible id
# (a role that passes the gate then gets 404, which is fine: the gate is what is tested).
SCOPES = {
    Role.INTAKE_OFFICER: {"facility_id": "karkh"},
    Role.FIELD_OFFICER: {"authority_id": "us-centcom"},
    Role.DIPLOMAT: {"country": "KZ"},
}
DENIED_STATUSES = {401, 403}


@dataclass
class Site:
    client: TestClient
    tokens: dict[Role, str]
    values: dict[str, str]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    db = world_database(tmp_path_factory)
    scenario: Scenario = transfer_scenario(db)
    rt = seeded_runtime(41, SimulatedClock(T0 + timedelta(hours=6)))
    with cheap_hashing():
        users: dict[Role, User] = {
            role: make_user(db, rt, role.value, role, **SCOPES.get(role, {}))
            for role in Role
            if role is not Role.PUBLIC
        }
        tokens = {role: token_for(db, rt, user) for role, user in users.items()}
    with db.unit_of_work(read_only=True) as uow:
        events = uow.custody.chain(scenario.moved[0])
        handovers = uow.operations.handovers()
        officers = uow.operations.officers()
    values = {
        "person_id": scenario.moved[0],
        "movement": scenario.movement_codes[1],
        "ref": scenario.movement_codes[1],
        "facility_id": "karkh",
        "officer_id": officers[0].id,
        "handover_id": handovers[0].id,
        "event_id": events[-1].event.event_id,
        "case_id": "no-such-case",
        "document_id": "no-such-document",
        "country": "KZ",
        "path": "0/000.p/1",
        "number": "1",
        "chart": "cumulative",
    }
    try:
        with TestClient(create_app(db, runtime=rt)) as client:
            yield Site(client, tokens, values)
    finally:
        db.dispose()


def _url(path: str, values: dict[str, str]) -> str:
    url = path.replace("{path:path}", values["path"]).replace("{person_id:path}", values["person_id"])
    for name, value in values.items():
        url = url.replace("{" + name + "}", value)
    assert "{" not in url, f"no test value for a parameter of {path}"
    return url


def _allows(role: Role, need: str) -> bool:
    if need == "open":
        return True
    resource, action = need.split(":")
    return may(ROLE_GRANTS[role], Resource(resource), Action(action))


def test_the_table_has_every_route_and_each_route_declares_what_the_table_says(site: Site) -> None:
    app = site.client.app
    declared = {
        (method, route.path): str(gate.declared(route))
        for route in gate.routes(app)  # type: ignore[arg-type]
        for method in route.methods
        if method != "HEAD"
    }
    assert declared == ROUTES
    assert gate.undeclared_routes(app) == []  # type: ignore[arg-type]


def test_an_app_with_an_undeclared_route_refuses_to_start() -> None:
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/forgotten")
    def forgotten() -> dict[str, str]:
        return {}

    with pytest.raises(RuntimeError, match="GET /forgotten"):
        gate.enforce(app)


@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_every_route_allows_exactly_the_roles_the_table_grants(site: Site, role: Role) -> None:
    headers = {"Authorization": f"Bearer {site.tokens[role]}"} if role is not Role.PUBLIC else {}
    wrong = []
    for (method, path), need in ROUTES.items():
        url = _url(path, site.values)
        is_api = path.startswith(("/api/", "/log/"))
        body = {"json": {}} if is_api else {"data": {}}
        response = site.client.request(
            method, url, headers=headers, follow_redirects=False, **(body if method in ("POST", "PUT") else {})
        )
        status = response.status_code
        if status >= 500:
            wrong.append(f"{method} {path}: {status}")
        elif need == "open":
            continue
        elif _allows(role, need):
            gate_refusal = (
                status in DENIED_STATUSES
                and response.headers.get("content-type", "").startswith("application/problem+json")
                and response.json().get("rule") in ("sign-in-required", "permission-required", "token-required")
            )
            if status == 401 or gate_refusal or (not is_api and status == 403):
                wrong.append(f"{method} {path}: {need} is granted, got {status}")
        elif role is Role.PUBLIC:
            expected = 303 if (not is_api and method == "GET") else 401
            if status != expected or (expected == 303 and not response.headers["location"].startswith("/signin")):
                wrong.append(f"{method} {path}: public, expected {expected}, got {status}")
        elif status != 403:
            wrong.append(f"{method} {path}: {need} is not granted, expected 403, got {status}")
    assert not wrong, "\n".join(wrong)
