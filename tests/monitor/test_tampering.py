"""Every tampering case of issue 3, done as an insider with database rights would, on SQLite and PostgreSQL: each
is caught by `handover verify` with exit code 1 and a verdict naming the first bad log index and what is wrong."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import Result
from fastapi.testclient import TestClient

from handover.app import create_app
from handover.core.custody import leaf
from handover.core.tlog.memory import MemoryLog
from handover.core.tlog.tiles import Tile, tile_hashes
from handover.monitor.checks import b64
from handover.store.uow import Database
from tests.monitor.conftest import (
    BASE_URL,
    TOKEN,
    AppTransport,
    LogWorld,
    Verify,
    add_monitor,
    build_log,
    export,
    verdict,
)

_exports = itertools.count()


def drop_append_only(db: Database, table: str) -> None:
    """Remove the triggers that make `table` append-only, as an insider with database rights could."""
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "sqlite":
            conn.exec_driver_sql(f"DROP TRIGGER {table}_no_update")
            conn.exec_driver_sql(f"DROP TRIGGER {table}_no_delete")
        else:
            conn.exec_driver_sql(f"DROP TRIGGER {table}_append_only ON {table}")


def rehash(db: Database) -> MemoryLog:
    """Rewrite the stored hashes so the tree (and every tile served from it) matches the events as they now are."""
    drop_append_only(db, "log_hashes")
    forged = MemoryLog()
    with db.unit_of_work(read_only=True) as uow:
        for stored in uow.custody.all_events():
            forged.append(leaf.encode(stored.event))
    with db.engine.begin() as conn:
        stored_hashes = dict(conn.exec_driver_sql("SELECT idx, hash FROM log_hashes").all())
        for index, value in enumerate(forged.hashes):
            if bytes(stored_hashes[index]) != value:
                conn.execute(sa.text("UPDATE log_hashes SET hash = :h WHERE idx = :i"), {"h": value, "i": index})
    return forged


Run = Callable[..., Result]


@pytest.fixture(params=["http", "directory"])
def run(request: pytest.FixtureRequest, logged: LogWorld, server: AppTransport, verify: Verify, tmp_path: Path) -> Run:
    """`handover verify` against the tampered log, read from the server or from a fresh export of it."""

    def run_verify(*extra: str, **options: object) -> Result:
        if request.param == "http":
            return verify(BASE_URL, *extra, transport=server, **options)  # type: ignore[arg-type]
        directory = export(logged.db, tmp_path / f"export-{next(_exports)}")
        return verify(str(directory), *extra, **options)  # type: ignore[arg-type]

    return run_verify


def assert_caught(result: Result, expected: str) -> None:
    assert result.exit_code == 1, result.output
    assert verdict(result) == f"NOT VERIFIED: {expected}"


# (a) ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["type = 'admitted'", "seq = 270"], ids=["admission", "in-the-partial-tile"])
def test_an_event_row_edited_in_the_database(logged: LogWorld, run: Run, where: str) -> None:
    index = logged.seq(where)
    drop_append_only(logged.db, "custody_events")
    logged.execute("UPDATE custody_events SET authority_id = 'us-centcom' WHERE seq = :s", s=index)
    tile = "tile/0/000" if index < 256 else "tile/0/001.p/24"
    assert_caught(
        run(),
        f"log index {index}: the entry was altered after it was logged: it does not hash to leaf {index % 256} of "
        f"{tile}, which the signed checkpoint commits to.",
    )


# (b) ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["middle", "newest"])
def test_an_event_deleted(logged: LogWorld, run: Run, which: str) -> None:
    size = logged.size()
    index = logged.seq("type = 'departed'") if which == "middle" else size - 1
    drop_append_only(logged.db, "custody_events")
    logged.execute("DELETE FROM custody_events WHERE seq = :s", s=index)
    # The checkpoint still claims the old size (the counter is untouched): the bundle comes up one short.
    bundle, width = ("tile/entries/000", 256) if index < 256 else ("tile/entries/001.p/24", 24)
    assert_caught(
        run(),
        f"log index {index}: entry missing: {bundle} holds {width - 1} entries where the signed tree has {width} "
        f"(the entries before index {index} match the published leaf hashes).",
    )


# (c) ---------------------------------------------------------------------------------------------------------------


def test_two_events_swapped(logged: LogWorld, run: Run) -> None:
    first, second = logged.seq("type = 'manifested'"), logged.seq("type = 'arrived'")
    drop_append_only(logged.db, "custody_events")
    logged.execute(
        "UPDATE custody_events SET seq = -1 WHERE seq = :a",
        "UPDATE custody_events SET seq = :a WHERE seq = :b",
        "UPDATE custody_events SET seq = :b WHERE seq = -1",
        a=first,
        b=second,
    )
    assert_caught(
        run(),
        f"log index {first}: holds the entry the published tree has at log index {second}: entries were reordered "
        "after they were logged (tile/0/000).",
    )


# (d) ---------------------------------------------------------------------------------------------------------------


def test_a_tile_rewritten_with_its_hashes_recomputed(logged: LogWorld, server: AppTransport, run: Run) -> None:
    """The insider forges an event and rewrites the stored hashes to match, but cannot re-sign: every tile agrees
    with the forged entries, so only the signed root shows it."""
    index = logged.seq("type = 'admitted'")
    signed = logged.size()
    with logged.db.unit_of_work(read_only=True) as uow:
        old_root = uow.log.latest_checkpoint().root  # type: ignore[union-attr]
    drop_append_only(logged.db, "custody_events")
    logged.execute("UPDATE custody_events SET facility_id = 'jeddah-1' WHERE seq = :s", s=index)
    forged = rehash(logged.db)
    served = server.client.get("/log/tile/0/000")
    assert served.content == tile_hashes(Tile(0, 0, 256), forged.read_hashes)  # the tiles now match the forgery
    assert_caught(
        run(),
        f"checkpoint: the entries and the published tiles hash to root {b64(forged.root())}, but the signed "
        f"checkpoint of size {signed} says {b64(old_root)}: the log was rewritten after it was signed, its tiles "
        "recomputed to match.",
    )


def test_a_rewritten_log_re_signed_with_the_key_is_caught_by_the_state_file(
    logged: LogWorld, server: AppTransport, verify: Verify, tmp_path: Path
) -> None:
    """The insider also holds the signing key: they drop the old checkpoints and sign the forged tree afresh. A
    monitor seeing the log for the first time cannot tell; one that verified it before can, from its state file."""
    assert verify(BASE_URL, transport=server).exit_code == 0  # the monitor saw the honest log: state saved
    seen = logged.size()
    # A forgery the custody machine cannot see: the handover happened somewhere else than recorded.
    index = logged.seq("type = 'handed_over'")
    drop_append_only(logged.db, "custody_events")
    logged.execute("UPDATE custody_events SET facility_id = 'kharab-al-jir' WHERE seq = :s", s=index)
    rehash(logged.db)
    drop_append_only(logged.db, "log_checkpoints")
    logged.execute("DELETE FROM log_checkpoints")
    logged.grow(4)
    logged.sign()

    fresh = verify(BASE_URL, transport=server, state=tmp_path / "new-monitor.json")
    assert fresh.exit_code == 0, fresh.output  # a consistent forgery, properly signed: nothing to compare with

    code, body = verify.json(BASE_URL, transport=server)
    assert code == 1
    failure = body["failure"]
    assert failure["what"] == "history-rewritten"
    assert failure["index"] == 0  # the forged index lies in the first complete subtree, leaves 0..255
    assert failure["message"].startswith(f"history rewritten: the first {seen} entries now hash to ")
    assert failure["message"].endswith("the change is within log indexes 0..255.")
    assert 0 <= index <= 255


def test_a_consistent_forgery_still_breaks_a_custody_chain(
    logged: LogWorld, server: AppTransport, verify: Verify, tmp_path: Path
) -> None:
    """Rewritten and re-signed, unseen by any monitor: the custody machine still refuses the chain."""
    arrived = logged.seq("type = 'arrived'")
    person = _person_at(logged, arrived)
    admitted = logged.seq(f"type = 'admitted' AND person_id = '{person}'")
    drop_append_only(logged.db, "custody_events")
    logged.execute("UPDATE custody_events SET type = 'notified' WHERE seq = :s", s=arrived)
    rehash(logged.db)
    drop_append_only(logged.db, "log_checkpoints")
    logged.execute("DELETE FROM log_checkpoints")
    logged.sign()
    code, body = verify.json(BASE_URL, transport=server)
    assert code == 1, body
    failure = body["failure"]
    assert (failure["what"], failure["index"], failure["person_id"]) == ("chain-refused", admitted, person)
    assert failure["message"] == (
        f"log index {admitted} (admitted): the custody machine refuses it: Person {person} cannot be admitted at "
        "karkh: no admission without arrival at that facility (the person is in transit on movement "
        f"{_movement_of(logged, arrived)}, custodian iq-moj). [rule no-admission-without-arrival]"
    )


def _person_at(logged: LogWorld, index: int) -> str:
    with logged.db.engine.connect() as conn:
        return str(conn.exec_driver_sql(f"SELECT person_id FROM custody_events WHERE seq = {index}").scalar_one())


def _movement_of(logged: LogWorld, index: int) -> str:
    with logged.db.engine.connect() as conn:
        return str(conn.exec_driver_sql(f"SELECT movement_id FROM custody_events WHERE seq = {index}").scalar_one())


# (e) ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fork_size", [9, 2], ids=["longer-fork", "shorter-fork"])
def test_a_checkpoint_over_a_forked_tree(
    logged: LogWorld, server: AppTransport, verify: Verify, fork_db: Database, fork_size: int
) -> None:
    """The same key signs two histories that share their first entries: a monitor shown one, then the other, sees
    that the second does not extend the first."""
    shared = logged.size()
    logged.grow(5, seed=7)
    logged.sign()
    assert verify(BASE_URL, transport=server).exit_code == 0  # state: the first history, size shared + 5

    fork = build_log(fork_db)  # the very same events up to `shared` (same seeds, same clock)
    assert fork.size() == shared
    fork.grow(fork_size, seed=8)  # then different ones
    fork.sign()
    add_monitor(fork_db)
    with TestClient(create_app(fork_db, checkpoint_interval=0)) as client:
        code, body = verify.json(BASE_URL, transport=AppTransport(client))
    assert code == 1, body
    failure = body["failure"]
    assert failure["what"] == "history-rewritten"
    # 285 entries are the subtrees 0..255, 256..271, 272..279, 280..283 and 284: the histories part at 280.
    assert (shared, failure["index"]) == (280, 280)
    assert failure["message"].endswith("log indexes 280..283.")
    if fork_size > 5:
        assert failure["message"].startswith("history rewritten: the first 285 entries now hash to ")
    else:
        assert failure["message"].startswith("history rewritten: the log shrank to 282 entries from the 285 ")


# (f) ---------------------------------------------------------------------------------------------------------------


def test_an_identity_record_swapped_after_registration(logged: LogWorld, server: AppTransport, verify: Verify) -> None:
    person = logged.scenario.moved[0]
    registered = logged.seq(f"type = 'registered' AND person_id = '{person}'")
    logged.execute("UPDATE persons SET name_latin = 'Somebody Else' WHERE id = :p", p=person)
    assert verify(BASE_URL, transport=server).exit_code == 0  # the log itself is intact
    assert_caught(
        verify(BASE_URL, "--identities", transport=server),
        f"person {person} (registered at log index {registered}): the identity record does not match the commitment "
        "logged at registration: the record was changed or swapped.",
    )


def test_an_identity_record_swapped_read_from_a_directory(
    logged: LogWorld, server: AppTransport, verify: Verify, tmp_path: Path
) -> None:
    person = logged.scenario.women[0]
    registered = logged.seq(f"type = 'registered' AND person_id = '{person}'")
    logged.execute("UPDATE persons SET birth_date = '1980-01-01' WHERE id = :p", p=person)
    directory = export(logged.db, tmp_path / "export")
    answer = server.client.get("/log/identities", headers={"Authorization": f"Bearer {TOKEN}"})
    (directory / "identities").write_bytes(answer.content)
    assert_caught(
        verify(str(directory), "--identities"),
        f"person {person} (registered at log index {registered}): the identity record does not match the commitment "
        "logged at registration: the record was changed or swapped.",
    )
