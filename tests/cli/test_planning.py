"""The planner and the forecast on the command line, on a SQLite file: the summary and the day-by-day table, the same
JSON as the API, the CSV, the parameters (shown, set, refused when invalid), adopting a day (and refusing people not
cleared, by name), the binding constraint named, and the forecast."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from handover.app import create_app
from handover.cli.main import app
from handover.services import transfers
from handover.services.registry import NewPerson, register_people
from handover.services.runtime import SimulatedClock, seeded_runtime
from handover.store.uow import Database
from tests.factories import T0, add_world, child, man, woman
from tests.journeys import clear
from tests.support.team import as_team

START = "2026-01-22"


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A SQLite file with the small world, 30 men at Ghweran (20 cleared) and 4 mothers with 6 children and 2 women
    alone at al-Hol (all cleared)."""
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("HANDOVER_DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    run("init")
    db = Database(url)
    rt = seeded_runtime(53, SimulatedClock(T0))
    with db.unit_of_work() as uow:
        add_world(uow)
        men = [
            s.event.person_id for s in register_people(uow, rt, [NewPerson(man(n), "ghweran") for n in range(30)], T0)
        ]
        mothers = [rt.new_id() for _ in range(6)]
        families = [NewPerson(woman(n), "al-hol", person_id=mothers[n]) for n in range(6)]
        families += [NewPerson(child(mothers[n % 4], n), "al-hol") for n in range(6)]
        camp = [s.event.person_id for s in register_people(uow, rt, families, T0)]
        clear(uow, rt, men[:20] + camp, T0)
        uow.commit()
    db.dispose()
    (tmp_path / "men.json").write_text(json.dumps(men))
    return url


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def run(*args: str) -> str:
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    return result.output


def flat(text: str) -> str:
    """Output as one line: Rich wraps long lines at the terminal's width."""
    return " ".join(text.split())


def run_json(*args: str) -> Any:
    result = invoke(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def set_parameters(tmp_path: Path, values: dict[str, Any]) -> str:
    path = tmp_path / "parameters.json"
    path.write_text(json.dumps(values))
    return run("plan", "parameters", "set", str(path))


def test_the_plan_prints_a_summary_a_table_per_day_and_the_forecast(cli_db: str, tmp_path: Path) -> None:
    set_parameters(tmp_path, {"pending_clearance_day": None})
    out = flat(run("plan", "--start", START, "--time-limit", "5"))
    assert "Not within the 60-day horizon: 10 of 42 people are still waiting." in out
    assert "Completion:" in out and "Status:" in out and "gap" in out
    assert "Checked: the independent checker finds every rule kept." in out
    # The 10 men not cleared are named as what keeps people waiting, in words.
    assert "What keeps people waiting:" in out and "clearance" in out
    assert "Day by day" in out and "ghweran-karkh" in out and "al-hol-jeddah" in out and START in out
    assert "Forecast: Rests on" in out and "P50" in out and "P85" in out and "P95" in out


def test_plan_json_is_the_apis_plan_for_the_same_start_and_parameters(cli_db: str, tmp_path: Path) -> None:
    set_parameters(tmp_path, {"pending_clearance_day": None, "horizon_days": 20})
    from_cli = run_json("plan", "--start", START, "--time-limit", "5")
    db = Database(cli_db)
    try:
        app = as_team(create_app(db, runtime=seeded_runtime(1, SimulatedClock(T0))))
        with TestClient(app) as client:
            response = client.get("/api/v1/plan", params={"start": START, "time_limit": 5})
            assert response.status_code == 200, response.text
            from_api = response.json()
    finally:
        db.dispose()
    for body in (from_cli, from_api):
        body["plan"].pop("seconds")  # how long the solver took: the only thing that may differ
    assert from_cli == from_api
    assert from_cli["checked"] is True and from_cli["violations"] == []
    assert len({p for d in from_cli["drafts"] for p in d["people"]}) == 32


def test_the_csv_has_a_row_per_draft_under_its_hxl_hashtags(cli_db: str, tmp_path: Path) -> None:
    set_parameters(tmp_path, {"pending_clearance_day": None})
    target = tmp_path / "plan.csv"
    body = run_json("plan", "--start", START, "--time-limit", "5", "--csv", str(target))
    rows = list(csv.reader(target.open(encoding="utf-8", newline="")))
    assert rows[0][:6] == ["date", "route", "mode", "sortie", "seats", "people"]
    assert rows[1][:2] == ["#date", "#loc+route"] and all(tag.startswith("#") for tag in rows[1])
    assert len(rows) - 2 == len(body["drafts"])
    assert sum(int(row[5]) for row in rows[2:]) == sum(len(d["people"]) for d in body["drafts"])


def test_parameters_are_shown_set_and_refused_when_invalid(cli_db: str, tmp_path: Path) -> None:
    assert run_json("plan", "parameters")["horizon_days"] == 60
    assert "horizon_days" in run("plan", "parameters")
    values = {"horizon_days": 15, "daily_intake_cap": {"karkh": 4}, "priorities": {"al-hol": 2.0}}
    out = set_parameters(tmp_path, values)
    assert "Planning parameters set." in out
    shown = run_json("plan", "parameters")
    assert {k: shown[k] for k in values} == values
    for bad in ({"horizon_days": 0}, {"daily_intake_cap": {"nowhere": 1}}, {"speed": 1}):
        path = tmp_path / "bad.json"
        path.write_text(json.dumps(bad))
        result = invoke("plan", "parameters", "set", str(path))
        assert result.exit_code == 1 and "Refused" in result.output and "invalid-parameters" in result.output
    (tmp_path / "broken.json").write_text("{")
    result = invoke("plan", "parameters", "set", str(tmp_path / "broken.json"))
    assert result.exit_code == 1 and "is not JSON" in result.output
    assert {k: run_json("plan", "parameters")[k] for k in values} == values  # nothing changed


def test_adopting_a_day_creates_its_draft_movements(cli_db: str, tmp_path: Path) -> None:
    set_parameters(tmp_path, {"pending_clearance_day": None})
    body = run_json("plan", "--start", START, "--time-limit", "5")
    first = min(d["day"] for d in body["drafts"])
    adopted = run_json("plan", "--start", START, "--time-limit", "5", "--adopt", str(first))["adopted"]
    assert adopted["day"] == first and len(adopted["codes"]) == sum(1 for d in body["drafts"] if d["day"] == first)
    db = Database(cli_db)
    with db.unit_of_work(read_only=True) as uow:
        on = {
            s.person_id for code in adopted["codes"] for s in uow.custody.on_movement(transfers.movement(uow, code).id)
        }
    db.dispose()
    assert on == {p for d in body["drafts"] if d["day"] == first for p in d["people"]}
    # A day without drafts is refused.
    result = invoke("plan", "--start", START, "--time-limit", "5", "--adopt", "59")
    assert result.exit_code == 1 and "no-drafts-on-day" in result.output


def test_adopting_refuses_people_not_cleared_by_name(cli_db: str, tmp_path: Path) -> None:
    set_parameters(tmp_path, {"pending_clearance_day": 0})
    pending = set(json.loads((tmp_path / "men.json").read_text())[20:])
    body = run_json("plan", "--start", START, "--time-limit", "5")
    day = next(d["day"] for d in body["drafts"] if pending & set(d["people"]))
    result = invoke("plan", "--start", START, "--time-limit", "5", "--adopt", str(day))
    assert result.exit_code == 1, result.output
    assert "Refused" in result.output and "(fit-to-travel)" in result.output
    assert any(person in result.output for person in pending)
    assert run_json("movement", "list") == []  # nothing was written


def test_an_infeasible_input_names_the_binding_constraint(cli_db: str, tmp_path: Path) -> None:
    set_parameters(tmp_path, {"pending_clearance_day": None, "daily_intake_cap": {"karkh": 1}})
    out = flat(run("plan", "--start", START, "--time-limit", "5", "--horizon", "1"))
    assert "Not within the 1-day horizon" in out and "Completion: not within the 1-day horizon." in out
    assert "The daily intake cap at Karkh Central Prison binds on day 0." in out
    body = run_json("plan", "--start", START, "--time-limit", "5", "--horizon", "1")
    assert any(b["kind"] == "intake_cap" and b["subject"] == "karkh" for b in body["plan"]["bottlenecks"])


def test_the_forecast(cli_db: str) -> None:
    as_of = (date.fromisoformat(START) + timedelta(days=2)).isoformat()
    body = run_json("forecast", "--as-of", as_of)
    assert body["as_of"] == as_of and body["remaining"] == 42 and body["basis"]
    assert body["history_days"] >= 1 and body["scenarios"]
    out = flat(run("forecast", "--as-of", as_of))
    assert "42 people still to move" in out and "What if" in out and "Forecast: Rests on" in out
    assert run_json("forecast")["as_of"] == T0.date().isoformat()
    result = invoke("forecast", "--as-of", "soon")
    assert result.exit_code == 2 and "not a date" in result.output
    result = invoke("plan", "--start", "9999-12-31")
    assert result.exit_code == 2 and "between 1900 and 2200" in result.output


def test_importing_the_planning_commands_stays_light() -> None:
    code = (
        "import sys, handover.cli.planning; "
        "heavy = [m for m in sys.modules if m.startswith(('handover.services', 'handover.store', 'handover.api', "
        "'sqlalchemy', 'fastapi', 'numpy', 'highspy'))]; print(heavy)"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]"


def test_a_plan_from_a_scenario_file_needs_no_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from handover.cli.main import app
    from handover.demo.scenario import DEFAULT_SCENARIO

    # A scenario with few people, so the test stays quick: the same file with a smaller population.
    small = tmp_path / "small.toml"
    small.write_text(DEFAULT_SCENARIO.read_text(encoding="utf-8").replace("people = 7000", "people = 1500", 1))
    monkeypatch.setenv("HANDOVER_DATABASE_URL", f"sqlite:///{tmp_path / 'untouched.sqlite3'}")
    result = CliRunner().invoke(app, ["plan", "--scenario", str(small), "--json", "--time-limit", "5"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["checked"] is True and body["people"] > 0 and body["drafts"]
    assert not (tmp_path / "untouched.sqlite3").exists()
    refused = CliRunner().invoke(app, ["plan", "--scenario", str(small), "--adopt", "0"])
    assert refused.exit_code == 2
