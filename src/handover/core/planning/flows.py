"""What a set of moves does, day by day: route loads, sorties, arrivals, occupancy, and who is still waiting."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from handover.core.custody.model import Estate
from handover.core.planning.model import ESTATES
from handover.core.planning.rules import Network, sorties_needed

Moves = Mapping[tuple[str, str, int], int]
"""Units of a cohort moved on a route on a day: (cohort id, route id, day) -> units."""


@dataclass(frozen=True, slots=True)
class Flows:
    """The quantities the explanations read: what each route, destination and cohort did each day."""

    net: Network
    route_people: dict[tuple[str, int], int]
    sorties: dict[tuple[str, int], int]
    arrivals: dict[tuple[str, int], dict[Estate, int]]
    occupancy: dict[tuple[str, Estate], list[int]]
    remaining_after: dict[str, list[int]]
    """People of each cohort still at origin at the end of each day."""


def flows(net: Network, moves: Moves) -> Flows:
    inputs = net.inputs
    horizon = inputs.horizon_days
    cohorts = {c.id: c for c in inputs.cohorts}
    routes = {r.id: r for r in inputs.routes}
    route_people: dict[tuple[str, int], int] = defaultdict(int)
    arrivals: dict[tuple[str, int], dict[Estate, int]] = defaultdict(lambda: dict.fromkeys(ESTATES, 0))
    left_on: dict[str, list[int]] = {c.id: [0] * horizon for c in inputs.cohorts}
    for (cohort_id, route_id, day), units in moves.items():
        if units <= 0:
            continue
        cohort, route = cohorts[cohort_id], routes[route_id]
        route_people[route_id, day] += units * cohort.unit_size
        for estate in ESTATES:
            arrivals[route.destination, day][estate] += units * cohort.composition.of(estate)
        left_on[cohort_id][day] += units * cohort.unit_size
    sorties = {key: sorties_needed(people, net.seats[key[0]]) for key, people in route_people.items()}
    occupancy: dict[tuple[str, Estate], list[int]] = {}
    for destination in inputs.destinations:
        for estate in ESTATES:
            total, series = 0, []
            for day in range(horizon):
                total += arrivals[destination.id, day][estate] if (destination.id, day) in arrivals else 0
                series.append(total)
            occupancy[destination.id, estate] = series
    remaining_after: dict[str, list[int]] = {}
    for cohort in inputs.cohorts:
        left, series = cohort.people, []
        for day in range(horizon):
            left -= left_on[cohort.id][day]
            series.append(left)
        remaining_after[cohort.id] = series
    return Flows(net, dict(route_people), sorties, dict(arrivals), occupancy, remaining_after)
