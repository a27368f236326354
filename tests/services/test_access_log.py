"""The access log on both databases: a read is a row and a log entry at the next log index, in one transaction;
rows cannot be changed; the entry holds ids only."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import asdict, replace
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handover.core.access import leaf as access_leaf
from handover.core.custody import leaf as custody_leaf
from handover.core.policy.access import Principal, Purpose, Role
from handover.core.tlog.memory import MemoryLog
from handover.core.tlog.tiles import EntryBundle, bundles_for_size, decode_bundle, tile_hashes, tiles_for_size
from handover.services import access_log, accounts, log
from handover.services.errors import ConflictError
from handover.services.ports import AccessRecord, EntriesMismatch
from handover.services.registry import NewPerson, register_people
from handover.services.runtime import SimulatedClock, seeded_runtime
from handover.store.tables import AccessLogRow
from handover.store.uow import Database
from tests.factories import T0, man


@pytest.fixture(autouse=True)
def cheap_hashing() -> Iterator[None]:
    previous = accounts.use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    yield
    accounts.use_hasher(previous)


def _setup(db: Database) -> tuple[list[str], Principal, Principal]:
    rt = seeded_runtime(11, SimulatedClock(T0))
    with db.unit_of_work() as uow:
        people = [
            s.event.person_id
            for s in register_people(uow, rt, [NewPerson(man(i, "KZ"), "ghweran") for i in range(3)], T0)
        ]
        diplomat, _ = accounts.add_account(uow, rt, "diplomat-kz", Role.DIPLOMAT, country="KZ")
        monitor, _ = accounts.add_account(uow, rt, "monitor", Role.MONITOR)
        uow.commit()
    return people, accounts.principal_of(diplomat), accounts.principal_of(monitor)


def test_a_read_is_recorded_and_logged_at_the_next_index(world: Database) -> None:
    people, diplomat, monitor = _setup(world)
    rt = seeded_runtime(12, SimulatedClock(T0))
    with world.unit_of_work() as uow:
        size = uow.custody.size()
        record = access_log.record_read(uow, rt, diplomat, people[0])
        later = access_log.record_reads(uow, rt, monitor, [people[1], people[2], people[1]], "complaint", "Letter 12")
        uow.commit()
    assert record.seq == size and [r.seq for r in later] == [size + 1, size + 2]
    assert record.purpose == "consular" and later[0].purpose == "complaint" and later[0].note == "Letter 12"
    with world.unit_of_work() as uow:
        assert uow.custody.size() == size + 3  # the log counts them
        # The tree's root is the RFC 9162 root over the custody leaves and access leaves in log order.
        memory = MemoryLog()
        entries: dict[int, bytes] = {s.seq: custody_leaf.encode(s.event) for s in uow.custody.all_events()}
        entries.update({r.seq: access_log.leaf(r) for r in uow.access_log.between(0, size + 3)})
        assert sorted(entries) == list(range(size + 3))
        for seq in sorted(entries):
            memory.append(entries[seq])
        assert log.root(uow) == memory.root()
        # Custody events after reads take the indexes after them.
        more = register_people(uow, rt, [NewPerson(man(9, "FR"), "ghweran")], T0)
        assert more[0].seq == size + 3
        assert [r.person_id for r in access_log.reads_of(uow, people[1])] == [people[1]]
        assert [r.seq for r in access_log.reads_by(uow, monitor.account_id)] == [size + 2, size + 1]
        assert [r.seq for r in access_log.entries(uow, after=size)] == [size + 1, size + 2]


def test_the_log_entry_holds_ids_and_a_purpose_code_only(world: Database) -> None:
    people, _diplomat, monitor = _setup(world)
    rt = seeded_runtime(13, SimulatedClock(T0))
    with world.unit_of_work() as uow:
        record = access_log.record_read(uow, rt, monitor, people[0], Purpose.MONITORING, "Mohammed 0 asked us to")
        person = uow.persons.get(people[0])
        uow.commit()
    assert person is not None
    data = access_log.leaf(record)
    entry = access_leaf.decode(data)
    assert (entry.reader_id, entry.person_id, entry.purpose) == (monitor.account_id, people[0], Purpose.MONITORING)
    text = data.decode()
    for personal in (person.identity.name_latin, person.identity.name_ar, "Mohammed", "asked", f'"{monitor.name}"'):
        assert personal not in text
    assert set(json.loads(data)) == {"at", "kind", "person", "purpose", "reader", "v"}


def test_roles_that_must_say_why_are_refused_without_a_purpose(world: Database) -> None:
    people, _diplomat, monitor = _setup(world)
    rt = seeded_runtime(14, SimulatedClock(T0))
    with world.unit_of_work() as uow:
        with pytest.raises(ConflictError) as refused:
            access_log.record_read(uow, rt, monitor, people[0])
        assert refused.value.rule == "purpose-required"
        with pytest.raises(ValueError, match="not a purpose"):
            access_log.record_read(uow, rt, monitor, people[0], "curiosity")
        with pytest.raises(ConflictError):
            access_log.record_read(uow, rt, Principal.of("x", "admin", Role.ADMIN), people[0], Purpose.ADMINISTRATION)
        with pytest.raises(ValueError):
            access_log.record_read(uow, rt, Principal.of("", "public", Role.PUBLIC), people[0], Purpose.MONITORING)
        assert uow.access_log.page(-1, 10) == []


@pytest.mark.parametrize("statement", ["UPDATE access_log SET purpose = 'operations'", "DELETE FROM access_log"])
def test_the_access_log_refuses_updates_and_deletes(world: Database, statement: str) -> None:
    people, diplomat, _monitor = _setup(world)
    with world.unit_of_work() as uow:
        access_log.record_read(uow, seeded_runtime(15, SimulatedClock(T0)), diplomat, people[0])
        uow.commit()
    with world.engine.connect() as conn, pytest.raises(sa.exc.DatabaseError, match="append-only"):
        conn.execute(sa.text(statement))


# --- the log's entries: custody events and access entries in one index sequence ------------------------------------


def drop_append_only(db: Database, table: str) -> None:
    """Remove the triggers that make `table` append-only, as an insider with database rights could."""
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "sqlite":
            conn.exec_driver_sql(f"DROP TRIGGER {table}_no_update")
            conn.exec_driver_sql(f"DROP TRIGGER {table}_no_delete")
        else:
            conn.exec_driver_sql(f"DROP TRIGGER {table}_append_only ON {table}")


def _interleaved(db: Database, rounds: int = 3, per_round: int = 100) -> tuple[list[str], list[AccessRecord]]:
    """Registrations and reads, taking turns: `rounds` of `per_round` registrations, each followed by reads."""
    people, diplomat, monitor = _setup(db)
    records: list[AccessRecord] = []
    for turn in range(rounds):
        rt = seeded_runtime(100 + turn, SimulatedClock(T0 + timedelta(hours=turn)))
        with db.unit_of_work() as uow:
            new = [NewPerson(man(1000 * turn + n, "KZ"), "ghweran") for n in range(per_round)]
            people += [s.event.person_id for s in register_people(uow, rt, new, rt.clock())]
            records += access_log.record_reads(uow, rt, diplomat, people[turn::37])
            records.append(access_log.record_read(uow, rt, monitor, people[-1], Purpose.MONITORING))
            uow.commit()
    return people, records


def test_entry_bundles_hold_custody_events_and_access_entries_and_rebuild_the_stored_tree(world: Database) -> None:
    _people, records = _interleaved(world)
    with world.unit_of_work(read_only=True) as uow:
        size = uow.custody.size()
        bundles = bundles_for_size(size)
        assert [b.width for b in bundles] == [256, size - 256]  # a full bundle and a partial one
        served = [entry for bundle in bundles for entry in decode_bundle(log.entry_bundle(uow, bundle))]
        assert served == log.entries(uow, 0, size)
        memory = MemoryLog()
        for entry in served:
            memory.append(entry)
        assert len(served) == size and log.root(uow) == memory.root()
        for tile in tiles_for_size(size):
            assert log.tile_data(uow, tile) == tile_hashes(tile, memory.read_hashes), tile.path
        events = {s.seq: s.event for s in uow.custody.all_events()}
        reads = {r.seq: r for r in records}
        assert sorted(events.keys() | reads.keys()) == list(range(size)) and not events.keys() & reads.keys()
        for index, entry in enumerate(served):
            if index in reads:
                assert access_leaf.is_access(entry) and entry == access_log.leaf(reads[index])
                assert access_leaf.decode(entry).person_id == reads[index].person_id
            else:
                assert not access_leaf.is_access(entry) and custody_leaf.decode(entry) == events[index]
        # Any range, not only bundles: in index order, one query per table.
        assert log.entries(uow, 250, 270) == served[250:270] and log.entries(uow, 5, 5) == []


def test_an_index_no_entry_holds_or_two_entries_hold_is_named(world: Database) -> None:
    people, diplomat, _monitor = _setup(world)
    rt = seeded_runtime(16, SimulatedClock(T0))
    with world.unit_of_work() as uow:
        read = access_log.record_read(uow, rt, diplomat, people[1])
        register_people(uow, rt, [NewPerson(man(7, "KZ"), "ghweran")], T0)
        size = uow.custody.size()
        honest = log.entries(uow, 0, size)
        uow.commit()
    drop_append_only(world, "access_log")
    with world.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM access_log WHERE seq = :s"), {"s": read.seq})
    with world.unit_of_work(read_only=True) as uow:
        with pytest.raises(EntriesMismatch, match=rf"^log index {read.seq}: no custody event or access entry holds it"):
            log.entries(uow, 0, size)
        # Served as stored, one short, so a monitor finds the index and names it.
        assert decode_bundle(log.entry_bundle(uow, EntryBundle(0, size))) == honest[: read.seq] + honest[read.seq + 1 :]
        assert log.entries(uow, read.seq + 1, size) == honest[read.seq + 1 :]
    with world.engine.begin() as conn:  # the read put back at the index of the first registration
        conn.execute(sa.insert(AccessLogRow.__table__).values(asdict(replace(read, seq=0))))
    with world.unit_of_work(read_only=True) as uow:
        with pytest.raises(
            EntriesMismatch, match=r"^log index 0: held by both a custody event and an access entry"
        ) as caught:
            log.entries(uow, 0, size)
        assert caught.value.index == 0 and len(caught.value.entries) == size
        assert caught.value.entries[:2] == [honest[0], access_log.leaf(replace(read, seq=0))]


_STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("register"), st.integers(min_value=1, max_value=40)),
        st.tuples(st.just("read"), st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=12)),
    ),
    min_size=1,
    max_size=8,
)


def test_any_interleaving_of_events_and_reads_keeps_the_entries_hashing_to_the_stored_root(world: Database) -> None:
    people, diplomat, monitor = _setup(world)
    counter = itertools.count(1)

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(steps=_STEPS, seed=st.integers(min_value=0, max_value=2**16))
    def check(steps: list[tuple[str, Any]], seed: int) -> None:
        rt = seeded_runtime(seed, SimulatedClock(T0))
        known = list(people)
        with world.unit_of_work() as uow:  # never committed: each example starts from the same three people
            for kind, arg in steps:
                if kind == "register":
                    base = 10_000 * next(counter)
                    new = [NewPerson(man(base + n), "ghweran") for n in range(arg)]
                    known += [s.event.person_id for s in register_people(uow, rt, new, rt.clock())]
                else:
                    reader = monitor if arg[0] % 2 else diplomat
                    purpose = Purpose.MONITORING if reader is monitor else None
                    access_log.record_reads(uow, rt, reader, [known[i % len(known)] for i in arg], purpose)
            size = uow.custody.size()
            entries = log.entries(uow, 0, size)
            memory = MemoryLog()
            for entry in entries:
                memory.append(entry)
            assert len(entries) == size and memory.root() == log.root(uow)
            served = [e for bundle in bundles_for_size(size) for e in decode_bundle(log.entry_bundle(uow, bundle))]
            assert served == entries

    check()
