"""`report_check.check_report`: a report release recounted from the log entries at its checkpoint.

One small log (the transfer scenario and a few more registrations, 280 entries) is built once, released through the
server's own `services.report.make_release`, and exported with its identity records; each test edits the release
document the way a careless or dishonest publisher might and checks what the recount says.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handover.core.report import figures as report_figures
from handover.core.report import release as report_release
from handover.core.report.disclosure import Rules
from handover.core.tlog.checkpoint import Checkpoint
from handover.core.tlog.note import Signer, sign
from handover.core.tlog.tiles import EntryBundle, decode_bundle, encode_bundle
from handover.monitor import checks
from handover.monitor.report_check import Difference, ReportError, ReportOutcome, check_report, parse
from handover.monitor.sources import DirectorySource
from handover.services import monitor
from handover.services import report as report_service
from handover.store.uow import Database
from tests.factories import T0, add_world
from tests.monitor.conftest import SIGNER, LogWorld, build_log, export

NATIONALITY = report_figures.MOVED_BY_NATIONALITY
HELD = report_figures.HELD
RELEASED_AT = T0 + timedelta(days=31)

Document = dict[str, Any]


@dataclass(repr=False)
class Published:
    """A released log: its export (with identity records), the release document, and what the run verified."""

    world: LogWorld
    directory: Path
    document: bytes
    size: int
    leaf_hashes: bytes
    records: dict[str, Any]

    def __repr__(self) -> str:
        return f"Published(size={self.size})"

    def doc(self) -> Document:
        parsed: Document = json.loads(self.document)
        return parsed

    def check(
        self,
        document: Document | bytes | None = None,
        *,
        identities: bool = True,
        source: Any = None,
        size: int | None = None,
    ) -> ReportOutcome:
        data = self.document if document is None else document
        if isinstance(data, dict):
            data = json.dumps(data).encode()
        verified = self.size if size is None else size
        return check_report(
            data,
            SIGNER.verifier,
            source or DirectorySource(self.directory),
            verified,
            self.leaf_hashes[: verified * 32],
            self.records if identities else None,
        )


def released(tmp: Path) -> Published:
    db = Database(f"sqlite:///{tmp / 'handover.sqlite3'}")
    db.migrate()
    with db.unit_of_work() as uow:
        add_world(uow)
        uow.commit()
    world = build_log(db)
    with db.unit_of_work() as uow:
        report_service.make_release(uow, RELEASED_AT, force=True)
        uow.commit()
    with db.unit_of_work(read_only=True) as uow:
        document = report_service.document(uow)
        lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in monitor.identity_records(uow))
    directory = export(db, tmp / "export")
    (directory / "identities").write_text(lines)
    size = checks.open_checkpoint((directory / "checkpoint").read_bytes(), SIGNER.verifier)[0].size
    entries = checks.read_entries(DirectorySource(directory), size)
    records = checks.parse_identity_records(lines.encode())
    return Published(world, directory, document, size, entries.leaf_hashes, records)


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Published]:
    made = released(tmp_path_factory.mktemp("report"))
    yield made
    made.world.db.dispose()


def table_of(document: Document, name: str) -> Document:
    found: Document = next(table for table in document["tables"] if table["name"] == name)
    return found


def shown_cells(document: Document) -> list[tuple[str, int, int]]:
    return [
        (table["name"], i, j)
        for table in document["tables"]
        for i, states in enumerate(table["states"])
        for j, state in enumerate(states)
        if state == "shown"
    ]


def kinds(outcome: ReportOutcome) -> list[str]:
    return [difference.kind for difference in outcome.differences]


# --- the untouched release ---------------------------------------------------------------------------------------


def test_the_release_as_published_matches_its_recount_with_identity_records(published: Published) -> None:
    outcome = published.check()
    assert outcome.matches, outcome.as_dict()
    assert outcome.refused is None and outcome.unchecked == [] and outcome.warnings == []
    assert NATIONALITY in outcome.tables_checked
    assert set(outcome.tables_checked) == {table["name"] for table in published.doc()["tables"]}
    assert (outcome.release, outcome.size) == (1, published.size)


def test_without_identity_records_the_nationality_table_is_named_and_the_rest_checked(published: Published) -> None:
    outcome = published.check(identities=False)
    assert outcome.matches, outcome.as_dict()
    assert outcome.unchecked == [NATIONALITY]
    assert NATIONALITY not in outcome.tables_checked and HELD in outcome.tables_checked
    assert len(outcome.warnings) == 1 and NATIONALITY in outcome.warnings[0]
    # Even unchecked, the nationality table is not free to differ from the rest: the others are still compared.
    document = published.doc()
    table_of(document, HELD)["grand_total"] += 1
    # The recount disagrees, and the table's own figures no longer add up.
    assert sorted(kinds(published.check(document, identities=False))) == ["grand-total", "inconsistent"]


def test_a_malformed_document_is_a_usage_problem(published: Published) -> None:
    with pytest.raises(ReportError, match="not a release document"):
        parse(b"{}")
    document = published.doc()
    del document["checkpoint"]["root"]
    with pytest.raises(ReportError, match=r"checkpoint\.root: missing"):
        published.check(document)


# --- edited figures ----------------------------------------------------------------------------------------------


def test_a_shown_cell_changed_by_one_names_its_table_row_and_column(published: Published) -> None:
    document = published.doc()
    held = table_of(document, HELD)
    held["cells"][1][0] += 1  # ghweran, adult men
    outcome = published.check(document)
    assert not outcome.matches
    [difference] = outcome.differences
    assert difference == Difference(
        "cell",
        f"{HELD}, row ghweran, column adult_men",
        difference.what,
        table=HELD,
        row="ghweran",
        column="adult_men",
        published=held["cells"][1][0],
        recount=held["cells"][1][0] - 1,
    )
    assert HELD in difference.message and "ghweran" in difference.message and "adult_men" in difference.message


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_edit_of_any_shown_cell_is_caught(published: Published, data: st.DataObject) -> None:
    document = published.doc()
    name, i, j = data.draw(st.sampled_from(shown_cells(document)))
    table = table_of(document, name)
    value = table["cells"][i][j]
    edited = data.draw(st.integers(min_value=0, max_value=value + 20).filter(lambda n: n != value))
    table["cells"][i][j] = edited
    outcome = published.check(document)
    row, column = table["rows"][i]["key"], table["columns"][j]["key"]
    assert (
        Difference(
            "cell",
            f"{name}, row {row}, column {column}",
            f"published {edited}, the log gives {value}.",
            table=name,
            row=row,
            column=column,
            published=edited,
            recount=value,
        )
        in outcome.differences
    ), outcome.as_dict()


def test_totals_are_checked_too_and_every_difference_is_listed(published: Published) -> None:
    document = published.doc()
    held = table_of(document, HELD)
    held["row_totals"][0] += 2
    held["column_totals"][1] -= 1
    held["grand_total"] += 10
    outcome = published.check(document)
    assert kinds(outcome) == ["row-total", "column-total", "grand-total", "inconsistent"]
    row_total = outcome.differences[0]
    assert (row_total.row, row_total.column, row_total.published) == ("al-hol", None, held["row_totals"][0])


def test_an_operation_wide_count_changed_is_a_difference(published: Published) -> None:
    document = published.doc()
    moved = next(item for item in document["counts"] if item["name"] == "moved")
    moved["value"] += 1
    outcome = published.check(document)
    [difference] = outcome.differences
    assert (difference.kind, difference.published, difference.recount) == ("count", moved["value"], moved["value"] - 1)
    assert "moved" in difference.message


def test_a_count_or_a_table_left_out_or_made_up_is_a_difference(published: Published) -> None:
    document = published.doc()
    document["counts"] = [item for item in document["counts"] if item["name"] != "died"]
    document["counts"].append({"name": "pardoned", "value": 3})
    document["tables"] = [table for table in document["tables"] if table["name"] != HELD]
    invented = json.loads(json.dumps(table_of(document, report_figures.AWAITING)))
    invented["name"] = "held_by_mood"
    document["tables"].append(invented)
    outcome = published.check(document)
    by_kind = {(d.kind, d.table, d.published, d.recount) for d in outcome.differences}
    assert by_kind == {
        ("count", None, None, 0),
        ("count", None, 3, None),
        ("table-missing", HELD, None, None),
        ("table-extra", "held_by_mood", None, None),
    }


def test_as_of_is_checked(published: Published) -> None:
    document = published.doc()
    document["as_of"] = "2026-01-29T17:40:00+00:00"
    assert kinds(published.check(document)) == ["as-of"]


def test_a_category_that_drops_a_raw_key_is_a_difference(published: Published) -> None:
    document = published.doc()
    held = table_of(document, HELD)
    other = next(column for column in held["columns"] if column["key"] == "other")
    other["members"] = ["adult_women"]  # the minors held at al-hol are in no category now
    outcome = published.check(document)
    [difference] = outcome.differences
    assert (difference.kind, difference.table, difference.column) == ("category", HELD, "minors")
    assert "people in column minors are missing from the report's categories" in difference.message


def test_a_raw_key_counted_in_two_categories_is_a_difference(published: Published) -> None:
    document = published.doc()
    held = table_of(document, HELD)
    held["columns"][0]["members"] = ["adult_men", "minors"]
    outcome = published.check(document)
    [difference] = outcome.differences
    assert (difference.kind, difference.column) == ("category", "minors")
    assert "several categories" in difference.message


# --- disclosure ----------------------------------------------------------------------------------------------------


def test_a_suppressed_cell_that_can_be_worked_out_is_a_difference(published: Published) -> None:
    # al-hol holds 13 people, none of them adult men (shown as 0): hiding the 13 hides nothing, the row total says it.
    document = published.doc()
    held = table_of(document, HELD)
    assert held["cells"][0] == [0, 13]
    held["cells"][0][1] = None
    held["states"][0][1] = "primary"
    outcome = published.check(document)
    [difference] = outcome.differences
    assert (difference.kind, difference.table, difference.row, difference.column) == (
        "recoverable",
        HELD,
        "al-hol",
        "other",
    )
    assert "can be worked out" in difference.message and "between 13 and 13" in difference.message
    assert difference.recount is None  # the true count of a suppressed cell is never printed


def test_published_figures_that_contradict_each_other_are_a_difference(published: Published) -> None:
    document = published.doc()
    held = table_of(document, HELD)
    held["cells"][0][1] = None
    held["states"][0][1] = "primary"
    held["cells"][0][0] = 20  # al-hol's row total is 13: no count can fill the suppressed cell
    outcome = published.check(document)
    assert sorted(kinds(outcome)) == ["cell", "inconsistent"]


def test_a_shown_cell_the_rules_suppress_is_a_difference(published: Published) -> None:
    # The same release judged by a threshold of 20: al-hol's 13 are too few to show.
    document = published.doc()
    document["rules"]["threshold"] = document["rules"]["protection"] = 20
    outcome = published.check(document)
    assert "disclosive" in kinds(outcome)
    assert any(d.kind == "disclosive" and (d.row, d.column) == ("al-hol", "other") for d in outcome.differences)


def test_a_rounded_release_is_checked_against_its_recount_rounded(published: Published) -> None:
    with published.world.db.unit_of_work(read_only=True) as uow:
        counted = report_service.figures_at(uow, published.size)
        checkpoint = report_service.latest(uow)
        assert checkpoint is not None
    rounded = report_release.build(
        counted,
        number=2,
        published_at=RELEASED_AT,
        operation="rounded",
        checkpoint=checkpoint.checkpoint,
        rules=Rules(threshold=10, rounding=5),
    )
    document = json.loads(report_release.to_json(rounded))
    assert published.check(document).matches
    held = table_of(document, HELD)
    assert held["cells"][1][0] == 130  # 129 rounded to 5
    held["cells"][1][0] = 125
    [difference] = published.check(document).differences
    assert (difference.published, difference.recount) == (125, 129)
    assert "rounded to the base 5: 130" in difference.message


# --- the checkpoint the release stands on ---------------------------------------------------------------------------


def resigned(document: Document, signer: Signer, **changes: Any) -> Document:
    stated = document["checkpoint"]
    checkpoint = Checkpoint(
        signer.name,
        changes.get("size", stated["size"]),
        changes.get("root", base64.b64decode(stated["root"])),
    )
    note = sign(checkpoint.body(), [signer])
    document["checkpoint"] = {
        "origin": checkpoint.origin,
        "size": checkpoint.size,
        "root": base64.b64encode(checkpoint.root).decode(),
        "note": note,
    }
    return document


def test_a_note_signed_with_another_key_is_refused(published: Published) -> None:
    impostor = Signer.generate(SIGNER.name)
    outcome = published.check(resigned(published.doc(), impostor))
    assert outcome.refused is not None and "not signed by" in outcome.refused
    assert not outcome.matches and outcome.differences == []


@pytest.mark.parametrize(
    "edit",
    [
        lambda checkpoint: checkpoint.update(size=checkpoint["size"] - 1),
        lambda checkpoint: checkpoint.update(root=base64.b64encode(bytes(32)).decode()),
        lambda checkpoint: checkpoint.update(origin="another.example/log"),
        lambda checkpoint: checkpoint.update(note=checkpoint["note"].replace("\n280\n", "\n279\n")),
    ],
    ids=["size", "root", "origin", "note"],
)
def test_a_stated_checkpoint_that_is_not_its_signed_note_is_refused(
    published: Published, edit: Callable[[Document], None]
) -> None:
    document = published.doc()
    edit(document["checkpoint"])
    outcome = published.check(document)
    assert outcome.refused is not None, outcome.as_dict()


def test_a_checkpoint_over_a_forked_tree_is_refused(published: Published) -> None:
    # Signed with the log's own key, at the verified size, over another history.
    forked = resigned(published.doc(), SIGNER, root=bytes(range(32)))
    outcome = published.check(forked)
    assert outcome.refused is not None and "fork" in outcome.refused


def test_a_checkpoint_beyond_the_verified_tree_is_refused(published: Published) -> None:
    outcome = published.check(size=published.size - 10)
    assert outcome.refused is not None and "larger than the 270 entries verified" in outcome.refused


class Swapping(DirectorySource):
    """Serves bundle 0 with one entry swapped for the next, as a source serving something else on a second read."""

    def bundle(self, bundle: EntryBundle) -> bytes:
        data = super().bundle(bundle)
        if bundle.index != 0:
            return data
        raw = decode_bundle(data)
        raw[5], raw[6] = raw[6], raw[5]
        return encode_bundle(raw)


def test_entries_are_counted_only_if_they_are_the_verified_ones(published: Published) -> None:
    outcome = published.check(source=Swapping(published.directory))
    assert outcome.refused is not None and "log index 5" in outcome.refused


# --- a release at an earlier checkpoint ----------------------------------------------------------------------------


def test_a_release_at_an_earlier_checkpoint_verifies_against_the_larger_tree(tmp_path: Path) -> None:
    made = released(tmp_path)
    try:
        made.world.grow(13)  # the partial bundle the release was counted on is now a wider one
        made.world.sign()
        directory = export(made.world.db, tmp_path / "grown")
        size = checks.open_checkpoint((directory / "checkpoint").read_bytes(), SIGNER.verifier)[0].size
        assert size == made.size + 13
        entries = checks.read_entries(DirectorySource(directory), size)
        outcome = check_report(
            made.document, SIGNER.verifier, DirectorySource(directory), size, entries.leaf_hashes, made.records
        )
        assert outcome.matches, outcome.as_dict()
        assert outcome.size == made.size
    finally:
        made.world.db.dispose()


def test_tables_that_share_people_are_attacked_together() -> None:
    """Each table safe alone, but people awaiting safeguards are among the people held: the attack on both at once
    pins a suppressed cell of the awaiting table (see tests/core/report)."""
    from datetime import UTC, datetime

    from handover.core.report import disclosure, grouping
    from handover.core.report.figures import AWAITING, COUNTS, Figures, RawTable
    from handover.core.report.release import CheckpointRef, ReleasedTable, build
    from handover.monitor import report_check

    def stock(name: str, counts: list[list[int]]) -> RawTable:
        rows, columns = ("f1", "f2"), ("adult_men", "adult_women")
        cells = {(r, c): counts[i][j] for i, r in enumerate(rows) for j, c in enumerate(columns)}
        return RawTable(name, "facility", "estate", rows, columns, cells, cumulative=False)

    raws = (stock(AWAITING, [[5, 15], [15, 5]]), stock(HELD, [[12, 16], [16, 12]]))
    now = datetime(2026, 2, 1, tzinfo=UTC)
    made = build(
        Figures({name: 0 for name in COUNTS}, raws, now),
        number=1,
        published_at=now,
        operation="t",
        checkpoint=CheckpointRef("o", 1, bytes(32), "n"),
    )
    assert all(audit.safe for audit in report_check._joint_audits(made).values())
    # The same tables protected each on its own, as a publisher unaware of the link would.
    alone = [disclosure.protect(grouping.grouped(raw, 10)[0]).published() for raw in raws]
    careless = replace(
        made,
        tables=tuple(replace(t, published=p) for t, p in zip(made.tables, alone, strict=True)),
    )
    assert isinstance(careless.tables[0], ReleasedTable)
    audits = report_check._joint_audits(careless)
    assert audits[AWAITING].recovered and not disclosure.audit(alone[0]).recovered
