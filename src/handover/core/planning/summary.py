"""Turn the units a planner moves (cohort, route, day) into a Plan: sorties, utilisation, waiting, completion."""

from __future__ import annotations

from collections import defaultdict

from handover.core.planning.explain import explain
from handover.core.planning.flows import Flows, Moves, flows
from handover.core.planning.model import ESTATES, Headcount
from handover.core.planning.plan import CohortLoad, DestinationDay, Plan, PlanStatus, RouteDay
from handover.core.planning.rules import Network, places_on, sorties_needed


def summarise(
    net: Network,
    moves: Moves,
    *,
    method: str,
    status: PlanStatus,
    bound: float | None,
    seconds: float,
) -> Plan:
    inputs = net.inputs
    horizon = inputs.horizon_days
    cohorts = {c.id: c for c in inputs.cohorts}
    f = flows(net, moves)

    per_route_day: dict[tuple[int, str], list[CohortLoad]] = defaultdict(list)
    waiting = 0
    weighted = 0.0
    moved_units: dict[str, int] = defaultdict(int)
    last_day: int | None = None
    for (cohort_id, route_id, day), units in sorted(moves.items(), key=lambda kv: (kv[0][2], kv[0][1], kv[0][0])):
        if units <= 0:
            continue
        cohort = cohorts[cohort_id]
        per_route_day[day, route_id].append(CohortLoad(cohort_id, units, units * cohort.unit_size))
        moved_units[cohort_id] += units
        waiting += day * units * cohort.unit_size
        weighted += day * units * cohort.unit_size * cohort.priority
        last_day = day if last_day is None else max(last_day, day)
    schedule = tuple(
        RouteDay(day, route_id, f.sorties[route_id, day], tuple(loads))
        for (day, route_id), loads in sorted(per_route_day.items())
    )
    left_behind = []
    for cohort in inputs.cohorts:
        units = cohort.units - moved_units[cohort.id]
        if units > 0:
            left_behind.append(CohortLoad(cohort.id, units, units * cohort.unit_size))
            waiting += horizon * units * cohort.unit_size
            weighted += horizon * units * cohort.unit_size * cohort.priority
    remaining = sum(load.people for load in left_behind)
    movements = sum(r.sorties for r in schedule)
    objective = weighted + net.movement_cost * movements
    return Plan(
        method=method,
        status=status,
        horizon_days=horizon,
        start=inputs.start,
        schedule=schedule,
        utilisation=_utilisation(net, f),
        people=inputs.people,
        moved=inputs.people - remaining,
        remaining=remaining,
        left_behind=tuple(left_behind),
        completion_day=last_day if remaining == 0 else None,
        waiting_person_days=waiting,
        weighted_waiting=weighted,
        movements=movements,
        objective=objective,
        bound=bound,
        gap=relative_gap(objective, bound),
        bottlenecks=explain(f),
        seconds=seconds,
    )


def objective(net: Network, moves: Moves) -> float:
    """The objective `summarise` reports, without building the plan: weighted waiting plus movements."""
    horizon = net.inputs.horizon_days
    cohorts = {c.id: c for c in net.inputs.cohorts}
    saved = 0.0
    people: dict[tuple[str, int], int] = defaultdict(int)
    for (cohort_id, route_id, day), units in moves.items():
        cohort = cohorts[cohort_id]
        saved += cohort.priority * cohort.unit_size * units * (horizon - day)
        people[route_id, day] += units * cohort.unit_size
    movements = sum(sorties_needed(n, net.seats[route_id]) for (route_id, _day), n in people.items())
    waiting = sum(c.priority * c.people * horizon for c in net.inputs.cohorts) - saved
    return waiting + net.movement_cost * movements


def relative_gap(objective: float, bound: float | None) -> float | None:
    """(objective - bound) / objective, as HiGHS reports it; 0 when both are 0."""
    if bound is None:
        return None
    if abs(objective) < 1e-9:
        return 0.0
    return max(0.0, (objective - bound) / abs(objective))


def _utilisation(net: Network, f: Flows) -> tuple[DestinationDay, ...]:
    rows = []
    empty = dict.fromkeys(ESTATES, 0)
    for destination in net.inputs.destinations:
        cap = destination.daily_intake_cap
        for day in range(net.inputs.horizon_days):
            rows.append(
                DestinationDay(
                    day=day,
                    destination_id=destination.id,
                    arrivals=Headcount.from_counts(f.arrivals.get((destination.id, day), empty)),
                    occupancy=Headcount.from_counts({e: f.occupancy[destination.id, e][day] for e in ESTATES}),
                    places=Headcount.from_counts({e: places_on(destination, e, day) for e in ESTATES}),
                    intake_cap=cap.at(day) if cap is not None else None,
                )
            )
    return tuple(rows)
