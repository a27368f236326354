"""Small instances whose optimum was worked out by hand (each test says how), solved exactly and checked.

Every plan here also goes through the independent checker. The movement cost in the objective is the smallest
priority over (all sorties that could fly in the horizon + 1); each test states it.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from handover.core.custody.model import Estate, TransportMode
from handover.core.planning.checker import check
from handover.core.planning.fill import fill
from handover.core.planning.greedy import plan_greedy
from handover.core.planning.model import Cohort, Crossing, Freed, Nationality, PlanningInput, family, one
from handover.core.planning.plan import BottleneckKind, Plan, PlanStatus
from handover.core.planning.rules import network
from handover.core.planning.solver import SolverOptions, solve
from tests.core.planning.instances import family_centre, inputs, members_for, men, prison, route

EXACT = SolverOptions(time_limit=20.0, mip_gap=0.0)


def planned(planning: PlanningInput) -> Plan:
    plan = solve(planning, EXACT)
    assert check(planning, plan) == []
    assert plan.status is PlanStatus.OPTIMAL
    greedy = plan_greedy(planning)
    assert check(planning, greedy) == []
    assert plan.objective <= greedy.objective + 1e-9
    json.dumps(plan.as_dict())
    return plan


def messages(plan: Plan, kind: BottleneckKind) -> list[str]:
    return [b.message for b in plan.bottlenecks if b.kind is kind]


def test_capacity_binds_on_day_1_and_the_lower_priority_waits() -> None:
    # 150 places, 100 seats a day, A (100, priority 2) and B (100, priority 1), 4 days.
    # 50 people can never go; it is cheapest to leave B's (4 days x 1). A goes on day 0 (0), 50 of B on day 1
    # (50 x 1 day), the other 50 of B wait the whole horizon (50 x 4): 250 weighted person-days, 2 movements.
    # Movement cost 1 / (4 + 1) = 0.2: objective 250.4.
    planning = inputs(
        horizon=4,
        destinations=(prison(men=150),),
        cohorts=(men("a", 100, priority=2.0), men("b", 100)),
    )
    plan = planned(planning)
    assert plan.weighted_waiting == pytest.approx(250)
    assert plan.waiting_person_days == 250
    assert plan.movements == 2
    assert plan.objective == pytest.approx(250.4)
    assert plan.remaining == 50 and plan.completion_day is None and not plan.complete
    assert plan.headline == "Not within the 4-day horizon: 50 of 200 people are still waiting."
    assert [(r.day, [(x.cohort_id, x.units) for x in r.loads]) for r in plan.schedule] == [
        (0, [("a", 100)]),
        (1, [("b", 50)]),
    ]
    assert messages(plan, BottleneckKind.CAPACITY) == ["al-Hout adult-men capacity is exhausted on day 1."]
    assert plan.gap == pytest.approx(0.0, abs=1e-9)


def test_the_intake_cap_binds_and_the_higher_priority_goes_first() -> None:
    # Cap 60 a day, 100 seats, A (50, priority 1), B (70, priority 3), 5 days.
    # Day 0 takes 60 of B; day 1 the other 10 of B (10 x 1 x 3 = 30) and all of A (50 x 1 x 1 = 50): 80.
    # Two movements, cost 1 / (5 + 1) each: objective 80 + 1/3. Finished on day 1.
    planning = inputs(horizon=5, destinations=(prison(cap=60),), cohorts=(men("a", 50), men("b", 70, priority=3.0)))
    plan = planned(planning)
    assert plan.weighted_waiting == pytest.approx(80)
    assert plan.objective == pytest.approx(80 + 1 / 3)
    assert plan.completion_day == 1 and plan.complete
    assert plan.completion_date is not None and plan.completion_date.isoformat() == "2026-01-23"
    assert plan.headline == "Everyone has moved by day 1 (2026-01-23)."
    assert messages(plan, BottleneckKind.INTAKE_CAP) == ["The daily intake cap at al-Hout binds on day 0."]


def test_families_travel_whole_to_a_family_centre_only() -> None:
    # 10 families of a mother and two children, 20 seats a day: 6 families (18 people) fit a sortie, 7 do not.
    # Day 0 takes 6, day 1 the other 4 (4 x 3 people x 1 day = 12). The prison route is never a variable.
    planning = inputs(
        horizon=3,
        destinations=(prison(), family_centre()),
        routes=(route("roj-hout", "roj", "al-hout"), route("roj-jeddah", "roj", "jeddah-1", seats=20)),
        cohorts=(Cohort("fam", "roj", 10, family(1, 2)),),
    )
    assert {a.route.id for a in network(planning).arcs} == {"roj-jeddah"}
    plan = planned(planning)
    assert plan.waiting_person_days == 12
    assert [(r.day, r.people) for r in plan.schedule] == [(0, 18), (1, 12)]
    members = members_for(planning)
    drafts = fill(planning, plan, members)
    assert check(planning, plan, drafts, members) == []
    assert [len(d.people) for d in drafts] == [18, 12]
    for draft in drafts:
        families = Counter(p.rsplit("/", 1)[0] for p in draft.people)
        assert set(families.values()) == {3}


def test_foreigners_with_an_open_case_wait_for_the_hold() -> None:
    # Hold until day 2. Iraqis (50) go on day 0; the foreigners (50) on day 2: 50 x 2 = 100.
    planning = inputs(
        horizon=4,
        hold_until=2,
        cohorts=(
            men("iraqi", 50),
            men("foreign", 50, nationality=Nationality.FOREIGN, repatriation_case_open=True),
        ),
    )
    plan = planned(planning)
    assert plan.waiting_person_days == 100
    assert [(r.day, r.people) for r in plan.schedule] == [(0, 50), (2, 50)]
    assert messages(plan, BottleneckKind.HELD_FOR_REPATRIATION) == [
        "50 foreign nationals at Ghweran are held for repatriation until day 2."
    ]


def test_a_closed_crossing_delays_the_road_convoy() -> None:
    # The only route crosses at Rabia, closed on days 0-1: all 100 go on day 2, 100 x 2 = 200.
    planning = inputs(
        horizon=4,
        routes=(route(mode=TransportMode.ROAD_CONVOY, crossings=("rabia",)),),
        crossings=(Crossing("rabia", "Rabia", closed=((0, 1),)),),
        cohorts=(men("m", 100),),
    )
    plan = planned(planning)
    assert plan.waiting_person_days == 200
    assert messages(plan, BottleneckKind.CROSSING_CLOSED) == [
        "The Rabia crossing is closed on days 0–1 while people who could cross it wait."
    ]


def test_places_freed_by_onward_transfers_are_used_when_freed() -> None:
    # 50 places, 50 more from day 2: 50 go on day 0, 50 on day 2: 50 x 2 = 100.
    planning = inputs(
        horizon=4,
        destinations=(prison(men=50, freed=(Freed(2, Estate.ADULT_MEN, 50),)),),
        cohorts=(men("m", 100),),
    )
    plan = planned(planning)
    assert plan.waiting_person_days == 100
    assert messages(plan, BottleneckKind.CAPACITY) == ["al-Hout adult-men capacity is full on days 0–1."]


def test_fewest_movements_when_waiting_is_equal() -> None:
    # Two routes of 100 seats; 100 people can all go on day 0 in one sortie or split over two: one it is.
    planning = inputs(
        horizon=2,
        routes=(route("r1"), route("r2")),
        cohorts=(men("m", 100),),
    )
    plan = planned(planning)
    assert plan.waiting_person_days == 0
    assert plan.movements == 1


def test_the_overall_cap_spreads_arrivals() -> None:
    # Overall cap 120 a day over two prisons: 120 on day 0, 80 on day 1: 80 x 1 = 80. Day 0 needs two sorties
    # (120 people, 100 seats each), day 1 one.
    planning = inputs(
        horizon=3,
        destinations=(prison("karkh", "Karkh"), prison()),
        routes=(route("to-karkh", destination="karkh"), route("to-hout")),
        cohorts=(men("m", 200),),
        overall_cap=120,
    )
    plan = planned(planning)
    assert plan.waiting_person_days == 80
    assert plan.movements == 3
    assert messages(plan, BottleneckKind.OVERALL_CAP) == ["The overall daily intake cap binds on day 0."]


def test_no_route_for_those_the_rules_forbid() -> None:
    # Women at Roj have only a route to a prison; men needing level 5 only a level-4 prison: neither moves.
    planning = inputs(
        horizon=3,
        destinations=(prison(),),
        routes=(route("roj-hout", "roj", "al-hout"), route()),
        cohorts=(
            Cohort("women", "roj", 30, one(Estate.ADULT_WOMEN)),
            men("high", 20, security_level=5),
        ),
    )
    assert network(planning).arcs == ()
    plan = planned(planning)
    assert plan.remaining == 50 and plan.schedule == ()
    assert sorted(messages(plan, BottleneckKind.NO_ROUTE)) == [
        "No route is open from Ghweran for adult men.",
        "No route is open from Roj for women.",
    ]


def test_people_never_cleared_are_never_scheduled() -> None:
    planning = inputs(horizon=3, cohorts=(men("ok", 10), men("pending", 10, cleared=False)))
    plan = planned(planning)
    assert plan.moved == 10 and plan.remaining == 10
    assert messages(plan, BottleneckKind.NOT_CLEARED) == [
        "10 people at Ghweran are not cleared by the safeguard review and have no clearance day."
    ]


def test_clearance_day_is_the_first_day_they_may_go() -> None:
    planning = inputs(horizon=4, cohorts=(men("pending", 10, cleared=False, clearance_day=3),))
    plan = planned(planning)
    assert [(r.day, r.people) for r in plan.schedule] == [(3, 10)]
    assert plan.waiting_person_days == 30


def test_nothing_to_move_is_an_empty_plan() -> None:
    planning = inputs(horizon=2, cohorts=(men("none", 0),))
    plan = planned(planning)
    assert plan.schedule == () and plan.remaining == 0 and plan.objective == 0
