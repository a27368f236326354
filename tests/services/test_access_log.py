"""The access log on both databases: a read is a row and a log entry at the next log index, in one transaction;
rows cannot be changed; the entry holds ids only."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from handover.core.access import leaf as access_leaf
from handover.core.custody import leaf as custody_leaf
from handover.core.policy.access import Principal, Purpose, Role
from handover.core.tlog.memory import MemoryLog
from handover.services import access_log, accounts, log
from handover.services.errors import ConflictError
from handover.services.registry import NewPerson, register_people
from handover.services.runtime import SimulatedClock, seeded_runtime
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
