"""Transfer operations on the command line, on a SQLite file: a small movement from Ghweran to Karkh with officers'
keys made and used offline, a signed handover, an incident, admission, reconciliation; and refusals exit 1."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from handover.cli.main import app
from handover.core.custody.handover import public_key_of
from handover.services.registry import NewPerson, register_people
from handover.services.runtime import system_runtime
from handover.store.uow import Database
from tests.factories import T0, add_world, man


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("HANDOVER_DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    run("init")
    db = Database(url)
    with db.unit_of_work() as uow:
        add_world(uow)
        uow.commit()
    db.dispose()
    return url


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def run(*args: str) -> str:
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    return result.output


def run_json(*args: str) -> Any:
    return json.loads(CliRunner().invoke(app, [*args, "--json"]).stdout)


def refused(*args: str) -> str:
    result = invoke(*args)
    assert result.exit_code == 1, result.output
    assert "Refused" in result.output
    return result.output


def register(url: str, count: int) -> list[str]:
    db = Database(url)
    with db.unit_of_work() as uow:
        stored = register_people(uow, system_runtime(), [NewPerson(man(n), "ghweran") for n in range(count)], T0)
        uow.commit()
    db.dispose()
    return [s.event.person_id for s in stored]


def at(hours: int) -> str:
    return T0.replace(hour=T0.hour + hours).isoformat()


def keygen(path: Path) -> str:
    result = invoke("officer", "keygen", str(path))
    assert result.exit_code == 0, result.output
    key = result.stdout.strip()
    seed = base64.b64decode(path.read_text().strip())
    assert len(seed) == 32 and public_key_of(seed) == key
    assert path.read_text().strip() not in result.output  # the seed is never printed
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    return key


def test_a_small_movement_from_the_command_line(cli_db: str, tmp_path: Path) -> None:
    people = register(cli_db, 3)

    # Safeguards first: unassessed people are refused, with the rule.
    run("movement", "create", "M-1", "--route", "ghweran-karkh", "--at", at(1))
    output = refused("movement", "manifest", "M-1", *people, "--at", at(0))
    assert "fit-to-travel" in output and people[0] in output
    check = invoke("movement", "manifest", "M-1", *people, "--check")
    assert check.exit_code == 1 and "fit-to-travel" in check.output
    run("assess", *people, "--kind", "fit_to_travel", "--outcome", "fit", "--at", at(0))
    run("assess", *people, "--kind", "legal_review", "--outcome", "cleared", "--at", at(0))
    assert "No safeguard" in run("movement", "manifest", "M-1", *people, "--check")
    manifested = run_json("movement", "manifest", "M-1", *people, "--at", at(0))
    assert {e["type"] for e in manifested["events"]} == {"manifested"}
    run("movement", "approve", "M-1")
    shown = run_json("movement", "show", "M-1")
    assert (shown["state"], len(shown["legs"]), len(shown["people"])) == ("approved", 2, 3)
    assert "kharab" in run("movement", "show", "M-1")

    # Officers make their own keys; only the public halves are registered.
    syrian_key, iraqi_key = keygen(tmp_path / "syrian.key"), keygen(tmp_path / "iraqi.key")
    assert "refusing to overwrite" in invoke("officer", "keygen", str(tmp_path / "syrian.key")).output
    syrian = run_json("officer", "add", "Officer Hassan", "--authority", "sy-moi", "--key", syrian_key)["id"]
    iraqi = run("officer", "add", "Officer Ali", "--authority", "iq-moj", "--key", iraqi_key).strip().splitlines()[-1]
    assert {o["name"] for o in run_json("officer", "list")} == {"Officer Hassan", "Officer Ali"}

    # Leg 1: board, depart; the manifest is frozen.
    run("movement", "board", "M-1", *people, "--at", at(1))
    refused("movement", "board", "M-1", people[0], "--at", at(1))  # already boarded
    departed = run_json("movement", "depart", "M-1", "--at", at(1))
    assert len(departed["events"]) == 3
    assert "manifest-frozen" in refused("movement", "unmanifest", "M-1", people[0], "--reason", "x")

    # A handover from Syria straight to Iraq at the staging base, signed offline by each officer with their file.
    opened = run_json(
        "handover",
        "open",
        "M-1",
        "--place",
        "kharab-al-jir",
        "--from",
        "sy-moi",
        "--to",
        "iq-moj",
        "--injury",
        f"{people[1]}=bruised wrist",
        "--at",
        at(2),
    )
    document = invoke("handover", "show", opened["id"], "--document").stdout
    assert document == opened["document"]
    signed = run_json(
        "handover",
        "sign",
        opened["id"],
        "--key-file",
        str(tmp_path / "syrian.key"),
        "--officer",
        syrian,
        "--side",
        "dispatching",
        "--sha256",
        opened["sha256"],
    )
    assert (signed["state"], signed["events"]) == ("open", [])
    assert [h["id"] for h in run_json("handover", "list")] == [opened["id"]]
    assert "handover_open" in run("alerts")
    # Another officer's key, or a key for the wrong side, is refused and nothing is recorded.
    assert "bad-signature" in refused(
        "handover",
        "sign",
        opened["id"],
        "--key-file",
        str(tmp_path / "syrian.key"),
        "--officer",
        iraqi,
        "--side",
        "receiving",
    )
    assert "wrong-authority" in refused(
        "handover",
        "sign",
        opened["id"],
        "--key-file",
        str(tmp_path / "iraqi.key"),
        "--officer",
        iraqi,
        "--side",
        "dispatching",
    )
    wrong_digest = invoke(
        "handover",
        "sign",
        opened["id"],
        "--key-file",
        str(tmp_path / "iraqi.key"),
        "--officer",
        iraqi,
        "--side",
        "receiving",
        "--sha256",
        "0" * 64,
    )
    assert wrong_digest.exit_code == 1 and "nothing was signed" in wrong_digest.output
    done = run(
        "handover",
        "sign",
        opened["id"],
        "--key-file",
        str(tmp_path / "iraqi.key"),
        "--officer",
        iraqi,
        "--side",
        "receiving",
    )
    assert "custody passed" in done
    assert run_json("handover", "show", opened["id"])["state"] == "complete"

    # One escapes at the staging base; the rest fly on.
    run(
        "incident",
        "report",
        "escape",
        "--description",
        "ran at the staging base",
        "--person",
        people[2],
        "--movement",
        "M-1",
        "--at",
        at(2),
    )
    assert [i["kind"] for i in run_json("incident", "list", "--movement", "M-1")] == ["escape"]
    run("movement", "arrive", "M-1", "--at", at(3))
    run("movement", "board", "M-1", *people[:2], "--at", at(3))
    run("movement", "depart", "M-1", "--at", at(3))
    assert "arrived" in run("movement", "arrive", "M-1", "--at", at(4))

    # Reconciliation waits for admission, then closes the movement.
    assert "unaccounted" in refused("movement", "reconcile", "M-1")
    admitted = run_json("movement", "admit", "M-1", "--at", at(5))
    assert sorted(e["person_id"] for e in admitted["events"]) == sorted(people[:2])
    closed = run_json("movement", "reconcile", "M-1")
    assert closed["movement"]["state"] == "reconciled"
    assert (closed["manifest"], closed["departed"], closed["accounted"]) == (3, 3, 3)
    assert closed["outcomes"] == {"admitted": 2, "escaped": 1}
    assert "3 on the manifest, 3 departed, 3 accounted for" in run("movement", "report", "M-1")

    # The roll of the day, the notifications the admissions opened, and recording one.
    karkh = next(
        f for f in run_json("roll", "--day", T0.date().isoformat())["facilities"] if f["facility_id"] == "karkh"
    )
    assert (karkh["in"], karkh["held"], karkh["free"]) == (2, 2, 58)
    assert sorted(t["person_id"] for t in run_json("notifications")) == sorted(people[:2])
    run("notify", people[0], "--channel", "ICRC", "--at", at(6))
    assert [t["person_id"] for t in run_json("notifications")] == [people[1]]
    # (The escape, months before the machine's clock, is past the alerts' window.)
    assert {a["kind"] for a in run_json("alerts")} == {"notification_overdue"}
    assert "M-1" in run("movement", "list")


def test_bad_input_is_refused_plainly(cli_db: str, tmp_path: Path) -> None:
    assert invoke("movement", "create", "M-1", "--route", "ghweran-karkh", "--at", "2026-01-21T06:00").exit_code == 2
    assert "No route" in refused("movement", "create", "M-1", "--route", "nowhere")
    assert "No movement" in refused("movement", "show", "M-404")
    assert "key" in refused("officer", "add", "A", "--authority", "sy-moi", "--key", "not-a-key")
    (tmp_path / "bad.key").write_text("short\n")
    result = invoke(
        "handover", "sign", "h-1", "--key-file", str(tmp_path / "bad.key"), "--officer", "o", "--side", "dispatching"
    )
    assert result.exit_code == 1 and "not an officer key" in result.output
    assert invoke("incident", "report", "alien", "--description", "x").exit_code == 2
    assert invoke("roll", "--day", "yesterday").exit_code == 2
    run("movement", "create", "M-1", "--route", "ghweran-karkh")
    plan = tmp_path / "legs.json"
    plan.write_text(json.dumps([{"from_id": "ghweran", "to_id": "karkh", "mode": "helicopter"}]))
    assert "not usable" in refused("movement", "legs", "M-1", "--plan", str(plan))
    plan.write_text(
        json.dumps(
            [
                {
                    "from_id": "ghweran",
                    "to_id": "karkh",
                    "mode": "helicopter",
                    "escort_id": "us-centcom",
                    "vehicles": [{"call_sign": "Blackhawk 1", "seats": 12}],
                    "scheduled_departure": "2026-01-21T08:00:00Z",
                    "scheduled_arrival": "2026-01-21T11:00:00Z",
                }
            ]
        )
    )
    legs = run_json("movement", "legs", "M-1", "--plan", str(plan))
    assert [(x["from_id"], x["to_id"], x["seats"]) for x in legs] == [("ghweran", "karkh", 12)]
