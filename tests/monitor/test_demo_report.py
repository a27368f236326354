"""The demo's public report, end to end: released by `handover demo`'s own step, safe by the recovery attack, every
format written, and every figure recounted by `handover verify --report` over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from handover.app import create_app
from handover.core.report import disclosure
from handover.core.report import release as report_release
from handover.core.report.grouping import Group
from handover.demo.build import build_demo
from handover.demo.report import first_release
from handover.publish import write_all
from handover.services import report
from handover.store.uow import Database
from tests.monitor.conftest import BASE_URL, AppTransport, LogWorld, Verify, add_monitor, verdict

NOW = datetime(2026, 1, 30, 18, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Database, report_release.Release]]:
    db = Database(f"sqlite:///{tmp_path_factory.mktemp('demo-report') / 'demo.sqlite3'}")
    db.migrate()
    build_demo(db.unit_of_work, seed=2026)
    LogWorld(db, [], []).sign()
    with db.unit_of_work() as uow:
        made = first_release(uow, NOW)
        uow.commit()
    assert made is not None
    yield db, made
    db.dispose()


def test_the_demo_report_shows_no_small_group_and_hides_nothing_recoverable(
    demo: tuple[Database, report_release.Release],
) -> None:
    _, made = demo
    threshold = made.rules.threshold
    for table in made.tables:
        published = table.published
        for row, line in zip(published.rows, published.cells, strict=True):
            for column, value in zip(published.columns, line, strict=True):
                assert value is None or value == 0 or value >= threshold, (table.name, row, column, value)
        for total in (*published.row_totals, *published.column_totals, published.grand_total):
            assert total == 0 or total >= threshold, (table.name, total)
    shapes = [
        (t.name, [Group(c.key, c.members) for c in t.rows], [Group(c.key, c.members) for c in t.columns])
        for t in made.tables
    ]
    audits = disclosure.audit_linked(
        [t.published for t in made.tables], report_release.linked_cells(shapes), made.rules
    )
    assert all(audit.safe for audit in audits)
    assert made.counts["registered"] == 7000 and made.counts["moved"] > 0
    assert {table.name for table in made.tables} >= {"moved_by_nationality_and_group", "held_by_facility_and_estate"}


def test_every_format_of_the_demo_report_is_written(
    demo: tuple[Database, report_release.Release], tmp_path: Path
) -> None:
    _, made = demo
    written = write_all(report_release.to_document(made), tmp_path)
    names = {path.name for path in written}
    assert {"report.csv", "counts.csv", "report.pdf", "cumulative.svg", "occupancy.svg", "nationality.svg"} <= names
    assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF-")
    assert "#affected" in (tmp_path / "report.csv").read_text().splitlines()[1]


def test_handover_verify_recounts_every_figure_of_the_demo_report(
    demo: tuple[Database, report_release.Release], verify: Verify, tmp_path: Path
) -> None:
    db, made = demo
    add_monitor(db)
    path = tmp_path / "report.json"
    with db.unit_of_work(read_only=True) as uow:
        path.write_bytes(report.document(uow, made.number))
    with TestClient(create_app(db, checkpoint_interval=0)) as client:
        result = verify(BASE_URL, "--report", str(path), transport=AppTransport(client))
    assert result.exit_code == 0, result.output
    assert verdict(result) == (
        f"report: every figure of release 1 recounted from log entries 0 to {made.checkpoint.size - 1}: match"
    )
