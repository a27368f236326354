"""Disclosure control for published tables: what is suppressed, why, and the attack that checks it.

The rules, with the defaults of `Rules` (threshold 10, protection = threshold, zeros disclosive, no rounding):

Primary suppression (`primary`, `is_primary`). A cell is primary-suppressed when its count is 1 to threshold - 1. With
`zeros_disclosive`, a zero is primary-suppressed too when its row total and its column total are both positive and
at least one of them is 1 to threshold - 1: in a small group, a zero tells of each of its few members that they are
not in that column (or row), and with the rest of the line it locates them. So a row or column whose total is below
the threshold has every cell suppressed, except zeros the totals already give away. Zeros in an empty row or column
(its total 0 is published, so the zero is too) or whose row and column both hold at least the threshold are shown:
they say something only about a group that is empty or large. Without `zeros_disclosive`, every zero is shown.

The attack (`recover`). An outsider knows the published figures: every row, column and grand total, every shown cell,
and that counts are whole numbers of at least 0; with rounding, only that each true value rounds to its published one
(see `tables.Rounding`). For each suppressed cell the attack minimises and maximises it over every table consistent
with those figures, by linear programming (HiGHS), and returns the interval [low, high]. The constraint matrix (row
sums, column sums and the grand total: two laminar families of sets of cells) is totally unimodular and every bound is
a whole number, so the linear programme's optimum is a whole-number table: the interval is exactly what an attacker
solving in whole numbers would get, not a relaxation of it.

The protection rule (`audit`). Let `attainable(c)` be the width of cell c's interval when every cell is suppressed and
only the totals are published: no suppression pattern can do better, so it is the most protection the published totals
allow. A suppressed cell c needs an interval at least `required(c) = min(protection, attainable(c))` wide; it is
*recovered* when its width is less. It is *exposed* when `attainable(c) < protection`: the totals alone pin it closer
than the protection, whatever else is suppressed, and only changing the table (merging small categories, or not
publishing those totals) helps. A cell exactly determined (width 0) is never safe: it is recovered if the totals leave
room, and exposed if they do not. A table is safe when no suppressed cell is recovered or exposed. The rule applies to
every suppressed cell, secondary ones included: a secondary cell that can be worked out protects nothing.

Rounding (`Rules.rounding`). Every shown cell and every total is published rounded to the base, each independently
(`tables.Rounding`); primary suppression is decided on the true counts before rounding, and the attack uses the
rounding intervals, so rounding can only widen what an attacker may conclude.

Secondary suppression (`protect`). After primary suppression, while some suppressed cell is recovered, one more shown
cell is suppressed, chosen from the shown cells ranked by: first those in the row or column of a recovered cell, then
those elsewhere, then those whose own attainable width is below the protection (suppressing them would expose them);
within each, non-zero before zero, then the smallest count, then row by row. The choice is the first of the first
group whose suppression alone makes some recovered cell in its line safe; if none does, the first in the ranking, and
the next round goes on from there. Cells the totals fix (attainable 0) are never taken: hiding them hides nothing.
Totals are never suppressed. Each round suppresses one more cell, so it ends; and it ends with no recovered cell: once
every cell the totals do not fix is suppressed, every interval is the totals-only one, at least its required width.
Finally each secondary cell, largest first, is shown again if the table stays without a recovered cell.

Successive releases (`check_differencing`). Two releases of the same cumulative table (the counts only grow, as
"people moved so far" do) are attacked together: both publications, with each true cell of the later release at least
the earlier one, solved in whole numbers (that joint model is not totally unimodular: a linear programme first, and
a MIP whenever its optimal vertex is fractional). It reports (`DifferenceKind`):

- `SUPPRESSED`: a suppressed cell of either release whose interval, given both, is narrower than in its own release
  alone and narrower than its required width: e.g. a cell shown as 12 before and suppressed now, whose row total grew
  by 1, is now known to be 12 or 13.
- `CELL`: a cell whose true change between the releases is 1 to threshold - 1 people and whose change is pinned to an
  interval narrower than the protection: e.g. a cell shown as 40 and then 43 says that 3 people of that group moved
  between the releases, a small group published by difference.
- `TOTAL`: the same for a row, column or grand total: e.g. the grand total moving by 3 says who moved in between is a
  group of 3; if exactly one cell changed, `CELL` also names it.

It does not catch: combinations of three or more releases that no pair shows (check every pair that matters, or
publish at a fixed cadence so that changes are large); several tables of the same release that share cells or totals
(linked tables need one joint model); tables whose counts can fall (people held now: their differences are net flows,
not groups, and the pair carries no link to attack); what an attacker knows from outside the report; zero changes (a
group that did not change reveals nobody). Both releases must have the same rows and columns, and the true counts must
not fall, or it raises ValueError: a correction that lowers a count needs a review of its own.

Differentially private counts (OpenDP, with the epsilon stated) are not implemented here. They would be a further
option applied to the shown cells and totals before publication, with the noise distribution made public; the attack
above then no longer applies as an exact check, since the published figures would not constrain the true table exactly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

import highspy
import numpy as np

from handover.core.report.tables import Axis, Cell, CellState, Published, Rounding, Table, Total

_INF = float(highspy.kHighsInf)
_TOLERANCE = 1e-6


@dataclass(frozen=True, slots=True)
class Rules:
    threshold: int = 10
    """Counts from 1 to threshold - 1 are suppressed."""
    protection: int | None = None
    """How wide the interval of every suppressed cell must be; None means the threshold."""
    zeros_disclosive: bool = True
    """Suppress a zero whose row and column are not empty and one of them holds fewer than the threshold."""
    rounding: int | None = None
    """Publish shown cells and totals rounded to this base (each independently); None publishes exact counts."""

    def __post_init__(self) -> None:
        for name in ("threshold", "protection"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"{name} must be a whole number of at least 1, not {value!r}")
        if self.rounding is not None:
            Rounding(self.rounding)

    @property
    def protection_width(self) -> int:
        return self.threshold if self.protection is None else self.protection


DEFAULT_RULES = Rules()


class Interval(NamedTuple):
    """The whole numbers a published table allows for a figure, from `low` to `high`."""

    low: int
    high: int

    @property
    def width(self) -> int:
        return self.high - self.low


def is_primary(count: int, row_total: int, column_total: int, rules: Rules = DEFAULT_RULES) -> bool:
    """Whether a cell is disclosive by itself: a small count, or a zero in a small row or column."""
    if count > 0:
        return count < rules.threshold
    small = row_total < rules.threshold or column_total < rules.threshold
    return rules.zeros_disclosive and row_total > 0 and column_total > 0 and small


def primary(table: Table, rules: Rules = DEFAULT_RULES) -> Table:
    """The table with its primary cells suppressed, every other cell shown, and the rules' rounding."""
    rows, columns = table.row_totals, table.column_totals
    states = tuple(
        tuple(
            CellState.PRIMARY if is_primary(count, rows[i], columns[j], rules) else CellState.SHOWN
            for j, count in enumerate(line)
        )
        for i, line in enumerate(table.counts)
    )
    rounding = Rounding(rules.rounding) if rules.rounding is not None else None
    return Table(table.rows, table.columns, table.counts, states, rounding)


def recover(table: Table | Published) -> dict[Cell, Interval]:
    """The attack: for every suppressed cell, the interval the published figures allow."""
    published = _published(table)
    model = _attack_model(published)
    return {
        cell: model.interval({k: 1.0})
        for k, cell in enumerate(published.cell_names)
        if published.state(cell).suppressed
    }


def attainable(table: Table | Published) -> dict[Cell, int]:
    """For every cell, the width of its interval when only the totals are published: the most any suppression gives."""
    published = _published(table)
    model = _attack_model(published, totals_only=True)
    return {cell: model.interval({k: 1.0}).width for k, cell in enumerate(published.cell_names)}


@dataclass(frozen=True, slots=True)
class Audit:
    """The attack's result on one published table, judged by the protection rule."""

    intervals: Mapping[Cell, Interval]
    """Every suppressed cell's interval."""
    required: Mapping[Cell, int]
    """Every suppressed cell's required width: min(protection, attainable)."""
    recovered: tuple[Cell, ...]
    """Suppressed cells narrower than required: more suppression would protect them."""
    exposed: tuple[Cell, ...]
    """Suppressed cells the published totals alone pin closer than the protection: the table must change."""

    @property
    def safe(self) -> bool:
        return not self.recovered and not self.exposed


def audit(table: Table | Published, rules: Rules = DEFAULT_RULES) -> Audit:
    """Attack a published table and judge every suppressed cell by the protection rule."""
    published = _published(table)
    intervals = recover(published)
    reach = attainable(published)
    need = rules.protection_width
    required = {cell: min(need, reach[cell]) for cell in intervals}
    return Audit(
        intervals,
        required,
        tuple(cell for cell, interval in intervals.items() if interval.width < required[cell]),
        tuple(cell for cell in intervals if reach[cell] < need),
    )


def protect(table: Table, rules: Rules = DEFAULT_RULES, keep: AbstractSet[Cell] = frozenset()) -> Table:
    """Primary suppression, rounding if the rules ask, then secondary suppression until no cell is recovered.

    The counts are never changed, and a primary cell is never shown. Cells in `keep` are suppressed too and stay so
    (what a linked table needs, see `protect_linked`). Cells the published totals expose stay exposed: see
    `audit(...).exposed`.
    """
    table = primary(table, rules)
    kept = {cell: CellState.SECONDARY for cell in keep if table.state(cell) is CellState.SHOWN}
    table = table.with_states(kept)
    published = table.published()
    cells = table.cells
    position = {cell: k for k, cell in enumerate(cells)}
    reach = attainable(published)
    need = rules.protection_width
    required = {cell: min(need, reach[cell]) for cell in cells}
    states = {cell: table.state(cell) for cell in cells}
    shown_bounds = {cell: _shown_bounds(table, cell) for cell in cells}
    model = _attack_model(published)

    def width(cell: Cell) -> int:
        return model.interval({position[cell]: 1.0}).width

    def recovered() -> list[Cell]:
        return [cell for cell in cells if states[cell].suppressed and width(cell) < required[cell]]

    def suppress(cell: Cell) -> None:
        model.set_bounds(position[cell], 0.0, _INF)

    def show(cell: Cell) -> None:
        model.set_bounds(position[cell], *shown_bounds[cell])

    def makes_safe(candidate: Cell, targets: list[Cell]) -> bool:
        suppress(candidate)
        try:
            return any(
                width(t) >= required[t] for t in targets if t.row == candidate.row or t.column == candidate.column
            )
        finally:
            show(candidate)

    failing = recovered()
    while failing:
        rows = {cell.row for cell in failing}
        columns = {cell.column for cell in failing}
        ranked: list[tuple[tuple[int, bool, int, int], Cell]] = []
        for cell in cells:
            if states[cell] is CellState.SHOWN and reach[cell] > 0:
                eligible = reach[cell] >= need
                tier = 0 if eligible and (cell.row in rows or cell.column in columns) else 1 if eligible else 2
                count = table.count(cell)
                ranked.append(((tier, count == 0, count, position[cell]), cell))
        if not ranked:  # pragma: no cover - every interval is then the totals-only one, see the module docstring
            raise RuntimeError("secondary suppression ran out of cells with cells still recovered")
        ranked.sort()
        near = [cell for key, cell in ranked if key[0] == 0]
        choice = next((c for c in near if makes_safe(c, failing)), ranked[0][1])
        states[choice] = CellState.SECONDARY
        suppress(choice)
        failing = recovered()

    secondary = sorted(
        (c for c in cells if states[c] is CellState.SECONDARY and c not in kept), key=lambda c: -table.count(c)
    )
    for cell in secondary:
        states[cell] = CellState.SHOWN
        show(cell)
        if recovered():
            states[cell] = CellState.SECONDARY
            suppress(cell)
    return table.with_states(states)


@dataclass(frozen=True, slots=True)
class Link:
    """What an outsider knows across tables of one release: the true counts of the `lower` cells add up to at most
    those of the `upper` cells. Each side lists (table position, cell). E.g. people awaiting safeguards at a facility
    are among the people held there."""

    lower: tuple[tuple[int, Cell], ...]
    upper: tuple[tuple[int, Cell], ...]


def recover_linked(tables: Sequence[Table | Published], links: Sequence[Link]) -> list[dict[Cell, Interval]]:
    """The attack on several tables at once: each table's published figures and the links between them.

    Links break the totally unimodular structure of a single table, so the model is solved in whole numbers (a
    linear programme first, a MIP only when its optimum is fractional).
    """
    published = [_published(table) for table in tables]
    offsets = [0]
    for table in published:
        offsets.append(offsets[-1] + len(table.rows) * len(table.columns))
    lower: list[float] = []
    upper: list[float] = []
    for table in published:
        low, high = _variable_bounds(table)
        lower += low
        upper += high
    model = _Model(lower, upper, integer=True)
    at: list[dict[Cell, int]] = []
    for number, table in enumerate(published):
        _add_totals(model, table, offsets[number])
        at.append({cell: offsets[number] + k for k, cell in enumerate(table.cell_names)})
    for link in links:
        coefficients: dict[int, float] = {}
        for number, cell in link.upper:
            coefficients[at[number][cell]] = coefficients.get(at[number][cell], 0.0) + 1.0
        for number, cell in link.lower:
            coefficients[at[number][cell]] = coefficients.get(at[number][cell], 0.0) - 1.0
        model.add_row(coefficients, 0.0, _INF)
    return [
        {cell: model.interval({at[number][cell]: 1.0}) for cell in table.cell_names if table.state(cell).suppressed}
        for number, table in enumerate(published)
    ]


def audit_linked(
    tables: Sequence[Table | Published], links: Sequence[Link], rules: Rules = DEFAULT_RULES
) -> list[Audit]:
    """`audit` of each table, attacked together with the others through the links."""
    joint = recover_linked(tables, links)
    need = rules.protection_width
    audits = []
    for table, intervals in zip(tables, joint, strict=True):
        reach = attainable(table)
        required = {cell: min(need, reach[cell]) for cell in intervals}
        audits.append(
            Audit(
                intervals,
                required,
                tuple(cell for cell, interval in intervals.items() if interval.width < required[cell]),
                tuple(cell for cell in intervals if reach[cell] < need),
            )
        )
    return audits


def protect_linked(tables: Sequence[Table], links: Sequence[Link], rules: Rules = DEFAULT_RULES) -> list[Table]:
    """`protect` each table, then, while the joint attack recovers a cell, suppress the shown cells linked to it and
    protect their tables again. Ends when nothing is recovered or nothing linked is left to suppress (then
    `audit_linked` names what is still recovered)."""
    protected = [protect(table, rules) for table in tables]
    while True:
        failing = {
            (number, cell)
            for number, result in enumerate(audit_linked(protected, links, rules))
            for cell in result.recovered
        }
        extra: dict[int, set[Cell]] = {}
        for link in links:
            sides = (link.lower, link.upper)
            for side, other in (sides, sides[::-1]):
                if any(member in failing for member in side):
                    for number, cell in other:
                        if protected[number].state(cell) is CellState.SHOWN and attainable(protected[number])[cell]:
                            extra.setdefault(number, set()).add(cell)
        if not failing or not extra:
            return protected
        for number, cells in extra.items():
            keep = set(protected[number].suppressed) - set(primary(tables[number], rules).suppressed) | cells
            protected[number] = protect(tables[number], rules, keep=keep)


class DifferenceKind(StrEnum):
    SUPPRESSED = "suppressed"
    """A suppressed cell of one release, narrowed by the other below its required width."""
    CELL = "cell"
    """A cell's change between the releases, a small group, pinned closer than the protection."""
    TOTAL = "total"
    """A total's change between the releases, a small group, pinned closer than the protection."""


@dataclass(frozen=True, slots=True)
class Difference:
    """One thing two releases together give away."""

    kind: DifferenceKind
    subject: Cell | Total
    interval: Interval
    """What the two releases together allow: of the cell (SUPPRESSED) or of its change (CELL, TOTAL)."""
    release: str = ""
    """SUPPRESSED: "previous" or "current", the release that suppressed the cell."""
    alone: Interval | None = None
    """SUPPRESSED: the cell's interval in its own release alone."""

    def __str__(self) -> str:
        low, high = self.interval
        if self.kind is DifferenceKind.SUPPRESSED:
            assert self.alone is not None
            return (
                f"{self.subject}, suppressed in the {self.release} release, lies in [{self.alone.low}, "
                f"{self.alone.high}] from that release alone but in [{low}, {high}] from both"
            )
        return f"the change of {self.subject} between the releases lies in [{low}, {high}], a small group"


def check_differencing(previous: Table, current: Table, rules: Rules = DEFAULT_RULES) -> tuple[Difference, ...]:
    """What two successive releases of a cumulative table give away together that each keeps alone.

    See the module docstring for what it catches and what it does not.
    """
    if set(previous.rows) != set(current.rows) or set(previous.columns) != set(current.columns):
        raise ValueError("successive releases must have the same rows and columns to be compared")
    cells = previous.cells
    fallen = [cell for cell in cells if current.count(cell) < previous.count(cell)]
    if fallen:
        raise ValueError(f"counts fell between the releases, so they are not cumulative: {fallen!r}")
    before, after = previous.published(), current.published()
    n = len(cells)
    at_before = {cell: k for k, cell in enumerate(before.cell_names)}
    at_after = {cell: n + k for k, cell in enumerate(after.cell_names)}
    lower, upper = _variable_bounds(before)
    lower_after, upper_after = _variable_bounds(after)
    model = _Model([*lower, *lower_after], [*upper, *upper_after], integer=True)
    _add_totals(model, before, 0)
    _add_totals(model, after, n)
    for cell in cells:
        model.add_row({at_after[cell]: 1.0, at_before[cell]: -1.0}, 0.0, _INF)

    found: list[Difference] = []
    need = rules.protection_width
    for release, published, at in (("previous", before, at_before), ("current", after, at_after)):
        alone = recover(published)
        reach = attainable(published)
        for cell, interval in alone.items():
            both = model.interval({at[cell]: 1.0})
            if both.width < min(need, reach[cell]) and both.width < interval.width:
                found.append(Difference(DifferenceKind.SUPPRESSED, cell, both, release, interval))

    def change(subject: Cell | Total, members: Sequence[Cell]) -> None:
        grown = sum(current.count(c) - previous.count(c) for c in members)
        if 0 < grown < rules.threshold:
            objective: dict[int, float] = {}
            for c in members:
                objective[at_after[c]] = 1.0
                objective[at_before[c]] = -1.0
            interval = model.interval(objective)
            if interval.width < need:
                kind = DifferenceKind.CELL if isinstance(subject, Cell) else DifferenceKind.TOTAL
                found.append(Difference(kind, subject, interval))

    for cell in cells:
        change(cell, [cell])
    for row in previous.rows:
        change(Total(Axis.ROW, row), [c for c in cells if c.row == row])
    for column in previous.columns:
        change(Total(Axis.COLUMN, column), [c for c in cells if c.column == column])
    change(Total(Axis.GRAND, ""), cells)
    return tuple(found)


def _published(table: Table | Published) -> Published:
    return table.published() if isinstance(table, Table) else table


def _shown_bounds(table: Table, cell: Cell) -> tuple[float, float]:
    count = table.count(cell)
    if table.rounding is None:
        return float(count), float(count)
    low, high = table.rounding.bounds(table.rounding.round(count))
    return float(low), float(high)


def _variable_bounds(published: Published, *, totals_only: bool = False) -> tuple[list[float], list[float]]:
    lower: list[float] = []
    upper: list[float] = []
    for line in published.cells:
        for value in line:
            if value is None or totals_only:
                lower.append(0.0)
                upper.append(_INF)
            else:
                low, high = published.bounds(value)
                lower.append(float(low))
                upper.append(float(high))
    return lower, upper


def _add_totals(model: _Model, published: Published, offset: int) -> None:
    width = len(published.columns)
    for i, total in enumerate(published.row_totals):
        model.add_row({offset + i * width + j: 1.0 for j in range(width)}, *published.bounds(total))
    for j, total in enumerate(published.column_totals):
        model.add_row({offset + i * width + j: 1.0 for i in range(len(published.rows))}, *published.bounds(total))
    everything = {offset + k: 1.0 for k in range(len(published.rows) * width)}
    model.add_row(everything, *published.bounds(published.grand_total))


def _attack_model(published: Published, *, totals_only: bool = False) -> _Model:
    model = _Model(*_variable_bounds(published, totals_only=totals_only), integer=False)
    _add_totals(model, published, 0)
    return model


class _Model:
    """Variables with bounds and ranged linear rows, in HiGHS; the least and greatest value of a linear objective.

    With `integer`, the optimum is over whole numbers: the linear programme is solved first, and when its optimal
    vertex is whole already it is the whole-number optimum too; only otherwise is the model solved as a MIP.
    """

    def __init__(self, lower: Sequence[float], upper: Sequence[float], *, integer: bool) -> None:
        self._highs = highspy.Highs()  # type: ignore[no-untyped-call]
        self._highs.setOptionValue("output_flag", False)
        self._highs.setOptionValue("mip_rel_gap", 0.0)
        self._n = len(lower)
        self._integer = integer
        self._highs.addVars(self._n, np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64))

    def add_row(self, coefficients: Mapping[int, float], low: float, high: float) -> None:
        columns = np.asarray(list(coefficients), dtype=np.int32)
        values = np.asarray(list(coefficients.values()), dtype=np.float64)
        self._highs.addRow(float(low), float(high), len(columns), columns, values)

    def set_bounds(self, column: int, low: float, high: float) -> None:
        self._highs.changeColBounds(column, low, high)

    def interval(self, objective: Mapping[int, float]) -> Interval:
        columns = np.asarray(list(objective), dtype=np.int32)
        self._highs.changeColsCost(len(columns), columns, np.asarray(list(objective.values()), dtype=np.float64))
        try:
            low = math.ceil(self._optimum(highspy.ObjSense.kMinimize) - _TOLERANCE)
            high = math.floor(self._optimum(highspy.ObjSense.kMaximize) + _TOLERANCE)
        finally:
            self._highs.changeColsCost(len(columns), columns, np.zeros(len(columns), dtype=np.float64))
        return Interval(low, high)

    def _optimum(self, sense: highspy.ObjSense) -> float:
        self._highs.changeObjectiveSense(sense)
        value = self._run()
        if not self._integer:
            return value
        solution = np.asarray(self._highs.getSolution().col_value, dtype=np.float64)
        if np.all(np.abs(solution - np.round(solution)) <= _TOLERANCE):
            return value
        self._set_integrality(highspy.HighsVarType.kInteger)
        try:
            return self._run()
        finally:
            self._set_integrality(highspy.HighsVarType.kContinuous)

    def _run(self) -> float:
        self._highs.run()
        status = self._highs.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            raise ValueError(f"the published figures admit no table ({self._highs.modelStatusToString(status)})")
        return float(self._highs.getInfo().objective_function_value)

    def _set_integrality(self, kind: highspy.HighsVarType) -> None:
        integrality = np.full(self._n, int(kind), dtype=np.uint8)
        self._highs.changeColsIntegrality(self._n, np.arange(self._n, dtype=np.int32), integrality)
