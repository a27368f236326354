"""`handover verify --report`: every figure of a report release recounted from the log entries it names.

A release (`core.report.release`) states the signed checkpoint it was counted at (size N) and publishes figures that
`core.report.figures.count` gives from the custody events among log entries 0 to N-1. The check trusts none of it:

1. The checkpoint note opens with the log's verifier key and states the size and root the release repeats; N is at
   most the size verified in this run, and the root is the verified tree's at N (recomputed from the verified leaf
   hashes). A release that fails here is *refused*: it is bound to no tree this monitor verified (a signed root that
   differs from the verified tree's at the same size is a fork: the log's key signed two histories).
2. Entries 0 to N-1 are read again from the source, each checked against the leaf hash verified in step 2 of the
   run (nothing unverified is counted), their custody events recounted with the publisher's own function.
3. Each published table: every raw category of the recount is in exactly one published category; the recount,
   summed into the published categories, gives every shown cell and every total (exactly, or rounded to the
   release's base); no shown cell is one the rules suppress; and the recovery attack, on all the tables at once
   (`disclosure.audit_linked`: people awaiting safeguards are among those held), works out no suppressed cell.
   Then the operation-wide counts and `as_of`.

Every difference is reported, not just the first. The true count of a suppressed cell is never printed: the release
hides it on purpose, and a monitor's output may travel further than the monitor.

Tables whose recount needs identity records (sex, age and nationality are not in the log) are checked only when the
run has the identity records, already checked against the commitments logged at registration; without them they are
named in a warning and not recounted.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from handover.core.access.leaf import is_access
from handover.core.custody import leaf
from handover.core.custody.events import CustodyEvent
from handover.core.report import disclosure
from handover.core.report.disclosure import Rules
from handover.core.report.figures import MOVED_BY_NATIONALITY, Attributes, ChainRefused, Figures, RawTable, count
from handover.core.report.grouping import Group, regroup
from handover.core.report.release import Category, MalformedRelease, Release, ReleasedTable, from_json, linked_cells
from handover.core.report.tables import Cell, Published, Table
from handover.core.tlog.hashing import HASH_SIZE, hash_leaves
from handover.core.tlog.note import Verifier
from handover.core.tlog.tiles import bundles_for_size, tree_hash_from_tiles
from handover.i18n import _
from handover.monitor import checks
from handover.monitor.checks import Discrepancy, b64
from handover.monitor.sources import LogSource

Records = Mapping[str, tuple[str, Mapping[str, Any]]]
"""Identity records by person id, as `checks.parse_identity_records` gives them."""


class ReportError(Exception):
    """The report cannot be checked at all (not a release document, unreadable): a usage problem, like a bad path."""


@dataclass(frozen=True, slots=True)
class Difference:
    """One figure (or category, or table) the recount does not bear out."""

    kind: str
    """cell | row-total | column-total | grand-total | count | as-of | category | table-missing | table-extra |
    disclosive | recoverable | exposed | inconsistent"""
    where: str
    """The figure, category or table, named for a reader: "held_by_facility_and_estate, row karkh, column minors"."""
    what: str
    """What is wrong with it."""
    table: str | None = None
    row: str | None = None
    column: str | None = None
    published: int | str | None = None
    recount: int | str | None = None
    """None where printing it would give away what the release suppresses."""

    @property
    def message(self) -> str:
        return f"{self.where}: {self.what}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "table": self.table,
            "row": self.row,
            "column": self.column,
            "published": self.published,
            "recount": self.recount,
            "where": self.where,
            "what": self.what,
            "message": self.message,
        }


@dataclass
class ReportOutcome:
    """What the check found. `refused`: the release is bound to no verified tree, so nothing was recounted."""

    release: int
    size: int
    refused: str | None = None
    differences: list[Difference] = field(default_factory=list)
    tables_checked: list[str] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)
    """Tables not recounted: they need identity records this run does not have."""
    warnings: list[str] = field(default_factory=list)

    @property
    def matches(self) -> bool:
        return self.refused is None and not self.differences

    def as_dict(self) -> dict[str, Any]:
        return {
            "release": self.release,
            "checkpoint_size": self.size,
            "matches": self.matches,
            "refused": self.refused,
            "tables_checked": list(self.tables_checked),
            "tables_not_checked": list(self.unchecked),
            "differences": [difference.as_dict() for difference in self.differences],
            "warnings": list(self.warnings),
        }


def parse(document: bytes) -> Release:
    """The release, strictly parsed; `ReportError` if the document is not one (before any of the log is read)."""
    try:
        return from_json(document)
    except MalformedRelease as error:
        raise ReportError(_("The report is not a release document: {error}").format(error=error)) from None


def needs_identities(release: Release) -> bool:
    """Whether recounting the release needs identity records: by the publisher's flag, or by what the table is (a
    flag left false must not spare the table its recount)."""
    return any(table.needs_identities or table.name == MOVED_BY_NATIONALITY for table in release.tables)


def check_report(
    release: Release | bytes,
    verifier: Verifier,
    source: LogSource,
    size_verified: int,
    leaf_hashes: bytes,
    identity_records: Records | None,
) -> ReportOutcome:
    """Recount every figure of `release` from the source's entries 0 to N-1 (N: the release's checkpoint size).

    `size_verified` and `leaf_hashes` (32 bytes per entry) are of the tree this run verified; `identity_records`
    are the records this run checked against their commitments, or None when it has none.
    """
    if isinstance(release, bytes):
        release = parse(release)
    size = release.checkpoint.size
    outcome = ReportOutcome(release.number, size)
    refusal = _binding(release, verifier, size_verified, leaf_hashes)
    if refusal is not None:
        outcome.refused = refusal
        return outcome
    attributes = _attributes(identity_records) if identity_records is not None else None
    try:
        # An empty mapping still yields the tables that need identities, each flagged so, to be left unchecked.
        figures = count(_events(source, size, size_verified, leaf_hashes), attributes if attributes is not None else {})
    except Discrepancy as failure:
        outcome.refused = failure.message
        return outcome
    except ChainRefused as error:  # pragma: no cover - the run's step 5 accepted every chain of the larger tree
        outcome.refused = str(error)
        return outcome
    recounted = {table.name: table for table in figures.tables}
    if attributes is None:
        outcome.unchecked = [name for name, table in recounted.items() if table.needs_identities]
        for name in outcome.unchecked:
            del recounted[name]
        named = [table.name for table in release.tables if table.name in outcome.unchecked]
        if named:
            outcome.warnings.append(
                _(
                    "report table {tables}: not recounted, it needs identity records, which this run does not have."
                ).format(tables=", ".join(named))
            )
    differences = outcome.differences
    published_names = {table.name for table in release.tables}
    audits = _joint_audits(release)
    for table in release.tables:
        if table.name not in outcome.unchecked:
            raw = recounted.get(table.name)
            if raw is None:
                differences.append(
                    Difference(
                        "table-extra",
                        _("table {table}").format(table=table.name),
                        _("published, but the log gives no such table."),
                        table=table.name,
                    )
                )
            else:
                differences += _table_differences(table, raw, release.rules)
                outcome.tables_checked.append(table.name)
        differences += _attacked(table, audits.get(table.name), release.rules)
    for name in sorted(recounted.keys() - published_names):
        differences.append(
            Difference(
                "table-missing",
                _("table {table}").format(table=name),
                _("the log gives it, but the report does not publish it."),
                table=name,
            )
        )
    differences += _count_differences(release, figures)
    return outcome


# --- the binding to the verified tree -------------------------------------------------------------------------


def _binding(release: Release, verifier: Verifier, size_verified: int, leaf_hashes: bytes) -> str | None:
    """Why the release is bound to no tree this run verified, or None."""
    stated = release.checkpoint
    try:
        checkpoint, _note = checks.open_checkpoint(stated.note.encode("utf-8"), verifier)
    except Discrepancy as failure:
        return _("the report's checkpoint note: {problem}").format(problem=failure.message)
    if (checkpoint.origin, checkpoint.size, checkpoint.root) != (stated.origin, stated.size, stated.root):
        return _(
            "the report states checkpoint {origin} size {size} root {root}, but its signed note says {note_origin} "
            "size {note_size} root {note_root}."
        ).format(
            origin=stated.origin,
            size=stated.size,
            root=b64(stated.root),
            note_origin=checkpoint.origin,
            note_size=checkpoint.size,
            note_root=b64(checkpoint.root),
        )
    if checkpoint.size > size_verified:
        return _(
            "the report stands on a tree of size {size}, larger than the {verified} entries verified in this run: "
            "verify a checkpoint at least as large."
        ).format(size=checkpoint.size, verified=size_verified)
    if len(leaf_hashes) < checkpoint.size * HASH_SIZE:
        raise ValueError("fewer leaf hashes than the tree verified")
    root = tree_hash_from_tiles(checkpoint.size, checks.recompute_tiles(leaf_hashes[: checkpoint.size * HASH_SIZE]))
    if root != checkpoint.root:
        return _(
            "the report's checkpoint of size {size} has root {signed}, signed by the log's key, but the verified tree "
            "has root {verified} at that size: the log's key signed two different histories (a fork), and the report "
            "was counted on the other one."
        ).format(size=checkpoint.size, signed=b64(checkpoint.root), verified=b64(root))
    return None


def _events(source: LogSource, size: int, size_verified: int, leaf_hashes: bytes) -> Iterator[CustodyEvent]:
    """The custody events among entries 0 to size - 1, each entry checked against its verified leaf hash.

    The bundles are the verified tree's: a partial bundle at `size` may be gone once its tile filled, and the
    verified tree's bundle there starts with the same entries.
    """
    for bundle in bundles_for_size(size_verified):
        if bundle.start >= size:
            return
        raw = checks._split(source, bundle, checks._fetch(source.bundle, bundle, bundle.start))
        entries = raw[: size - bundle.start]
        start = bundle.start * HASH_SIZE
        if hash_leaves(entries) != leaf_hashes[start : start + len(entries) * HASH_SIZE]:
            raise _changed(bundle.start, entries, leaf_hashes, bundle.path)
        for entry in entries:
            if not is_access(entry):
                yield leaf.decode(entry)


def _changed(first: int, entries: Sequence[bytes], leaf_hashes: bytes, path: str) -> Discrepancy:
    hashes = hash_leaves(entries)
    offset = next(
        i
        for i in range(len(entries))
        if hashes[i * HASH_SIZE : (i + 1) * HASH_SIZE]
        != leaf_hashes[(first + i) * HASH_SIZE : (first + i + 1) * HASH_SIZE]
    )
    index = first + offset
    return Discrepancy(
        "entry-changed",
        _(
            "log index {index}: read again for the report, the source served an entry that is not the one verified "
            "in this run ({path})."
        ).format(index=index, path=path),
        index=index,
        path=path,
    )


def _attributes(records: Records) -> dict[str, Attributes]:
    attributes: dict[str, Attributes] = {}
    for person_id, (_salt, fields) in records.items():
        try:
            identity = checks.identity_from_record(fields)
        except ValueError:
            continue  # a record for someone registered after the verified tree: step 7 did not check it
        attributes[person_id] = Attributes(identity.nationality, identity.sex, identity.birth_date)
    return attributes


# --- the figures ----------------------------------------------------------------------------------------------


def _table_differences(table: ReleasedTable, raw: RawTable, rules: Rules) -> list[Difference]:
    row_totals = {row: sum(raw.count(row, column) for column in raw.columns) for row in raw.rows}
    column_totals = {column: sum(raw.count(row, column) for row in raw.rows) for column in raw.columns}
    found = _category_differences(table.name, "row", table.rows, row_totals)
    found += _category_differences(table.name, "column", table.columns, column_totals)
    if found:
        return found  # the recount cannot be summed into these categories: every cell would differ
    recount = regroup(
        raw,
        [Group(row.key, row.members) for row in table.rows],
        [Group(column.key, column.members) for column in table.columns],
    )
    published = table.published
    shown = published.rounding.round if published.rounding is not None else _same
    name = table.name
    for cell in published.cell_names:
        value, true = published.value(cell), recount.count(cell)
        if value is None:
            continue
        if value != shown(true):
            found.append(_figure("cell", name, cell.row, cell.column, value, true, published))
        elif _disclosive(recount, cell, rules):
            found.append(
                Difference(
                    "disclosive",
                    _cell_name(name, cell),
                    _(
                        "shown, though it counts a group the rules suppress (fewer than {threshold}, or a zero in a "
                        "small row or column)."
                    ).format(threshold=rules.threshold),
                    table=name,
                    row=cell.row,
                    column=cell.column,
                    published=value,
                )
            )
    for row, value, true in zip(published.rows, published.row_totals, recount.row_totals, strict=True):
        if value != shown(true):
            found.append(_figure("row-total", name, row, None, value, true, published))
    for column, value, true in zip(published.columns, published.column_totals, recount.column_totals, strict=True):
        if value != shown(true):
            found.append(_figure("column-total", name, None, column, value, true, published))
    if published.grand_total != shown(recount.grand_total):
        found.append(_figure("grand-total", name, None, None, published.grand_total, recount.grand_total, published))
    return found


def _same(value: int) -> int:
    return value


def _category_differences(
    table: str, axis: str, categories: Sequence[Category], totals: Mapping[str, int]
) -> list[Difference]:
    """Each raw key of the recount that holds people must be a member of exactly one published category."""
    found: list[Difference] = []
    for key, people in totals.items():
        holding = [category.key for category in categories if key in category.members]
        if len(holding) == 1 or not people:
            continue  # a key holding nobody changes no figure, wherever it is listed
        if not holding:
            what = _("people in {axis} {key} are missing from the report's categories.")
        else:
            what = _("people in {axis} {key} are counted in several categories ({categories}).")
        found.append(
            Difference(
                "category",
                table,
                what.format(axis=axis, key=key, categories=", ".join(holding)),
                table=table,
                row=key if axis == "row" else None,
                column=key if axis == "column" else None,
            )
        )
    return found


def _disclosive(recount: Table, cell: Cell, rules: Rules) -> bool:
    if recount.shape == (1, 1):
        return False  # its one cell is its grand total, published like any operation-wide count
    return disclosure.is_primary(
        recount.count(cell), recount.row_total(cell.row), recount.column_total(cell.column), rules
    )


def _figure(
    kind: str, table: str, row: str | None, column: str | None, value: int, true: int, published: Published
) -> Difference:
    where = {
        "cell": _("{table}, row {row}, column {column}"),
        "row-total": _("{table}, total of row {row}"),
        "column-total": _("{table}, total of column {column}"),
        "grand-total": _("{table}, grand total"),
    }[kind].format(table=table, row=row, column=column)
    if published.rounding is not None:
        what = _("published {value}, the log gives {true} (rounded to the base {base}: {rounded}).").format(
            value=value, true=true, base=published.rounding.base, rounded=published.rounding.round(true)
        )
    else:
        what = _("published {value}, the log gives {true}.").format(value=value, true=true)
    return Difference(kind, where, what, table=table, row=row, column=column, published=value, recount=true)


def _cell_name(table: str, cell: Cell) -> str:
    return _("{table}, row {row}, column {column}").format(table=table, row=cell.row, column=cell.column)


def _joint_audits(release: Release) -> dict[str, disclosure.Audit]:
    """The recovery attack on every table as published, the tables that share people attacked together (people
    awaiting safeguards are among those held: `release.linked_cells`). A table missing from the result is one whose
    published figures contradict each other."""
    shapes = [
        (table.name, [Group(c.key, c.members) for c in table.rows], [Group(c.key, c.members) for c in table.columns])
        for table in release.tables
    ]
    published = [table.published for table in release.tables]
    try:
        joint = disclosure.audit_linked(published, linked_cells(shapes), release.rules)
        return {table.name: audit for table, audit in zip(release.tables, joint, strict=True)}
    except ValueError:  # some table admits no counts, or the links contradict: attack each alone to say which
        audits: dict[str, disclosure.Audit] = {}
        for table in release.tables:
            try:
                audits[table.name] = disclosure.audit(table.published, release.rules)
            except ValueError:
                continue
        return audits


def _attacked(table: ReleasedTable, result: disclosure.Audit | None, rules: Rules) -> list[Difference]:
    """The recovery attack's findings on one table: it needs no recount, so it runs on every table."""
    if result is None:  # the attack finds no table of counts that has them all
        return [
            Difference(
                "inconsistent",
                table.name,
                _("the published figures contradict each other: no table of counts gives them all."),
                table=table.name,
            )
        ]
    if not table.published.suppressed:
        return []  # nothing hidden, nothing to work out
    found: list[Difference] = []
    for cell in (*result.recovered, *(cell for cell in result.exposed if cell not in result.recovered)):
        low, high = result.intervals[cell]
        if cell in result.recovered:
            kind = "recoverable"
            what = _(
                "suppressed, but cell {row}/{column} can be worked out from the published figures: it is between "
                "{low} and {high}, narrower than the {width} the rules require."
            )
        else:
            kind = "exposed"
            what = _(
                "suppressed, but cell {row}/{column} can be worked out from the published totals alone: it is "
                "between {low} and {high}, whatever else is suppressed."
            )
        text = what.format(row=cell.row, column=cell.column, low=low, high=high, width=result.required[cell])
        found.append(
            Difference(kind, _cell_name(table.name, cell), text, table=table.name, row=cell.row, column=cell.column)
        )
    return found


def _count_differences(release: Release, figures: Figures) -> list[Difference]:
    found: list[Difference] = []
    for name in sorted(release.counts.keys() | figures.counts.keys(), key=_count_order(figures.counts)):
        value, true = release.counts.get(name), figures.counts.get(name)
        if value == true:
            continue
        if true is None:
            what = _("published {value}, but the log gives no such count.")
        elif value is None:
            what = _("the log gives {true}, but the report does not publish it.")
        else:
            what = _("published {value}, the log gives {true}.")
        found.append(
            Difference(
                "count",
                _("count {name}").format(name=name),
                what.format(value=value, true=true),
                published=value,
                recount=true,
            )
        )
    stated = release.as_of.isoformat() if release.as_of is not None else None
    newest = figures.as_of.isoformat() if figures.as_of is not None else None
    if release.as_of != figures.as_of:
        found.append(
            Difference(
                "as-of",
                "as_of",
                _("published {value}, the newest counted event happened at {true}.").format(
                    value=stated or _("nothing"), true=newest or _("no event")
                ),
                published=stated,
                recount=newest,
            )
        )
    return found


def _count_order(counts: Mapping[str, int]) -> Any:
    order = {name: position for position, name in enumerate(counts)}
    return lambda name: (order.get(name, len(order)), name)
