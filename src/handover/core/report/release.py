"""A release of the public report: the figures counted at a signed checkpoint, protected, in one JSON document.

`build` turns `figures.Figures` (true counts, which never leave the publisher) into a `Release`: small categories
merged (`grouping`), cells suppressed (`disclosure.protect`), every table audited by the recovery attack (nothing
recovered, nothing exposed, or it refuses), and each cumulative table checked against the previous release
(`disclosure.check_differencing`, or it refuses). `to_json` writes the document the report's formats are made from
and `from_json` reads one back strictly; the document's layout is described in `docs/report.md`.

What a reader of the document can check: the checkpoint note opens with the log's verifier key, and every figure is
recounted from the log entries 0 to size - 1 by `handover verify --report` (the nationality table needs the identity
records too). The `context` (plan, forecast, capacities) is the operator's, stated for the charts and not verifiable
from the log.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from handover.core.report import disclosure
from handover.core.report.disclosure import Link, Rules
from handover.core.report.figures import AWAITING, COUNTS, HELD, MOVED_BY_WEEK, Figures, RawTable
from handover.core.report.grouping import Group, grouped, regroup
from handover.core.report.tables import Cell, CellState, Published, Rounding, Table

FORMAT = "handover-transparency-report/1"


class ReleaseRefused(ValueError):
    """The figures cannot be published as they are: what the attack found, table by table."""

    def __init__(self, findings: Sequence[str]) -> None:
        super().__init__("; ".join(findings))
        self.findings = tuple(findings)


class MalformedRelease(ValueError):
    """A document that is not a release of this format: names the field and what is wrong."""


@dataclass(frozen=True, slots=True)
class CheckpointRef:
    """The signed checkpoint the figures were counted at."""

    origin: str
    size: int
    root: bytes
    note: str
    """The whole signed note, as the log served it."""


@dataclass(frozen=True, slots=True)
class Category:
    key: str
    label: str
    members: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ReleasedTable:
    """A table as released: its categories (with what each merged category holds) and its published figures."""

    name: str
    title: str
    rows_are: str
    columns_are: str
    cumulative: bool
    needs_identities: bool
    rows: tuple[Category, ...]
    columns: tuple[Category, ...]
    published: Published


@dataclass(frozen=True, slots=True)
class Context:
    """The operator's plan and reference data, for the charts; not counted from the log."""

    planned_total: int | None = None
    plan_completion: date | None = None
    forecast: Mapping[str, str | None] | None = None
    """as_of, p50_date, p85_date, p95_date (ISO dates) of the baseline forecast."""
    capacity: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    """Places per facility and estate."""


@dataclass(frozen=True, slots=True)
class Release:
    number: int
    published_at: datetime
    operation: str
    checkpoint: CheckpointRef
    as_of: datetime | None
    rules: Rules
    counts: Mapping[str, int]
    tables: tuple[ReleasedTable, ...]
    context: Context = field(default_factory=Context)
    previous_release: int | None = None

    @property
    def computed_from(self) -> str:
        return f"log entries 0 to {self.checkpoint.size - 1}" if self.checkpoint.size else "an empty log"

    def table(self, name: str) -> ReleasedTable:
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(name)


TITLES = {
    "moved_by_week_and_destination": "People moved, by week and destination",
    "moved_by_nationality_and_group": "People moved, by nationality, sex and age",
    "held_by_facility_and_estate": "People held, by facility and estate",
    "repatriated_by_country_and_estate": "People repatriated, by receiving country and estate",
    "awaiting_safeguards_by_facility_and_estate": "People awaiting safeguards before a move, by facility and estate",
}

Labels = Mapping[str, Mapping[str, str]]
"""Per dimension (`RawTable.rows_are` / `columns_are`), the label of each raw key."""


def build(
    figures: Figures,
    *,
    number: int,
    published_at: datetime,
    operation: str,
    checkpoint: CheckpointRef,
    rules: Rules = disclosure.DEFAULT_RULES,
    labels: Labels | None = None,
    context: Context | None = None,
    previous: tuple[Release, Figures] | None = None,
) -> Release:
    """The release of `figures`, or `ReleaseRefused` naming every table the attack breaks and every difference
    from `previous` (the last release and its true figures, recounted at its checkpoint) that gives someone away."""
    grouped_tables = [grouped(raw, rules.threshold, ordered_rows=raw.name == MOVED_BY_WEEK) for raw in figures.tables]
    shapes = [
        (table.name, rows, columns) for table, (_, rows, columns) in zip(figures.tables, grouped_tables, strict=True)
    ]
    links = linked_cells(shapes)
    tables = _protected([table for table, _, _ in grouped_tables], links, rules)
    findings: list[str] = []
    for raw, result in zip(figures.tables, disclosure.audit_linked(tables, links, rules), strict=True):
        for cell in result.recovered:
            findings.append(f"{raw.name}: suppressed cell {cell.row}/{cell.column} can be worked out from the rest")
        for cell in result.exposed:
            findings.append(f"{raw.name}: suppressed cell {cell.row}/{cell.column} is pinned by the totals alone")
    protected = {raw.name: table for raw, table in zip(figures.tables, tables, strict=True)}
    released = [
        _released(raw, table, rows, columns, labels or {})
        for raw, table, (_, rows, columns) in zip(figures.tables, tables, grouped_tables, strict=True)
    ]
    if previous is not None:
        findings += differences(previous, figures, protected, released, rules)
    if findings:
        raise ReleaseRefused(findings)
    return Release(
        number=number,
        published_at=published_at,
        operation=operation,
        checkpoint=checkpoint,
        as_of=figures.as_of,
        rules=Rules(rules.threshold, rules.protection_width, rules.zeros_disclosive, rules.rounding),
        counts={name: figures.counts[name] for name in COUNTS},
        tables=tuple(released),
        context=context or Context(),
        previous_release=previous[0].number if previous is not None else None,
    )


def _protected(tables: Sequence[Table], links: Sequence[Link], rules: Rules) -> list[Table]:
    rounding = Rounding(rules.rounding) if rules.rounding else None
    linked = {number for link in links for number, _ in (*link.lower, *link.upper)}
    protected = list(tables)
    for number, table in enumerate(tables):
        if table.shape == (1, 1):
            # Its one cell is its grand total, published anyway: suppressing it would hide nothing.
            protected[number] = table.with_rounding(rounding)
        elif number not in linked:
            protected[number] = disclosure.protect(table, rules)
    if linked:
        order = sorted(linked)
        for number, table in zip(
            order, disclosure.protect_linked([tables[n] for n in order], _renumbered(links, order), rules), strict=True
        ):
            protected[number] = table
    return protected


def _renumbered(links: Sequence[Link], order: Sequence[int]) -> list[Link]:
    position = {number: k for k, number in enumerate(order)}
    return [
        Link(tuple((position[n], c) for n, c in link.lower), tuple((position[n], c) for n, c in link.upper))
        for link in links
    ]


# The cells of the first table of each pair count people who are all among those the second table's cells count,
# by the same raw keys: people awaiting safeguards are held where they were registered, in the estate held in.
LINKED = ((AWAITING, HELD),)


def linked_cells(shapes: Sequence[tuple[str, Sequence[Group], Sequence[Group]]]) -> list[Link]:
    """The links an outsider knows between the cells of a release's tables (see `LINKED`), whatever their merges:
    each cell of the lower table is at most the upper table's cells it overlaps, and the lower cells inside an
    upper cell add up to at most it."""
    where = {name: (number, rows, columns) for number, (name, rows, columns) in enumerate(shapes)}
    links: list[Link] = []
    for lower_name, upper_name in LINKED:
        if lower_name not in where or upper_name not in where:
            continue
        low, low_rows, low_columns = where[lower_name]
        up, up_rows, up_columns = where[upper_name]
        lower_cells = [(r, c) for r in low_rows for c in low_columns]
        upper_cells = [(r, c) for r in up_rows for c in up_columns]

        def overlaps(a: tuple[Group, Group], b: tuple[Group, Group]) -> bool:
            return bool(set(a[0].members) & set(b[0].members)) and bool(set(a[1].members) & set(b[1].members))

        def inside(a: tuple[Group, Group], b: tuple[Group, Group]) -> bool:
            return set(a[0].members) <= set(b[0].members) and set(a[1].members) <= set(b[1].members)

        for cell in lower_cells:
            over = tuple((up, Cell(r.key, c.key)) for r, c in upper_cells if overlaps(cell, (r, c)))
            links.append(Link(((low, Cell(cell[0].key, cell[1].key)),), over))
        for cell in upper_cells:
            within = tuple((low, Cell(r.key, c.key)) for r, c in lower_cells if inside((r, c), cell))
            if len(within) > 1:
                links.append(Link(within, ((up, Cell(cell[0].key, cell[1].key)),)))
    return links


def _released(
    raw: RawTable, table: Table, rows: Sequence[Group], columns: Sequence[Group], labels: Labels
) -> ReleasedTable:
    return ReleasedTable(
        name=raw.name,
        title=TITLES.get(raw.name, raw.name),
        rows_are=raw.rows_are,
        columns_are=raw.columns_are,
        cumulative=raw.cumulative,
        needs_identities=raw.needs_identities,
        rows=tuple(_category(group, labels.get(raw.rows_are, {})) for group in rows),
        columns=tuple(_category(group, labels.get(raw.columns_are, {})) for group in columns),
        published=table.published(),
    )


def _category(group: Group, labels: Mapping[str, str]) -> Category:
    if not group.merged:
        return Category(group.key, labels.get(group.key, group.key), group.members)
    names = ", ".join(labels.get(member, member) for member in group.members)
    return Category(group.key, f"{group.key}: {names}", group.members)


def differences(
    previous: tuple[Release, Figures],
    figures: Figures,
    protected: Mapping[str, Table],
    released: Sequence[ReleasedTable],
    rules: Rules,
) -> list[str]:
    """What the previous release and this one, attacked together, give away, per cumulative table.

    Only the categories both releases publish with the same members are compared: the sub-tables' totals are then
    treated as published, which assumes more of the attacker than the releases give, so the check errs on the safe
    side.
    """
    before_release, before_figures = previous
    found: list[str] = []
    for table in released:
        if not table.cumulative:
            continue
        try:
            old = before_release.table(table.name)
            old_raw = before_figures.table(table.name)
        except KeyError:
            continue
        new_raw = figures.table(table.name)
        rows = [row for row in table.rows if _same_group(row, old.rows)]
        columns = [column for column in table.columns if _same_group(column, old.columns)]
        if not rows or not columns:
            continue
        groups_r = [Group(row.key, row.members) for row in rows]
        groups_c = [Group(column.key, column.members) for column in columns]
        before = _with_states(regroup(old_raw, groups_r, groups_c), old.published)
        after = _with_states(regroup(new_raw, groups_r, groups_c), protected[table.name].published())
        try:
            differences_found = disclosure.check_differencing(before, after, rules)
        except ValueError as error:
            found.append(f"{table.name}: {error}")
            continue
        found += [f"{table.name}: {difference}" for difference in differences_found]
    return found


def _same_group(category: Category, others: Sequence[Category]) -> bool:
    return any(other.key == category.key and other.members == category.members for other in others)


def _with_states(table: Table, published: Published) -> Table:
    states = {Cell(row, column): published.state(Cell(row, column)) for row in table.rows for column in table.columns}
    return table.with_states(states).with_rounding(published.rounding)


# --- the document ---------------------------------------------------------------------------------------------


def to_document(release: Release) -> dict[str, Any]:
    rules = release.rules
    return {
        "format": FORMAT,
        "release": release.number,
        "published_at": release.published_at.isoformat(),
        "operation": release.operation,
        "checkpoint": {
            "origin": release.checkpoint.origin,
            "size": release.checkpoint.size,
            "root": base64.b64encode(release.checkpoint.root).decode(),
            "note": release.checkpoint.note,
        },
        "computed_from": release.computed_from,
        "as_of": release.as_of.isoformat() if release.as_of else None,
        "rules": {
            "threshold": rules.threshold,
            "protection": rules.protection_width,
            "zeros_disclosive": rules.zeros_disclosive,
            "rounding": rules.rounding,
        },
        "counts": [{"name": name, "value": value} for name, value in release.counts.items()],
        "tables": [_table_document(table) for table in release.tables],
        "context": {
            "planned_total": release.context.planned_total,
            "plan_completion": release.context.plan_completion.isoformat() if release.context.plan_completion else None,
            "forecast": dict(release.context.forecast) if release.context.forecast else None,
            "capacity": {place: dict(estates) for place, estates in release.context.capacity.items()},
        },
        "differencing": {"previous_release": release.previous_release, "findings": []},
    }


def _table_document(table: ReleasedTable) -> dict[str, Any]:
    published = table.published
    return {
        "name": table.name,
        "title": table.title,
        "rows_are": table.rows_are,
        "columns_are": table.columns_are,
        "cumulative": table.cumulative,
        "needs_identities": table.needs_identities,
        "rows": [_category_document(row) for row in table.rows],
        "columns": [_category_document(column) for column in table.columns],
        "cells": [list(line) for line in published.cells],
        "states": [[state.value for state in line] for line in published.states],
        "row_totals": list(published.row_totals),
        "column_totals": list(published.column_totals),
        "grand_total": published.grand_total,
    }


def _category_document(category: Category) -> dict[str, Any]:
    return {"key": category.key, "label": category.label, "members": list(category.members)}


def to_json(release: Release) -> bytes:
    """The document, UTF-8, keys sorted, indented: the same release always gives the same bytes."""
    return (json.dumps(to_document(release), ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode()


def from_json(data: bytes | str) -> Release:
    """Read a document back, refusing anything that is not a well-formed release (`MalformedRelease`)."""
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise MalformedRelease(f"not JSON: {error}") from None
    return from_document(document)


def from_document(document: Any) -> Release:
    read = _Reader(document, "")
    if read.text("format") != FORMAT:
        raise MalformedRelease(f"format: expected {FORMAT!r}")
    checkpoint = read.object("checkpoint")
    rules_doc = read.object("rules")
    rounding = rules_doc.optional_int("rounding")
    try:
        rules = Rules(
            threshold=rules_doc.integer("threshold"),
            protection=rules_doc.integer("protection"),
            zeros_disclosive=rules_doc.boolean("zeros_disclosive"),
            rounding=rounding,
        )
        root = base64.b64decode(checkpoint.text("root"), validate=True)
    except ValueError as error:
        raise MalformedRelease(f"{error}") from None
    counts: dict[str, int] = {}
    for number, item in enumerate(read.array("counts")):
        entry = _Reader(item, f"counts[{number}]")
        counts[entry.text("name")] = entry.integer("value")
    context = read.object("context")
    forecast = context.value("forecast")
    completion = context.value("plan_completion")
    try:
        release = Release(
            number=read.integer("release"),
            published_at=datetime.fromisoformat(read.text("published_at")),
            operation=read.text("operation"),
            checkpoint=CheckpointRef(
                checkpoint.text("origin"), checkpoint.integer("size"), root, checkpoint.text("note")
            ),
            as_of=datetime.fromisoformat(read.value("as_of")) if read.value("as_of") else None,
            rules=rules,
            counts=counts,
            tables=tuple(
                _read_table(_Reader(item, f"tables[{number}]"), rules)
                for number, item in enumerate(read.array("tables"))
            ),
            context=Context(
                planned_total=context.optional_int("planned_total"),
                plan_completion=date.fromisoformat(completion) if completion else None,
                forecast=forecast if isinstance(forecast, dict) else None,
                capacity=context.value("capacity") or {},
            ),
            previous_release=read.object("differencing").optional_int("previous_release"),
        )
    except (TypeError, ValueError) as error:
        raise MalformedRelease(str(error)) from None
    return release


def _read_table(read: _Reader, rules: Rules) -> ReleasedTable:
    rows = tuple(_read_category(_Reader(item, f"{read.path}.rows")) for item in read.array("rows"))
    columns = tuple(_read_category(_Reader(item, f"{read.path}.columns")) for item in read.array("columns"))
    try:
        published = Published(
            rows=tuple(row.key for row in rows),
            columns=tuple(column.key for column in columns),
            cells=tuple(tuple(line) for line in read.array("cells")),
            states=tuple(tuple(CellState(state) for state in line) for line in read.array("states")),
            row_totals=tuple(read.array("row_totals")),
            column_totals=tuple(read.array("column_totals")),
            grand_total=read.integer("grand_total"),
            rounding=Rounding(rules.rounding) if rules.rounding else None,
        )
    except (TypeError, ValueError) as error:
        raise MalformedRelease(f"{read.path}: {error}") from None
    return ReleasedTable(
        name=read.text("name"),
        title=read.text("title"),
        rows_are=read.text("rows_are"),
        columns_are=read.text("columns_are"),
        cumulative=read.boolean("cumulative"),
        needs_identities=read.boolean("needs_identities"),
        rows=rows,
        columns=columns,
        published=published,
    )


def _read_category(read: _Reader) -> Category:
    members = read.array("members")
    if not members or not all(isinstance(member, str) for member in members):
        raise MalformedRelease(f"{read.path}.members: a list of category keys")
    return Category(read.text("key"), read.text("label"), tuple(members))


class _Reader:
    """Typed access to one JSON object, naming the path of whatever is missing or of the wrong type."""

    def __init__(self, document: Any, path: str) -> None:
        if not isinstance(document, dict):
            raise MalformedRelease(f"{path or 'the document'}: expected an object")
        self.document, self.path = document, path

    def value(self, key: str) -> Any:
        if key not in self.document:
            raise MalformedRelease(f"{self._at(key)}: missing")
        return self.document[key]

    def _typed(self, key: str, kind: type | tuple[type, ...], what: str) -> Any:
        value = self.value(key)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise MalformedRelease(f"{self._at(key)}: expected {what}")
        return value

    def text(self, key: str) -> str:
        return str(self._typed(key, str, "a string"))

    def integer(self, key: str) -> int:
        return int(self._typed(key, int, "a whole number"))

    def optional_int(self, key: str) -> int | None:
        return None if self.value(key) is None else self.integer(key)

    def boolean(self, key: str) -> bool:
        return bool(self._typed(key, bool, "true or false"))

    def array(self, key: str) -> list[Any]:
        return list(self._typed(key, list, "a list"))

    def object(self, key: str) -> _Reader:
        return _Reader(self._typed(key, dict, "an object"), self._at(key))

    def _at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key
