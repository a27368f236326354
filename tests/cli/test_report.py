"""`handover report` on a demo database: the demo's release 1, its files written, the latest exported when no new
release is due, an existing release exported by number, and a disclosive refusal that exits 1 and writes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from handover.cli.main import app
from handover.services import report
from handover.services.errors import ConflictError
from handover.store.uow import Database

FILES = {"report.json", "report.csv", "counts.csv", "report.pdf", "cumulative.svg", "occupancy.svg", "nationality.svg"}


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    home = tmp_path_factory.mktemp("report-cli")
    url = f"sqlite:///{home / 'cli.sqlite3'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HANDOVER_DATABASE_URL", url)
        patch.chdir(home)
        built = CliRunner().invoke(app, ["demo", "--seed", "3", "--people", "900"])
    assert built.exit_code == 0, built.output
    assert "Public report: release 1" in built.output
    return url, home


@pytest.fixture
def cli(demo_db: tuple[str, Path], monkeypatch: pytest.MonkeyPatch) -> str:
    url, home = demo_db
    monkeypatch.setenv("HANDOVER_DATABASE_URL", url)
    monkeypatch.chdir(home)
    return url


def run(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output


def test_the_demo_made_release_1_with_its_forecast(cli: str) -> None:
    db = Database(cli)
    with db.unit_of_work() as uow:
        doc = json.loads(report.document(uow))
    db.dispose()
    assert doc["release"] == 1 and doc["context"]["forecast"]["p50_date"]
    assert doc["context"]["plan_completion"] is None  # the demo adopts no plan


def test_not_due_says_so_and_writes_the_latest_release(cli: str, tmp_path: Path) -> None:
    out = tmp_path / "latest"
    output = run("report", "--out", str(out))
    assert "No new release" in output
    assert {p.name for p in out.iterdir()} == FILES
    doc = json.loads((out / "report.json").read_bytes())
    assert doc["release"] == 1
    assert f"at size {doc['checkpoint']['size']}" in " ".join(output.split())
    for name in FILES:
        assert str(out / name) in output


def test_an_existing_release_is_written_by_number_and_nothing_is_released(cli: str, tmp_path: Path) -> None:
    output = run("report", "--release", "1", "--out", str(tmp_path))
    assert "No new release" not in output and "Release 1" in output
    db = Database(cli)
    with db.unit_of_work() as uow:
        assert (tmp_path / "report.json").read_bytes() == report.document(uow, 1)
        assert len(report.history(uow)) == 1
    db.dispose()
    missing = run("report", "--release", "7", "--out", str(tmp_path / "none"), code=1)
    assert "No report release 7" in missing


def test_a_disclosive_release_is_refused_with_its_findings(
    cli: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise ConflictError(
            "report", "report-disclosive", "checkpoint 9", "The report cannot be released: held: cell karkh/minors"
        )

    monkeypatch.setattr(report, "make_release", refuse)
    output = run("report", "--force", "--out", str(tmp_path / "refused"), code=1)
    assert "report-disclosive" in output and "karkh/minors" in output
    assert not (tmp_path / "refused").exists()
