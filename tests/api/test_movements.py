"""Movements through the HTTP API on both backends: a whole journey with signed handovers, and every refusal.

The journey uses nothing but the API once the reference data is there: people are registered, assessed, put on a
manifest, boarded and moved leg by leg, handed over by documents both officers sign with their own Ed25519 keys (here,
in the test, as they would on their own devices), admitted, and the movement is reconciled. Each refusal test checks
the problem document (409 with the rule, the person or movement named, the state) and that nothing was written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from handover.api.problems import PROBLEM_BASE
from handover.app import create_app
from handover.core.custody import Capacity, Facility, Rule
from handover.core.custody.handover import public_key_of
from handover.core.custody.model import FacilityKind, TransportMode
from handover.core.custody.movements import Route
from handover.core.policy.access import Role
from handover.core.policy.permissions import Actor, Permission
from handover.core.policy.safeguards import Safeguard
from handover.services import transfers
from handover.services.access import ForbiddenError
from handover.services.errors import ConflictError
from handover.services.ports import StoredEvent, UnitOfWork
from handover.services.reference import add_reference_data
from handover.services.registry import NewPerson, register_people
from handover.services.runtime import Runtime, SimulatedClock, seeded_runtime
from handover.settings import get_settings
from handover.store.uow import Database
from tests.api.support import (
    assert_problem,
    at,
    board,
    board_and_depart,
    chain,
    child,
    clear,
    conflict,
    depart,
    hand_over,
    log_size,
    manifest,
    men,
    movement,
    officer,
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
from tests.factories import man as identity
from tests.support.accounts import bearer, cheap_hashing, make_user, token_for
from tests.support.team import TEAM, TEAM_ID, as_team

RABIA = Facility("rabia", "Rabia crossing", "IQ", FacilityKind.BORDER_CROSSING, 36.80, 42.10, "iq-moj", 2, Capacity())
BY_ROAD = Route(
    "ghweran-karkh-road", "ghweran", "karkh", ("kharab-al-jir", "rabia"), TransportMode.ROAD_CONVOY, "sy-moi", 900, 40
)
# Only to show that admission checks the estate: a route from the family camp to a men's prison.
AL_HOL_KARKH = Route("al-hol-karkh", "al-hol", "karkh", (), TransportMode.ROAD_CONVOY, "us-centcom", 800, 40)
PLANNER = Actor("planner-1", "A planner", frozenset({Permission.PLAN_MOVEMENTS, Permission.RUN_MOVEMENTS}))


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(T0 + timedelta(hours=4))


@pytest.fixture
def roads(world: Database) -> Database:
    with world.unit_of_work() as uow:
        add_reference_data(uow, [], [RABIA], [BY_ROAD, AL_HOL_KARKH])
        uow.commit()
    return world


@pytest.fixture
def client(roads: Database, clock: SimulatedClock) -> Iterator[TestClient]:
    app = as_team(create_app(roads, runtime=seeded_runtime(7, clock)))
    with TestClient(app) as test_client:
        yield test_client


def leg(from_: str, to: str, mode: str, escort: str, seats: int, start: int, **extra: Any) -> dict[str, Any]:
    return {
        "from_id": from_,
        "to_id": to,
        "mode": mode,
        "escort_id": escort,
        "vehicles": [{"call_sign": f"{mode}-{start}", "seats": seats}],
        "scheduled_departure": at(start),
        "scheduled_arrival": at(start + 60),
    } | extra


# The whole journey.


def test_a_group_from_ghweran_to_karkh_by_road_with_a_signed_handover_at_the_border(
    client: TestClient, clock: SimulatedClock
) -> None:
    people = men(client, 6)
    created = ok(client.post("/api/v1/movements", json={"code": "C-1", "route_id": BY_ROAD.id, "scheduled_at": at(60)}))
    assert (created["state"], created["origin"], created["destination"]) == ("draft", "ghweran", "karkh")
    assert [(x["from_id"], x["to_id"]) for x in created["legs"]] == [
        ("ghweran", "kharab-al-jir"),
        ("kharab-al-jir", "rabia"),
        ("rabia", "karkh"),
    ]

    # Planned legs: the Syrian escort to the staging base, the coalition to the border (overnight there), Iraq on.
    plans = [
        leg("ghweran", "kharab-al-jir", "road_convoy", "sy-moi", 8, 60),
        leg("kharab-al-jir", "rabia", "road_convoy", "us-centcom", 8, 180, lodging=True),
        leg("rabia", "karkh", "road_convoy", "iq-moj", 6, 24 * 60),
    ]
    legs = ok(client.put("/api/v1/movements/C-1/legs", json={"legs": plans}), 200)
    assert [(x["number"], x["escort_id"], x["seats"], x["lodging"]) for x in legs] == [
        (1, "sy-moi", 8, False),
        (2, "us-centcom", 8, True),
        (3, "iq-moj", 6, False),
    ]

    # The dry run names every safeguard not met; nothing is written.
    before = log_size(client)
    check = ok(client.post("/api/v1/movements/C-1/manifest/check", json={"person_ids": people}), 200)
    assert check["ok"] is False
    assert {(b["person_id"], b["safeguard"]) for b in check["breaches"]} == {
        (p, s) for p in people for s in ("fit-to-travel", "legal-review")
    }
    assert log_size(client) == before
    clear(client, people)
    assert ok(client.post("/api/v1/movements/C-1/manifest/check", json={"person_ids": people}), 200) == {
        "movement": "C-1",
        "ok": True,
        "breaches": [],
    }
    manifested = manifest(client, "C-1", people)
    assert {e["type"] for e in manifested} == {"manifested"}
    assert "override" not in manifested[0]["details"]
    assert ok(client.post("/api/v1/movements/C-1/approve"), 200)["state"] == "approved"

    # Leg 1: everyone boards and leaves Ghweran; the manifest freezes.
    boarded = board(client, "C-1", people[:4])
    assert (boarded["leg"]["number"], boarded["leg"]["boarded"], boarded["events"]) == (1, 4, [])
    board(client, "C-1", people[4:])
    left = depart(client, "C-1", 60)
    assert (left["movement"]["state"], left["leg"]["number"], left["leg"]["state"]) == ("in_progress", 1, "departed")
    assert sorted(e["person_id"] for e in left["events"]) == sorted(people)
    assert {e["type"] for e in left["events"]} == {"departed"}
    at_staging = ok(client.post("/api/v1/movements/C-1/arrive", json={"occurred_at": at(120)}))
    assert (at_staging["leg"]["number"], at_staging["leg"]["state"], at_staging["events"]) == (1, "arrived", [])

    # At the staging base the Syrian escort hands the group to the coalition.
    staging = hand_over(client, "C-1", "sy-moi", "us-centcom", "kharab-al-jir", 150, leg=1)
    assert staging["handover"]["state"] == "complete"
    assert {e["authority_id"] for e in staging["events"]} == {"us-centcom"}

    # One person is taken to hospital from the staging base.
    hospitalised = people[5]
    report = {
        "kind": "hospitalisation",
        "occurred_at": at(160),
        "description": "chest pains; taken to Hasakah hospital",
        "people": [hospitalised],
        "movement": "C-1",
    }
    incident = ok(client.post("/api/v1/incidents", json=report))
    assert incident["incident"]["kind"] == "hospitalisation"
    assert [(e["person_id"], e["type"]) for e in incident["events"]] == [(hospitalised, "hospitalised")]
    assert "chest" not in str(incident["events"])  # the description stays out of the log

    # Leg 2 to the border: only the five still with the group are due; the one in hospital cannot board.
    conflict(
        client,
        "/api/v1/movements/C-1/board",
        {"person_ids": [hospitalised], "occurred_at": at(180)},
        "not-on-manifest",
        subject=hospitalised,
    )
    board_and_depart(client, "C-1", 180)
    ok(client.post("/api/v1/movements/C-1/arrive", json={"occurred_at": at(300)}))

    # Overnight at Rabia, one escapes.
    escaped = people[4]
    report = {
        "kind": "escape",
        "occurred_at": at(600),
        "description": "missing at the dawn count",
        "people": [escaped],
        "movement": "C-1",
    }
    ok(client.post("/api/v1/incidents", json=report))

    # The handover at the border: the receiving officer notes an injury; both sign over the exact document.
    opened = open_handover(
        client,
        "C-1",
        "us-centcom",
        "iq-moj",
        "rabia",
        24 * 60 - 30,
        leg=2,
        injuries=[{"person_id": people[0], "note": "bruised wrist"}],
    )
    assert opened["state"] == "open"
    assert opened["people"] == sorted(people[:4])
    assert opened["counts"] == {"handed_over": 4, "missing": 0, "extra": 0, "injury": 1}
    assert opened["discrepancies"] == [{"person_id": people[0], "kind": "injury", "note": "bruised wrist"}]
    assert opened["sha256"] == hashlib.sha256(opened["document"].encode()).hexdigest()
    raw = client.get(f"/api/v1/handovers/{opened['id']}/document")
    assert raw.content == opened["document"].encode()
    assert raw.headers["x-content-sha256"] == opened["sha256"]
    assert [h["id"] for h in ok(client.get("/api/v1/handovers"), 200)] == [opened["id"]]

    half = sign_side(client, opened, "dispatching", "us-centcom")
    assert (half["handover"]["state"], half["events"]) == ("open", [])
    assert half["handover"]["dispatching"]["officer_id"] == officer(client, "us-centcom")
    assert half["handover"]["receiving"] is None
    alerts = ok(client.get("/api/v1/alerts"), 200)
    assert {a["kind"] for a in alerts} == {"escape", "handover_open"}
    assert any(a["subject"] == opened["id"] for a in alerts)
    # Custody has not passed on one signature.
    assert client.get(f"/api/v1/persons/{people[0]}").json()["custodian_id"] == "us-centcom"

    done = sign_side(client, opened, "receiving", "iq-moj")
    assert done["handover"]["state"] == "complete" and done["handover"]["completed_at"]
    assert sorted(e["person_id"] for e in done["events"]) == sorted(people[:4])
    for e in done["events"]:
        assert e["type"] == "handed_over" and e["authority_id"] == "iq-moj" and e["facility_id"] == "rabia"
        assert e["details"] == {"from_authority": "us-centcom", "handover": opened["id"], "document": opened["sha256"]}
    assert ok(client.get("/api/v1/handovers"), 200) == []
    assert {a["kind"] for a in ok(client.get("/api/v1/alerts"), 200)} == {"escape"}

    # Leg 3 to Karkh: arrival at the destination, admission by Iraq's intake.
    board_and_depart(client, "C-1", 24 * 60)
    arrived = ok(client.post("/api/v1/movements/C-1/arrive", json={"occurred_at": at(25 * 60)}))
    assert arrived["movement"]["state"] == "arrived"
    assert sorted(e["person_id"] for e in arrived["events"]) == sorted(people[:4])
    admitted = ok(client.post("/api/v1/movements/C-1/admit", json={"occurred_at": at(25 * 60 + 30)}))
    assert {(e["type"], e["facility_id"], e["authority_id"]) for e in admitted["events"]} == {
        ("admitted", "karkh", "iq-moj")
    }

    # Reconciled: every manifest line has exactly one outcome.
    closed = ok(client.post("/api/v1/movements/C-1/reconcile"), 200)
    assert closed["movement"] == {"id": created["id"], "code": "C-1", "state": "reconciled"}
    assert (closed["manifest"], closed["departed"], closed["accounted"], closed["unaccounted"]) == (6, 6, 6, [])
    assert closed["outcomes"] == {"admitted": 4, "escaped": 1, "hospitalised": 1}
    assert [(x["number"], x["from"], x["to"], x["boarded"], x["accounted"]) for x in closed["legs"]] == [
        (1, "ghweran", "kharab-al-jir", 6, 6),
        (2, "kharab-al-jir", "rabia", 5, 5),
        (3, "rabia", "karkh", 4, 4),
    ]
    assert closed["legs"][0]["outcomes"] == {"admitted": 4, "escaped": 1, "hospitalised": 1}
    assert closed["open_handovers"] == [] and closed["overrides"] == []
    assert sorted(i["kind"] for i in closed["incidents"]) == ["escape", "hospitalisation"]
    listed = ok(client.get("/api/v1/incidents", params={"movement": "C-1"}), 200)
    assert [(i["kind"], i["people"], i["movement_id"]) for i in listed] == [
        ("escape", [escaped], created["id"]),
        ("hospitalisation", [hospitalised], created["id"]),
    ]
    assert listed[0]["description"] == "missing at the dawn count" and listed[0]["recorded_by"] == TEAM_ID
    assert ok(client.get("/api/v1/movements/C-1/report"), 200) == closed

    detail = ok(client.get("/api/v1/movements/C-1"), 200)
    assert detail["state"] == "reconciled" and detail["people"] == []
    assert [x["state"] for x in detail["legs"]] == ["arrived"] * 3
    status = client.get("/api/v1/status").json()
    karkh = next(f for f in status["facilities"] if f["id"] == "karkh")
    assert (karkh["held"]["adult_men"], karkh["received"]) == (4, 4)
    assert status["by_status"] == {"held": 4, "hospitalised": 1, "escaped": 1}
    assert [e["type"] for e in chain(client, people[0])] == [
        "registered",
        "assessed",
        "assessed",
        "manifested",
        "departed",
        "handed_over",
        "handed_over",
        "arrived",
        "admitted",
    ]

    # Admission opened family-notification tasks (Mandela rule 68); they become overdue after the configured hours.
    clock.set(T0 + timedelta(hours=26))
    tasks = ok(client.get("/api/v1/notifications"), 200)
    assert sorted(t["person_id"] for t in tasks) == sorted(people[:4])
    assert not any(t["overdue"] for t in tasks)
    notified = ok(
        client.post(f"/api/v1/persons/{people[0]}/notifications", json={"channel": "ICRC", "occurred_at": at(26 * 60)})
    )
    assert (notified["type"], notified["details"]) == ("notified", {"channel": "ICRC"})
    clock.set(T0 + timedelta(hours=60))
    tasks = ok(client.get("/api/v1/notifications"), 200)
    assert sorted(t["person_id"] for t in tasks) == sorted(people[1:4])
    assert all(t["overdue"] for t in tasks)
    assert ok(client.get("/api/v1/notifications", params={"hours": 48}), 200)[0]["overdue"] is False
    assert "notification_overdue" in {a["kind"] for a in ok(client.get("/api/v1/alerts"), 200)}

    # The daily roll: six out of Ghweran on the first day, four into Karkh on the second.
    first = ok(client.get("/api/v1/roll", params={"day": T0.date().isoformat()}), 200)
    assert first["day"] == T0.date().isoformat()
    ghweran = next(f for f in first["facilities"] if f["facility_id"] == "ghweran")
    assert (ghweran["out"], ghweran["held"], ghweran["capacity"], ghweran["free"]) == (6, 0, 100, 100)
    second = ok(client.get("/api/v1/roll", params={"day": (T0 + timedelta(days=1)).date().isoformat()}), 200)
    karkh_roll = next(f for f in second["facilities"] if f["facility_id"] == "karkh")
    assert (karkh_roll["in"], karkh_roll["held"], karkh_roll["free"]) == (4, 4, 56)
    today = ok(client.get("/api/v1/roll"), 200)
    assert today["day"] == (T0 + timedelta(hours=60)).date().isoformat()


def test_a_movement_cancelled_before_it_leaves(client: TestClient) -> None:
    people = men(client, 2)
    clear(client, people)
    movement(client)
    manifest(client, "M-1", people)
    for blank in ("", "  \n"):
        assert_problem(client.post("/api/v1/movements/M-1/cancel", json={"reason": blank, "occurred_at": at()}), 422)
    body = ok(client.post("/api/v1/movements/M-1/cancel", json={"reason": "weather", "occurred_at": at(40)}), 200)
    assert body["movement"]["state"] == "cancelled"
    assert {(e["type"], e["details"]["reason"]) for e in body["events"]} == {("unmanifested", "weather")}
    assert all(client.get(f"/api/v1/persons/{p}").json()["movement_id"] is None for p in people)
    conflict(client, "/api/v1/movements/M-1/approve", None, "movement-state", "cancelled", "M-1")


def test_people_returned_to_their_origin_are_accounted_for(client: TestClient) -> None:
    people = men(client, 2)
    clear(client, people)
    movement(client)
    manifest(client, "M-1", people)
    board_and_depart(client, "M-1")
    back = ok(client.post("/api/v1/movements/M-1/return", json={"person_ids": people[:1], "occurred_at": at(50)}))
    assert [e["type"] for e in back["events"]] == ["arrived", "admitted"]
    assert client.get(f"/api/v1/persons/{people[0]}").json()["facility_id"] == "ghweran"
    hand_over(client, "M-1", "sy-moi", "iq-moj", "ghweran", 55)
    travel(client, "M-1")
    ok(client.post("/api/v1/movements/M-1/admit", json={"occurred_at": at(100)}))
    closed = ok(client.post("/api/v1/movements/M-1/reconcile"), 200)
    assert closed["outcomes"] == {"admitted": 1, "returned": 1}


def test_the_safeguard_policy(client: TestClient) -> None:
    policy = ok(client.get("/api/v1/policy/safeguards"), 200)
    assert policy["applying"] == policy["available"] == sorted(s.value for s in Safeguard)
    changed = ok(client.put("/api/v1/policy/safeguards", json={"applying": ["seats", "destination-capacity"]}), 200)
    assert changed["applying"] == ["destination-capacity", "seats"]
    # Without the fit-to-travel and legal-review safeguards, unassessed people may be manifested.
    (person,) = men(client)
    movement(client)
    manifest(client, "M-1", [person])
    assert_problem(client.put("/api/v1/policy/safeguards", json={"applying": ["no-such"]}), 422)


# Refusals of the manifest by the safeguards: 409 naming the person and the safeguard; nothing written.


def test_refused_fit_to_travel(client: TestClient) -> None:
    a, b = men(client, 2)
    clear(client, [a])
    ok(
        client.post(
            "/api/v1/assessments",
            json={"person_ids": [b], "kind": "legal_review", "outcome": "cleared", "occurred_at": at()},
        )
    )
    movement(client)
    body = conflict(
        client,
        "/api/v1/movements/M-1/manifest",
        {"person_ids": [a, b], "occurred_at": at()},
        "fit-to-travel",
        "approved",
        b,
    )
    assert "no fit-to-travel assessment" in body["detail"]
    assert client.get(f"/api/v1/persons/{a}").json()["movement_id"] is None  # all of them or none
    ok(
        client.post(
            "/api/v1/assessments",
            json={"person_ids": [b], "kind": "fit_to_travel", "outcome": "unfit", "occurred_at": at()},
        )
    )
    body = conflict(
        client, "/api/v1/movements/M-1/manifest", {"person_ids": [b], "occurred_at": at()}, "fit-to-travel", subject=b
    )
    assert "unfit" in body["detail"]


def test_refused_legal_review(client: TestClient) -> None:
    (person,) = men(client)
    ok(
        client.post(
            "/api/v1/assessments",
            json={"person_ids": [person], "kind": "fit_to_travel", "outcome": "fit", "occurred_at": at()},
        )
    )
    movement(client)
    body = conflict(
        client,
        "/api/v1/movements/M-1/manifest",
        {"person_ids": [person], "occurred_at": at()},
        "legal-review",
        "approved",
        person,
    )
    assert "legal review" in body["detail"]


def test_refused_minor_without_mother_or_guardian(client: TestClient) -> None:
    mother, kid = register(client, "al-hol", [woman(0, person_id="w-1"), child("w-1", 0)])
    clear(client, [mother, kid])
    movement(client, route="al-hol-jeddah")
    path = "/api/v1/movements/M-1/manifest"
    conflict(client, path, {"person_ids": [kid], "occurred_at": at()}, "minor-with-guardian", "approved", kid)
    # With the mother on the same movement (in the same request, or already on it) the child may go.
    manifest(client, "M-1", [kid, mother])


def test_refused_destination_capacity(client: TestClient) -> None:
    # Jeddah-1 has 40 places for women; a 41st would be over.
    women = register(client, "al-hol", [woman(n) for n in range(41)])
    clear(client, women)
    movement(client, route="al-hol-jeddah")
    manifest(client, "M-1", women[:40])
    body = conflict(
        client,
        "/api/v1/movements/M-1/manifest",
        {"person_ids": women[40:], "occurred_at": at()},
        "destination-capacity",
        "approved",
        women[40],
    )
    assert "40 places" in body["detail"]
    # People on other movements heading there count too.
    movement(client, "M-2", route="al-hol-jeddah")
    conflict(
        client,
        "/api/v1/movements/M-2/manifest",
        {"person_ids": women[40:], "occurred_at": at()},
        "destination-capacity",
        subject=women[40],
    )


def test_refused_seats(client: TestClient) -> None:
    people = men(client, 3)
    clear(client, people)
    movement(client)
    plans = [
        leg("ghweran", "kharab-al-jir", "helicopter", "us-centcom", 2, 60),
        leg("kharab-al-jir", "karkh", "helicopter", "us-centcom", 30, 180),
    ]
    ok(client.put("/api/v1/movements/M-1/legs", json={"legs": plans}), 200)
    body = conflict(
        client,
        "/api/v1/movements/M-1/manifest",
        {"person_ids": people, "occurred_at": at()},
        "seats",
        "approved",
        people[2],
    )
    assert "2 seats" in body["detail"]


# Overrides: only with the permission, a reason and a name, all recorded.


def test_an_override_is_recorded_with_its_reason_and_who_made_it(client: TestClient) -> None:
    people = men(client, 3)
    clear(client, people)
    movement(client)
    plans = [
        leg("ghweran", "kharab-al-jir", "helicopter", "us-centcom", 2, 60),
        leg("kharab-al-jir", "karkh", "helicopter", "us-centcom", 30, 180),
    ]
    ok(client.put("/api/v1/movements/M-1/legs", json={"legs": plans}), 200)
    path = "/api/v1/movements/M-1/manifest"
    no_reason = {"person_ids": people, "occurred_at": at(), "overrides": ["seats"]}
    conflict(client, path, no_reason, "reason-required", "approved", "M-1")
    conflict(client, path, no_reason | {"reason": "   "}, "reason-required", "approved", "M-1")
    reason = "a second helicopter joins at Kharab al-Jir"
    events = manifest(client, "M-1", people, overrides=["seats"], reason=reason)
    details = {e["person_id"]: e["details"] for e in events}
    assert details[people[2]] == {"override": "seats", "override_reason": reason, "override_by": TEAM_ID}
    assert "override" not in details[people[0]]
    report = ok(client.get("/api/v1/movements/M-1/report"), 200)
    assert report["overrides"] == [{"person_id": people[2], "safeguards": ["seats"], "reason": reason, "by": TEAM.name}]
    # The leg still seats two: the third person cannot board it.
    board(client, "M-1", people[:2])
    body = conflict(
        client,
        "/api/v1/movements/M-1/board",
        {"person_ids": people[2:], "occurred_at": at(30)},
        "seats",
        "approved",
        "M-1",
    )
    assert "2 seats" in body["detail"]


def test_overriding_needs_the_permission(roads: Database, clock: SimulatedClock) -> None:
    # Service level: an actor who may plan but not override is refused, and nothing is written.
    rt = seeded_runtime(3, clock)
    with roads.unit_of_work() as uow:
        (person,) = [e.event.person_id for e in _register_men(uow, rt, 1)]
        transfers.create_movement(uow, rt, "M-1", "ghweran-karkh", T0)
        uow.commit()
    with roads.unit_of_work() as uow:
        size = uow.custody.size()
        with pytest.raises(ForbiddenError) as refused_error:
            transfers.manifest(uow, rt, "M-1", [person], T0, PLANNER, overrides=[Safeguard.FIT_TO_TRAVEL], reason="x")
        assert (refused_error.value.rule, refused_error.value.subject) == ("permission-required", PLANNER.id)
        assert uow.custody.size() == size
        with pytest.raises(ForbiddenError):
            transfers.set_safeguards(uow, [], PLANNER)
        # Without overrides the planner may manifest (and is refused by the safeguard itself, as anyone would be).
        with pytest.raises(ConflictError) as breach:
            transfers.manifest(uow, rt, "M-1", [person], T0, PLANNER)
        assert not isinstance(breach.value, ForbiddenError) and breach.value.rule == "fit-to-travel"
    # Through the API the same refusal is a 403 problem document naming the rule and the actor: a planner's token
    # narrowed to planning without the safeguards (no role lacks only that).
    with cheap_hashing():
        planner = make_user(roads, rt, "planner", Role.PLANNER)
    grants = ["all:plan:write", "all:plan:read", "all:safeguards:read", "all:report:read"]
    app = create_app(roads, runtime=rt)
    with TestClient(app, headers=bearer(token_for(roads, rt, planner, grants))) as c:
        payload = {"person_ids": [person], "occurred_at": at(), "overrides": ["fit-to-travel"], "reason": "urgent"}
        body = conflict(c, "/api/v1/movements/M-1/manifest", payload, "permission-required", "forbidden", status=403)
        assert body["subject"] == planner.account.id
        assert body["detail"] == f"{planner.principal.name} lacks the permission override-safeguards."
        assert body["type"] == PROBLEM_BASE + "permission-required"
        assert_problem(c.put("/api/v1/policy/safeguards", json={"applying": []}), 403)
        assert ok(c.get("/api/v1/policy/safeguards"), 200)["applying"] != []


def _register_men(uow: UnitOfWork, rt: Runtime, count: int) -> list[StoredEvent]:
    return register_people(uow, rt, [NewPerson(identity(n), "ghweran") for n in range(count)], T0)


# Refusals while the movement runs.


def test_refused_boarding_someone_not_on_the_manifest(client: TestClient) -> None:
    a, b = men(client, 2)
    clear(client, [a, b])
    movement(client)
    manifest(client, "M-1", [a])
    body = conflict(
        client, "/api/v1/movements/M-1/board", {"person_ids": [b], "occurred_at": at()}, "not-on-manifest", subject=b
    )
    assert body["state"] == "held at ghweran by sy-moi"


def test_refused_boarding_twice(client: TestClient) -> None:
    (person,) = men(client)
    clear(client, [person])
    movement(client)
    manifest(client, "M-1", [person])
    board(client, "M-1", [person])
    conflict(
        client,
        "/api/v1/movements/M-1/board",
        {"person_ids": [person], "occurred_at": at()},
        "already-boarded",
        "boarded",
        person,
    )


def test_refused_departure_with_someone_not_boarded(client: TestClient) -> None:
    a, b = men(client, 2)
    clear(client, [a, b])
    movement(client)
    manifest(client, "M-1", [a, b])
    board(client, "M-1", [a])
    body = conflict(client, "/api/v1/movements/M-1/depart", {"occurred_at": at(30)}, "not-boarded", "approved", b)
    assert "M-1" in body["detail"]
    assert ok(client.get("/api/v1/movements/M-1"), 200)["state"] == "approved"


def test_refused_handover_signatures(client: TestClient) -> None:
    (person,) = men(client)
    clear(client, [person])
    movement(client)
    manifest(client, "M-1", [person])
    board_and_depart(client, "M-1")
    opened = open_handover(client, "M-1", "sy-moi", "us-centcom", "ghweran")
    path = f"/api/v1/handovers/{opened['id']}/signatures"
    syrian, coalition = officer(client, "sy-moi"), officer(client, "us-centcom")
    good = signature(seed("sy-moi"), opened["document"])

    # bad-signature: another key, another document, garbage; each names the handover.
    for wrong in (
        signature(seed("us-centcom"), opened["document"]),
        signature(seed("sy-moi"), opened["document"] + " "),
        "bm90IGEgc2lnbmF0dXJl",
        "",
    ):
        payload = {"officer_id": syrian, "side": "dispatching", "signature": wrong}
        body = conflict(client, path, payload, "bad-signature", "open", opened["id"])
    assert "nothing was recorded" in body["detail"]
    # wrong-authority: the coalition's officer cannot sign for the dispatching Syrian side.
    payload = {
        "officer_id": coalition,
        "side": "dispatching",
        "signature": signature(seed("us-centcom"), opened["document"]),
    }
    body = conflict(client, path, payload, "wrong-authority", "dispatching")
    assert body["subject"] == coalition and "Officer 0 of us-centcom" in body["detail"]
    assert "sy-moi" in body["detail"]
    assert ok(client.get(f"/api/v1/handovers/{opened['id']}"), 200)["dispatching"] is None
    # already-signed: the dispatching side signs once.
    sign_side(client, opened, "dispatching", "sy-moi")
    conflict(
        client,
        path,
        {"officer_id": syrian, "side": "dispatching", "signature": good},
        "already-signed",
        "open",
        opened["id"],
    )
    # Complete: no more signatures of any kind.
    sign_side(client, opened, "receiving", "us-centcom")
    conflict(
        client,
        path,
        {"officer_id": syrian, "side": "dispatching", "signature": good},
        "handover-complete",
        "complete",
        opened["id"],
    )
    assert status_of(client, person) == "in_transit"


def test_a_handover_lists_missing_and_extra_people_and_passes_custody_only_for_those_present(
    client: TestClient,
) -> None:
    a, b = men(client, 2)
    (stranger,) = men(client, 1, facility="kharab-al-jir")
    clear(client, [a, b])
    movement(client)
    manifest(client, "M-1", [a, b])
    board_and_depart(client, "M-1")
    result = hand_over(
        client,
        "M-1",
        "sy-moi",
        "us-centcom",
        "kharab-al-jir",
        present=[a],
        extra=[{"person_id": stranger, "note": "found in the bus"}],
    )
    assert result["handover"]["counts"] == {"handed_over": 1, "missing": 1, "extra": 1, "injury": 0}
    kinds = {(d["person_id"], d["kind"]) for d in result["handover"]["discrepancies"]}
    assert kinds == {(b, "missing"), (stranger, "extra")}
    assert [e["person_id"] for e in result["events"]] == [a]
    custodians = {p: client.get(f"/api/v1/persons/{p}").json()["custodian_id"] for p in (a, b, stranger)}
    assert custodians == {a: "us-centcom", b: "sy-moi", stranger: "us-centcom"}  # as registered at kharab-al-jir
    # Someone on the movement cannot be listed as extra; someone not on it cannot be listed as present.
    payload = {
        "from_authority_id": "sy-moi",
        "to_authority_id": "us-centcom",
        "place_id": "ghweran",
        "occurred_at": at(),
    }
    conflict(
        client,
        "/api/v1/movements/M-1/handovers",
        payload | {"present": [b], "extra": [{"person_id": b}]},
        "extra-is-expected",
        subject=b,
    )
    conflict(
        client,
        "/api/v1/movements/M-1/handovers",
        payload | {"present": [stranger]},
        "not-in-dispatching-custody",
        subject=stranger,
    )


def test_refused_admission_of_someone_not_on_the_arriving_manifest(client: TestClient) -> None:
    a, b = men(client, 2)
    clear(client, [a, b])
    movement(client)
    manifest(client, "M-1", [a])
    board_and_depart(client, "M-1")
    hand_over(client, "M-1", "sy-moi", "iq-moj", "ghweran")
    travel(client, "M-1")
    payload = {"occurred_at": at(100), "person_ids": [a, b]}
    body = conflict(
        client, "/api/v1/movements/M-1/admit", payload, "not-on-arriving-manifest", "held at ghweran by sy-moi", b
    )
    assert "karkh" in body["detail"]
    assert status_of(client, a) == "arrived"


def test_refused_admission_to_an_estate_the_prison_does_not_hold(client: TestClient) -> None:
    # A mother and child are taken to a men's prison (capacity overridden, with the reason): intake refuses the child.
    mother, kid = register(client, "al-hol", [woman(0, person_id="w-1"), child("w-1", 0)])
    clear(client, [mother, kid])
    movement(client, route=AL_HOL_KARKH.id)
    manifest(client, "M-1", [mother, kid], overrides=["destination-capacity"], reason="test of intake's estate check")
    board_and_depart(client, "M-1")
    hand_over(client, "M-1", "sy-moi", "iq-moj", "al-hol")
    travel(client, "M-1")
    body = refused(
        client, "/api/v1/movements/M-1/admit", {"occurred_at": at(100), "person_ids": [kid]}, Rule.ESTATE_NOT_HELD, kid
    )
    assert "karkh" in body["state"]


def test_refused_reconciliation_with_someone_unaccounted_for(client: TestClient) -> None:
    a, b = men(client, 2)
    clear(client, [a, b])
    movement(client)
    conflict(client, "/api/v1/movements/M-1/reconcile", None, "movement-state", "approved", "M-1")
    manifest(client, "M-1", [a, b])
    board_and_depart(client, "M-1")
    hand_over(client, "M-1", "sy-moi", "iq-moj", "ghweran")
    travel(client, "M-1")
    ok(client.post("/api/v1/movements/M-1/admit", json={"occurred_at": at(100), "person_ids": [a]}))
    body = conflict(client, "/api/v1/movements/M-1/reconcile", None, "unaccounted", subject=b)
    assert body["state"] == "arrived at karkh, not yet admitted, custodian iq-moj"
    assert "1 of its 2" in body["detail"]
    assert ok(client.get("/api/v1/movements/M-1"), 200)["state"] == "arrived"
    assert ok(client.get("/api/v1/movements/M-1/report"), 200)["unaccounted"] == [b]


def test_refused_reconciliation_while_a_handover_is_open(client: TestClient) -> None:
    fled, stayed = men(client, 2)
    clear(client, [fled, stayed])
    movement(client)
    manifest(client, "M-1", [fled, stayed])
    board_and_depart(client, "M-1")
    # A document for one man, signed by one side only; the other man is handed over by another document.
    half = open_handover(client, "M-1", "sy-moi", "us-centcom", "ghweran", present=[fled])
    sign_side(client, half, "dispatching", "sy-moi")  # the coalition never signs
    again = client.post(
        "/api/v1/movements/M-1/handovers",
        json={
            "from_authority_id": "sy-moi",
            "to_authority_id": "iq-moj",
            "place_id": "ghweran",
            "occurred_at": at(45),
            "present": [fled],
        },
    )
    assert again.status_code == 409 and again.json()["rule"] == "handover-already-open"
    hand_over(client, "M-1", "sy-moi", "iq-moj", "kharab-al-jir", 50, present=[stayed])
    ok(
        client.post(
            "/api/v1/incidents",
            json={
                "kind": "escape",
                "occurred_at": at(55),
                "description": "ran at the staging base",
                "people": [fled],
                "movement": "M-1",
            },
        )
    )
    travel(client, "M-1")
    ok(client.post("/api/v1/movements/M-1/admit", json={"occurred_at": at(100)}))
    body = conflict(client, "/api/v1/movements/M-1/reconcile", None, "handover-open", "arrived", "M-1")
    assert half["id"] in body["detail"]
    assert ok(client.get("/api/v1/movements/M-1/report"), 200)["open_handovers"] == [half["id"]]


# Requests the API refuses before any service sees them.


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("/api/v1/movements/M-1/board", {"person_ids": ["p"], "occurred_at": at(), "leg": 0}),
        ("/api/v1/movements/M-1/depart", {"occurred_at": at(), "leg": 2**40}),
        ("/api/v1/movements/M-1/manifest", {"person_ids": ["p"], "occurred_at": at(), "overrides": ["nap"]}),
        ("/api/v1/movements/M-1/manifest", {"person_ids": ["p"], "occurred_at": "9999-12-31T23:00:00-05:00"}),
        ("/api/v1/handovers/h/signatures", {"officer_id": "o", "side": "sideways", "signature": ""}),
        ("/api/v1/officers", {"name": "x" * 201, "authority_id": "sy-moi", "public_key": ""}),
        ("/api/v1/incidents", {"kind": "alien", "occurred_at": at(), "description": "x"}),
        ("/api/v1/incidents", {"kind": "escape", "occurred_at": at(), "description": ""}),
        ("/api/v1/assessments", {"person_ids": ["p"], "kind": "dental", "outcome": "fit", "occurred_at": at()}),
    ],
)
def test_malformed_operations_are_422(client: TestClient, path: str, payload: dict[str, Any]) -> None:
    movement(client)
    before = log_size(client)
    assert_problem(client.post(path, json=payload), 422)
    assert log_size(client) == before


def test_leg_plans_are_checked(client: TestClient) -> None:
    movement(client)
    path = "/api/v1/movements/M-1/legs"
    bad_join = [
        leg("ghweran", "karkh", "helicopter", "us-centcom", 10, 60),
        leg("rabia", "karkh", "helicopter", "us-centcom", 10, 200),
    ]
    response = client.put(path, json={"legs": bad_join})
    assert assert_problem(response, 409)["rule"] == "legs-do-not-join"
    backwards = [leg("ghweran", "karkh", "helicopter", "us-centcom", 10, 60) | {"scheduled_arrival": at(0)}]
    assert assert_problem(client.put(path, json={"legs": backwards}), 409)["rule"] == "leg-times"
    nowhere = [
        leg("ghweran", "atlantis", "helicopter", "us-centcom", 10, 60),
        leg("atlantis", "karkh", "helicopter", "us-centcom", 10, 200),
    ]
    assert assert_problem(client.put(path, json={"legs": nowhere}), 404)["kind"] == "facility"
    assert_problem(client.put(path, json={"legs": []}), 422)
    no_seats = [leg("ghweran", "karkh", "helicopter", "us-centcom", 0, 60)]
    assert_problem(client.put(path, json={"legs": no_seats}), 422)
    # Once the first leg has left, the legs are fixed.
    (person,) = men(client)
    clear(client, [person])
    manifest(client, "M-1", [person])
    board_and_depart(client, "M-1")
    response = client.put(path, json={"legs": [leg("ghweran", "karkh", "helicopter", "us-centcom", 10, 60)]})
    body = assert_problem(response, 409)
    assert (body["rule"], body["subject"], body["state"]) == ("legs-frozen", "M-1", "in_progress")


def test_officer_keys_are_checked(client: TestClient) -> None:
    officer(client, "sy-moi")
    payload = {"name": "Someone else", "authority_id": "iq-moj", "public_key": officer_key("sy-moi")}
    conflict(client, "/api/v1/officers", payload, "key-taken", "exists")
    for bad in ("", "not a key", "AAAA"):
        body = assert_problem(client.post("/api/v1/officers", json=payload | {"public_key": bad}), 400)
        assert "key" in body["detail"]
    listed = ok(client.get("/api/v1/officers"), 200)
    assert [(o["name"], o["authority_id"]) for o in listed] == [("Officer 0 of sy-moi", "sy-moi")]
    assert ok(client.get(f"/api/v1/officers/{listed[0]['id']}"), 200) == listed[0]


def officer_key(authority: str) -> str:
    return public_key_of(seed(authority))


def test_notification_hours_come_from_the_environment(
    roads: Database, clock: SimulatedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HANDOVER_NOTIFICATION_HOURS", "2")
    get_settings.cache_clear()
    try:
        app = as_team(create_app(roads, runtime=seeded_runtime(7, clock)))
    finally:
        get_settings.cache_clear()
    assert app.state.notification_hours == 2
    with TestClient(app) as c:
        (person,) = men(c)
        clear(c, [person])
        movement(c)
        manifest(c, "M-1", [person])
        board_and_depart(c, "M-1")
        hand_over(c, "M-1", "sy-moi", "iq-moj", "ghweran")
        travel(c, "M-1")
        ok(c.post("/api/v1/movements/M-1/admit", json={"occurred_at": at(100)}))
        clock.set(T0 + timedelta(minutes=100, hours=1))
        assert [t["overdue"] for t in ok(c.get("/api/v1/notifications"), 200)] == [False]
        assert ok(c.get("/api/v1/notifications", params={"overdue": True}), 200) == []
        clock.set(T0 + timedelta(minutes=100, hours=3))
        (task,) = ok(c.get("/api/v1/notifications", params={"overdue": True}), 200)
        assert (task["person_id"], task["facility_id"], task["overdue"]) == (person, "karkh", True)
        (alert,) = ok(c.get("/api/v1/alerts"), 200)
        assert (alert["kind"], alert["subject"]) == ("notification_overdue", "1")
        assert "2 hours" in alert["message"]
