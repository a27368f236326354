"""The planner and the forecast through the API on both backends: a checked plan whose drafts name exactly the people
who can be scheduled (families together), its CSV, the parameters (round trip and validation), adopting a day (and
refusing people not cleared, by name), and a forecast band."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from handover.api.problems import PROBLEM_BASE
from handover.app import create_app
from handover.core.policy.access import Role
from handover.services import transfers
from handover.services.registry import NewPerson, register_people
from handover.services.runtime import SimulatedClock, seeded_runtime
from handover.store.uow import Database
from tests.api.support import assert_problem, log_size, ok
from tests.factories import T0, child, man, woman
from tests.journeys import clear
from tests.scenarios import transfer_scenario
from tests.support.accounts import bearer, cheap_hashing, make_user, token_for
from tests.support.team import as_team

START = date(2026, 1, 22)
CLEARED_ONLY = {"pending_clearance_day": None}


@pytest.fixture
def populated(world: Database) -> dict[str, list[str]]:
    """30 men at Ghweran (20 cleared), 4 mothers with 6 children and 2 women alone at al-Hol (all cleared)."""
    rt = seeded_runtime(52, SimulatedClock(T0))
    with world.unit_of_work() as uow:
        men = [
            s.event.person_id for s in register_people(uow, rt, [NewPerson(man(n), "ghweran") for n in range(30)], T0)
        ]
        mothers = [rt.new_id() for _ in range(6)]
        families = [NewPerson(woman(n), "al-hol", person_id=mothers[n]) for n in range(6)]
        families += [NewPerson(child(mothers[n % 4], n), "al-hol") for n in range(6)]
        camp = [s.event.person_id for s in register_people(uow, rt, families, T0)]
        clear(uow, rt, men[:20] + camp, T0)
        uow.commit()
    return {"men": men, "camp": camp, "mothers": mothers}


@pytest.fixture
def client(world: Database) -> Iterator[TestClient]:
    app = as_team(create_app(world, runtime=seeded_runtime(8, SimulatedClock(T0 + timedelta(hours=4)))))
    with TestClient(app) as test_client:
        yield test_client


def test_plans_need_plan_read(world: Database) -> None:
    # Plans name people on draft movements and cost solver time: planners and monitors only.
    rt = seeded_runtime(81, SimulatedClock(T0))
    with cheap_hashing():
        officer = make_user(world, rt, "escort", Role.FIELD_OFFICER, authority_id="sy-moi")
    with TestClient(create_app(world)) as anonymous:
        for path in ("/api/v1/plan", "/api/v1/plan.csv", "/api/v1/forecast", "/api/v1/plan/parameters"):
            assert_problem(anonymous.get(path), 401)
            body = assert_problem(anonymous.get(path, headers=bearer(token_for(world, rt, officer))), 403)
            assert body["rule"] == "permission-required"


def put_parameters(client: TestClient, values: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = ok(client.put("/api/v1/plan/parameters", json=values), 200)
    return found


def plan(client: TestClient, **query: Any) -> dict[str, Any]:
    found: dict[str, Any] = ok(
        client.get("/api/v1/plan", params={"start": START.isoformat(), "time_limit": 5} | query), 200
    )
    return found


def test_the_plan_is_checked_and_its_drafts_name_exactly_who_can_be_scheduled(client, populated) -> None:  # type: ignore[no-untyped-def]
    put_parameters(client, CLEARED_ONLY)
    body = plan(client)
    assert body["checked"] is True and body["violations"] == []
    assert body["start"] == START.isoformat() and body["people"] == 42
    assert body["plan"]["status"] in ("optimal", "time_limit") and body["plan"]["headline"]
    planned = [p for d in body["drafts"] for p in d["people"]]
    # The 10 men pending clearance are never scheduled; everyone else is, once.
    assert len(planned) == len(set(planned)) == 32
    assert set(planned) == set(populated["men"][:20]) | set(populated["camp"])
    by_person = {p: n for n, d in enumerate(body["drafts"]) for p in d["people"]}
    for n, kid in enumerate(populated["camp"][6:]):
        assert by_person[kid] == by_person[populated["mothers"][n % 4]]
    for d in body["drafts"]:
        assert len(d["people"]) <= d["seats"]
        assert sum(load["people"] for load in d["loads"]) == len(d["people"])
        assert d["date"] == (START + timedelta(days=d["day"])).isoformat()
    assert any("clearance" in b["message"] for b in body["plan"]["bottlenecks"])
    # The forecast stands beside the plan: as of the day before it starts, against the plan's date.
    forecast = body["forecast"]
    assert forecast["as_of"] == (START - timedelta(days=1)).isoformat()
    assert forecast["remaining"] == 42 and forecast["plan_completion"] == body["plan"]["completion_date"]
    assert body["parameters"]["pending_clearance_day"] is None


def test_a_plan_is_kept_in_memory_until_the_log_or_the_parameters_change(client, populated) -> None:  # type: ignore[no-untyped-def]
    put_parameters(client, CLEARED_ONLY)
    first = client.get("/api/v1/plan", params={"start": START.isoformat(), "time_limit": 5})
    again = client.get("/api/v1/plan", params={"start": START.isoformat(), "time_limit": 5})
    assert (first.headers["x-handover-plan"], again.headers["x-handover-plan"]) == ("computed", "cached")
    assert first.json() == again.json()
    put_parameters(client, CLEARED_ONLY | {"horizon_days": 30})
    changed = client.get("/api/v1/plan", params={"start": START.isoformat(), "time_limit": 5})
    assert changed.headers["x-handover-plan"] == "computed"
    assert changed.json()["plan"]["horizon_days"] == 30


def test_the_default_start_is_the_day_after_the_latest_event(client, populated) -> None:  # type: ignore[no-untyped-def]
    body = ok(client.get("/api/v1/plan", params={"time_limit": 5, "horizon": 10}), 200)
    assert body["start"] == (T0.date() + timedelta(days=1)).isoformat()
    assert body["plan"]["horizon_days"] == 10


def test_the_csv_has_one_row_per_draft_with_hxl_hashtags(client, populated) -> None:  # type: ignore[no-untyped-def]
    put_parameters(client, CLEARED_ONLY)
    body = plan(client)
    response = client.get("/api/v1/plan.csv", params={"start": START.isoformat(), "time_limit": 5})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    header, tags, lines = rows[0], rows[1], rows[2:]
    assert header[:6] == ["date", "route", "mode", "sortie", "seats", "people"]
    assert tags[:6] == ["#date", "#loc+route", "#meta+mode", "#meta+sortie", "#capacity+seats+num", "#affected+num"]
    assert all(tag.startswith("#") for tag in tags)
    cohorts = header[6:]
    drafts = sorted(body["drafts"], key=lambda d: (d["day"], d["route"], d["sortie"]))
    assert len(lines) == len(drafts)
    modes = {"ghweran-karkh": "helicopter", "al-hol-jeddah": "road_convoy"}
    for line, d in zip(lines, drafts, strict=True):
        loads = {load["cohort"]: load["people"] for load in d["loads"]}
        assert line[:6] == [
            d["date"],
            d["route"],
            modes[d["route"]],
            str(d["sortie"]),
            str(d["seats"]),
            str(len(d["people"])),
        ]
        assert {c: int(n) for c, n in zip(cohorts, line[6:], strict=True) if int(n)} == loads


def test_parameters_round_trip_and_are_validated(client, world) -> None:  # type: ignore[no-untyped-def]
    defaults = ok(client.get("/api/v1/plan/parameters"), 200)
    assert defaults["horizon_days"] == 60 and defaults["pending_clearance_day"] == 3
    values = {
        "horizon_days": 20,
        "sorties_per_day": {"helicopter": 3, "al-hol-jeddah": 2},
        "daily_intake_cap": {"karkh": 10},
        "overall_daily_cap": 25,
        "closed_crossings": {"kharab-al-jir": [[2, 4]]},
        "freed": {"karkh": [[5, "adult_men", 10]]},
        "priorities": {"al-hol": 2.5},
        "repatriation_hold_until": 7,
        "pending_clearance_day": None,
    }
    assert put_parameters(client, values) == values
    assert ok(client.get("/api/v1/plan/parameters"), 200) == values
    assert (
        ok(client.get("/api/v1/plan", params={"start": START.isoformat(), "time_limit": 5}), 200)["parameters"]
        == values
    )

    bad = [
        {"horizon_days": 0},
        {"horizon_days": "10"},
        {"horizon_days": 1.5},
        {"sorties_per_day": {"helicopter": -1}},
        {"overall_daily_cap": True},
        {"closed_crossings": {"kharab-al-jir": [[4, 2]]}},
        {"freed": {"karkh": [[1, "everyone", 3]]}},
        {"priorities": {"al-hol": 0}},
        {"sorties_per_day": {"submarine": 1}},
        {"daily_intake_cap": {"nowhere": 5}},
        {"speed": 3},
    ]
    for body in bad:
        problem = assert_problem(client.put("/api/v1/plan/parameters", json=body), 422)
        assert problem["errors"], body
    assert ok(client.get("/api/v1/plan/parameters"), 200) == values  # nothing was stored
    # The query is checked too.
    assert_problem(client.get("/api/v1/plan", params={"horizon": 0}), 422)
    assert_problem(client.get("/api/v1/plan", params={"time_limit": 1000}), 422)
    for far in ("0001-01-01", "9999-12-31"):
        assert_problem(client.get("/api/v1/plan", params={"start": far}), 422)
        assert_problem(client.get("/api/v1/plan.csv", params={"start": far}), 422)
        assert_problem(client.get("/api/v1/forecast", params={"as_of": far}), 422)
        assert_problem(client.post("/api/v1/plan/adopt", json={"start": far, "day": 0}), 422)


def test_changing_parameters_and_adopting_need_plan_write(world: Database) -> None:
    rt = seeded_runtime(82, SimulatedClock(T0))
    with cheap_hashing():
        monitor = make_user(world, rt, "monitor", Role.MONITOR)
    with TestClient(create_app(world)) as client:
        adoption = {"start": START.isoformat(), "day": 0}
        assert_problem(client.put("/api/v1/plan/parameters", json={}), 401)
        assert_problem(client.post("/api/v1/plan/adopt", json=adoption), 401)
        wrong = {"Authorization": "Bearer nope"}
        assert_problem(client.put("/api/v1/plan/parameters", json={}, headers=wrong), 401)
        # A monitor reads the plan and its parameters and changes neither.
        reads = bearer(token_for(world, rt, monitor))
        ok(client.get("/api/v1/plan/parameters", headers=reads), 200)
        assert_problem(client.put("/api/v1/plan/parameters", json={}, headers=reads), 403)
        assert_problem(client.post("/api/v1/plan/adopt", json=adoption, headers=reads), 403)


def test_adopting_a_day_creates_its_movements_with_their_manifests(client, world, populated) -> None:  # type: ignore[no-untyped-def]
    put_parameters(client, CLEARED_ONLY)
    body = plan(client)
    first = min(d["day"] for d in body["drafts"])
    expected = {p for d in body["drafts"] if d["day"] == first for p in d["people"]}
    adopted = ok(client.post("/api/v1/plan/adopt", json={"start": START.isoformat(), "day": first, "time_limit": 5}))
    assert adopted["day"] == first and adopted["date"] == (START + timedelta(days=first)).isoformat()
    assert len(adopted["codes"]) == sum(1 for d in body["drafts"] if d["day"] == first)
    with world.unit_of_work(read_only=True) as uow:
        on = {
            s.person_id for code in adopted["codes"] for s in uow.custody.on_movement(transfers.movement(uow, code).id)
        }
    assert on == expected
    movements = {m["code"]: m for m in ok(client.get("/api/v1/movements"), 200)}
    assert all(movements[code]["state"] == "draft" for code in adopted["codes"])
    # The log moved on: the plan is made again, without the people now on movements.
    after = plan(client)
    assert not expected & {p for d in after["drafts"] for p in d["people"]}


def test_a_day_without_drafts_is_refused(client, populated) -> None:  # type: ignore[no-untyped-def]
    put_parameters(client, CLEARED_ONLY | {"horizon_days": 10})
    before = log_size(client)
    problem = assert_problem(
        client.post("/api/v1/plan/adopt", json={"start": START.isoformat(), "day": 9, "time_limit": 5}),
        409,
    )
    assert problem["rule"] == "no-drafts-on-day" and problem["type"] == PROBLEM_BASE + "no-drafts-on-day"
    assert log_size(client) == before


def test_adopting_refuses_people_not_cleared_by_name(client, populated) -> None:  # type: ignore[no-untyped-def]
    # Expected cleared on day 0, so the planner schedules them; the manifest's safeguards still refuse them.
    put_parameters(client, {"pending_clearance_day": 0})
    body = plan(client)
    pending = set(populated["men"][20:])
    day = next(d["day"] for d in body["drafts"] if pending & set(d["people"]))
    before = log_size(client)
    problem = assert_problem(
        client.post("/api/v1/plan/adopt", json={"start": START.isoformat(), "day": day, "time_limit": 5}),
        409,
    )
    assert problem["rule"] == "fit-to-travel" and problem["subject"] in pending
    assert problem["subject"] in problem["detail"]
    assert log_size(client) == before
    assert ok(client.get("/api/v1/movements"), 200) == []  # nothing was written, not even the movements


def test_the_binding_constraint_is_named_when_not_everyone_can_move(client, populated) -> None:  # type: ignore[no-untyped-def]
    put_parameters(client, CLEARED_ONLY | {"daily_intake_cap": {"karkh": 1}})
    body = plan(client, horizon=1)
    assert body["checked"] is True and body["plan"]["complete"] is False
    assert body["plan"]["completion_date"] is None and "Not within the 1-day horizon" in body["plan"]["headline"]
    caps = [b for b in body["plan"]["bottlenecks"] if b["kind"] == "intake_cap"]
    assert caps and caps[0]["subject"] == "karkh" and "intake cap" in caps[0]["message"]


def test_the_forecast_gives_a_band_and_says_what_it_rests_on(world) -> None:  # type: ignore[no-untyped-def]
    scenario = transfer_scenario(world)  # 12 men admitted at Karkh on the first day
    app = as_team(create_app(world, runtime=seeded_runtime(9, SimulatedClock(T0 + timedelta(days=3)))))
    as_of = T0.date() + timedelta(days=3)
    with TestClient(app) as client:
        body = ok(client.get("/api/v1/forecast", params={"as_of": as_of.isoformat()}), 200)
        default = ok(client.get("/api/v1/forecast"), 200)
        assert_problem(client.get("/api/v1/forecast", params={"as_of": "yesterday"}), 422)
    assert body["as_of"] == as_of.isoformat() and body["remaining"] == scenario.held_at_origin
    assert (body["moved"], body["history_days"]) == (len(scenario.moved), 4)
    baseline = body["baseline"]
    assert baseline["p50_days"] <= baseline["p85_days"] <= baseline["p95_days"]
    assert baseline["p50_date"] <= baseline["p85_date"] <= baseline["p95_date"]
    assert "4 days of history" in body["basis"]
    assert body["scenarios"] and body["plan_completion"] is None
    # By default, as of the day of the latest event.
    with world.unit_of_work(read_only=True) as uow:
        latest = max(s.event.occurred_at for s in uow.custody.all_events()).date()
    assert default["as_of"] == latest.isoformat()
