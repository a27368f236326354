"""Property tests: random small instances through the solver, the greedy baseline, the fill and the checker."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handover.core.custody.model import Capacity, Estate, FacilityKind, TransportMode
from handover.core.planning.checker import check
from handover.core.planning.fill import fill
from handover.core.planning.greedy import plan_greedy
from handover.core.planning.model import (
    ESTATES,
    Cohort,
    Crossing,
    Destination,
    Freed,
    Nationality,
    Origin,
    PlanningInput,
    Route,
    Steps,
    family,
    one,
)
from handover.core.planning.plan import PlanStatus
from handover.core.planning.solver import SolverOptions, solve
from tests.core.planning.instances import members_for

ORIGINS = (Origin("o1", "First camp"), Origin("o2", "Second prison"))


@st.composite
def steps(draw: st.DrawFn, horizon: int, most: int) -> Steps:
    changes = draw(st.lists(st.tuples(st.integers(0, horizon), st.integers(0, most)), max_size=2))
    return Steps(draw(st.integers(0, most)), tuple(changes))


@st.composite
def instances(draw: st.DrawFn) -> PlanningInput:
    horizon = draw(st.integers(1, 6))
    destinations = []
    for i in range(draw(st.integers(1, 3))):
        destinations.append(
            Destination(
                id=f"d{i}",
                name=f"Destination {i}",
                kind=draw(st.sampled_from([FacilityKind.PRISON, FacilityKind.FAMILY_CENTRE, FacilityKind.CAMP])),
                security_level=draw(st.integers(1, 4)),
                places=Capacity(
                    adult_men=draw(st.integers(0, 60)),
                    adult_women=draw(st.integers(0, 40)),
                    minors=draw(st.integers(0, 60)),
                ),
                freed=tuple(
                    draw(
                        st.lists(
                            st.builds(
                                Freed,
                                day=st.integers(0, horizon),
                                estate=st.sampled_from(ESTATES),
                                places=st.integers(0, 30),
                            ),
                            max_size=2,
                        )
                    )
                ),
                daily_intake_cap=draw(st.none() | steps(horizon, 80)),
            )
        )
    closed = draw(st.lists(st.tuples(st.integers(0, horizon), st.integers(0, 2)), max_size=2))
    crossings = (Crossing("x", "Crossing", tuple((a, a + n) for a, n in closed)),)
    routes = [
        Route(
            id=f"r{i}",
            origin=draw(st.sampled_from(ORIGINS)).id,
            destination=draw(st.sampled_from(destinations)).id,
            mode=draw(st.sampled_from(list(TransportMode))),
            # At least twice the largest family less one, so every family fits a sortie at packing seats.
            seats=draw(st.integers(9, 60)),
            sorties_per_day=draw(steps(horizon, 3)),
            crossings=draw(st.sampled_from([(), ("x",)])),
        )
        for i in range(draw(st.integers(1, 4)))
    ]
    cohorts = []
    for i in range(draw(st.integers(1, 5))):
        composition = draw(
            st.sampled_from(
                [one(Estate.ADULT_MEN), one(Estate.ADULT_WOMEN), one(Estate.MINORS), family(1, 1), family(1, 3)]
            )
        )
        cleared = draw(st.booleans())
        cohorts.append(
            Cohort(
                id=f"c{i}",
                origin=draw(st.sampled_from(ORIGINS)).id,
                units=draw(st.integers(0, 40)),
                composition=composition,
                security_level=draw(st.integers(0, 4)),
                nationality=draw(st.sampled_from(list(Nationality))),
                repatriation_case_open=draw(st.booleans()),
                cleared=cleared,
                clearance_day=None if cleared else draw(st.none() | st.integers(0, horizon)),
                priority=float(draw(st.integers(1, 3))),
            )
        )
    return PlanningInput(
        horizon_days=horizon,
        origins=ORIGINS,
        destinations=tuple(destinations),
        routes=tuple(routes),
        cohorts=tuple(cohorts),
        crossings=crossings,
        overall_daily_cap=draw(st.none() | steps(horizon, 120)),
        repatriation_hold_until=draw(st.none() | st.integers(0, horizon + 1)),
    )


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_solver_plans_pass_the_checker_and_beat_greedy(planning: PlanningInput) -> None:
    plan = solve(planning, SolverOptions(time_limit=10.0, mip_gap=0.0))
    greedy = plan_greedy(planning)
    members = members_for(planning)
    for made in (plan, greedy):
        drafts = fill(planning, made, members)
        assert check(planning, made, drafts, members) == []
    assert plan.status is PlanStatus.OPTIMAL
    assert plan.objective <= greedy.objective + 1e-6
    assert plan.bound is not None and plan.bound <= plan.objective + 1e-6
    if plan.remaining:
        # At the optimum someone left behind could not have gone on any day: something names why.
        assert plan.bottlenecks
