"""A read-only, checked view of a report release document, as the renderers need it.

The renderers take the parsed JSON document (`handover-transparency-report/1`, a `Mapping[str, Any]`) and read it
through `read`, which refuses a document that does not hold together: a cell with a count but a suppressed state, a
row of the wrong length, a total that is not a whole number. A suppressed cell therefore reaches the renderers only as
`None`: they cannot print what they are never given.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from handover.core.report.release import FORMAT, Category
from handover.core.report.tables import CellState

_ISO_WEEK = re.compile(r"(\d{4})-W(\d{2})")


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    title: str
    rows_are: str
    columns_are: str
    cumulative: bool
    needs_identities: bool
    rows: tuple[Category, ...]
    columns: tuple[Category, ...]
    values: tuple[tuple[int | None, ...], ...]
    """The published cells: None exactly where the cell is suppressed."""
    states: tuple[tuple[CellState, ...], ...]
    row_totals: tuple[int, ...]
    column_totals: tuple[int, ...]
    grand_total: int

    def row_has_suppressed(self, row: int) -> bool:
        return any(state.suppressed for state in self.states[row])

    @property
    def has_suppressed(self) -> bool:
        return any(self.row_has_suppressed(i) for i in range(len(self.rows)))


@dataclass(frozen=True, slots=True)
class Checkpoint:
    origin: str
    size: int
    root: str
    note: str


@dataclass(frozen=True, slots=True)
class Rules:
    threshold: int
    protection: int
    zeros_disclosive: bool
    rounding: int | None


@dataclass(frozen=True, slots=True)
class Forecast:
    as_of: date
    p50: date
    p85: date
    p95: date


@dataclass(frozen=True, slots=True)
class Context:
    """The operator's plan and reference data: stated in the report, not computed from the log."""

    planned_total: int | None
    plan_completion: date | None
    forecast: Forecast | None
    capacity: Mapping[str, Mapping[str, int]]

    def capacity_of(self, facilities: Sequence[str]) -> int | None:
        """The capacity of these facilities over every estate; None when none of them has a capacity on record."""
        known = [self.capacity[f] for f in facilities if f in self.capacity]
        return sum(sum(estates.values()) for estates in known) if known else None


@dataclass(frozen=True, slots=True)
class Release:
    release: int
    published_at: datetime
    operation: str
    checkpoint: Checkpoint
    computed_from: str
    as_of: datetime | None
    rules: Rules
    counts: tuple[tuple[str, int], ...]
    tables: tuple[Table, ...]
    context: Context
    previous_release: int | None
    findings: tuple[Any, ...]

    def table(self, name: str) -> Table | None:
        return next((t for t in self.tables if t.name == name), None)


def read(doc: Mapping[str, Any]) -> Release:
    """The document as a `Release`; ValueError, naming the place, if it is not a well-formed release."""
    if doc.get("format") != FORMAT:
        raise ValueError(f"format: expected {FORMAT!r}, not {doc.get('format')!r}")
    checkpoint = _mapping(doc, "checkpoint")
    rules = _mapping(doc, "rules")
    threshold = _count(rules.get("threshold"), "rules.threshold")
    protection = rules.get("protection")
    differencing = _mapping_value(doc.get("differencing") or {}, "differencing")
    return Release(
        release=_count(doc.get("release"), "release"),
        published_at=_datetime(doc.get("published_at"), "published_at"),
        operation=_text(doc.get("operation"), "operation"),
        checkpoint=Checkpoint(
            origin=_text(checkpoint.get("origin"), "checkpoint.origin"),
            size=_count(checkpoint.get("size"), "checkpoint.size"),
            root=_text(checkpoint.get("root"), "checkpoint.root"),
            note=_text(checkpoint.get("note"), "checkpoint.note"),
        ),
        computed_from=_text(doc.get("computed_from", ""), "computed_from"),
        as_of=None if doc.get("as_of") is None else _datetime(doc["as_of"], "as_of"),
        rules=Rules(
            threshold=threshold,
            protection=threshold if protection is None else _count(protection, "rules.protection"),
            zeros_disclosive=bool(rules.get("zeros_disclosive", True)),
            rounding=None if rules.get("rounding") is None else _count(rules["rounding"], "rules.rounding"),
        ),
        counts=tuple(
            (_text(c.get("name"), f"counts[{i}].name"), _count(c.get("value"), f"counts[{i}].value"))
            for i, c in enumerate(_sequence(doc.get("counts", []), "counts"))
        ),
        tables=tuple(_table(t, f"tables[{i}]") for i, t in enumerate(_sequence(doc.get("tables", []), "tables"))),
        context=_context(doc.get("context") or {}),
        previous_release=(
            None
            if differencing.get("previous_release") is None
            else _count(differencing["previous_release"], "differencing.previous_release")
        ),
        findings=tuple(differencing.get("findings") or ()),
    )


def week_end(key: str) -> date | None:
    """The Sunday ending an ISO week written "2026-W05"; None if the key is not such a week."""
    match = _ISO_WEEK.fullmatch(key)
    if match is None:
        return None
    try:
        return date.fromisocalendar(int(match[1]), int(match[2]), 7)
    except ValueError:
        return None


def _table(raw: Any, where: str) -> Table:
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where}: expected an object")
    rows = _categories(raw.get("rows"), f"{where}.rows")
    columns = _categories(raw.get("columns"), f"{where}.columns")
    cells = _grid(raw.get("cells"), len(rows), len(columns), f"{where}.cells")
    raw_states = _grid(raw.get("states"), len(rows), len(columns), f"{where}.states")
    values: list[tuple[int | None, ...]] = []
    states: list[tuple[CellState, ...]] = []
    for i, (cell_row, state_row) in enumerate(zip(cells, raw_states, strict=True)):
        value_row: list[int | None] = []
        parsed_row: list[CellState] = []
        for j, (cell, raw_state) in enumerate(zip(cell_row, state_row, strict=True)):
            place = f"{where}.cells[{i}][{j}]"
            try:
                state = CellState(raw_state)
            except ValueError:
                raise ValueError(f"{where}.states[{i}][{j}]: unknown state {raw_state!r}") from None
            if state.suppressed and cell is not None:
                # A count next to a suppressed state is a builder's mistake; publishing anyway would risk the count.
                raise ValueError(f"{place}: a {state.value} cell must be null, not {cell!r}")
            if not state.suppressed and cell is None:
                raise ValueError(f"{place}: a shown cell needs a count")
            value_row.append(None if cell is None else _count(cell, place))
            parsed_row.append(state)
        values.append(tuple(value_row))
        states.append(tuple(parsed_row))
    return Table(
        name=_text(raw.get("name"), f"{where}.name"),
        title=_text(raw.get("title"), f"{where}.title"),
        rows_are=str(raw.get("rows_are", "")),
        columns_are=str(raw.get("columns_are", "")),
        cumulative=bool(raw.get("cumulative", False)),
        needs_identities=bool(raw.get("needs_identities", False)),
        rows=rows,
        columns=columns,
        values=tuple(values),
        states=tuple(states),
        row_totals=_counts(raw.get("row_totals"), len(rows), f"{where}.row_totals"),
        column_totals=_counts(raw.get("column_totals"), len(columns), f"{where}.column_totals"),
        grand_total=_count(raw.get("grand_total"), f"{where}.grand_total"),
    )


def _categories(raw: Any, where: str) -> tuple[Category, ...]:
    out = []
    for i, c in enumerate(_sequence(raw, where)):
        if not isinstance(c, Mapping):
            raise ValueError(f"{where}[{i}]: expected an object")
        key = _text(c.get("key"), f"{where}[{i}].key")
        members = c.get("members")
        out.append(
            Category(
                key=key,
                label=_text(c.get("label", key), f"{where}[{i}].label"),
                members=(key,) if members is None else tuple(str(m) for m in _sequence(members, f"{where}[{i}]")),
            )
        )
    return tuple(out)


def _grid(raw: Any, rows: int, columns: int, where: str) -> list[Sequence[Any]]:
    grid = list(_sequence(raw, where))
    if len(grid) != rows:
        raise ValueError(f"{where}: expected {rows} rows, not {len(grid)}")
    for i, line in enumerate(grid):
        if len(_sequence(line, f"{where}[{i}]")) != columns:
            raise ValueError(f"{where}[{i}]: expected {columns} cells, not {len(line)}")
    return grid


def _context(raw: Any) -> Context:
    if not isinstance(raw, Mapping):
        raise ValueError("context: expected an object")
    forecast = None
    if raw.get("forecast") is not None:
        f = _mapping_value(raw["forecast"], "context.forecast")
        forecast = Forecast(
            as_of=_date(f.get("as_of"), "context.forecast.as_of"),
            p50=_date(f.get("p50_date"), "context.forecast.p50_date"),
            p85=_date(f.get("p85_date"), "context.forecast.p85_date"),
            p95=_date(f.get("p95_date"), "context.forecast.p95_date"),
        )
    capacity = {
        str(facility): {
            str(estate): _count(n, f"context.capacity.{facility}.{estate}")
            for estate, n in _mapping_value(estates, f"context.capacity.{facility}").items()
        }
        for facility, estates in _mapping_value(raw.get("capacity") or {}, "context.capacity").items()
    }
    planned = raw.get("planned_total")
    completion = raw.get("plan_completion")
    return Context(
        planned_total=None if planned is None else _count(planned, "context.planned_total"),
        plan_completion=None if completion is None else _date(completion, "context.plan_completion"),
        forecast=forecast,
        capacity=capacity,
    )


def _mapping(doc: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    return _mapping_value(doc.get(key), key)


def _mapping_value(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{where}: expected an object")
    return value


def _sequence(value: Any, where: str) -> Sequence[Any]:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise ValueError(f"{where}: expected a list")
    return value


def _count(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{where}: expected a whole number of at least 0, not {value!r}")
    return value


def _counts(value: Any, length: int, where: str) -> tuple[int, ...]:
    items = _sequence(value, where)
    if len(items) != length:
        raise ValueError(f"{where}: expected {length} totals, not {len(items)}")
    return tuple(_count(v, f"{where}[{i}]") for i, v in enumerate(items))


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{where}: expected text, not {value!r}")
    return value


def _datetime(value: Any, where: str) -> datetime:
    try:
        moment = datetime.fromisoformat(_text(value, where))
    except ValueError:
        raise ValueError(f"{where}: not an ISO 8601 time: {value!r}") from None
    if moment.tzinfo is None:
        raise ValueError(f"{where}: a time needs its offset from UTC: {value!r}")
    return moment


def _date(value: Any, where: str) -> date:
    try:
        return date.fromisoformat(_text(value, where))
    except ValueError:
        raise ValueError(f"{where}: not an ISO 8601 date: {value!r}") from None
