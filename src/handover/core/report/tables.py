"""A published table: counts of people in two dimensions, with its totals, and the state of every cell.

`Table` holds the true counts, which never leave the publisher, and the state each cell is published in. `Published`
is what goes out: every row, column and grand total (always published, never suppressed), the shown cells, `None`
where a cell is suppressed, and the rounding base if the figures are rounded. The recovery attack in `disclosure`
reads only a `Published`, as an outsider would.

Rounding, when chosen, is conventional rounding to the nearest multiple of the base, halves up (base 5: 0-2 -> 0,
3-7 -> 5; base 10: 0-4 -> 0, 5-14 -> 10). Every shown cell and every total is rounded independently from its own true
value, so rounded cells need not add up to their rounded total; a reader learns that each true value lies within the
values that round to the published one (`Rounding.bounds`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple


class Cell(NamedTuple):
    """A cell, named by its row and its column."""

    row: str
    column: str


class Axis(StrEnum):
    ROW = "row"
    COLUMN = "column"
    GRAND = "grand"


class Total(NamedTuple):
    """A published total: of a row or a column, by its name, or the grand total (name "")."""

    axis: Axis
    name: str


class CellState(StrEnum):
    SHOWN = "shown"
    """Published: its count, or its count rounded if the table is rounded."""
    PRIMARY = "primary"
    """Suppressed because it is disclosive itself: a count below the threshold, or a disclosive zero."""
    SECONDARY = "secondary"
    """Suppressed only so that the primary cells cannot be recovered from the rest."""

    @property
    def suppressed(self) -> bool:
        return self is not CellState.SHOWN


@dataclass(frozen=True, slots=True)
class Rounding:
    """Rounding to the nearest multiple of `base`, halves up."""

    base: int

    def __post_init__(self) -> None:
        if isinstance(self.base, bool) or not isinstance(self.base, int) or self.base < 2:
            raise ValueError(f"a rounding base must be a whole number of at least 2, not {self.base!r}")

    def round(self, count: int) -> int:
        return self.base * ((count + self.base // 2) // self.base)

    def bounds(self, published: int) -> tuple[int, int]:
        """The non-negative whole numbers that round to `published`, as (lowest, highest)."""
        if published % self.base:
            raise ValueError(f"{published} is not a multiple of the rounding base {self.base}")
        return max(0, published - self.base // 2), published + self.base - 1 - self.base // 2


def _check_names(kind: str, names: tuple[str, ...]) -> None:
    if not names:
        raise ValueError(f"a table needs at least one {kind}")
    if len(set(names)) != len(names):
        raise ValueError(f"{kind} names must be unique: {names!r}")


def _check_count(what: str, count: object) -> None:
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"{what} must be a non-negative whole number, not {count!r}")


@dataclass(frozen=True, slots=True)
class Table:
    """True counts by row and column, the state each cell is published in, and the rounding, if any.

    `states` left empty means every cell is shown. Build the states with `disclosure.protect`, not by hand.
    """

    rows: tuple[str, ...]
    columns: tuple[str, ...]
    counts: tuple[tuple[int, ...], ...]
    states: tuple[tuple[CellState, ...], ...] = ()
    rounding: Rounding | None = None

    def __post_init__(self) -> None:
        _check_names("row", self.rows)
        _check_names("column", self.columns)
        if len(self.counts) != len(self.rows) or any(len(line) != len(self.columns) for line in self.counts):
            raise ValueError(f"counts must be {len(self.rows)} rows of {len(self.columns)} columns")
        for row, line in zip(self.rows, self.counts, strict=True):
            for column, count in zip(self.columns, line, strict=True):
                _check_count(f"the count of {Cell(row, column)}", count)
        if not self.states:
            shown = tuple(tuple(CellState.SHOWN for _ in self.columns) for _ in self.rows)
            object.__setattr__(self, "states", shown)
        elif len(self.states) != len(self.rows) or any(len(line) != len(self.columns) for line in self.states):
            raise ValueError(f"states must be {len(self.rows)} rows of {len(self.columns)} columns")

    @classmethod
    def from_counts(cls, rows: Iterable[str], columns: Iterable[str], counts: Mapping[Cell, int]) -> Table:
        """A table of the given rows and columns, in that order; cells missing from `counts` are 0."""
        rows, columns = tuple(rows), tuple(columns)
        unknown = [cell for cell in counts if cell.row not in rows or cell.column not in columns]
        if unknown:
            raise ValueError(f"counts for cells outside the table: {unknown!r}")
        return cls(rows, columns, tuple(tuple(counts.get(Cell(r, c), 0) for c in columns) for r in rows))

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.rows), len(self.columns)

    @property
    def cells(self) -> tuple[Cell, ...]:
        """Every cell, row by row."""
        return tuple(Cell(r, c) for r in self.rows for c in self.columns)

    def index(self, cell: Cell) -> tuple[int, int]:
        try:
            return self.rows.index(cell.row), self.columns.index(cell.column)
        except ValueError:
            raise KeyError(cell) from None

    def count(self, cell: Cell) -> int:
        i, j = self.index(cell)
        return self.counts[i][j]

    def state(self, cell: Cell) -> CellState:
        i, j = self.index(cell)
        return self.states[i][j]

    @property
    def row_totals(self) -> tuple[int, ...]:
        return tuple(sum(line) for line in self.counts)

    @property
    def column_totals(self) -> tuple[int, ...]:
        return tuple(sum(line[j] for line in self.counts) for j in range(len(self.columns)))

    @property
    def grand_total(self) -> int:
        return sum(self.row_totals)

    def row_total(self, row: str) -> int:
        return self.row_totals[self.rows.index(row)]

    def column_total(self, column: str) -> int:
        return self.column_totals[self.columns.index(column)]

    def in_state(self, *states: CellState) -> tuple[Cell, ...]:
        """The cells in any of `states`, row by row."""
        return tuple(cell for cell, state in self._cells_and_states() if state in states)

    @property
    def suppressed(self) -> tuple[Cell, ...]:
        return self.in_state(CellState.PRIMARY, CellState.SECONDARY)

    def with_states(self, changes: Mapping[Cell, CellState]) -> Table:
        """The same counts with the given cells in new states."""
        for cell in changes:
            self.index(cell)
        states = tuple(
            tuple(changes.get(Cell(r, c), self.states[i][j]) for j, c in enumerate(self.columns))
            for i, r in enumerate(self.rows)
        )
        return Table(self.rows, self.columns, self.counts, states, self.rounding)

    def with_rounding(self, rounding: Rounding | None) -> Table:
        return Table(self.rows, self.columns, self.counts, self.states, rounding)

    def published(self) -> Published:
        """What goes out: the totals and the shown cells, rounded if the table is rounded; `None` where suppressed."""
        out = self.rounding.round if self.rounding else _same
        cells = tuple(
            tuple(None if state.suppressed else out(count) for count, state in zip(line, states, strict=True))
            for line, states in zip(self.counts, self.states, strict=True)
        )
        return Published(
            self.rows,
            self.columns,
            cells,
            self.states,
            tuple(out(n) for n in self.row_totals),
            tuple(out(n) for n in self.column_totals),
            out(self.grand_total),
            self.rounding,
        )

    def _cells_and_states(self) -> Iterator[tuple[Cell, CellState]]:
        for r, states in zip(self.rows, self.states, strict=True):
            for c, state in zip(self.columns, states, strict=True):
                yield Cell(r, c), state


def _same(count: int) -> int:
    return count


@dataclass(frozen=True, slots=True)
class Published:
    """A table as published: every total, the shown cells, `None` for each suppressed one, and the rounding used."""

    rows: tuple[str, ...]
    columns: tuple[str, ...]
    cells: tuple[tuple[int | None, ...], ...]
    states: tuple[tuple[CellState, ...], ...]
    row_totals: tuple[int, ...]
    column_totals: tuple[int, ...]
    grand_total: int
    rounding: Rounding | None = None

    def __post_init__(self) -> None:
        _check_names("row", self.rows)
        _check_names("column", self.columns)
        shape_ok = len(self.cells) == len(self.states) == len(self.row_totals) == len(self.rows) and all(
            len(a) == len(b) == len(self.columns) for a, b in zip(self.cells, self.states, strict=True)
        )
        if not shape_ok or len(self.column_totals) != len(self.columns):
            raise ValueError(f"a published table must be {len(self.rows)} rows of {len(self.columns)} columns")
        for i, r in enumerate(self.rows):
            for j, c in enumerate(self.columns):
                value, state = self.cells[i][j], self.states[i][j]
                if (value is None) != state.suppressed:
                    raise ValueError(f"{Cell(r, c)} is {state} but published as {value!r}")
                if value is not None:
                    self._check_figure(f"the value of {Cell(r, c)}", value)
        for what, figures in (("row total", self.row_totals), ("column total", self.column_totals)):
            for figure in figures:
                self._check_figure(f"a {what}", figure)
        self._check_figure("the grand total", self.grand_total)

    def _check_figure(self, what: str, figure: int) -> None:
        _check_count(what, figure)
        if self.rounding is not None and figure % self.rounding.base:
            raise ValueError(f"{what} is {figure}, not a multiple of the rounding base {self.rounding.base}")

    @property
    def cell_names(self) -> tuple[Cell, ...]:
        """Every cell, row by row."""
        return tuple(Cell(r, c) for r in self.rows for c in self.columns)

    def value(self, cell: Cell) -> int | None:
        return self.cells[self.rows.index(cell.row)][self.columns.index(cell.column)]

    def state(self, cell: Cell) -> CellState:
        return self.states[self.rows.index(cell.row)][self.columns.index(cell.column)]

    @property
    def suppressed(self) -> tuple[Cell, ...]:
        return tuple(cell for cell in self.cell_names if self.state(cell).suppressed)

    def bounds(self, figure: int) -> tuple[int, int]:
        """The true values a published figure (a shown cell or a total) allows, as (lowest, highest)."""
        return self.rounding.bounds(figure) if self.rounding else (figure, figure)
