"""`handover init` makes the first admin once; `handover user ...` manages accounts, second factors and tokens."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from typer.testing import CliRunner

from handover.cli.main import app
from handover.core.policy import signin
from handover.services import accounts
from handover.store.uow import Database


@pytest.fixture(autouse=True)
def cheap_hashing() -> Iterator[None]:
    previous = accounts.use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    yield
    accounts.use_hasher(previous)


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("HANDOVER_DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    return url


def run(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output


def _last_line(output: str) -> str:
    return output.strip().splitlines()[-1].strip()


def test_importing_the_cli_loads_neither_the_database_nor_argon2() -> None:
    # Other tests load them in this process; look from a fresh interpreter.
    probe = "import sys, handover.cli.main; print([m for m in ('sqlalchemy', 'argon2') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_init_makes_the_first_admin_once(cli_db: str) -> None:
    first = run("init")
    assert "First admin account: admin" in first
    password = _last_line(first)
    assert len(password) >= 20
    second = run("init")
    assert "First admin" not in second and password not in second
    db = Database(cli_db)
    with db.unit_of_work() as uow:
        admin = uow.accounts.by_name("admin")
        assert admin is not None and admin.password_must_change
        assert accounts.password_matches(admin.password_hash, password)
    db.dispose()


def test_user_commands(cli_db: str) -> None:
    run("init")
    out = run("user", "add", "diplomat-kz", "--role", "diplomat", "--country", "kz", "--display-name", "KZ consul")
    assert "diplomat-kz" in out and "diplomat KZ" in out
    password = _last_line(out)
    refused = run("user", "add", "intake", "--role", "intake-officer", code=1)
    assert "needs a facility" in refused
    assert "not a role" in run("user", "add", "x1", "--role", "overlord", code=1)
    listed = json.loads(run("user", "list", "--json"))
    assert {(a["name"], a["role"], a["scope"]) for a in listed} == {
        ("admin", "admin", ""),
        ("diplomat-kz", "diplomat", "KZ"),
    }

    # The second factor: a secret and URI, then a code from it.
    setup = run("user", "totp", "diplomat-kz").strip().splitlines()
    secret, uri = setup[-2].strip(), setup[-1].strip()
    assert uri.startswith("otpauth://totp/Handover%3Adiplomat-kz?secret=" + secret)
    raw = base64.b32decode(secret + "=" * (-len(secret) % 8))
    assert "confirmed" in run("user", "totp", "diplomat-kz", "--code", signin.code_at(raw, datetime.now(UTC)))
    assert json.loads(run("user", "list", "--json"))[1]["second_factor"] is True

    # Tokens: scoped to the role, printed once, listed, revoked.
    token_out = run(
        "user",
        "token",
        "create",
        "diplomat-kz",
        "--label",
        "case sync",
        "--grant",
        "own-country:repatriation:read",
        "--days",
        "30",
    )
    token = _last_line(token_out)
    assert token.startswith("hvr_")
    assert "does not grant all:person:read" in run(
        "user", "token", "create", "diplomat-kz", "--label", "x", "--grant", "all:person:read", code=1
    )
    [listed_token] = json.loads(run("user", "token", "list", "diplomat-kz", "--json"))
    assert listed_token["grants"] == ["own-country:repatriation:read"] and listed_token["active"]
    assert token not in json.dumps(listed_token)
    assert "revoked" in run("user", "token", "revoke", listed_token["id"])
    assert json.loads(run("user", "token", "list", "diplomat-kz", "--json"))[0]["active"] is False

    # Role, disable, enable, password reset.
    assert (
        "no facility karkh"
        in run("user", "role", "diplomat-kz", "--role", "intake-officer", "--facility", "karkh", code=1).lower()
    )
    assert "now monitor" in run("user", "role", "diplomat-kz", "--role", "monitor")
    assert "disabled" in run("user", "disable", "diplomat-kz")
    assert "enabled" in run("user", "enable", "diplomat-kz")
    new = _last_line(run("user", "password", "diplomat-kz"))
    assert new != password
    assert "last active admin" in run("user", "disable", "admin", code=1)
