"""The release's figures as CSV (RFC 4180), with a row of HXL hashtags (https://hxlstandard.org) under the header.

One long table: a line per published figure, cells and totals alike, so that a spreadsheet or an HXL tool can filter
and pivot it without knowing the shape of each table. A suppressed cell is a line with an empty value and its state,
never a number. Totals are lines with the state "total" and the key "*" on the side they add up.

The header, the labels and the titles are the document's own English text, not translated: a CSV is read by programs
as much as by people, and its columns must not change with the reader's language. The hashtags are the stable names.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from handover.publish.document import Table, read

TOTAL_KEY = "*"
TOTAL_LABEL = "Total"
TOTAL_STATE = "total"

TABLE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("table", "#meta+table+code"),
    ("table title", "#meta+table+name"),
    ("row key", "#x_row+code"),
    ("row label", "#x_row+name"),
    ("column key", "#x_column+code"),
    ("column label", "#x_column+name"),
    ("value", "#affected+num"),
    ("state", "#status+code"),
)

COUNT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("count", "#indicator+code"),
    ("value", "#affected+num"),
)


def tables_csv(doc: Mapping[str, Any]) -> str:
    """Every published figure of every table: cells row by row, each row's total after it, then the column totals
    and the grand total."""
    release = read(doc)
    return _write(TABLE_COLUMNS, (line for table in release.tables for line in _table_lines(table)))


def counts_csv(doc: Mapping[str, Any]) -> str:
    """The operation-wide counts, published exactly, in the document's order."""
    release = read(doc)
    return _write(COUNT_COLUMNS, ([name, value] for name, value in release.counts))


def _table_lines(table: Table) -> Iterator[list[object]]:
    head = [table.name, table.title]
    for i, row in enumerate(table.rows):
        for j, column in enumerate(table.columns):
            value = table.values[i][j]
            yield [
                *head,
                row.key,
                row.label,
                column.key,
                column.label,
                "" if value is None else value,
                table.states[i][j].value,
            ]
        yield [*head, row.key, row.label, TOTAL_KEY, TOTAL_LABEL, table.row_totals[i], TOTAL_STATE]
    for j, column in enumerate(table.columns):
        yield [*head, TOTAL_KEY, TOTAL_LABEL, column.key, column.label, table.column_totals[j], TOTAL_STATE]
    yield [*head, TOTAL_KEY, TOTAL_LABEL, TOTAL_KEY, TOTAL_LABEL, table.grand_total, TOTAL_STATE]


def _write(columns: Sequence[tuple[str, str]], lines: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([name for name, _tag in columns])
    writer.writerow([tag for _name, tag in columns])
    for line in lines:
        writer.writerow([_cell(value) for value in line])
    return out.getvalue()


def _cell(value: object) -> object:
    """A spreadsheet must not take a label for a formula; numbers stay numbers."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value
