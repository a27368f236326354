"""A demo-shaped instance end to end: plan, check, fill with named people, check again; and the benchmark runs."""

from __future__ import annotations

import json

from bench.planning import Size, demo_shaped, measure_one, members_for

from handover.core.planning.checker import check
from handover.core.planning.fill import fill
from handover.core.planning.greedy import plan_greedy
from handover.core.planning.solver import SolverOptions, solve


def test_a_demo_shaped_plan_is_checked_filled_and_explained() -> None:
    planning = demo_shaped(1400, 30, seed=3)
    plan = solve(planning, SolverOptions(time_limit=10.0, mip_gap=0.01))
    greedy = plan_greedy(planning)
    members = members_for(planning)
    drafts = fill(planning, plan, members)
    assert check(planning, plan, drafts, members) == []
    assert check(planning, greedy) == []
    assert plan.objective <= greedy.objective + 1e-6
    assert plan.gap is not None and plan.gap <= 0.01
    assert sum(len(d.people) for d in drafts) == plan.moved
    assert plan.bottlenecks and all(b.message for b in plan.bottlenecks)
    document = json.loads(json.dumps(plan.as_dict()))
    assert document["schedule"][0]["date"] == "2026-01-22"


def test_the_benchmark_measures_a_small_size() -> None:
    figure = measure_one(Size(700, 20, 0.01, 10.0))
    assert figure.violations == 0
    assert figure.gap is not None and figure.gap <= 0.01
    assert figure.objective <= figure.greedy_objective + 1e-6
    assert figure.met
