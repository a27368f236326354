"""The transparency log as the services keep it: on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from handover.core.custody import leaf
from handover.core.tlog.checkpoint import Checkpoint
from handover.core.tlog.hashing import leaf_hash
from handover.core.tlog.memory import MemoryLog
from handover.core.tlog.note import Signer, open_note
from handover.core.tlog.tiles import EntryBundle, Tile, decode_bundle, tiles_for_size
from handover.core.tlog.tree import check_consistency, check_inclusion, stored_hash_count, stored_hash_index
from handover.services import log
from handover.services.errors import ConflictError
from handover.services.registry import NewPerson, register_people
from handover.services.runtime import SimulatedClock, seeded_runtime
from handover.store.uow import Database
from tests.factories import T0, man

SIGNER = Signer.generate("test.handover.example/log")


def _register(db: Database, seed: int, count: int) -> None:
    rt = seeded_runtime(seed, SimulatedClock(T0))
    with db.unit_of_work() as uow:
        register_people(uow, rt, [NewPerson(man(i), "ghweran") for i in range(count)], T0)
        uow.commit()


def _sign(db: Database) -> log.StoredCheckpoint:
    with db.unit_of_work() as uow:
        signed = log.sign_checkpoint(uow, SIGNER, T0 + timedelta(hours=1))
        uow.commit()
    return signed


def test_the_tree_matches_the_events_after_every_commit(world: Database) -> None:
    for seed, count in ((1, 1), (2, 255), (3, 1), (4, 300)):
        _register(world, seed, count)
    with world.unit_of_work() as uow:
        events = [s.event for s in uow.custody.all_events()]
        expected = MemoryLog()
        for e in events:
            expected.append(leaf.encode(e))
        assert uow.log.hash_count() == stored_hash_count(len(events)) == len(expected.hashes)
        assert log.root(uow) == expected.root()
        for index in (0, 1, 255, 256, 556):
            proof = log.inclusion_proof(uow, index, len(events))
            assert check_inclusion(proof, len(events), expected.root(), index, leaf_hash(leaf.encode(events[index])))


def test_inclusion_proofs_stop_at_the_log_size(world: Database) -> None:
    _register(world, 1, 5)
    with world.unit_of_work(read_only=True) as uow:
        events = [s.event for s in uow.custody.all_events()]
        expected = MemoryLog()
        for e in events:
            expected.append(leaf.encode(e))
        for size in range(1, 6):
            for index in range(size):
                proof = log.inclusion_proof(uow, index, size)
                assert check_inclusion(proof, size, expected.root(size), index, leaf_hash(leaf.encode(events[index])))
        for index, size in ((0, 6), (5, 6), (5, 5), (-1, 3), (0, 0), (0, 1 << 40)):
            with pytest.raises(ValueError, match=rf"no leaf {index} in a tree of size {size} \(the log has 5 leaves\)"):
                log.inclusion_proof(uow, index, size)


def test_a_proof_is_one_statement_and_needs_no_snapshot(world: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    _register(world, 1, 300)
    with world.unit_of_work(read_only=True) as uow:
        expected = [log.inclusion_proof(uow, index, 300) for index in (0, 7, 299)]
    statements: list[str] = []
    sa.event.listen(world.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with world.unit_of_work(read_only=True, one_snapshot=False) as uow:
        assert [log.inclusion_proof(uow, index, 300) for index in (0, 7, 299)] == expected
        assert len(statements) == 3  # one statement each, and no BEGIN
        with pytest.raises(ValueError, match=r"no leaf 300 in a tree of size 301 \(the log has 300 leaves\)"):
            log.inclusion_proof(uow, 300, 301)
        # Each statement reads its own snapshot: the log may reach the proof's size only after its hashes were read.
        # Then they are read once more, so the proof is served, not taken for hashes missing from the log.
        read, failed = uow.log.read_hashes, [False]

        def read_before_the_log_grew(indexes: list[int]) -> list[bytes]:
            if not failed[0]:
                failed[0] = True
                raise LookupError("not yet")
            return read(indexes)

        monkeypatch.setattr(uow.log, "read_hashes", read_before_the_log_grew)
        assert log.inclusion_proof(uow, 7, 300) == expected[1]

        def read_from_a_damaged_log(indexes: list[int]) -> list[bytes]:
            raise LookupError("gone")

        monkeypatch.setattr(uow.log, "read_hashes", read_from_a_damaged_log)
        with pytest.raises(LookupError, match="gone"):  # missing from a log that has the leaves: the log's fault
            log.inclusion_proof(uow, 7, 300)


def test_checkpoints_are_signed_consistent_and_only_when_the_tree_grew(world: Database) -> None:
    _register(world, 1, 10)
    first = _sign(world)
    assert _sign(world) == first
    note = open_note(first.note, [SIGNER.verifier])
    assert Checkpoint.parse(note.text) == Checkpoint(SIGNER.name, 10, first.root)
    _register(world, 2, 5)
    second = _sign(world)
    assert second.size == 15
    with world.unit_of_work() as uow:
        proof = log.consistency_proof(uow, 10, 15)
    assert check_consistency(proof, 15, second.root, 10, first.root)


def test_the_log_tables_are_append_only(world: Database) -> None:
    _register(world, 1, 3)
    _sign(world)
    for statement in ("UPDATE log_hashes SET hash = hash WHERE idx = 0", "DELETE FROM log_checkpoints"):
        with world.engine.connect() as conn, pytest.raises(sa.exc.DatabaseError, match="append-only"):
            conn.execute(sa.text(statement))


def _drop_protection(db: Database) -> None:
    """What an insider with database rights could do: remove the triggers and rewrite history."""
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "sqlite":
            conn.exec_driver_sql("DROP TRIGGER log_hashes_no_update")
        else:
            conn.exec_driver_sql("DROP TRIGGER log_hashes_append_only ON log_hashes")


def test_a_forked_tree_is_never_signed(world: Database) -> None:
    _register(world, 1, 8)
    _sign(world)
    _drop_protection(world)
    # Rewrite the stored node over leaves 0..7: every later root is computed from it.
    with world.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE log_hashes SET hash = :h WHERE idx = :i"), {"h": b"\x00" * 32, "i": stored_hash_index(3, 0)}
        )
    _register(world, 2, 2)
    with world.unit_of_work() as uow, pytest.raises(ConflictError) as refused:
        log.sign_checkpoint(uow, SIGNER, T0)
    assert refused.value.rule == "inconsistent-tree"


def test_tiles_and_bundles_are_served_only_within_checkpointed_sizes(world: Database) -> None:
    _register(world, 1, 300)
    _sign(world)
    with world.unit_of_work() as uow:
        assert log.covered(uow, Tile(0, 0, 256), 300)
        assert log.covered(uow, Tile(0, 1, 44), 300)
        assert not log.covered(uow, Tile(0, 1, 43), 300)  # no checkpoint at size 299
        assert not log.covered(uow, Tile(0, 1, 45), 300)
        assert log.covered(uow, EntryBundle(1, 44), 300)
        assert not log.covered(uow, EntryBundle(1, 45), 300)
        expected = MemoryLog()
        events = [s.event for s in uow.custody.all_events()]
        for e in events:
            expected.append(leaf.encode(e))
        for tile in tiles_for_size(300):
            assert len(log.tile_data(uow, tile)) == 32 * tile.width
        entries = decode_bundle(log.entry_bundle(uow, EntryBundle(1, 44)))
        assert entries == [leaf.encode(e) for e in events[256:300]]


def test_an_empty_log_is_not_signed(world: Database) -> None:
    with world.unit_of_work() as uow, pytest.raises(ConflictError) as refused:
        log.sign_checkpoint(uow, SIGNER, T0)
    assert refused.value.rule == log.EMPTY_LOG
