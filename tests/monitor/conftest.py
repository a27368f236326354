"""Fixtures for the monitor's tests: a log built through the services, the real server in-process, and the CLI.

The server is the real application (`create_app`) behind FastAPI's TestClient; `AppTransport` lets the
monitor's httpx2 client talk to it, so every byte the monitor checks came out of the server's own code. The monitor
reads the log's entries and identity records as a monitor's account, with that account's API token (`TOKEN`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest
import sqlalchemy as sa
from click.testing import Result
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from handover.app import create_app
from handover.cli import verify as verify_command
from handover.cli.main import app as cli
from handover.core.policy.access import ROLE_GRANTS, Role
from handover.core.tlog.note import Signer
from handover.monitor import sources
from handover.services import accounts, log
from handover.services.ports import ApiToken, StoredCheckpoint
from handover.services.registry import NewPerson, register_people
from handover.services.runtime import SimulatedClock, seeded_runtime
from handover.store.uow import Database
from tests.conftest import _postgres_database
from tests.factories import T0, add_world, man
from tests.scenarios import Scenario, transfer_scenario
from tests.support.accounts import cheap_hashing

SIGNER = Signer.generate("test.handover.example/monitor")
VKEY = SIGNER.verifier.vkey
TOKEN = "hvr_monitor-token-for-tests"
"""The API token of the monitor's account (`add_monitor`) on every database a test serves."""
MONITOR_ACCOUNT = "verifier"
BASE_URL = "http://handover.test"
EXTRA = 116  # the scenario's 164 events and these make 280: a full tile of 256 and a partial one of 24
"""People registered after the transfer scenario, so the log passes 256 entries: a full tile, then a partial one."""


class AppTransport(httpx2.BaseTransport):
    """An httpx2 transport that hands each request to FastAPI's TestClient (the app runs in-process)."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        answer = self.client.request(
            request.method, str(request.url), headers=dict(request.headers), content=request.read()
        )
        # TestClient already decoded the body; drop the headers that describe the encoded one.
        headers = [
            (k, v)
            for k, v in answer.headers.multi_items()
            if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")
        ]
        return httpx2.Response(answer.status_code, headers=headers, content=answer.content)


@dataclass
class LogWorld:
    db: Database
    scenario: Scenario
    seeds: list[int]

    def size(self) -> int:
        with self.db.unit_of_work(read_only=True) as uow:
            return uow.custody.size()

    def grow(self, count: int, seed: int | None = None) -> None:
        """Register `count` more men at ghweran (a fresh seed each time unless given, so ids never repeat)."""
        seed = 100 + len(self.seeds) if seed is None else seed
        self.seeds.append(seed)
        clock = SimulatedClock(T0 + timedelta(days=len(self.seeds)))
        rt = seeded_runtime(seed, clock)
        with self.db.unit_of_work() as uow:
            register_people(uow, rt, [NewPerson(man(1000 * seed + n), "ghweran") for n in range(count)], clock())
            uow.commit()

    def sign(self, signer: Signer = SIGNER) -> StoredCheckpoint:
        with self.db.unit_of_work() as uow:
            signed = log.sign_checkpoint(uow, signer, T0 + timedelta(days=30))
            uow.commit()
        return signed

    def seq(self, where: str) -> int:
        """The log index of the first event matching an SQL condition on custody_events."""
        with self.db.engine.connect() as conn:
            return int(conn.execute(sa.text(f"SELECT min(seq) FROM custody_events WHERE {where}")).scalar_one())

    def execute(self, *statements: str, **params: Any) -> None:
        with self.db.engine.begin() as conn:
            for statement in statements:
                conn.execute(sa.text(statement), params)


def build_log(db: Database, seed: int = 1) -> LogWorld:
    """The transfer scenario (164 events), then EXTRA registrations, then a signed checkpoint."""
    world = LogWorld(db, transfer_scenario(db, seed=seed), [])
    world.grow(EXTRA)
    world.sign()
    return world


@pytest.fixture
def logged(world: Database) -> LogWorld:
    return build_log(world)


def add_monitor(db: Database) -> None:
    """A monitor's account on `db` with an API token whose secret is `TOKEN` (once per database).

    Made as `accounts.create_token` makes tokens (the SHA-256 of the secret stored, the role's grants), with a known
    secret instead of a random one, so that every `handover verify` of a test can pass it without being told."""
    rt = seeded_runtime(4242, SimulatedClock(T0))
    with db.unit_of_work() as uow:
        if uow.accounts.by_name(MONITOR_ACCOUNT) is not None:
            return
        with cheap_hashing():
            account, _password = accounts.add_account(uow, rt, MONITOR_ACCOUNT, Role.MONITOR)
        grants = tuple(sorted(str(g) for g in ROLE_GRANTS[Role.MONITOR]))
        uow.accounts.add_token(
            ApiToken(rt.new_id(), account.id, "handover verify", accounts.token_hash(TOKEN), grants, rt.clock())
        )
        uow.commit()


@pytest.fixture
def server(logged: LogWorld) -> Iterator[AppTransport]:
    add_monitor(logged.db)
    with TestClient(create_app(logged.db, checkpoint_interval=0)) as client:
        yield AppTransport(client)


@pytest.fixture(autouse=True)
def _state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Never touch the real ~/.local/state: default state files land in the test's directory."""
    home = tmp_path / "xdg-state"
    monkeypatch.setenv("XDG_STATE_HOME", str(home))
    monkeypatch.delenv("HANDOVER_MONITOR_TOKEN", raising=False)
    return home


@dataclass
class Verify:
    """Runs `handover verify` through the CLI, with the HTTP source wired to the in-process server."""

    monkeypatch: pytest.MonkeyPatch
    state: Path

    def __call__(
        self,
        source: str,
        *extra: str,
        transport: httpx2.BaseTransport | None = None,
        vkey: str = VKEY,
        token: str | None = TOKEN,
        state: Path | None = None,
        default_state: bool = False,
    ) -> Result:
        def opened(text: str, token: str | None = None) -> sources.HttpSource | sources.DirectorySource:
            return sources.open_source(text, token, transport=transport)

        self.monkeypatch.setattr(verify_command, "open_source", opened)
        args = ["verify", source, "--vkey", vkey, *extra]
        if not default_state:
            args += ["--state", str(state or self.state)]
        if token is not None:
            args += ["--token", token]
        return CliRunner().invoke(cli, args)

    def json(self, source: str, *extra: str, **options: Any) -> tuple[int, dict[str, Any]]:
        result = self(source, "--json", *extra, **options)
        return result.exit_code, json.loads(result.stdout)


@pytest.fixture
def verify(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Verify:
    return Verify(monkeypatch, tmp_path / "verify-state.json")


def export(db: Database, directory: Path) -> Path:
    """`handover log export DIRECTORY` on `db`, as an operator would run it."""
    result = CliRunner().invoke(cli, ["log", "export", str(directory)], env={"HANDOVER_DATABASE_URL": db.url})
    assert result.exit_code == 0, result.output
    return directory


def verdict(result: Result) -> str:
    """The verdict line (the last line of output), after checking it is one line."""
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines, result.output
    return lines[-1]


@pytest.fixture
def fork_db(db: Database, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A second empty, migrated database on the same backend as `db`, with the same small world."""
    if db.engine.dialect.name == "sqlite":
        other = Database(f"sqlite:///{tmp_path / 'fork.sqlite3'}")
        other.migrate()
    else:
        other = Database(
            _postgres_database(request.getfixturevalue("pg_server"), request.getfixturevalue("pg_template"))
        )
    with other.unit_of_work() as uow:
        add_world(uow)
        uow.commit()
    yield other
    other.dispose()
