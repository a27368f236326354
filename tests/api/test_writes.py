"""The API's write side on both backends: accounts' tokens, people's events, and every custody rule's refusal.

The whole journey of a movement, the safeguards and the refusals of movements and handovers are in test_movements.py.

Each refusal test checks the problem document (409, the rule, the person, the state named in the detail) and that
the log did not grow: nothing is partly written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from handover import gate
from handover.api.problems import PROBLEM_BASE
from handover.app import create_app
from handover.core.custody import EventType, Rule
from handover.core.policy.access import Action, Resource, Role
from handover.services import accounts
from handover.services.person_events import PersonEventType
from handover.services.runtime import Runtime, SimulatedClock, seeded_runtime
from handover.settings import get_settings
from handover.store.uow import Database
from tests.api.support import (
    JSON,
    assert_problem,
    at,
    board_and_depart,
    chain,
    child,
    clear,
    conflict,
    event,
    hand_over,
    log_size,
    man,
    manifest,
    men,
    movement,
    ok,
    open_handover,
    refused,
    register,
    seed,
    sign_side,
    signature,
    status_of,
    travel,
    woman,
)
from tests.factories import T0
from tests.support.accounts import User, bearer, cheap_hashing, make_user, token_for
from tests.support.team import as_team

FROZEN = ("manifest-frozen", "in_progress")


@pytest.fixture
def client(world: Database) -> Iterator[TestClient]:
    with TestClient(as_team(create_app(world))) as test_client:
        yield test_client


# Access: every route needs an account with the permission it declares, except aggregates and checkpoints. The
# route-role table of every role is tests/api/test_route_roles.py; here, what a token does and does not open.


PLACEHOLDERS = {
    "{person_id}": "p-1",
    "{movement}": "M-1",
    "{handover_id}": "h-1",
    "{officer_id}": "o-1",
    "{event_id}": "e-1",
    "{number}": "1",
}
PUBLIC = frozenset({Resource.REPORT, Resource.CHECKPOINT})


def operations(app: FastAPI) -> list[tuple[str, str, bool]]:
    """(method, path with placeholders filled, public) for every operation of the JSON API."""
    found = []
    for route in gate.routes(app):
        if not route.path.startswith("/api/v1/"):
            continue
        declared = gate.declared(route)
        assert isinstance(declared, gate.Needs), route.path
        path = route.path
        for placeholder, value in PLACEHOLDERS.items():
            path = path.replace(placeholder, value)
        # Reading aggregates is public; making a report release (report:write) is not.
        public = declared.resource in PUBLIC and declared.action is Action.READ
        found += [(method.lower(), path, public) for method in route.methods]
    return found


def test_every_route_but_aggregates_and_checkpoints_needs_an_account(world: Database) -> None:
    app = create_app(world)
    found = operations(app)
    with TestClient(app) as anonymous:
        writes = [(method, path) for method, path, _public in found if method in ("post", "put", "patch", "delete")]
        assert len(writes) >= 25
        assert not any(public for method, _path, public in found if method != "get")
        for method, path, public in found:
            response = anonymous.request(method, path, json={} if method != "get" else None)
            if public:
                assert response.status_code not in (401, 403), (method, path)
                continue
            body = assert_problem(response, 401)
            assert response.headers["www-authenticate"] == "Bearer", (method, path)
            assert (body["rule"], body["type"]) == ("sign-in-required", PROBLEM_BASE + "sign-in-required")
        assert {path for method, path, public in found if public} >= {
            "/api/v1/status",
            "/api/v1/facilities",
            "/api/v1/roll",
            "/api/v1/log/checkpoint",
        }
        assert log_size(anonymous) == 0


@pytest.fixture
def rt() -> Runtime:
    return seeded_runtime(31, SimulatedClock(T0))


@pytest.fixture
def planner(world: Database, rt: Runtime) -> Iterator[User]:
    with cheap_hashing():
        yield make_user(world, rt, "planner", Role.PLANNER)


NEW_MOVEMENT = {"code": "M-1", "route_id": "ghweran-karkh", "scheduled_at": at()}


def _invalid(db: Database, rt: Runtime, planner: User, how: str) -> str:
    """A token of the planner that no longer opens anything: revoked, or expired."""
    with db.unit_of_work() as uow:
        if how == "revoked":
            token, secret = accounts.create_token(uow, rt, planner.name, "laptop")
            accounts.revoke_token(uow, rt, token.id)
        else:
            _token, secret = accounts.create_token(uow, rt, planner.name, "laptop", expires_at=T0 + timedelta(hours=1))
        uow.commit()
    return secret


@pytest.mark.parametrize("how", ["wrong", "prefixed", "basic", "empty", "non-ascii", "revoked", "expired"])
def test_a_bad_token_is_a_401_that_does_not_echo_it(world: Database, rt: Runtime, planner: User, how: str) -> None:
    valid = token_for(world, rt, planner)
    authorization = {
        "wrong": "Bearer wrong",
        "prefixed": f"Bearer {valid}x",
        "basic": f"Basic {valid}",
        "empty": "Bearer ",
        "non-ascii": "Bearer tökén".encode(),
        "revoked": f"Bearer {_invalid(world, rt, planner, 'revoked')}",
        "expired": f"Bearer {_invalid(world, rt, planner, 'expired')}",
    }[how]
    clock = SimulatedClock(T0 + timedelta(hours=2))  # the expired token's hour is over
    with TestClient(create_app(world, runtime=seeded_runtime(32, clock))) as anonymous:
        for method, path in (("post", "/api/v1/movements"), ("get", "/api/v1/movements"), ("get", "/api/v1/status")):
            response = anonymous.request(
                method, path, json=NEW_MOVEMENT if method == "post" else None, headers={"Authorization": authorization}
            )
            # A token that does not open anything is refused even where none is needed: the client should know.
            assert_problem(response, 401)
            assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
            assert valid not in response.text
            presented = authorization.split(" ", 1)[1] if isinstance(authorization, str) else "tökén"
            assert not presented or presented not in response.text
        assert log_size(anonymous) == 0


def test_a_valid_token_acts_as_its_account(world: Database, rt: Runtime, planner: User) -> None:
    token = token_for(world, rt, planner)
    with TestClient(create_app(world, runtime=rt)) as c:
        # The scheme is case-insensitive (RFC 9110).
        created = ok(c.post("/api/v1/movements", json=NEW_MOVEMENT, headers={"Authorization": f"bearer {token}"}))
        assert token not in str(created)
        assert [m["code"] for m in ok(c.get("/api/v1/movements", headers=bearer(token)), 200)] == ["M-1"]


def test_a_role_without_the_permission_is_a_403(world: Database, rt: Runtime) -> None:
    with cheap_hashing():
        diplomat = make_user(world, rt, "diplomat-fr", Role.DIPLOMAT, country="FR")
        monitor = make_user(world, rt, "monitor", Role.MONITOR)
    with TestClient(create_app(world, runtime=rt)) as c:
        for user, method, path in [
            (diplomat, "post", "/api/v1/movements"),
            (diplomat, "get", "/api/v1/movements"),
            (diplomat, "get", "/api/v1/events"),
            (monitor, "post", "/api/v1/movements"),  # a monitor reads everything and writes nothing
            (monitor, "put", "/api/v1/policy/safeguards"),
        ]:
            token = token_for(world, rt, user)
            payload = NEW_MOVEMENT if method == "post" else {"applying": []} if method == "put" else None
            response = c.request(method, path, json=payload, headers=bearer(token))
            body = assert_problem(response, 403)
            assert (body["rule"], body["type"]) == ("permission-required", PROBLEM_BASE + "permission-required")
            assert user.account.role in body["detail"]
            assert "www-authenticate" not in response.headers
            assert token not in response.text
        assert ok(c.get("/api/v1/events", headers=bearer(token_for(world, rt, monitor))), 200)["events"] == []
        assert log_size(c) == 0


def test_a_narrowed_token_opens_only_its_grants(world: Database, rt: Runtime, planner: User) -> None:
    token = token_for(world, rt, planner, ["all:plan:read", "all:movement:read"])
    with TestClient(create_app(world, runtime=rt), headers=bearer(token)) as c:
        ok(c.get("/api/v1/plan/parameters"), 200)
        assert ok(c.get("/api/v1/movements"), 200) == []
        for method, path, payload in [
            ("post", "/api/v1/movements", NEW_MOVEMENT),
            ("put", "/api/v1/plan/parameters", {}),
            ("get", "/api/v1/persons/p-1", None),
            ("get", "/api/v1/policy/safeguards", None),
        ]:
            body = assert_problem(c.request(method, path, json=payload), 403)
            assert body["rule"] == "permission-required"
    with world.unit_of_work(read_only=True) as uow:
        assert uow.custody.size() == 0 and uow.movements.by_code("M-1") is None


def test_the_old_shared_operator_token_opens_nothing(world: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANDOVER_OPERATOR_TOKEN", "from-env")
    get_settings.cache_clear()
    try:
        assert not hasattr(get_settings(), "operator_token")
        with TestClient(create_app(world)) as c:
            response = c.post("/api/v1/movements", json=NEW_MOVEMENT, headers={"Authorization": "Bearer from-env"})
            assert_problem(response, 401)
            assert "from-env" not in response.text
    finally:
        get_settings.cache_clear()


# Admission of named people only; the whole journey is in test_movements.py.


def test_admitting_named_people_only(client: TestClient) -> None:
    people = men(client, 2)
    clear(client, people)
    movement(client)
    manifest(client, "M-1", people)
    board_and_depart(client, "M-1")
    hand_over(client, "M-1", "sy-moi", "iq-moj", "ghweran")
    travel(client, "M-1")
    body = ok(client.post("/api/v1/movements/M-1/admit", json={"occurred_at": at(95), "person_ids": people[:1]}))
    assert [e["person_id"] for e in body["events"]] == people[:1]
    assert status_of(client, people[1]) == "arrived"


def test_registration_answers_events_and_never_echoes_identity(client: TestClient) -> None:
    response = client.post(
        "/api/v1/persons",
        json={
            "facility_id": "al-hol",
            "occurred_at": at(),
            "people": [woman(0, person_id="w-1"), child("w-1", 0), child("w-1", 1)],
        },
    )
    body = ok(response)
    assert [e["type"] for e in body["events"]] == ["registered"] * 3
    assert body["events"][0]["person_id"] == "w-1"
    assert {e["authority_id"] for e in body["events"]} == {"sy-moi"}  # the facility's operator by default
    assert [e["details"]["estate"] for e in body["events"]] == ["adult_women", "minors", "minors"]
    assert all(len(e["details"]["identity"]) == 64 for e in body["events"])  # a commitment, not the record
    identity = ("Fatima", "فاطمة", "Ali", "1995-05-05", "2018-03-03", "name", "birth", "nationalit", "mother")
    for identity_field in identity:
        assert identity_field not in response.text


def test_registration_with_a_named_custodian(client: TestClient) -> None:
    payload = {"facility_id": "kharab-al-jir", "custodian_id": "us-centcom", "occurred_at": at(), "people": [man()]}
    (registered,) = ok(client.post("/api/v1/persons", json=payload))["events"]
    assert (registered["facility_id"], registered["authority_id"]) == ("kharab-al-jir", "us-centcom")


def test_writes_use_the_runtime_on_app_state(world: Database) -> None:
    clock = SimulatedClock(T0 + timedelta(days=1))
    app = as_team(create_app(world, runtime=seeded_runtime(5, clock)))
    with TestClient(app) as c:
        (person,) = men(c)
        first = chain(c, person)[0]
    assert first["recorded_at"] == clock().isoformat()
    assert first["occurred_at"] == T0.isoformat()
    again = seeded_runtime(5, SimulatedClock(T0))
    assert person == again.new_id()  # the seeded runtime gave the person their id


def test_every_person_level_event(client: TestClient) -> None:
    a, b, d = men(client, 3)
    assessed = event(client, a, "assessed", kind="medical", outcome="fit to travel")
    assert assessed["details"] == {"kind": "medical", "outcome": "fit to travel"}
    assert event(client, a, "notified", channel="ICRC")["details"] == {"channel": "ICRC"}
    assert event(client, a, "hospitalised", place="Hasakah hospital")["details"] == {"place": "Hasakah hospital"}
    back = event(client, a, "arrived", facility_id="ghweran")
    assert (back["facility_id"], back["movement_id"]) == ("ghweran", None)
    admitted = event(client, a, "admitted", facility_id="ghweran")
    assert (admitted["facility_id"], admitted["authority_id"]) == ("ghweran", "sy-moi")
    event(client, a, "escaped")
    recaptured = event(client, a, "recaptured", facility_id="kharab-al-jir", authority_id="us-centcom")
    assert (recaptured["facility_id"], recaptured["authority_id"]) == ("kharab-al-jir", "us-centcom")
    assert event(client, a, "released", reason="court order")["details"] == {"reason": "court order"}
    repatriated = event(client, b, "repatriated", authority_id="iq-moj")
    assert (repatriated["authority_id"], repatriated["details"]) == ("iq-moj", {"country": "IQ"})
    event(client, d, "died")
    assert [e["type"] for e in chain(client, a)] == [
        "registered",
        "assessed",
        "notified",
        "hospitalised",
        "arrived",
        "admitted",
        "escaped",
        "recaptured",
        "released",
    ]
    statuses = {p: client.get(f"/api/v1/persons/{p}").json()["status"] for p in (a, b, d)}
    assert statuses == {a: "released", b: "repatriated", d: "dead"}


def test_person_event_types_are_event_types() -> None:
    assert {t.value for t in PersonEventType} <= {t.value for t in EventType}


def test_a_correction_voids_an_event(client: TestClient) -> None:
    (person,) = men(client)
    wrong = event(client, person, "hospitalised", place="wrong person")
    body = ok(
        client.post(
            f"/api/v1/persons/{person}/corrections",
            json={"target_event_id": wrong["event_id"], "reason": "recorded for the wrong person"},
        )
    )
    assert (body["type"], body["corrects"]) == ("corrected", wrong["event_id"])
    person_view = client.get(f"/api/v1/persons/{person}").json()
    assert (person_view["status"], person_view["facility_id"]) == ("held", "ghweran")
    assert [e.get("corrected", False) for e in person_view["chain"]] == [False, True, False]


def test_taking_someone_off_the_manifest(client: TestClient) -> None:
    people = men(client, 2)
    clear(client, people)
    movement(client)
    manifest(client, "M-1", people)
    payload = {"person_ids": people[:1], "reason": "not fit to travel", "occurred_at": at(25)}
    (removed,) = ok(client.post("/api/v1/movements/M-1/unmanifest", json=payload))["events"]
    assert (removed["type"], removed["details"]) == ("unmanifested", {"reason": "not fit to travel"})
    assert client.get(f"/api/v1/persons/{people[0]}").json()["movement_id"] is None
    board_and_depart(client, "M-1")
    assert client.get("/api/v1/status").json()["in_transit"] == 1


# One test per custody rule, through the API. `covers` records which rule each test exercises.

COVERED: set[Rule] = set()


def covers(rule: Rule) -> Callable[[Callable[..., None]], Callable[..., None]]:
    def mark(test: Callable[..., None]) -> Callable[..., None]:
        COVERED.add(rule)
        return test

    return mark


@covers(Rule.NOT_REGISTERED)
def test_refused_not_registered(client: TestClient) -> None:
    people = men(client, 1)
    movement(client)
    path = "/api/v1/movements/M-1/manifest"
    refused(client, path, {"person_ids": [*people, "ghost"], "occurred_at": at()}, Rule.NOT_REGISTERED, "ghost")
    # The registered person in the same request was not put on the manifest either.
    assert client.get(f"/api/v1/persons/{people[0]}").json()["movement_id"] is None
    # Naming an unknown person in the path is a 404.
    body = assert_problem(client.post("/api/v1/persons/ghost/events", json={"type": "died", "occurred_at": at()}), 404)
    assert (body["kind"], body["id"]) == ("person", "ghost")
    payload = {"target_event_id": "e-1", "reason": "typo"}
    assert_problem(client.post("/api/v1/persons/ghost/corrections", json=payload), 404)


@covers(Rule.ALREADY_REGISTERED)
def test_refused_already_registered(client: TestClient) -> None:
    register(client, "ghweran", [man(0, person_id="p-1")])
    payload = {"facility_id": "ghweran", "occurred_at": at(), "people": [man(1, person_id="p-1")]}
    body = refused(client, "/api/v1/persons", payload, Rule.ALREADY_REGISTERED, "p-1")
    assert body["state"] == "held at ghweran by sy-moi"


@covers(Rule.TERMINAL)
def test_refused_nothing_after_death(client: TestClient) -> None:
    (person,) = men(client)
    event(client, person, "died")
    payload = {"type": "escaped", "occurred_at": at(20)}
    body = refused(client, f"/api/v1/persons/{person}/events", payload, Rule.TERMINAL, person)
    assert body["state"] == "dead"


@covers(Rule.ESCAPED)
def test_refused_escaped_person(client: TestClient) -> None:
    (person,) = men(client)
    event(client, person, "escaped")
    payload = {"type": "released", "reason": "amnesty", "occurred_at": at(20)}
    body = refused(client, f"/api/v1/persons/{person}/events", payload, Rule.ESCAPED, person)
    assert body["state"] == "escaped from the custody of sy-moi"


@covers(Rule.RECAPTURE_ONLY_AFTER_ESCAPE)
def test_refused_recapture_of_a_person_held(client: TestClient) -> None:
    (person,) = men(client)
    payload = {"type": "recaptured", "facility_id": "ghweran", "occurred_at": at(20)}
    refused(client, f"/api/v1/persons/{person}/events", payload, Rule.RECAPTURE_ONLY_AFTER_ESCAPE, person)


@covers(Rule.NOT_HELD)
def test_refused_not_held(client: TestClient) -> None:
    (person,) = men(client)
    event(client, person, "hospitalised", place="Hasakah hospital")
    payload = {"type": "released", "reason": "court order", "occurred_at": at(20)}
    body = refused(client, f"/api/v1/persons/{person}/events", payload, Rule.NOT_HELD, person)
    assert body["state"] == "hospitalised, custodian sy-moi"


@covers(Rule.NOT_AT_ORIGIN)
def test_refused_not_at_origin(client: TestClient) -> None:
    (mother,) = register(client, "al-hol", [woman()])
    movement(client)  # ghweran -> karkh
    payload = {"person_ids": [mother], "occurred_at": at()}
    body = refused(client, "/api/v1/movements/M-1/manifest", payload, Rule.NOT_AT_ORIGIN, mother)
    assert body["state"] == "held at al-hol by sy-moi"


@covers(Rule.ALREADY_ON_MOVEMENT)
def test_refused_already_on_movement(client: TestClient) -> None:
    (person,) = men(client)
    clear(client, [person])
    first = movement(client, "M-1")
    movement(client, "M-2")
    manifest(client, "M-1", [person])
    payload = {"person_ids": [person], "occurred_at": at()}
    body = refused(client, "/api/v1/movements/M-2/manifest", payload, Rule.ALREADY_ON_MOVEMENT, person)
    assert first in body["state"]


@covers(Rule.NOT_ON_MOVEMENT)
def test_refused_not_on_movement(client: TestClient) -> None:
    a, b = men(client, 2)
    clear(client, [a, b])
    movement(client, "M-1")
    second = movement(client, "M-2")
    manifest(client, "M-2", [b])
    path = "/api/v1/movements/M-1/unmanifest"
    refused(client, path, {"person_ids": [a], "reason": "x", "occurred_at": at()}, Rule.NOT_ON_MOVEMENT, a)
    body = refused(client, path, {"person_ids": [b], "reason": "x", "occurred_at": at()}, Rule.NOT_ON_MOVEMENT, b)
    assert second in body["state"]


@covers(Rule.ON_MANIFEST)
def test_refused_on_manifest(client: TestClient) -> None:
    (person,) = men(client)
    clear(client, [person])
    movement(client)
    manifest(client, "M-1", [person])
    payload = {"type": "hospitalised", "place": "Hasakah hospital", "occurred_at": at(25)}
    body = refused(client, f"/api/v1/persons/{person}/events", payload, Rule.ON_MANIFEST, person)
    assert "on the manifest of movement" in body["state"]


@covers(Rule.NOT_IN_TRANSIT)
def test_refused_arrival_without_transit(client: TestClient) -> None:
    (person,) = men(client)
    payload = {"type": "arrived", "facility_id": "karkh", "occurred_at": at(20)}
    refused(client, f"/api/v1/persons/{person}/events", payload, Rule.NOT_IN_TRANSIT, person)


@covers(Rule.ADMISSION_WITHOUT_ARRIVAL)
def test_refused_admission_without_arrival(client: TestClient) -> None:
    (a,) = men(client, 1)
    payload = {"type": "admitted", "facility_id": "karkh", "occurred_at": at(20)}
    body = refused(client, f"/api/v1/persons/{a}/events", payload, Rule.ADMISSION_WITHOUT_ARRIVAL, a)
    assert body["state"] == "held at ghweran by sy-moi"


@covers(Rule.CUSTODIAN_MISMATCH)
def test_refused_admission_by_an_authority_without_custody(client: TestClient) -> None:
    # Nobody handed the group to iq-moj: karkh's intake cannot admit people sy-moi still holds.
    (person,) = men(client)
    clear(client, [person])
    movement(client)
    manifest(client, "M-1", [person])
    travel(client, "M-1")
    payload = {"occurred_at": at(95)}
    body = refused(client, "/api/v1/movements/M-1/admit", payload, Rule.CUSTODIAN_MISMATCH, person)
    assert body["state"] == "arrived at karkh, not yet admitted, custodian sy-moi"


def test_refused_second_handover_of_people_already_handed_over(client: TestClient) -> None:
    # A second document for people already on one still waiting for a signature is refused: two documents can
    # never both pass the same people's custody.
    (person,) = men(client)
    clear(client, [person])
    movement(client)
    manifest(client, "M-1", [person])
    board_and_depart(client, "M-1")
    first = open_handover(client, "M-1", "sy-moi", "us-centcom", "ghweran")
    sign_side(client, first, "dispatching", "sy-moi")
    before = log_size(client)
    payload = {
        "from_authority_id": "sy-moi",
        "to_authority_id": "us-centcom",
        "place_id": "ghweran",
        "occurred_at": at(41),
    }
    body = conflict(client, "/api/v1/movements/M-1/handovers", payload, "handover-already-open", "in_progress", person)
    assert first["id"] in body["detail"]
    assert log_size(client) == before


@covers(Rule.HANDOVER_TO_SELF)
def test_refused_handover_to_the_same_custodian(client: TestClient) -> None:
    # Refused when the document is drawn up, before anyone signs: the movement is named, not a person.
    (person,) = men(client)
    clear(client, [person])
    movement(client)
    manifest(client, "M-1", [person])
    payload = {"from_authority_id": "sy-moi", "to_authority_id": "sy-moi", "place_id": "ghweran", "occurred_at": at()}
    conflict(client, "/api/v1/movements/M-1/handovers", payload, Rule.HANDOVER_TO_SELF.value, "approved", "M-1")
    assert client.get("/api/v1/handovers").json() == []


@covers(Rule.ESTATE_NOT_HELD)
def test_refused_estate_not_held(client: TestClient) -> None:
    registered_before = client.get("/api/v1/status").json()["registered"]
    # A whole batch: the man first is fine, the woman cannot be held in a men's prison; neither is registered.
    people = [man(0, person_id="m-1"), woman(0, person_id="w-1")]
    payload = {"facility_id": "ghweran", "occurred_at": at(), "people": people}
    body = refused(client, "/api/v1/persons", payload, Rule.ESTATE_NOT_HELD, "w-1")
    assert body["state"] == "not registered"
    assert_problem(client.get("/api/v1/persons/m-1"), 404)
    assert client.get("/api/v1/status").json()["registered"] == registered_before
    # Nothing in the registry either: registering the man again now succeeds.
    assert register(client, "ghweran", [man(0, person_id="m-1")]) == ["m-1"]


@covers(Rule.UNKNOWN_REFERENCE)
def test_refused_unknown_mother(client: TestClient) -> None:
    payload = {"facility_id": "al-hol", "occurred_at": at(), "people": [child("nobody", person_id="kid-1")]}
    body = refused(client, "/api/v1/persons", payload, Rule.UNKNOWN_REFERENCE, "kid-1")
    assert "nobody" in body["detail"]


def correct(person: str, target: str, reason: str = "entered in error") -> tuple[str, dict[str, str]]:
    return f"/api/v1/persons/{person}/corrections", {"target_event_id": target, "reason": reason}


@covers(Rule.CORRECTION_TARGET_UNKNOWN)
def test_refused_correction_of_another_persons_event(client: TestClient) -> None:
    a, b = men(client, 2)
    others = chain(client, b)[0]["event_id"]
    refused(client, *correct(a, others), Rule.CORRECTION_TARGET_UNKNOWN, a)
    refused(client, *correct(a, "no-such-event"), Rule.CORRECTION_TARGET_UNKNOWN, a)


@covers(Rule.CORRECTION_NOT_CORRECTABLE)
def test_refused_correction_of_a_registration(client: TestClient) -> None:
    (person,) = men(client)
    registration = chain(client, person)[0]["event_id"]
    refused(client, *correct(person, registration), Rule.CORRECTION_NOT_CORRECTABLE, person)


@covers(Rule.CORRECTION_ALREADY_CORRECTED)
def test_refused_second_correction_of_one_event(client: TestClient) -> None:
    (person,) = men(client)
    assessed = event(client, person, "assessed", kind="medical", outcome="unfit")
    path, payload = correct(person, assessed["event_id"])
    ok(client.post(path, json=payload))
    refused(client, *correct(person, assessed["event_id"]), Rule.CORRECTION_ALREADY_CORRECTED, person)


@covers(Rule.CORRECTION_BREAKS_CHAIN)
def test_refused_correction_that_breaks_the_chain(client: TestClient) -> None:
    (person,) = men(client)
    escaped = event(client, person, "escaped")
    event(client, person, "recaptured", facility_id="ghweran")
    # Without the escape, the recapture would have no escape before it.
    refused(client, *correct(person, escaped["event_id"]), Rule.CORRECTION_BREAKS_CHAIN, person)


@covers(Rule.DUPLICATE_PERSON)
def test_refused_the_same_person_twice(client: TestClient) -> None:
    a, b = men(client, 2)
    movement(client)
    path = "/api/v1/movements/M-1/manifest"
    refused(client, path, {"person_ids": [a, b, a], "occurred_at": at()}, Rule.DUPLICATE_PERSON, a)
    twice = [man(0, person_id="p-9"), man(1, person_id="p-9")]
    payload = {"facility_id": "ghweran", "occurred_at": at(), "people": twice}
    refused(client, "/api/v1/persons", payload, Rule.DUPLICATE_PERSON, "p-9")


@covers(Rule.REASON_REQUIRED)
def test_refused_correction_without_a_reason(client: TestClient) -> None:
    (person,) = men(client)
    assessed = event(client, person, "assessed", kind="medical", outcome="unfit")
    for blank in ("", "   "):
        refused(client, *correct(person, assessed["event_id"], blank), Rule.REASON_REQUIRED, person)


def test_every_rule_has_an_api_refusal_test() -> None:
    assert set(Rule) - COVERED == set()


# Conflicts with a movement's state: 409 naming the movement, the rule and its state; nothing written.


def test_a_departed_movements_manifest_is_frozen(client: TestClient) -> None:
    a, b = men(client, 2)
    clear(client, [a, b])
    movement(client)
    manifest(client, "M-1", [a])
    board_and_depart(client, "M-1")
    conflict(client, "/api/v1/movements/M-1/manifest", {"person_ids": [b], "occurred_at": at()}, *FROZEN)
    removal = {"person_ids": [a], "reason": "x", "occurred_at": at()}
    conflict(client, "/api/v1/movements/M-1/unmanifest", removal, *FROZEN)


def test_movement_state_transitions(client: TestClient) -> None:
    (person,) = men(client)
    clear(client, [person])
    movement(client, approve=False)
    manifest(client, "M-1", [person])
    board_payload = {"person_ids": [person], "occurred_at": at()}
    body = conflict(client, "/api/v1/movements/M-1/board", board_payload, "movement-state", "draft", "M-1")
    assert "draft" in body["detail"]
    conflict(client, "/api/v1/movements/M-1/depart", {"occurred_at": at()}, "movement-state", "draft", "M-1")
    conflict(client, "/api/v1/movements/M-1/arrive", {"occurred_at": at()}, "leg-not-departed", "draft", "M-1")
    ok(client.post("/api/v1/movements/M-1/approve"), 200)
    conflict(client, "/api/v1/movements/M-1/approve", None, "movement-state", "approved", "M-1")
    board_and_depart(client, "M-1")
    again = {"occurred_at": at()}
    conflict(client, "/api/v1/movements/M-1/depart", again, "previous-leg-en-route", "in_progress", "M-1")
    conflict(client, "/api/v1/movements/M-1/depart", again | {"leg": 1}, "leg-departed", "in_progress", "M-1")
    conflict(client, "/api/v1/movements/M-1/cancel", {"reason": "x", "occurred_at": at()}, "movement-state")


def test_a_refused_state_change_is_rolled_back(client: TestClient) -> None:
    movement(client)  # approved, nobody on it
    body = conflict(client, "/api/v1/movements/M-1/depart", {"occurred_at": at()}, "nobody-eligible", "approved")
    assert body["subject"] == "M-1"
    # depart moved the movement to in_progress before finding nobody: that change was rolled back too.
    assert [m["state"] for m in client.get("/api/v1/movements").json()] == ["approved"]


def test_a_movement_code_is_taken_once(client: TestClient) -> None:
    movement(client)
    payload = {"code": "M-1", "route_id": "al-hol-jeddah", "scheduled_at": at()}
    conflict(client, "/api/v1/movements", payload, "movement-code-taken", "exists")
    assert len(client.get("/api/v1/movements").json()) == 1


# Unknown things are 404; malformed requests are 422 (shape) or 400 (a rule of the request itself).


@pytest.mark.parametrize(
    ("path", "payload", "kind"),
    [
        ("/api/v1/persons", {"facility_id": "atlantis", "occurred_at": at(), "people": [man()]}, "facility"),
        (
            "/api/v1/persons",
            {"facility_id": "ghweran", "custodian_id": "nobody", "occurred_at": at(), "people": [man()]},
            "authority",
        ),
        ("/api/v1/movements", {"code": "M-9", "route_id": "no-such-route", "scheduled_at": at()}, "route"),
        ("/api/v1/movements/M-404/approve", None, "movement"),
        ("/api/v1/movements/M-404/manifest", {"person_ids": ["p"], "occurred_at": at()}, "movement"),
        ("/api/v1/movements/M-404/depart", {"occurred_at": at()}, "movement"),
        ("/api/v1/movements/M-404/arrive", {"occurred_at": at()}, "movement"),
        ("/api/v1/movements/M-404/admit", {"occurred_at": at()}, "movement"),
        ("/api/v1/movements/M-404/unmanifest", {"person_ids": ["p"], "reason": "x", "occurred_at": at()}, "movement"),
        ("/api/v1/movements/M-404/cancel", {"reason": "x", "occurred_at": at()}, "movement"),
        ("/api/v1/movements/M-404/board", {"person_ids": ["p"], "occurred_at": at()}, "movement"),
        ("/api/v1/movements/M-404/return", {"person_ids": ["p"], "occurred_at": at()}, "movement"),
        ("/api/v1/movements/M-404/reconcile", None, "movement"),
        ("/api/v1/movements/M-404/manifest/check", {"person_ids": ["p"]}, "movement"),
        (
            "/api/v1/movements/M-404/handovers",
            {"place_id": "ghweran", "from_authority_id": "sy-moi", "to_authority_id": "iq-moj", "occurred_at": at()},
            "movement",
        ),
        ("/api/v1/handovers/h-404/signatures", {"officer_id": "o", "side": "receiving", "signature": ""}, "handover"),
        ("/api/v1/incidents", {"kind": "escape", "occurred_at": at(), "description": "x", "people": ["p"]}, "person"),
        (
            "/api/v1/assessments",
            {"person_ids": ["p"], "kind": "fit_to_travel", "outcome": "fit", "occurred_at": at()},
            "person",
        ),
        ("/api/v1/persons/p-404/notifications", {"channel": "ICRC", "occurred_at": at()}, "person"),
        ("/api/v1/officers", {"name": "A", "authority_id": "nobody", "public_key": ""}, "authority"),
    ],
)
def test_unknown_things_are_404(client: TestClient, path: str, payload: dict[str, Any] | None, kind: str) -> None:
    response = client.post(path, json=payload)
    if kind == "person" and response.status_code == 409:
        # Group actions name an unregistered person by the custody rule, like manifests do.
        assert response.json()["rule"] == Rule.NOT_REGISTERED.value
        assert log_size(client) == 0
        return
    body = assert_problem(response, 404)
    assert body["kind"] == kind
    assert body["id"] in body["detail"]
    assert log_size(client) == 0 and client.get("/api/v1/movements").json() == []


def test_unknown_references_in_events_and_handovers_are_404(client: TestClient) -> None:
    (person,) = men(client)
    clear(client, [person])
    movement(client)
    manifest(client, "M-1", [person])
    before = log_size(client)
    path = f"/api/v1/persons/{person}/events"
    for payload, kind in [
        ({"type": "recaptured", "facility_id": "atlantis"}, "facility"),
        ({"type": "repatriated", "authority_id": "nobody"}, "authority"),
        ({"type": "admitted", "facility_id": "karkh", "authority_id": "nobody"}, "authority"),
    ]:
        assert assert_problem(client.post(path, json=payload | {"occurred_at": at()}), 404)["kind"] == kind
    handover = {"from_authority_id": "sy-moi", "occurred_at": at()}
    for extra, kind in [
        ({"to_authority_id": "nobody", "place_id": "ghweran"}, "authority"),
        ({"to_authority_id": "iq-moj", "place_id": "x"}, "facility"),
    ]:
        body = assert_problem(client.post("/api/v1/movements/M-1/handovers", json=handover | extra), 404)
        assert body["kind"] == kind
    opened = open_handover(client, "M-1", "sy-moi", "iq-moj", "ghweran")
    payload = {"officer_id": "nobody", "side": "dispatching", "signature": signature(seed("sy-moi"), "x")}
    body = assert_problem(client.post(f"/api/v1/handovers/{opened['id']}/signatures", json=payload), 404)
    assert (body["kind"], body["id"]) == ("officer", "nobody")
    assert_problem(client.get("/api/v1/handovers/h-404"), 404)
    assert_problem(client.get("/api/v1/officers/o-404"), 404)
    assert_problem(client.get("/api/v1/movements/M-404"), 404)
    assert_problem(client.get("/api/v1/movements/M-404/legs"), 404)
    assert_problem(client.get("/api/v1/movements/M-404/report"), 404)
    assert log_size(client) == before


NAIVE = datetime(2026, 1, 21, 6, 0).isoformat()


@pytest.mark.parametrize(
    ("path", "payload", "field"),
    [
        ("/api/v1/persons", {"facility_id": "ghweran", "occurred_at": NAIVE, "people": [man()]}, "occurred_at"),
        ("/api/v1/persons/p-1/events", {"type": "died", "occurred_at": NAIVE}, "occurred_at"),
        ("/api/v1/movements", {"code": "M-1", "route_id": "ghweran-karkh", "scheduled_at": NAIVE}, "scheduled_at"),
        ("/api/v1/movements/M-1/manifest", {"person_ids": ["p-1"], "occurred_at": NAIVE}, "occurred_at"),
        ("/api/v1/movements/M-1/depart", {"occurred_at": NAIVE}, "occurred_at"),
        (
            "/api/v1/movements/M-1/handovers",
            {"from_authority_id": "a", "to_authority_id": "b", "place_id": "p", "occurred_at": NAIVE},
            "occurred_at",
        ),
        ("/api/v1/movements/M-1/board", {"person_ids": ["p-1"], "occurred_at": NAIVE}, "occurred_at"),
        ("/api/v1/movements/M-1/cancel", {"reason": "x", "occurred_at": NAIVE}, "occurred_at"),
        ("/api/v1/movements/M-1/return", {"person_ids": ["p-1"], "occurred_at": NAIVE}, "occurred_at"),
        ("/api/v1/incidents", {"kind": "escape", "description": "x", "occurred_at": NAIVE}, "occurred_at"),
        (
            "/api/v1/assessments",
            {"person_ids": ["p-1"], "kind": "fit_to_travel", "outcome": "fit", "occurred_at": NAIVE},
            "occurred_at",
        ),
        ("/api/v1/persons/p-1/notifications", {"channel": "ICRC", "occurred_at": NAIVE}, "occurred_at"),
        ("/api/v1/movements/M-1/arrive", {"occurred_at": NAIVE}, "occurred_at"),
        ("/api/v1/movements/M-1/admit", {"occurred_at": NAIVE}, "occurred_at"),
    ],
)
def test_naive_datetimes_are_422(client: TestClient, path: str, payload: dict[str, Any], field: str) -> None:
    body = assert_problem(client.post(path, json=payload), 422)
    assert ["body", field] in [e["loc"] for e in body["errors"]]
    assert any(e["type"] == "timezone_aware" for e in body["errors"])


@pytest.mark.parametrize(
    ("payload", "location"),
    [
        ({"facility_id": "ghweran", "occurred_at": at()}, ["body", "people"]),
        ({"facility_id": "ghweran", "occurred_at": at(), "people": []}, ["body", "people"]),
        ({"facility_id": "ghweran", "occurred_at": at(), "people": [{"name_ar": "x", "sex": "male"}]}, None),
        ({"facility_id": "ghweran", "occurred_at": at(), "people": [man(sex="other")]}, None),
        ({"facility_id": "ghweran", "occurred_at": at(), "people": [man(nationalities=["Iraq"])]}, None),
        ({"facility_id": "ghweran", "occurred_at": at(), "people": [man(birth_date="01/01/1990")]}, None),
        ({"facility_id": "ghweran", "occurred_at": at(), "people": [man(nickname="x")]}, None),
        ({"facility_id": "g" * 65, "occurred_at": at(), "people": [man()]}, ["body", "facility_id"]),
        ({"facility_id": "ghweran", "occurred_at": at(), "people": [man(name_latin="a\x00b")]}, None),
    ],
)
def test_malformed_registrations_are_422_and_do_not_echo_identity(
    client: TestClient, payload: dict[str, Any], location: list[str] | None
) -> None:
    response = client.post("/api/v1/persons", json=payload)
    body = assert_problem(response, 422)
    if location is not None:
        assert location in [e["loc"] for e in body["errors"]]
    assert "Mohammed" not in response.text and "محمد" not in response.text
    assert log_size(client) == 0


@pytest.mark.parametrize(
    ("payload", "status", "words"),
    [
        ({"type": "recaptured"}, 400, "facility_id"),
        ({"type": "assessed", "kind": "medical"}, 400, "outcome"),
        ({"type": "released", "reason": "  "}, 400, "reason"),
        ({"type": "died", "reason": "natural causes"}, 400, "reason"),
        ({"type": "escaped", "facility_id": "ghweran"}, 400, "facility_id"),
        ({"type": "manifested"}, 422, "type"),
        ({"type": "corrected"}, 422, "type"),
        ({"type": "died", "occurred_at": None}, 422, "occurred_at"),
        ({"type": "died", "when": "now"}, 422, "when"),
    ],
)
def test_malformed_person_events(client: TestClient, payload: dict[str, Any], status: int, words: str) -> None:
    (person,) = men(client)
    before = log_size(client)
    body = assert_problem(client.post(f"/api/v1/persons/{person}/events", json={"occurred_at": at()} | payload), status)
    assert words in body["detail"]
    assert log_size(client) == before


def test_other_bad_requests(client: TestClient) -> None:
    (person,) = men(client)
    clear(client, [person])
    movement(client)
    manifest(client, "M-1", [person])
    removal = {"person_ids": [person], "reason": " ", "occurred_at": at()}
    assert "reason" in assert_problem(client.post("/api/v1/movements/M-1/unmanifest", json=removal), 400)["detail"]
    # Registering someone whose age is not even estimated: the estate cannot be chosen.
    no_age = {"facility_id": "ghweran", "occurred_at": at(), "people": [man(birth_date=None)]}
    assert_problem(client.post("/api/v1/persons", json=no_age), 400)
    assert_problem(client.post("/api/v1/movements/M-1/manifest", json={"person_ids": [], "occurred_at": at()}), 422)
    assert_problem(client.post("/api/v1/movements/M-1/depart", json={}), 422)
    assert_problem(client.post("/api/v1/movements/M-1/depart", content=b"{not json", headers=JSON), 422)
    assert log_size(client) == 1 + 2 + 1
