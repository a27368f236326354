"""The planner on instances shaped like the demo: time to a plan, gap to the solver's bound, and the greedy baseline.

`measure()` builds a synthetic instance per size (5 origins: three men's prisons and two family camps; 4
destinations: two maximum-security prisons, one lower-security prison and a family centre; helicopter and road
routes, the road ones through a border crossing that closes for a few days; intake caps per destination and overall;
places freed by onward transfers; repatriation holds and pending safeguard clearances), plans it with the greedy
baseline and with HiGHS in the same run, checks both plans with the independent checker and fills the solver's plan
with named people. Run `python -m bench.planning` for a quick look.
"""

from __future__ import annotations

import math
import os
import random
import time
from dataclasses import dataclass
from datetime import date

from handover.core.custody.model import Capacity, Estate, FacilityKind, TransportMode
from handover.core.planning.checker import check
from handover.core.planning.fill import fill
from handover.core.planning.greedy import plan_greedy
from handover.core.planning.model import (
    Cohort,
    Crossing,
    Destination,
    Freed,
    Headcount,
    Member,
    Nationality,
    Origin,
    PlanningInput,
    Route,
    Steps,
    family,
    one,
)
from handover.core.planning.rules import network
from handover.core.planning.solver import SolverOptions, solve

START = date(2026, 1, 22)


@dataclass(frozen=True)
class Size:
    people: int
    horizon_days: int
    target_gap: float
    time_limit: float


SIZES = (Size(7_000, 60, 0.01, 10.0), Size(50_000, 120, 0.02, 60.0))


@dataclass(frozen=True)
class PlanningFigure:
    people: int
    horizon_days: int
    cohorts: int
    routes: int
    variables: int
    """Integer unknowns of cohort moves (cohort, route, day) the rules allow; sorties come on top."""
    seconds: float
    """Wall time to a plan: rules, greedy start, model, HiGHS, summary and explanations."""
    status: str
    objective: float
    bound: float | None
    gap: float | None
    completion_day: int | None
    remaining: int
    movements: int
    greedy_seconds: float
    greedy_objective: float
    greedy_completion_day: int | None
    greedy_remaining: int
    violations: int
    """Violations the checker found in the solver's plan, the greedy plan and the filled movements together."""
    fill_seconds: float
    target_gap: float
    time_limit: float
    cores: int
    """Cores on the machine; HiGHS's branch and bound uses one, its presolve and LP may use more."""

    @property
    def vs_greedy(self) -> float:
        """The solver's objective over the greedy one: below 1 is better."""
        return self.objective / self.greedy_objective if self.greedy_objective else 1.0

    @property
    def met(self) -> bool:
        return (
            self.gap is not None
            and self.gap <= self.target_gap + 1e-9
            and self.seconds <= self.time_limit
            and self.violations == 0
        )


def demo_shaped(people: int, horizon_days: int, seed: int = 0) -> PlanningInput:
    """A synthetic instance shaped like the 2026 demo scenario, scaled to `people` over `horizon_days`."""
    rng = random.Random(seed)
    # Places scale with the people; the pace (sorties, intake caps) with the people per day of horizon, so that a
    # larger operation over a longer horizon is as tight as the demo's 7,000 over 60 days.
    pace = (people / horizon_days) / (7_000 / 60)
    hold_until = horizon_days // 4
    origins = (
        Origin("ghweran", "Ghweran"),
        Origin("al-sinaa", "al-Sina'a"),
        Origin("shaddadi", "Shaddadi"),
        Origin("al-hol", "al-Hol"),
        Origin("roj", "Roj"),
    )
    # Men's places at the prisons fall short at first; Karkh frees more as its inmates move on.
    men = round(0.79 * people)
    women_children = people - men
    destinations = (
        Destination(
            "karkh",
            "Karkh",
            FacilityKind.PRISON,
            4,
            Capacity(adult_men=round(0.40 * men)),
            freed=(Freed(horizon_days // 3, Estate.ADULT_MEN, round(0.15 * men)),),
            daily_intake_cap=Steps(math.ceil(220 * pace)),
        ),
        Destination(
            "al-hout",
            "al-Hout",
            FacilityKind.PRISON,
            4,
            Capacity(adult_men=round(0.30 * men)),
            daily_intake_cap=Steps(math.ceil(160 * pace)),
        ),
        Destination(
            "baghdad-central",
            "Baghdad Central",
            FacilityKind.PRISON,
            3,
            Capacity(adult_men=round(0.25 * men)),
            daily_intake_cap=Steps(math.ceil(120 * pace)),
        ),
        Destination(
            "jeddah-1",
            "Jeddah-1",
            FacilityKind.FAMILY_CENTRE,
            2,
            Capacity(adult_women=round(0.45 * women_children), minors=round(0.65 * women_children)),
            daily_intake_cap=Steps(math.ceil(90 * pace)),
        ),
    )
    crossings = (Crossing("rabia", "Rabia", closed=((horizon_days // 6, horizon_days // 6 + 4),)),)
    heli = max(1, round(2 * pace))
    convoys = max(1, round(1 * pace))
    routes = []
    for origin in ("ghweran", "al-sinaa", "shaddadi"):
        for destination in ("karkh", "al-hout"):
            routes.append(
                Route(
                    f"{origin}-{destination}-heli",
                    origin,
                    destination,
                    TransportMode.HELICOPTER,
                    150,
                    Steps(heli if origin == "ghweran" else max(1, heli // 2)),
                    via=("kharab-al-jir",),
                )
            )
            routes.append(
                Route(
                    f"{origin}-{destination}-road",
                    origin,
                    destination,
                    TransportMode.ROAD_CONVOY,
                    270,
                    Steps(convoys),
                    crossings=("rabia",),
                    via=("al-yarubiyah", "rabia"),
                )
            )
        routes.append(
            Route(
                f"{origin}-baghdad-central-road",
                origin,
                "baghdad-central",
                TransportMode.ROAD_CONVOY,
                270,
                Steps(convoys),
                crossings=("rabia",),
            )
        )
    for origin in ("al-hol", "roj"):
        routes.append(
            Route(
                f"{origin}-jeddah-1-road",
                origin,
                "jeddah-1",
                TransportMode.ROAD_CONVOY,
                270,
                Steps(convoys),
                crossings=("rabia",),
            )
        )

    shares = {"ghweran": 0.60, "al-sinaa": 0.15, "shaddadi": 0.04, "al-hol": 0.17, "roj": 0.04}
    iraqi = {"ghweran": 0.25, "al-sinaa": 0.30, "shaddadi": 0.30, "al-hol": 0.45, "roj": 0.02}
    # Shaddadi had a breakout and al-Hol was left without guards: those origins are at risk and go first.
    priority = {"ghweran": 1.0, "al-sinaa": 1.0, "shaddadi": 3.0, "al-hol": 2.0, "roj": 1.0}
    cohorts: list[Cohort] = []
    for origin, share in shares.items():
        here = round(share * people)
        kinds: list[tuple[str, Headcount, float, int]]
        if origin in ("al-hol", "roj"):
            kinds = [
                ("f1", family(1, 1), 0.20, 2),
                ("f2", family(1, 2), 0.30, 2),
                ("f3", family(1, 3), 0.25, 2),
                ("f4", family(1, 4), 0.15, 2),
                ("w", one(Estate.ADULT_WOMEN), 0.06, 2),
                ("m", one(Estate.MINORS), 0.04, 2),
            ]
        else:
            kinds = [("s3", one(Estate.ADULT_MEN), 0.55, 3), ("s4", one(Estate.ADULT_MEN), 0.45, 4)]
        for kind, composition, kind_share, security in kinds:
            for nationality, open_case, status_share in (
                (Nationality.IRAQI, False, iraqi[origin]),
                (Nationality.FOREIGN, True, (1 - iraqi[origin]) * 0.5),
                (Nationality.FOREIGN, False, (1 - iraqi[origin]) * 0.5),
            ):
                for cleared, cleared_share in ((True, 0.85), (False, 0.15)):
                    group_people = here * kind_share * status_share * cleared_share
                    units = round(group_people / composition.total)
                    if units == 0:
                        continue
                    name = f"{origin}-{kind}-{nationality.value}{'-held' if open_case else ''}"
                    cohorts.append(
                        Cohort(
                            id=f"{name}-{'cleared' if cleared else 'pending'}",
                            origin=origin,
                            units=units,
                            composition=composition,
                            security_level=security,
                            nationality=nationality,
                            repatriation_case_open=open_case,
                            cleared=cleared,
                            clearance_day=None if cleared else rng.randint(3, horizon_days * 3 // 5),
                            priority=priority[origin],
                        )
                    )
    return PlanningInput(
        horizon_days=horizon_days,
        origins=origins,
        destinations=destinations,
        routes=tuple(routes),
        cohorts=tuple(cohorts),
        crossings=crossings,
        overall_daily_cap=Steps(math.ceil(240 * pace)),
        repatriation_hold_until=hold_until,
        start=START,
    )


def members_for(inputs: PlanningInput) -> list[Member]:
    """Named people for every cohort unit: p-<cohort>-<unit>-<member>."""
    out = []
    for cohort in inputs.cohorts:
        for unit in range(cohort.units):
            unit_id = f"{cohort.id}-{unit}"
            out += [Member(f"{unit_id}-{k}", cohort.id, unit_id) for k in range(cohort.unit_size)]
    return out


def measure_one(size: Size, *, seed: int = 0) -> PlanningFigure:
    inputs = demo_shaped(size.people, size.horizon_days, seed)
    greedy = plan_greedy(inputs)
    started = time.perf_counter()
    plan = solve(inputs, SolverOptions(time_limit=size.time_limit, mip_gap=size.target_gap, seed=seed))
    seconds = time.perf_counter() - started
    members = members_for(inputs)
    filled = time.perf_counter()
    drafts = fill(inputs, plan, members)
    fill_seconds = time.perf_counter() - filled
    violations = len(check(inputs, plan, drafts, members)) + len(check(inputs, greedy))
    return PlanningFigure(
        people=inputs.people,
        horizon_days=inputs.horizon_days,
        cohorts=len(inputs.cohorts),
        routes=len(inputs.routes),
        variables=sum(len(a.days) for a in network(inputs).arcs),
        seconds=seconds,
        status=plan.status.value,
        objective=plan.objective,
        bound=plan.bound,
        gap=plan.gap,
        completion_day=plan.completion_day,
        remaining=plan.remaining,
        movements=plan.movements,
        greedy_seconds=greedy.seconds,
        greedy_objective=greedy.objective,
        greedy_completion_day=greedy.completion_day,
        greedy_remaining=greedy.remaining,
        violations=violations,
        fill_seconds=fill_seconds,
        target_gap=size.target_gap,
        time_limit=size.time_limit,
        cores=os.cpu_count() or 1,
    )


def measure(sizes: tuple[Size, ...] = SIZES, *, seed: int = 0) -> list[PlanningFigure]:
    """One figure per size; sizes can be lowered with BENCH_PLANNING_SCALE (e.g. 0.1) for a quick look."""
    factor = float(os.environ.get("BENCH_PLANNING_SCALE", "1"))
    scaled = tuple(Size(max(1, round(s.people * factor)), s.horizon_days, s.target_gap, s.time_limit) for s in sizes)
    return [measure_one(s, seed=seed) for s in scaled]


if __name__ == "__main__":
    for f in measure():
        print(
            f"{f.people:,} people / {f.horizon_days} days: {f.cohorts} cohorts, {f.routes} routes, "
            f"{f.variables:,} move variables; {f.seconds:.1f} s, {f.status}, gap "
            f"{'-' if f.gap is None else f'{100 * f.gap:.2f}%'}, objective {f.objective:,.0f} vs greedy "
            f"{f.greedy_objective:,.0f} ({f.vs_greedy:.3f}); done day {f.completion_day} (greedy "
            f"{f.greedy_completion_day}), {f.remaining} left; {f.violations} violations; "
            f"{'met' if f.met else 'NOT met'}"
        )
