"""The planners' reading of the rules: which cohort may go where, from which day, on which route and day.

Shared by the solver, the greedy baseline, the fill and the explanations. The checker does not use it: it reads the
same rules again in its own code, so that a mistake here is caught there rather than repeated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from handover.core.custody.model import Estate, FacilityKind
from handover.core.planning.model import Cohort, Destination, Nationality, PlanningInput, Route


def accepts(destination: Destination, cohort: Cohort) -> bool:
    """Adult men only to prisons of sufficient security; women and children only to family facilities, never to
    adult prisons; a family only where every one of its members may go; and only where that estate has places."""
    if destination.security_level < cohort.security_level:
        return False
    for estate in cohort.composition.estates():
        wanted = FacilityKind.PRISON if estate is Estate.ADULT_MEN else FacilityKind.FAMILY_CENTRE
        if destination.kind is not wanted:
            return False
        if destination.places.for_estate(estate) <= 0 and not any(
            f.estate is estate and f.places > 0 for f in destination.freed
        ):
            return False
    return True


def first_day(inputs: PlanningInput, cohort: Cohort) -> int | None:
    """The first day a cohort may move, or None if never: repatriation holds and safeguard clearance push it back."""
    day = 0
    if (
        cohort.nationality is Nationality.FOREIGN
        and cohort.repatriation_case_open
        and inputs.repatriation_hold_until is not None
    ):
        day = max(day, inputs.repatriation_hold_until)
    if not cohort.cleared:
        if cohort.clearance_day is None:
            return None
        day = max(day, cohort.clearance_day)
    return day


def crossing_closed(inputs: PlanningInput, route: Route, day: int) -> str | None:
    """The id of a crossing on the route that is closed on `day`, if any."""
    for crossing_id in route.crossings:
        crossing = inputs.crossing(crossing_id)
        if any(first <= day <= last for first, last in crossing.closed):
            return crossing_id
    return None


def route_open(inputs: PlanningInput, route: Route, day: int) -> bool:
    return route.sorties_per_day.at(day) > 0 and crossing_closed(inputs, route, day) is None


def places_on(destination: Destination, estate: Estate, day: int) -> int:
    """Places for this operation in one estate on `day`: the free places plus those freed by then."""
    freed = sum(f.places for f in destination.freed if f.estate is estate and f.day <= day)
    return destination.places.for_estate(estate) + freed


@dataclass(frozen=True, slots=True)
class Arc:
    """A cohort that may use a route, and the days it may (from its first day, on days the route runs)."""

    cohort: Cohort
    route: Route
    days: tuple[int, ...]
    day_set: frozenset[int]


@dataclass(frozen=True, slots=True)
class Network:
    """Everything the planners derive once from the inputs."""

    inputs: PlanningInput
    candidates: tuple[tuple[Cohort, Route], ...]
    """Every cohort and route that the rules allow together, whatever the days."""
    arcs: tuple[Arc, ...]
    first_days: dict[str, int | None]
    open_days: dict[str, tuple[int, ...]]
    seats: dict[str, int]
    """Seats per sortie a planner may fill so that families always pack (see `packing_seats`)."""
    movement_cost: float


def network(inputs: PlanningInput) -> Network:
    destinations = {d.id: d for d in inputs.destinations}
    open_days = {r.id: tuple(d for d in range(inputs.horizon_days) if route_open(inputs, r, d)) for r in inputs.routes}
    first_days = {c.id: first_day(inputs, c) for c in inputs.cohorts}
    candidates = [
        (c, r)
        for c in inputs.cohorts
        for r in inputs.routes
        if c.units > 0 and r.origin == c.origin and accepts(destinations[r.destination], c)
    ]
    largest: dict[str, int] = {}
    for c, r in candidates:
        largest[r.id] = max(largest.get(r.id, 1), c.unit_size)
    seats = {r.id: packing_seats(r.seats, largest.get(r.id, 1)) for r in inputs.routes}
    candidates = [(c, r) for c, r in candidates if c.unit_size <= seats[r.id]]
    arcs = []
    for c, r in candidates:
        first = first_days[c.id]
        if first is None:
            continue
        days = tuple(d for d in open_days[r.id] if d >= first)
        if days:
            arcs.append(Arc(c, r, days, frozenset(days)))
    return Network(
        inputs, tuple(candidates), tuple(arcs), first_days, open_days, seats, movement_cost(inputs, open_days)
    )


def packing_seats(seats: int, largest_unit: int) -> int:
    """Seats per sortie a cohort-level plan may count on so that families can always be packed whole.

    First-fit can fail to place a family of size a only when every sortie already holds more than seats - a people;
    so if a route-day carries at most (seats - largest + 1) per sortie, first-fit never fails. Single people (largest
    1) lose nothing; a convoy of 270 seats carrying families of up to 8 loses 7 seats.
    """
    return max(seats - largest_unit + 1, 0)


def movement_cost(inputs: PlanningInput, open_days: dict[str, tuple[int, ...]]) -> float:
    """The cost of one movement in the objective, kept below what any person-day of waiting is worth.

    All the movements that could ever fly together cost less than the smallest priority weight, so with whole-number
    priorities a movement never buys a person-day of waiting: waiting first, then fewest movements.
    """
    weights = [c.priority for c in inputs.cohorts if c.units > 0]
    if not weights:
        return 1.0
    most = sum(r.sorties_per_day.at(d) for r in inputs.routes for d in open_days[r.id])
    return min(weights) / (most + 1)


def sorties_needed(people: int, seats: int) -> int:
    return math.ceil(people / seats) if people > 0 else 0
