"""Access entries (reads of a person's record) share the log with custody events: `handover verify` decodes and
counts them and keeps them out of the custody chains; an access_log row edited or deleted in the database is caught
naming its index; on SQLite and PostgreSQL, over HTTP and from an export, and alike with one process or several."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from click.testing import Result

from handover.core.access import leaf as access_leaf
from handover.core.policy.access import Purpose, Role
from handover.monitor import DirectorySource, verify_log
from handover.services import access_log, accounts
from handover.services.runtime import SimulatedClock, seeded_runtime
from handover.store.uow import Database
from tests.factories import T0
from tests.monitor.conftest import BASE_URL, EXTRA, SIGNER, AppTransport, LogWorld, Verify, export, verdict
from tests.monitor.test_checks import SIGNER as SYNTHETIC
from tests.monitor.test_checks import write_log
from tests.monitor.test_tampering import drop_append_only
from tests.monitor.test_workers import PEOPLE, WORKERS, honest, leaves
from tests.scenarios import transfer_scenario

READS_BEFORE, READS_AFTER = 5, 3
"""Reads recorded after the transfer scenario (in the full first tile) and after the extra registrations (in the
partial second one)."""
READS = READS_BEFORE + READS_AFTER

_exports = itertools.count()


@pytest.fixture(autouse=True)
def cheap_hashing() -> Iterator[None]:
    previous = accounts.use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    yield
    accounts.use_hasher(previous)


def _read(db: Database, seed: int, people: list[str]) -> None:
    rt = seeded_runtime(seed, SimulatedClock(T0 + timedelta(days=20)))
    with db.unit_of_work() as uow:
        monitor = uow.accounts.by_name("monitor")
        if monitor is None:
            monitor, _password = accounts.add_account(uow, rt, "monitor", Role.MONITOR)
        access_log.record_reads(uow, rt, accounts.principal_of(monitor), people, Purpose.MONITORING)
        uow.commit()


@pytest.fixture
def logged(world: Database) -> LogWorld:
    """The transfer scenario, reads, EXTRA registrations, more reads, a signed checkpoint: custody events and access
    entries interleaved in one index sequence (this module's log: the `server` fixture serves it)."""
    log_world = LogWorld(world, transfer_scenario(world, seed=1), [])
    _read(world, 501, log_world.scenario.moved[:READS_BEFORE])
    log_world.grow(EXTRA)
    _read(world, 502, log_world.scenario.women[:READS_AFTER])
    log_world.sign()
    return log_world


def _access_seq(logged: LogWorld, which: int) -> int:
    with logged.db.unit_of_work(read_only=True) as uow:
        return access_log.entries(uow)[which].seq


Run = Callable[..., Result]


@pytest.fixture(params=["http", "directory"])
def run(request: pytest.FixtureRequest, logged: LogWorld, verify: Verify, tmp_path: Path) -> Run:
    """`handover verify` against the log, read from the server or from a fresh export of it."""
    server: AppTransport | None = request.getfixturevalue("server") if request.param == "http" else None

    def run_verify(*extra: str, **options: object) -> Result:
        if server is not None:
            return verify(BASE_URL, *extra, transport=server, **options)  # type: ignore[arg-type]
        directory = export(logged.db, tmp_path / f"export-{next(_exports)}")
        return verify(str(directory), *extra, **options)  # type: ignore[arg-type]

    return run_verify


def test_a_log_with_access_entries_verifies_and_counts_them(logged: LogWorld, run: Run) -> None:
    size = logged.size()
    people = logged.scenario.registered + EXTRA
    assert size == 164 + EXTRA + READS
    result = run()
    assert result.exit_code == 0, result.output
    assert f"{people} people, {size - READS} events, {READS} access entries." in verdict(result)
    assert f"{size} entries decoded: {size - READS} canonical custody events, {READS} canonical access" in result.output
    result = run("--json")
    body = json.loads(result.stdout)
    assert result.exit_code == 0, body
    assert (body["size"], body["events"], body["access_entries"]) == (size, size - READS, READS)
    assert body["people"] == people and body["counts_compared"] is True and body["warnings"] == []


def test_workers_read_access_entries_as_one_process_does(logged: LogWorld, tmp_path: Path) -> None:
    directory = export(logged.db, tmp_path / "export")
    outcomes = []
    for workers in WORKERS:
        state = tmp_path / "state.json"
        outcome = verify_log(DirectorySource(directory), SIGNER.verifier, state_path=state, workers=workers)
        state.unlink()  # each run starts afresh
        assert outcome.verified, outcome.failure
        outcomes.append((outcome.people, outcome.access_entries, outcome.events, [s.detail for s in outcome.steps]))
    assert outcomes == [outcomes[0]] * len(WORKERS)
    assert outcomes[0][1] == READS


def _tile(index: int, size: int) -> str:
    return "tile/0/000" if index < 256 else f"tile/0/001.p/{size - 256}"


def assert_caught(result: Result, expected: str) -> None:
    assert result.exit_code == 1, result.output
    assert verdict(result) == f"NOT VERIFIED: {expected}"


@pytest.mark.parametrize("which", [0, -1], ids=["in-a-full-tile", "in-the-partial-tile"])
def test_an_access_entry_whose_purpose_was_edited_is_named(logged: LogWorld, run: Run, which: int) -> None:
    index, size = _access_seq(logged, which), logged.size()
    drop_append_only(logged.db, "access_log")
    logged.execute("UPDATE access_log SET purpose = 'operations' WHERE seq = :s", s=index)
    assert_caught(
        run(),
        f"log index {index}: the entry was altered after it was logged: it does not hash to leaf {index % 256} of "
        f"{_tile(index, size)}, which the signed checkpoint commits to.",
    )


def test_an_access_entry_whose_person_was_swapped_is_named(logged: LogWorld, run: Run) -> None:
    index, size = _access_seq(logged, 2), logged.size()
    drop_append_only(logged.db, "access_log")
    logged.execute("UPDATE access_log SET person_id = :p WHERE seq = :s", p=logged.scenario.men[-1], s=index)
    assert_caught(
        run(),
        f"log index {index}: the entry was altered after it was logged: it does not hash to leaf {index % 256} of "
        f"{_tile(index, size)}, which the signed checkpoint commits to.",
    )


@pytest.mark.parametrize("which", [1, -1], ids=["in-a-full-tile", "the-newest"])
def test_a_deleted_access_entry_is_named(logged: LogWorld, run: Run, which: int) -> None:
    index, size = _access_seq(logged, which), logged.size()
    drop_append_only(logged.db, "access_log")
    logged.execute("DELETE FROM access_log WHERE seq = :s", s=index)
    bundle, width = ("tile/entries/000", 256) if index < 256 else (f"tile/entries/001.p/{size - 256}", size - 256)
    assert_caught(
        run(),
        f"log index {index}: entry missing: {bundle} holds {width - 1} entries where the signed tree has {width} "
        f"(the entries before index {index} match the published leaf hashes).",
    )


# --- synthetic logs: access entries among the custody events of test_workers -----------------------------------------

ACCESS_AT = (3, 255, 256, 300, 450, 604)
"""Where access entries go among the 600 custody events of `test_workers.honest()` (as log indexes)."""


def _with_reads() -> list[bytes]:
    entries = leaves(honest())
    for number, index in enumerate(ACCESS_AT):
        read = access_leaf.AccessEntry(f"reader-{number % 2}", f"person-{index % PEOPLE}", Purpose.MONITORING, T0)
        entries.insert(index, access_leaf.encode(read))
    return entries


def _replace(index: int, change: Callable[[bytes], bytes]) -> Callable[[list[bytes]], None]:
    def apply(entries: list[bytes]) -> None:
        entries[index] = change(entries[index])

    return apply


def _not_canonical(data: bytes) -> bytes:
    return data.replace(b'"v":1}', b'"v":1 }')


def _disguised(data: bytes) -> bytes:
    """A custody event made to open like an access entry."""
    return b'{"at":"x",' + data[1:]


CASES: dict[str, tuple[list[Callable[[list[bytes]], None]], tuple[str, int] | None]] = {
    "honest": ([], None),
    "access entry not canonical": ([_replace(300, _not_canonical)], ("entry-not-canonical", 300)),
    "access entry with an unknown purpose": (
        [_replace(450, lambda d: d.replace(b'"monitoring"', b'"curiosity"'))],
        ("entry-not-canonical", 450),
    ),
    "custody event disguised as an access entry": ([_replace(100, _disguised)], ("entry-not-canonical", 100)),
    "bad access entry before a bad custody event": (
        [_replace(500, _not_canonical), _replace(300, _not_canonical)],
        ("entry-not-canonical", 300),
    ),
    "bad custody event before a bad access entry": (
        [_replace(270, _not_canonical), _replace(450, _not_canonical)],
        ("entry-not-canonical", 270),
    ),
    "the same read logged twice (no event id: not a repeated event)": ([lambda e: e.append(e[3])], None),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_access_entries_are_checked_alike_by_any_number_of_workers(tmp_path: Path, case: tuple) -> None:  # type: ignore[type-arg]
    changes, expected = case
    entries = _with_reads()
    assert [i for i, e in enumerate(entries) if access_leaf.is_access(e)] == list(ACCESS_AT)
    for change in changes:
        change(entries)
    directory = write_log(tmp_path / "log", entries)
    found = []
    for workers in WORKERS:
        state = tmp_path / "state.json"
        outcome = verify_log(DirectorySource(directory), SYNTHETIC.verifier, state_path=state, workers=workers)
        state.unlink(missing_ok=True)
        failure = outcome.failure.as_dict() if outcome.failure is not None else None
        found.append((outcome.verified, outcome.people, outcome.access_entries, outcome.steps, failure))
    assert found == [found[0]] * len(WORKERS)
    verified, people, access, _steps, failure = found[0]
    if expected is None:
        assert verified and failure is None and people == PEOPLE
        assert access == sum(1 for e in entries if access_leaf.is_access(e))
    else:
        assert failure is not None and (failure["what"], failure["index"]) == expected, failure


def test_a_malformed_access_entry_is_named_as_one(tmp_path: Path) -> None:
    entries = _with_reads()
    entries[256] = _not_canonical(entries[256])
    outcome = verify_log(
        DirectorySource(write_log(tmp_path / "log", entries)), SYNTHETIC.verifier, state_path=tmp_path / "s.json"
    )
    assert outcome.failure is not None and outcome.failure.path == "tile/entries/001"
    assert outcome.failure.message == (
        "log index 256: the entry is not a canonical access entry: leaf is not in canonical form"
    )
