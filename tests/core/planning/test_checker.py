"""The checker finds every kind of broken plan, whoever made it, and says what is wrong in words."""

from __future__ import annotations

import dataclasses

import pytest

from handover.core.custody.model import Estate
from handover.core.planning.checker import Violation, check
from handover.core.planning.fill import FillError, fill
from handover.core.planning.model import Cohort, Crossing, Nationality, PlanningInput, family, one
from handover.core.planning.plan import DraftMovement, Plan, PlanStatus
from handover.core.planning.rules import network
from handover.core.planning.summary import summarise
from tests.core.planning.instances import family_centre, inputs, members_for, men, prison, route


def plan_of(planning: PlanningInput, moves: dict[tuple[str, str, int], int]) -> Plan:
    """A plan made by hand, as any planner might: the summary reports its figures but checks nothing."""
    return summarise(network(planning), moves, method="hand", status=PlanStatus.HEURISTIC, bound=None, seconds=0.0)


def rules(violations: list[Violation]) -> set[str]:
    return {v.rule for v in violations}


def test_a_good_plan_has_no_violations() -> None:
    planning = inputs(horizon=3, cohorts=(men("m", 150),))
    assert check(planning, plan_of(planning, {("m", "r", 0): 100, ("m", "r", 1): 50})) == []


def test_more_sorties_than_the_route_flies() -> None:
    planning = inputs(horizon=2, cohorts=(men("m", 150),))
    found = check(planning, plan_of(planning, {("m", "r", 0): 150}))
    assert rules(found) == {"sorties"}
    assert "flies 2 sorties on day 0; it may fly 1" in found[0].message


def test_more_people_than_seats() -> None:
    planning = inputs(horizon=2, cohorts=(men("m", 150),))
    plan = plan_of(planning, {("m", "r", 0): 100})
    entry = plan.schedule[0]
    load = dataclasses.replace(entry.loads[0], units=150, people=150)
    tampered = dataclasses.replace(plan, schedule=(dataclasses.replace(entry, loads=(load,)),))
    assert "seats" in rules(check(planning, tampered))


def test_capacity_and_intake_caps() -> None:
    planning = inputs(
        horizon=3,
        destinations=(prison(men=120, cap=80),),
        cohorts=(men("m", 200),),
        overall_cap=90,
    )
    found = check(planning, plan_of(planning, {("m", "r", 0): 100, ("m", "r", 1): 50}))
    assert rules(found) == {"capacity", "intake-cap", "overall-cap"}
    capacity = next(v for v in found if v.rule == "capacity")
    assert capacity.day == 1
    assert capacity.message == "al-Hout would hold 150 in its adult_men estate on day 1; it has 120 places."


def test_separation_women_never_to_a_prison_men_never_to_a_family_centre() -> None:
    planning = inputs(
        horizon=2,
        destinations=(prison(), family_centre()),
        routes=(route("roj-hout", "roj", "al-hout"), route("to-jeddah", destination="jeddah-1")),
        cohorts=(Cohort("women", "roj", 10, one(Estate.ADULT_WOMEN)), men("m", 10)),
    )
    found = check(planning, plan_of(planning, {("women", "roj-hout", 0): 10, ("m", "to-jeddah", 0): 10}))
    messages = sorted(v.message for v in found if v.rule == "separation")
    assert messages == [
        "Cohort m has adult men, who may only go to a prison, not to Jeddah-1.",
        "Cohort women has women or children, who may only go to a family facility, not to al-Hout.",
    ]


def test_security_level_wrong_origin_and_supply() -> None:
    planning = inputs(
        horizon=2,
        routes=(route(), route("from-roj", "roj", "al-hout")),
        cohorts=(men("high", 10, security_level=5), men("m", 10)),
    )
    found = check(planning, plan_of(planning, {("high", "r", 0): 10, ("m", "from-roj", 0): 10, ("m", "r", 1): 5}))
    assert rules(found) == {"separation", "origin", "supply"}


def test_holds_clearance_and_closed_crossings() -> None:
    planning = inputs(
        horizon=4,
        hold_until=2,
        routes=(route(crossings=("rabia",)),),
        crossings=(Crossing("rabia", "Rabia", closed=((3, 3),)),),
        cohorts=(
            men("held", 10, nationality=Nationality.FOREIGN, repatriation_case_open=True),
            men("pending", 10, cleared=False, clearance_day=2),
            men("never", 10, cleared=False),
            men("ok", 10),
        ),
    )
    found = check(
        planning,
        plan_of(planning, {("held", "r", 1): 10, ("pending", "r", 0): 10, ("never", "r", 2): 10, ("ok", "r", 3): 10}),
    )
    assert rules(found) == {"too-early", "crossing-closed"}
    assert {v.subject for v in found} == {"r@0", "r@1", "r@2", "r@3"}


def test_reported_figures_must_match_the_schedule() -> None:
    planning = inputs(horizon=3, cohorts=(men("m", 150),))
    plan = plan_of(planning, {("m", "r", 0): 100, ("m", "r", 1): 50})
    found = check(planning, dataclasses.replace(plan, remaining=7, completion_day=2, weighted_waiting=1.0))
    assert {v.subject for v in found} == {"remaining", "completion_day", "weighted_waiting"}


def test_filled_movements_keep_families_whole_and_people_once() -> None:
    planning = inputs(
        horizon=2,
        destinations=(family_centre(),),
        routes=(route("r", "roj", "jeddah-1", seats=10, sorties=2),),
        cohorts=(Cohort("fam", "roj", 4, family(1, 2)),),
    )
    plan = plan_of(planning, {("fam", "r", 0): 4})
    members = members_for(planning)
    drafts = fill(planning, plan, members)
    assert check(planning, plan, drafts, members) == []
    people = [m.person_id for m in members]
    split = (
        DraftMovement(0, "r", 1, 10, tuple(people[:4]), ()),
        DraftMovement(0, "r", 2, 10, tuple(people[4:]), ()),
    )
    assert "family-split" in rules(check(planning, plan, split, members))
    twice = (DraftMovement(0, "r", 1, 10, tuple(people[:6]), ()), DraftMovement(0, "r", 2, 10, tuple(people[:6]), ()))
    assert {"twice", "fill"} <= rules(check(planning, plan, twice, members))
    crowded = (DraftMovement(0, "r", 1, 10, tuple(people), ()),)
    assert "seats" in rules(check(planning, plan, crowded, members))


def test_fill_refuses_what_it_cannot_pack() -> None:
    planning = inputs(
        horizon=1,
        destinations=(family_centre(),),
        routes=(route("r", "roj", "jeddah-1", seats=10, sorties=2),),
        cohorts=(Cohort("fam", "roj", 5, family(1, 3)),),
    )
    # A hand-made plan counting every seat: 20 people in 2 x 10 seats keeps every rule, but families of 4 go only
    # two to a sortie of 10, so the fifth family has nowhere to sit.
    plan = plan_of(planning, {("fam", "r", 0): 5})
    plan = dataclasses.replace(plan, schedule=(dataclasses.replace(plan.schedule[0], sorties=2),), movements=2)
    assert check(planning, plan) == []
    with pytest.raises(FillError, match="do not pack into 2 sorties of 10"):
        fill(planning, plan, members_for(planning))
    with pytest.raises(FillError, match="has 3 units left"):
        fill(planning, plan, members_for(planning)[:12])
