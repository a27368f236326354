"""`handover verify --report FILE`: the report release recounted as step 8 of a run, over HTTP and from a directory."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from handover.cli import verify as verify_command
from handover.core.report.figures import HELD, MOVED_BY_NATIONALITY
from handover.services import report as report_service
from tests.factories import T0
from tests.monitor.conftest import BASE_URL, AppTransport, LogWorld, Verify, export, verdict


def release(world: LogWorld, directory: Path, edit: Any = None) -> Path:
    """The world's next release, made by the server's own service, as a file (edited first by `edit`, if given)."""
    with world.db.unit_of_work() as uow:
        made = report_service.make_release(uow, T0 + timedelta(days=31), force=True)
        uow.commit()
    with world.db.unit_of_work(read_only=True) as uow:
        document = report_service.document(uow, made.number)
    path = directory / f"report-{made.number}.json"
    if edit is None:
        path.write_bytes(document)
    else:
        parsed = json.loads(document)
        edit(parsed)
        path.write_text(json.dumps(parsed))
    return path


def held_cell_plus_one(document: dict[str, Any]) -> None:
    held = next(table for table in document["tables"] if table["name"] == HELD)
    held["cells"][1][0] += 1


def test_a_release_recounts_to_the_figure_over_http_with_identity_records(
    logged: LogWorld, server: AppTransport, verify: Verify, tmp_path: Path
) -> None:
    path = release(logged, tmp_path)
    result = verify(BASE_URL, "--report", str(path), transport=server)
    assert result.exit_code == 0, result.output
    # The nationality table needs identity records: read and checked without --identities being asked.
    assert "7 identities" in result.output and "8 report" in result.output
    assert verdict(result) == (
        f"report: every figure of release 1 recounted from log entries 0 to {logged.size() - 1}: match"
    )
    code, body = verify.json(BASE_URL, "--report", str(path), transport=server)
    assert code == 0, body
    assert body["verified"] and body["report"]["matches"]
    assert MOVED_BY_NATIONALITY in body["report"]["tables_checked"]
    assert body["report"]["tables_not_checked"] == [] and body["warnings"] == []


def test_from_a_directory_without_identity_records_the_nationality_table_is_left_with_a_warning(
    logged: LogWorld, verify: Verify, tmp_path: Path
) -> None:
    path = release(logged, tmp_path)
    directory = export(logged.db, tmp_path / "export")
    code, body = verify.json(str(directory), "--report", str(path))
    assert code == 0, body
    assert body["report"]["matches"] and body["report"]["tables_not_checked"] == [MOVED_BY_NATIONALITY]
    assert any(MOVED_BY_NATIONALITY in warning for warning in body["warnings"])
    assert [step["name"] for step in body["steps"]][-1] == "report"
    # Asked for, identity records the source does not serve are a usage problem, as without --report.
    result = verify(str(directory), "--identities", "--report", str(path))
    assert result.exit_code == 2 and "publishes no identity records" in result.output


def test_a_changed_figure_fails_the_run_and_is_listed(
    logged: LogWorld, server: AppTransport, verify: Verify, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A terminal wide enough for the table of differences not to fold its names.
    monkeypatch.setattr(verify_command, "console", Console(width=200, soft_wrap=True, highlight=False))
    path = release(logged, tmp_path, held_cell_plus_one)
    result = verify(BASE_URL, "--report", str(path), transport=server)
    assert result.exit_code == 1, result.output
    assert "verified:" in result.output  # the log itself verified: only the report differs
    assert verdict(result).startswith("REPORT DIFFERS: release 1: 1 difference from")
    assert f"{HELD}, row ghweran, column adult_men" in result.output
    assert (tmp_path / "verify-state.json").exists()
    code, body = verify.json(BASE_URL, "--report", str(path), transport=server)
    assert code == 1 and body["verified"] is True and body["report"]["matches"] is False
    [difference] = body["report"]["differences"]
    assert {key: difference[key] for key in ("kind", "table", "row", "column")} == {
        "kind": "cell",
        "table": HELD,
        "row": "ghweran",
        "column": "adult_men",
    }
    assert difference["published"] == difference["recount"] + 1


def test_a_report_bound_to_another_tree_is_refused(logged: LogWorld, verify: Verify, tmp_path: Path) -> None:
    def edited_root(document: dict[str, Any]) -> None:
        document["checkpoint"]["root"] = "A" * 43 + "="

    path = release(logged, tmp_path, edited_root)
    directory = export(logged.db, tmp_path / "export")
    result = verify(str(directory), "--report", str(path))
    assert result.exit_code == 1, result.output
    assert verdict(result).startswith("REPORT REFUSED: release 1:")
    code, body = verify.json(str(directory), "--report", str(path))
    assert code == 1 and body["report"]["refused"] and body["report"]["differences"] == []


def test_a_release_at_an_earlier_checkpoint_verifies_after_the_log_grew(
    logged: LogWorld, verify: Verify, tmp_path: Path
) -> None:
    path = release(logged, tmp_path)
    counted_on = logged.size()
    grown = 2 * 256 - counted_on
    logged.grow(grown)  # the partial bundle the release was counted on is now full: only the full one is published
    logged.sign()
    directory = export(logged.db, tmp_path / "export")
    assert not (directory / "tile/entries/001.p").exists()
    code, body = verify.json(str(directory), "--report", str(path))
    assert code == 0, body
    assert body["size"] == 512 and body["report"]["checkpoint_size"] == counted_on


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "Cannot read the report"),
        (b"not json", "The report is not a release document: not JSON"),
        (b'{"format": "something-else/1"}', "format: expected 'handover-transparency-report/1'"),
    ],
)
def test_a_report_file_that_is_not_a_release_is_a_usage_error(
    logged: LogWorld, verify: Verify, tmp_path: Path, content: bytes | None, message: str
) -> None:
    path = tmp_path / "report.json"
    if content is not None:
        path.write_bytes(content)
    directory = export(logged.db, tmp_path / "export")
    result = verify(str(directory), "--report", str(path))
    assert result.exit_code == 2, result.output
    assert message in result.output
    code, body = verify.json(str(directory), "--report", str(path))
    assert code == 2 and message in body["usage_error"]
