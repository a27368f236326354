"""A greedy first-fit planner: the baseline the solver is measured against, and how the solver completes a rounding.

Day by day, cohorts in order of priority (then those needing more security, then id) take whatever their routes
can still carry: seats, places in their estates, intake caps; least secure destination first, then in the order
given. It never waits to do better later, so it is fast and rarely optimal.
Given moves already made (`base`), it only adds to them, within what those moves leave free.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Sequence

from handover.core.custody.model import Estate
from handover.core.planning.flows import Moves
from handover.core.planning.model import ESTATES, PlanningInput
from handover.core.planning.plan import Plan, PlanStatus
from handover.core.planning.rules import Network, network, places_on
from handover.core.planning.summary import summarise


def plan_greedy(inputs: PlanningInput) -> Plan:
    started = time.perf_counter()
    net = network(inputs)
    moves = greedy_moves(net)
    return summarise(
        net, moves, method="greedy", status=PlanStatus.HEURISTIC, bound=None, seconds=time.perf_counter() - started
    )


def greedy_moves(
    net: Network, base: Moves | None = None, prefer: Sequence[tuple[str, str, int]] = ()
) -> dict[tuple[str, str, int], int]:
    """Greedy moves on top of `base`; first one more unit at each of `prefer` (cohort, route, day), where it fits."""
    inputs = net.inputs
    horizon = inputs.horizon_days
    cohorts = {c.id: c for c in inputs.cohorts}
    routes = {r.id: r for r in inputs.routes}
    destinations = {d.id: d for d in inputs.destinations}
    moves: dict[tuple[str, str, int], int] = {key: units for key, units in (base or {}).items() if units > 0}

    left = {c.id: c.units for c in inputs.cohorts}
    seats: dict[tuple[str, int], float] = {}
    intake: dict[tuple[str, int], float] = {}
    overall: dict[int, float] = {}
    for day in range(horizon):
        overall[day] = inputs.overall_daily_cap.at(day) if inputs.overall_daily_cap is not None else math.inf
        for d in inputs.destinations:
            intake[d.id, day] = d.daily_intake_cap.at(day) if d.daily_intake_cap is not None else math.inf
        for r in inputs.routes:
            seats[r.id, day] = net.seats[r.id] * r.sorties_per_day.at(day)
    arrived: dict[tuple[str, Estate], list[int]] = defaultdict(lambda: [0] * horizon)
    for (cohort_id, route_id, day), units in moves.items():
        cohort, route = cohorts[cohort_id], routes[route_id]
        people = units * cohort.unit_size
        left[cohort_id] -= units
        seats[route_id, day] -= people
        intake[route.destination, day] -= people
        overall[day] -= people
        for estate in cohort.composition.estates():
            arrived[route.destination, estate][day] += units * cohort.composition.of(estate)
    # slack[d] = places on day d less everything that has arrived by then. A unit arriving on day d uses a place on
    # every later day too, so it fits only if every slack from d on has room for it.
    slack: dict[tuple[str, Estate], list[int]] = {}
    for d in inputs.destinations:
        for estate in ESTATES:
            total, series = 0, []
            for day in range(horizon):
                total += arrived[d.id, estate][day] if (d.id, estate) in arrived else 0
                series.append(places_on(d, estate, day) - total)
            slack[d.id, estate] = series

    # Best fit: a cohort tries the least secure destinations it may go to first, and cohorts that need more
    # security choose first, so maximum-security places are not used up by people who could go elsewhere.
    by_cohort: dict[str, list[int]] = {}
    for i, arc in sorted(
        enumerate(net.arcs), key=lambda ia: (destinations[ia[1].route.destination].security_level, ia[0])
    ):
        by_cohort.setdefault(arc.cohort.id, []).append(i)
    order = sorted(inputs.cohorts, key=lambda c: (-c.priority, -c.security_level, c.id))
    routes_by_id = {r.id: r for r in inputs.routes}

    def add(cohort_id: str, route_id: str, day: int, wanted: int) -> None:
        cohort = cohorts[cohort_id]
        destination = destinations[routes_by_id[route_id].destination]
        size = cohort.unit_size
        room = min(seats[route_id, day], intake[destination.id, day], overall[day])
        units = min(left[cohort_id], wanted)
        if room != math.inf:
            units = min(units, int(room // size))
        for estate in cohort.composition.estates():
            free = min(slack[destination.id, estate][day:])
            units = min(units, free // cohort.composition.of(estate))
        if units <= 0:
            return
        key = (cohort_id, route_id, day)
        moves[key] = moves.get(key, 0) + units
        left[cohort_id] -= units
        people = units * size
        seats[route_id, day] -= people
        intake[destination.id, day] -= people
        overall[day] -= people
        for estate in cohort.composition.estates():
            series = slack[destination.id, estate]
            used = units * cohort.composition.of(estate)
            for later in range(day, horizon):
                series[later] -= used

    for cohort_id, route_id, day in prefer:
        add(cohort_id, route_id, day, 1)
    for day in range(horizon):
        for cohort in order:
            for i in by_cohort.get(cohort.id, []):
                arc = net.arcs[i]
                if left[cohort.id] > 0 and day in arc.day_set:
                    add(cohort.id, arc.route.id, day, left[cohort.id])
    return moves
