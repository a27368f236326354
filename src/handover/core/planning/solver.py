"""The cohort model as a mixed-integer programme, solved by HiGHS.

Variables: x[c, r, d], units of cohort c moved on route r on day d (integer; a unit is a person or a whole family),
created only where the rules allow c on r and r runs on d after c's first day, so forbidden pairings never exist;
and s[r, d], sorties (or convoys) flown on route r on day d (integer, at most the route's sorties that day).

Constraints: each cohort moves at most its units; the people on a route-day fit its sorties (at the packing seats of
`rules.packing_seats`, so that families can always be packed whole); arrivals in each estate never exceed the places a
destination has by that day (cumulative, with places freed by onward transfers; since places only grow, one row per
stretch of unchanged places is enough); and the daily intake caps per destination and overall.

Objective: risk-weighted waiting, sum over people of priority x days at origin (everyone left at the end counts the
whole horizon), plus a weighted second term for movements: each sortie costs `rules.movement_cost`, chosen so small
that all movements together weigh less than one person-day of the lowest priority. With whole-number priorities this
is lexicographic at the optimum: waiting first, then fewest movements. Within a proved gap the second term is below
the gap's resolution, so after solving each route-day is given the fewest sorties its people need.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import highspy
import numpy as np

from handover.core.custody.model import Estate
from handover.core.planning.flows import Moves
from handover.core.planning.greedy import greedy_moves
from handover.core.planning.model import ESTATES, Freed, PlanningInput
from handover.core.planning.plan import Plan, PlanStatus
from handover.core.planning.rules import Network, network, places_on, sorties_needed
from handover.core.planning.summary import objective, relative_gap, summarise


@dataclass(frozen=True, slots=True)
class SolverOptions:
    time_limit: float = 10.0
    """Seconds HiGHS may run; the best plan found by then is returned with its gap."""
    mip_gap: float = 0.005
    """Stop once the plan is proved within this fraction of the best possible objective."""
    # No thread count: HiGHS sizes one scheduler per process on first use and refuses a different count later,
    # which would break a second solve in a long-running server. Its branch and bound is serial anyway.
    seed: int = 0


def solve(inputs: PlanningInput, options: SolverOptions | None = None) -> Plan:
    """Plan the whole operation: the least risk-weighted waiting, then the fewest movements.

    First the linear relaxation: its optimum bounds every plan from below. Its moves rounded down still keep every
    constraint (all of them only limit how many move), and the greedy planner then adds whoever still fits; on these
    flow-like models that is usually within a fraction of a percent of the bound, and then we are done. Otherwise
    HiGHS's branch and bound starts from the better of that and the plain greedy plan, for the rest of the time.
    """
    options = options or SolverOptions()
    started = time.perf_counter()
    net = network(inputs)
    model = _build(net)
    if model.num_x == 0:
        return summarise(
            net, {}, method="highs", status=PlanStatus.OPTIMAL, bound=model.offset, seconds=_since(started)
        )

    relaxed = _highs(options, options.time_limit)
    model.lp.integrality_ = []
    relaxed.passModel(model.lp)
    relaxed.run()
    best = greedy_moves(net)
    best_value = objective(net, best)
    bound: float | None = None
    if relaxed.getModelStatus() == highspy.HighsModelStatus.kOptimal:
        bound = float(relaxed.getInfo().objective_function_value)
        values: list[float] = np.asarray(relaxed.getSolution().col_value, dtype=float)[: model.num_x].tolist()
        # Rounding down keeps every row: each only caps how many move, and the sorties are recounted for the rest.
        rounded = {key: math.floor(v + 1e-6) for key, v in zip(model.x_keys, values, strict=True) if v > 1e-6}
        # Put back first the units the relaxation had most of, where it had them, then whoever else still fits.
        fractions = sorted(
            ((v - math.floor(v + 1e-6), key) for key, v in zip(model.x_keys, values, strict=True)),
            key=lambda fk: (-fk[0], fk[1]),
        )
        completed = greedy_moves(net, base=rounded, prefer=[key for f, key in fractions if f > 1e-6])
        value = objective(net, completed)
        if value < best_value:
            best, best_value = completed, value
    gap = relative_gap(best_value, bound)
    remaining = options.time_limit - _since(started)
    within = gap is not None and gap <= options.mip_gap + 1e-12
    if within or remaining <= 0:
        status = PlanStatus.OPTIMAL if within else PlanStatus.TIME_LIMIT
        return summarise(net, best, method="highs", status=status, bound=bound, seconds=_since(started))

    highs = _highs(options, remaining)
    model.lp.integrality_ = [highspy.HighsVarType.kInteger] * model.lp.num_col_
    highs.passModel(model.lp)
    highs.setSolution(_start(net, model, best))
    highs.run()
    info = highs.getInfo()
    if info.primal_solution_status == 2:
        values = np.asarray(highs.getSolution().col_value, dtype=float)[: model.num_x].tolist()
        found = {key: round(v) for key, v in zip(model.x_keys, values, strict=True) if v > 0.5}
        value = objective(net, found)
        if value <= best_value:
            best, best_value = found, value
        bound = max(bound if bound is not None else -math.inf, float(info.mip_dual_bound))
    # Judged on our own objective, which recounts sorties and so is never above the one HiGHS proved its gap on.
    gap = relative_gap(best_value, bound)
    within = gap is not None and gap <= options.mip_gap + 1e-12
    status = PlanStatus.OPTIMAL if within else PlanStatus.TIME_LIMIT
    return summarise(net, best, method="highs", status=status, bound=bound, seconds=_since(started))


def _highs(options: SolverOptions, time_limit: float) -> highspy.Highs:
    highs = highspy.Highs()  # type: ignore[no-untyped-call]
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("time_limit", max(float(time_limit), 0.01))
    highs.setOptionValue("mip_rel_gap", float(options.mip_gap))
    highs.setOptionValue("random_seed", int(options.seed))
    return highs


@dataclass(frozen=True, slots=True)
class _Model:
    lp: highspy.HighsLp
    x_keys: list[tuple[str, str, int]]
    s_keys: list[tuple[str, int]]
    offset: float

    @property
    def num_x(self) -> int:
        return len(self.x_keys)


def _build(net: Network) -> _Model:
    inputs = net.inputs
    horizon = inputs.horizon_days
    x_keys: list[tuple[str, str, int]] = []
    cost: list[float] = []
    upper: list[float] = []
    for arc in net.arcs:
        cohort = arc.cohort
        for day in arc.days:
            x_keys.append((cohort.id, arc.route.id, day))
            # Minimising waiting = maximising person-days saved: moving on day d saves (horizon - d) days each.
            cost.append(-cohort.priority * cohort.unit_size * (horizon - day))
            upper.append(cohort.units)
    s_keys = sorted({(r, d) for _c, r, d in x_keys})
    s_index = {key: len(x_keys) + i for i, key in enumerate(s_keys)}
    routes = {r.id: r for r in inputs.routes}
    for route_id, day in s_keys:
        cost.append(net.movement_cost)
        upper.append(routes[route_id].sorties_per_day.at(day))

    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    row_upper: list[float] = []

    def row(entries: list[tuple[int, float]], bound: float) -> None:
        index = len(row_upper)
        for col, value in entries:
            rows.append(index)
            cols.append(col)
            vals.append(value)
        row_upper.append(bound)

    cohorts = {c.id: c for c in inputs.cohorts}
    by_cohort: dict[str, list[int]] = {}
    by_route_day: dict[tuple[str, int], list[int]] = {}
    by_destination_day: dict[tuple[str, int], list[int]] = {}
    by_day: dict[int, list[int]] = {}
    for col, (cohort_id, route_id, day) in enumerate(x_keys):
        by_cohort.setdefault(cohort_id, []).append(col)
        by_route_day.setdefault((route_id, day), []).append(col)
        by_destination_day.setdefault((routes[route_id].destination, day), []).append(col)
        by_day.setdefault(day, []).append(col)

    def size(col: int) -> float:
        return float(cohorts[x_keys[col][0]].unit_size)

    for cohort_id, members in by_cohort.items():
        row([(col, 1.0) for col in members], cohorts[cohort_id].units)
    for key, members in by_route_day.items():
        row([*((col, size(col)) for col in members), (s_index[key], -float(net.seats[key[0]]))], 0.0)
    for destination in inputs.destinations:
        into = sorted(
            (day, col)
            for (dest, day), members in by_destination_day.items()
            if dest == destination.id
            for col in members
        )
        for estate in ESTATES:
            per_col = [(day, col, cohorts[x_keys[col][0]].composition.of(estate)) for day, col in into]
            per_col = [(day, col, n) for day, col, n in per_col if n > 0]
            if not per_col:
                continue
            for end in _stretch_ends(destination.freed, estate, horizon):
                entries = [(col, float(n)) for day, col, n in per_col if day <= end]
                if entries:
                    row(entries, places_on(destination, estate, end))
        if destination.daily_intake_cap is not None:
            for day in range(horizon):
                members = by_destination_day.get((destination.id, day), [])
                if members:
                    row([(col, size(col)) for col in members], destination.daily_intake_cap.at(day))
    if inputs.overall_daily_cap is not None:
        for day, members in sorted(by_day.items()):
            row([(col, size(col)) for col in members], inputs.overall_daily_cap.at(day))

    offset = sum(c.priority * c.people * horizon for c in inputs.cohorts)
    lp = highspy.HighsLp()
    num_col = len(cost)
    lp.num_col_ = num_col
    lp.num_row_ = len(row_upper)
    lp.col_cost_ = np.asarray(cost, dtype=np.float64)
    lp.col_lower_ = np.zeros(num_col, dtype=np.float64)
    lp.col_upper_ = np.asarray(upper, dtype=np.float64)
    lp.row_lower_ = np.full(len(row_upper), -highspy.kHighsInf, dtype=np.float64)
    lp.row_upper_ = np.asarray(row_upper, dtype=np.float64)
    lp.offset_ = offset
    lp.integrality_ = [highspy.HighsVarType.kInteger] * num_col
    _set_columnwise(lp, np.asarray(rows, dtype=np.int32), np.asarray(cols, dtype=np.int32), np.asarray(vals), num_col)
    return _Model(lp, x_keys, s_keys, offset)


def _stretch_ends(freed: tuple[Freed, ...], estate: Estate, horizon: int) -> list[int]:
    """The last day of each stretch over which a destination's places in an estate stay the same."""
    changes = sorted({f.day for f in freed if f.estate is estate and 0 < f.day < horizon})
    return [day - 1 for day in changes] + [horizon - 1]


def _set_columnwise(lp: highspy.HighsLp, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, num_col: int) -> None:
    order = np.lexsort((rows, cols))
    counts = np.bincount(cols, minlength=num_col)
    start = np.zeros(num_col + 1, dtype=np.int32)
    np.cumsum(counts, out=start[1:])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_ = num_col
    lp.a_matrix_.num_row_ = lp.num_row_
    lp.a_matrix_.start_ = start
    lp.a_matrix_.index_ = rows[order]
    lp.a_matrix_.value_ = vals[order]


def _start(net: Network, model: _Model, moves: Moves) -> highspy.HighsSolution:
    values = [float(moves.get(key, 0)) for key in model.x_keys]
    people: dict[tuple[str, int], int] = {}
    cohorts = {c.id: c for c in net.inputs.cohorts}
    for (cohort_id, route_id, day), units in moves.items():
        people[route_id, day] = people.get((route_id, day), 0) + units * cohorts[cohort_id].unit_size
    values += [float(sorties_needed(people.get(key, 0), net.seats[key[0]])) for key in model.s_keys]
    solution = highspy.HighsSolution()
    solution.col_value = values
    return solution


def _since(started: float) -> float:
    return time.perf_counter() - started
