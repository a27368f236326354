"""Why people are still waiting: the constraints that bind, named in words.

A constraint binds on a day when it has no room for one more unit (a person, or a whole family) of someone who could
have used it that day and is still at their origin at the end of the day. At an optimum, loosening any
constraint that binds in this sense is the only way to move those people sooner. Structural reasons (no route at all,
repatriation holds, safeguard clearance, closed crossings) are named first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

from handover.core.custody.model import Estate, TransportMode
from handover.core.planning.flows import Flows
from handover.core.planning.model import ESTATES, Cohort, Nationality, PlanningInput, Route
from handover.core.planning.plan import Bottleneck, BottleneckKind
from handover.core.planning.rules import Arc, places_on
from handover.i18n import _

_STRUCTURAL = (
    BottleneckKind.NO_ROUTE,
    BottleneckKind.ROUTE_CLOSED,
    BottleneckKind.NOT_CLEARED,
    BottleneckKind.HELD_FOR_REPATRIATION,
    BottleneckKind.CROSSING_CLOSED,
)


def explain(f: Flows) -> tuple[Bottleneck, ...]:
    found = [
        *_structural(f),
        *_crossings(f),
        *_capacity(f),
        *_intake_caps(f),
        *_overall_cap(f),
        *_transport(f),
    ]
    rank = {kind: i for i, kind in enumerate(_STRUCTURAL)}
    return tuple(sorted(found, key=lambda b: (rank.get(b.kind, len(rank)), -b.people, b.subject)))


def who(estates: Iterable[Estate]) -> str:
    """Words for the people in a set of estates: "adult men", "women and children"."""
    present = set(estates)
    words = {
        frozenset({Estate.ADULT_MEN}): _("adult men"),
        frozenset({Estate.ADULT_WOMEN}): _("women"),
        frozenset({Estate.MINORS}): _("children"),
        frozenset({Estate.ADULT_WOMEN, Estate.MINORS}): _("women and children"),
    }
    return words.get(frozenset(present), _("men, women and children"))


def estate_words(estate: Estate) -> str:
    return {Estate.ADULT_MEN: _("adult-men"), Estate.ADULT_WOMEN: _("adult-women"), Estate.MINORS: _("minors")}[estate]


def mode_words(mode: TransportMode) -> str:
    return {
        TransportMode.HELICOPTER: _("helicopter"),
        TransportMode.AIRCRAFT: _("aircraft"),
        TransportMode.ROAD_CONVOY: _("road convoy"),
    }[mode]


def route_words(inputs: PlanningInput, route: Route) -> str:
    return _("{origin} to {destination} by {mode}").format(
        origin=inputs.origin(route.origin).name,
        destination=inputs.destination(route.destination).name,
        mode=mode_words(route.mode),
    )


def ranges(days: Iterable[int]) -> tuple[tuple[int, int], ...]:
    """Consecutive days folded into inclusive ranges: 3, 4, 5, 9 -> (3, 5), (9, 9)."""
    out: list[tuple[int, int]] = []
    for day in sorted(set(days)):
        if out and out[-1][1] == day - 1:
            out[-1] = (out[-1][0], day)
        else:
            out.append((day, day))
    return tuple(out)


def days_words(spans: tuple[tuple[int, int], ...]) -> str:
    parts = [str(a) if a == b else f"{a}–{b}" for a, b in spans]
    if len(spans) == 1 and spans[0][0] == spans[0][1]:
        return _("day {day}").format(day=parts[0])
    return _("days {days}").format(days=", ".join(parts))


def _waiting(f: Flows, cohort: Cohort, day: int) -> int:
    return f.remaining_after[cohort.id][min(day, f.net.inputs.horizon_days - 1)]


def _structural(f: Flows) -> list[Bottleneck]:
    inputs = f.net.inputs
    horizon = inputs.horizon_days
    routed = {c.id for c, _r in f.net.candidates}
    with_days = {arc.cohort.id for arc in f.net.arcs}
    no_route: dict[str, list[Cohort]] = defaultdict(list)
    closed: dict[str, list[Cohort]] = defaultdict(list)
    held: dict[tuple[str, int], int] = defaultdict(int)
    uncleared: dict[tuple[str, int | None], int] = defaultdict(int)
    for cohort in inputs.cohorts:
        if cohort.units == 0:
            continue
        hold = (
            inputs.repatriation_hold_until or 0
            if cohort.nationality is Nationality.FOREIGN and cohort.repatriation_case_open
            else 0
        )
        clearance = 0 if cohort.cleared else cohort.clearance_day
        if clearance is None or clearance > hold:
            if clearance is None or clearance > 0:
                uncleared[cohort.origin, clearance] += cohort.people
        elif hold > 0:
            held[cohort.origin, hold] += cohort.people
        if _waiting(f, cohort, horizon) == 0:
            continue
        if cohort.id not in routed:
            no_route[cohort.origin].append(cohort)
        elif cohort.id not in with_days and clearance is not None and max(hold, clearance) < horizon:
            closed[cohort.origin].append(cohort)
    found = []
    for origin_id, cohorts in no_route.items():
        found.append(
            Bottleneck(
                BottleneckKind.NO_ROUTE,
                origin_id,
                (),
                sum(_waiting(f, c, horizon) for c in cohorts),
                _("No route is open from {origin} for {who}.").format(
                    origin=inputs.origin(origin_id).name, who=who(e for c in cohorts for e in c.composition.estates())
                ),
            )
        )
    for origin_id, cohorts in closed.items():
        found.append(
            Bottleneck(
                BottleneckKind.ROUTE_CLOSED,
                origin_id,
                (),
                sum(_waiting(f, c, horizon) for c in cohorts),
                _("No route from {origin} for {who} runs on any day they may travel within the horizon.").format(
                    origin=inputs.origin(origin_id).name, who=who(e for c in cohorts for e in c.composition.estates())
                ),
            )
        )
    for (origin_id, day), people in held.items():
        text = (
            _("{people} foreign nationals at {origin} are held for repatriation until day {day}, after the horizon.")
            if day >= horizon
            else _("{people} foreign nationals at {origin} are held for repatriation until day {day}.")
        )
        found.append(
            Bottleneck(
                BottleneckKind.HELD_FOR_REPATRIATION,
                origin_id,
                ((0, min(day, horizon) - 1),),
                people,
                text.format(people=f"{people:,}", origin=inputs.origin(origin_id).name, day=day),
            )
        )
    pending: dict[tuple[str, str], list[tuple[int | None, int]]] = defaultdict(list)
    for (origin_id, clearance), people in uncleared.items():
        bucket = "never" if clearance is None else "late" if clearance >= horizon else "due"
        pending[origin_id, bucket].append((clearance, people))
    for (origin_id, bucket), groups in sorted(pending.items()):
        people = sum(n for _day, n in groups)
        days = sorted(d for d, _n in groups if d is not None)
        span: tuple[tuple[int, int], ...] = ((0, horizon - 1),)
        if bucket == "never":
            text = _("{people} people at {origin} are not cleared by the safeguard review and have no clearance day.")
        elif bucket == "late":
            text = _("{people} people at {origin} are not cleared before the end of the horizon.")
        else:
            span = ((0, days[-1] - 1),)
            if days[0] == days[-1]:
                text = _("{people} people at {origin} wait for safeguard clearance, due on day {first}.")
            else:
                text = _(
                    "{people} people at {origin} wait for safeguard clearance, due between day {first} and {last}."
                )
        found.append(
            Bottleneck(
                BottleneckKind.NOT_CLEARED,
                origin_id,
                span,
                people,
                text.format(
                    people=f"{people:,}",
                    origin=inputs.origin(origin_id).name,
                    first=days[0] if days else None,
                    last=days[-1] if days else None,
                ),
            )
        )
    return found


def _binding(
    f: Flows,
    arcs: list[Arc],
    days: Iterable[int],
    room: dict[int, int],
    need: dict[str, int],
    demanded: Callable[[Arc, int], bool] = lambda arc, day: day in arc.day_set,
) -> tuple[list[int], int]:
    """The days on which `room` is too small for one more unit of a cohort that could use it and is still waiting."""
    binding = [
        day
        for day in days
        if any(room[day] < need[a.cohort.id] and demanded(a, day) and _waiting(f, a.cohort, day) > 0 for a in arcs)
    ]
    return binding, _held_back(f, arcs, binding)


def _held_back(f: Flows, arcs: list[Arc], binding: list[int]) -> int:
    if not binding:
        return 0
    last = binding[-1]
    cohorts = {a.cohort.id: a.cohort for a in arcs if a.days[0] <= last}
    return sum(_waiting(f, c, last) for c in cohorts.values())


def _capacity(f: Flows) -> list[Bottleneck]:
    inputs = f.net.inputs
    horizon = inputs.horizon_days
    found = []
    for destination in inputs.destinations:
        for estate in ESTATES:
            arcs = [
                a for a in f.net.arcs if a.route.destination == destination.id and a.cohort.composition.of(estate) > 0
            ]
            if not arcs:
                continue
            occupancy = f.occupancy[destination.id, estate]
            room = {d: places_on(destination, estate, d) - occupancy[d] for d in range(horizon)}
            need = {a.cohort.id: a.cohort.composition.of(estate) for a in arcs}
            # A place taken on day d stays taken: whoever could arrive by then is held back by a full estate.
            days, people = _binding(f, arcs, range(horizon), room, need, lambda arc, day: arc.days[0] <= day)
            if not days:
                continue
            spans = ranges(days)
            if len(spans) == 1 and spans[0][1] == horizon - 1:
                text = _("{place} {estate} capacity is exhausted on day {day}.").format(
                    place=destination.name, estate=estate_words(estate), day=spans[0][0]
                )
            else:
                text = _("{place} {estate} capacity is full on {days}.").format(
                    place=destination.name, estate=estate_words(estate), days=days_words(spans)
                )
            found.append(Bottleneck(BottleneckKind.CAPACITY, f"{destination.id}:{estate.value}", spans, people, text))
    return found


def _intake_caps(f: Flows) -> list[Bottleneck]:
    inputs = f.net.inputs
    horizon = inputs.horizon_days
    found = []
    for destination in inputs.destinations:
        cap = destination.daily_intake_cap
        arcs = [a for a in f.net.arcs if a.route.destination == destination.id]
        if cap is None or not arcs:
            continue
        room = {d: cap.at(d) - sum(f.arrivals.get((destination.id, d), {}).values()) for d in range(horizon)}
        need = {a.cohort.id: a.cohort.unit_size for a in arcs}
        days, people = _binding(f, arcs, range(horizon), room, need)
        if days:
            spans = ranges(days)
            text = _("The daily intake cap at {place} binds on {days}.").format(
                place=destination.name, days=days_words(spans)
            )
            found.append(Bottleneck(BottleneckKind.INTAKE_CAP, destination.id, spans, people, text))
    return found


def _overall_cap(f: Flows) -> list[Bottleneck]:
    inputs = f.net.inputs
    cap = inputs.overall_daily_cap
    arcs = list(f.net.arcs)
    if cap is None or not arcs:
        return []
    horizon = inputs.horizon_days
    arrived: dict[int, int] = defaultdict(int)
    for (_dest, day), counts in f.arrivals.items():
        arrived[day] += sum(counts.values())
    room = {d: cap.at(d) - arrived[d] for d in range(horizon)}
    need = {a.cohort.id: a.cohort.unit_size for a in arcs}
    days, people = _binding(f, arcs, range(horizon), room, need)
    if not days:
        return []
    spans = ranges(days)
    text = _("The overall daily intake cap binds on {days}.").format(days=days_words(spans))
    return [Bottleneck(BottleneckKind.OVERALL_CAP, "overall", spans, people, text)]


def _transport(f: Flows) -> list[Bottleneck]:
    inputs = f.net.inputs
    found = []
    for route in inputs.routes:
        arcs = [a for a in f.net.arcs if a.route.id == route.id]
        if not arcs:
            continue
        open_days = f.net.open_days[route.id]
        seats = f.net.seats[route.id]
        room = {d: seats * route.sorties_per_day.at(d) - f.route_people.get((route.id, d), 0) for d in open_days}
        need = {a.cohort.id: a.cohort.unit_size for a in arcs}
        days, people = _binding(f, arcs, open_days, room, need)
        if days:
            spans = ranges(days)
            text = _("Every seat on {route} is taken on {days}.").format(
                route=route_words(inputs, route), days=days_words(spans)
            )
            found.append(Bottleneck(BottleneckKind.TRANSPORT, route.id, spans, people, text))
    return found


def _crossings(f: Flows) -> list[Bottleneck]:
    inputs = f.net.inputs
    horizon = inputs.horizon_days
    found = []
    for crossing in inputs.crossings:
        through = [(c, r) for c, r in f.net.candidates if crossing.id in r.crossings]
        days = []
        cohorts: dict[str, Cohort] = {}
        for first, last in crossing.closed:
            for day in range(max(first, 0), min(last, horizon - 1) + 1):
                for cohort, route in through:
                    start = f.net.first_days[cohort.id]
                    if (
                        start is not None
                        and start <= day
                        and route.sorties_per_day.at(day) > 0
                        and _waiting(f, cohort, day) > 0
                    ):
                        days.append(day)
                        cohorts[cohort.id] = cohort
        if not days:
            continue
        spans = ranges(days)
        people = sum(_waiting(f, c, spans[-1][1]) for c in cohorts.values())
        text = _("The {crossing} crossing is closed on {days} while people who could cross it wait.").format(
            crossing=crossing.name, days=days_words(spans)
        )
        found.append(Bottleneck(BottleneckKind.CROSSING_CLOSED, crossing.id, spans, people, text))
    return found
