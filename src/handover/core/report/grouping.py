"""Merging small categories, so that no published total counts fewer people than the threshold.

Every row, column and grand total of a published table is published (`tables.Table`), and a small total singles out
its few people as surely as a small cell. Before any cell is suppressed, each line (row or column) whose total is 1
to threshold - 1 is merged with others until every line holds at least the threshold or nobody:

- Unordered categories (facilities, countries, estates): the small lines go into one "other" line; while that line
  is still small, the smallest line left joins it (ties: the last in order).
- Ordered categories (weeks): a small line joins the line after it (the last joins the one before), until none is
  small, so merged weeks stay a run of consecutive weeks.

A line that holds everyone of a small table ends as the one line `ALL`; its one cell is the table's grand total, which
the report publishes exactly like its operation-wide counts (a count with no breakdown names no one).

Lines with a total of 0 stay as they are: an empty group reveals nobody.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from handover.core.report.figures import RawTable
from handover.core.report.tables import Cell, Table

OTHER = "other"
ALL = "all"


@dataclass(frozen=True, slots=True)
class Group:
    """A published category: its key and the raw categories it holds (itself alone unless merged)."""

    key: str
    members: tuple[str, ...]

    @property
    def merged(self) -> bool:
        return self.members != (self.key,)


def merge_small(keys: Sequence[str], totals: Mapping[str, int], threshold: int, *, ordered: bool) -> tuple[Group, ...]:
    """Group `keys` (in publishing order) so that no group's total is 1 to threshold - 1."""
    groups = [[key] for key in keys]

    def total(group: list[str]) -> int:
        return sum(totals.get(key, 0) for key in group)

    def small(group: list[str]) -> bool:
        return 0 < total(group) < threshold

    if ordered:
        while len(groups) > 1:
            at = next((i for i, group in enumerate(groups) if small(group)), None)
            if at is None:
                break
            into = at + 1 if at + 1 < len(groups) else at - 1
            low, high = sorted((at, into))
            groups[low : high + 1] = [groups[low] + groups[high]]
    else:
        merged = [key for group in groups for key in group if small(group)]
        if merged:
            rest = [group for group in groups if not small(group)]
            while 0 < total(merged) < threshold and any(total(group) > 0 for group in rest):
                smallest = min(
                    (i for i, group in enumerate(rest) if total(group) > 0),
                    key=lambda i: (total(rest[i]), -i),
                )
                joined = {*merged, *rest.pop(smallest)}
                merged = [key for key in keys if key in joined]
            if 0 < total(merged) < threshold:
                # Everyone is in the small lines: only the whole table holds enough people.
                return (Group(ALL, tuple(keys)),)
            groups = [*rest, merged] if rest else [merged]
    if len(groups) == 1 and len(groups[0]) > 1:
        return (Group(ALL, tuple(groups[0])),)
    return tuple(_named(group, ordered) for group in groups)


def _named(members: list[str], ordered: bool) -> Group:
    if len(members) == 1:
        return Group(members[0], (members[0],))
    return Group(f"{members[0]}..{members[-1]}" if ordered else OTHER, tuple(members))


def grouped(
    raw: RawTable, threshold: int, *, ordered_rows: bool = False
) -> tuple[Table, tuple[Group, ...], tuple[Group, ...]]:
    """The raw table with small rows and columns merged, as a `Table` of true counts, and its row and column groups."""
    row_totals = {row: sum(raw.count(row, column) for column in raw.columns) for row in raw.rows}
    column_totals = {column: sum(raw.count(row, column) for row in raw.rows) for column in raw.columns}
    # A table of nobody still has a line each way (`ALL`, holding nobody), so it publishes its zero.
    raw_rows, raw_columns = raw.rows or (ALL,), raw.columns or (ALL,)
    if 0 < raw.total < threshold:
        # Every line of the table would be small: it is published as its grand total alone.
        rows: tuple[Group, ...] = (Group(ALL, raw_rows),)
        columns: tuple[Group, ...] = (Group(ALL, raw_columns),)
    else:
        rows = merge_small(raw_rows, row_totals, threshold, ordered=ordered_rows)
        columns = merge_small(raw_columns, column_totals, threshold, ordered=False)
    return regroup(raw, rows, columns), rows, columns


def regroup(raw: RawTable, rows: Sequence[Group], columns: Sequence[Group]) -> Table:
    """The raw table's counts summed into the given groups (raw categories in no group are left out)."""
    counts = {
        Cell(row.key, column.key): sum(raw.count(r, c) for r in row.members for c in column.members)
        for row in rows
        for column in columns
    }
    return Table.from_counts((row.key for row in rows), (column.key for column in columns), counts)
