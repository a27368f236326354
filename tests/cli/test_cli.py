"""The command line, end to end on a SQLite file: init, demo, status, person, rebuild."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from handover.cli.main import app
from handover.services import queries
from handover.store.uow import Database


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("HANDOVER_DATABASE_URL", url)
    # Relative paths (the demo's signing key under var/) land in the test's own directory.
    monkeypatch.chdir(tmp_path)
    return url


def run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_init_demo_status_person_rebuild(cli_db: str) -> None:
    run("init")
    built = run("demo", "--seed", "3", "--people", "900")
    assert "900 people registered" in built
    # The people at work: an account per role, listed with its published password, and repatriation under way.
    assert "Repatriation:" in built and "cases across" in built
    for name in ("planner", "escort", "intake-karkh", "reviewer", "diplomat-kz", "diplomat-fr", "monitor"):
        assert f"\n  {name} " in built
    with Database(cli_db).unit_of_work() as uow:
        cases = len(uow.repatriation.cases())
        states = {c.state for c in uow.repatriation.cases()}
    assert cases > 0 and {"accepted", "refused", "repatriated", "scheduled"} <= states
    again = run("demo", "--seed", "3", "--people", "900")
    assert "already built" in again and "Repatriation:" not in again and "diplomat-kz" in again
    with Database(cli_db).unit_of_work() as uow:
        assert len(uow.repatriation.cases()) == cases

    status = json.loads(run("status", "--json"))
    db = Database(cli_db)
    with db.unit_of_work() as uow:
        assert status == queries.status(uow).as_dict()
        moved = next(r for r in uow.custody.projection() if r.state.facility_id in ("karkh", "al-hout"))
    assert status["registered"] == 900 and status["moved"] > 0
    table = run("status")
    assert f"{status['moved']:,} moved of {status['planned']:,} planned" in table and "karkh" in table

    person = json.loads(run("person", moved.state.person_id, "--json"))
    types = [e["type"] for e in person["chain"]]
    # Cleared, manifested, handed over by signed documents on the way (two or three of them), admitted, and maybe
    # their family notified since.
    assert types[:4] == ["registered", "assessed", "assessed", "manifested"]
    assert [t for t in types if t in ("departed", "arrived", "admitted")] == ["departed", "arrived", "admitted"]
    assert types.count("handed_over") in (2, 3)
    assert types[types.index("admitted") + 1 :] in ([], ["notified"])
    assert [e["seq"] for e in person["chain"]] == sorted(e["seq"] for e in person["chain"])
    assert "admitted" in run("person", moved.state.person_id)
    assert "0 rows differed" in run("rebuild")
    db.dispose()


def test_unknown_person_is_a_clear_refusal(cli_db: str) -> None:
    run("init")
    result = CliRunner().invoke(app, ["person", "no-such-person"])
    assert result.exit_code == 1
    assert "No person no-such-person is registered" in result.output


def test_the_demo_will_not_overwrite_other_data(cli_db: str) -> None:
    run("demo", "--seed", "1", "--people", "50")
    result = CliRunner().invoke(app, ["demo", "--seed", "2", "--people", "50"])
    assert result.exit_code == 1
    assert "already holds data" in result.output
