"""Storage contract: the same tests on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from handover.core.custody import RefusedError, Rule, Status
from handover.core.custody.commands import Escape
from handover.services import custody, queries, rebuild, transfers
from handover.services.registry import NewPerson, register_people
from handover.services.runtime import SimulatedClock, seeded_runtime
from handover.store.tables import Base
from handover.store.uow import Database
from tests.factories import T0, child, man
from tests.journeys import board_and_depart, clear, hand_over, travel_to_destination

_seeds = iter(range(1000, 10**6))


def _rt():  # type: ignore[no-untyped-def]
    """A deterministic runtime; each call gets its own seed so ids never collide between calls."""
    return seeded_runtime(next(_seeds), SimulatedClock(T0))


def _register(db: Database, count: int, facility: str = "ghweran") -> list[str]:
    rt = _rt()
    with db.unit_of_work() as uow:
        stored = register_people(uow, rt, [NewPerson(man(i), facility) for i in range(count)], T0)
        uow.commit()
    return [s.event.person_id for s in stored]


def test_migrations_match_the_models(db: Database) -> None:
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE custody_events SET type = 'died' WHERE seq = 0",
        "DELETE FROM custody_events WHERE seq = 0",
    ],
)
def test_the_events_table_refuses_updates_and_deletes(world: Database, statement: str) -> None:
    _register(world, 1)
    with world.engine.connect() as conn, pytest.raises(sa.exc.DatabaseError, match="append-only"):
        conn.execute(sa.text(statement))
    with world.unit_of_work() as uow:
        (stored,) = uow.custody.page(-1, 10)
        assert stored.event.type.value == "registered"


def test_sequence_numbers_are_gapless_even_after_a_refused_batch(world: Database) -> None:
    people = _register(world, 3)
    rt = _rt()
    with world.unit_of_work() as uow:
        m = transfers.create_movement(uow, rt, "M-1", "ghweran-karkh", T0)
        uow.commit()
    with world.unit_of_work() as uow, pytest.raises(RefusedError):
        transfers.manifest(uow, rt, m.id, [people[0], people[1], people[0]], T0)
    _register(world, 2)
    with world.unit_of_work() as uow:
        seqs = [s.seq for s in uow.custody.all_events()]
        assert seqs == list(range(5)) and uow.custody.size() == 5


def test_a_refused_command_writes_nothing(world: Database) -> None:
    people = _register(world, 2)
    rt = _rt()
    with world.unit_of_work() as uow:
        clear(uow, rt, people, T0)
        movement = transfers.create_movement(uow, rt, "M-1", "ghweran-karkh", T0)
        transfers.manifest(uow, rt, movement.id, [people[0]], T0)
        uow.commit()
    # The second person is fine, the first is already on the movement: the whole request is refused.
    with world.unit_of_work() as uow:
        other = transfers.create_movement(uow, rt, "M-2", "ghweran-karkh", T0)
        with pytest.raises(RefusedError) as refused:
            transfers.manifest(uow, rt, other.id, [people[1], people[0]], T0)
    assert refused.value.refused.rule is Rule.ALREADY_ON_MOVEMENT
    assert refused.value.refused.person_id == people[0]
    assert "on the manifest of movement" in refused.value.refused.message
    with world.unit_of_work() as uow:
        assert uow.custody.size() == 2 + 4 + 1  # registrations, assessments, the first manifest
        assert uow.custody.states([people[1]])[people[1]].movement_id is None
        assert uow.movements.by_code("M-2") is None


def test_registration_with_a_missing_mother_writes_nothing(world: Database) -> None:
    rt = _rt()
    with world.unit_of_work() as uow, pytest.raises(RefusedError) as refused:
        register_people(uow, rt, [NewPerson(man(1), "ghweran"), NewPerson(child("ghost"), "al-hol")], T0)
    assert refused.value.refused.rule is Rule.UNKNOWN_REFERENCE
    with world.unit_of_work() as uow:
        assert uow.persons.count() == 0 and uow.custody.size() == 0


def test_rebuilt_projection_equals_the_live_one(world: Database) -> None:
    people = _register(world, 4)
    rt = _rt()
    with world.unit_of_work() as uow:
        clear(uow, rt, people[:3], T0)
        m = transfers.create_movement(uow, rt, "M-1", "ghweran-karkh", T0)
        transfers.approve(uow, m.id)
        transfers.manifest(uow, rt, m.id, people[:3], T0)
        board_and_depart(uow, rt, m.id, T0 + timedelta(hours=1))
        hand_over(uow, rt, m.id, "sy-moi", "iq-moj", "ghweran", T0 + timedelta(hours=1))
        travel_to_destination(uow, rt, m.id, T0 + timedelta(hours=3))
        transfers.admit(uow, rt, m.id, T0 + timedelta(hours=4), person_ids=people[:2])
        wrong = custody.record(uow, [])  # an empty request is a no-op
        assert wrong == []
        uow.commit()
    with world.unit_of_work() as uow:
        escape = custody.record(
            uow, [Escape(person_id=people[3], event_id=rt.new_id(), occurred_at=T0, recorded_at=T0)]
        )
        custody.correct(uow, rt, people[3], escape[0].event.event_id, "reported in error")
        uow.commit()
    with world.unit_of_work() as uow:
        report = rebuild.compare(uow)
        assert report.differences == [] and report.broken == [] and report.persons == 4
        statuses = {p: uow.custody.states([p])[p].status for p in people}
        assert statuses == {
            people[0]: Status.HELD,
            people[1]: Status.HELD,
            people[2]: Status.ARRIVED,
            people[3]: Status.HELD,
        }
        # The projection can drift (it is a plain table); rebuild notices and restores it from the events.
        uow.custody.replace_projection([r for r in uow.custody.projection() if r.state.person_id != people[0]])
        assert rebuild.compare(uow).differences != []
        rebuild.rebuild(uow)
        assert rebuild.compare(uow).differences == []
        summary = queries.status(uow)
        assert (summary.moved, summary.in_transit, summary.held_at_origin) == (2, 1, 1)


def _in_transaction(uow) -> bool:  # type: ignore[no-untyped-def]
    """Whether the unit of work's database connection is inside a transaction, as the driver sees it."""
    driver = uow.connection.connection.dbapi_connection
    if hasattr(driver, "in_transaction"):  # sqlite3
        return bool(driver.in_transaction)
    return str(driver.info.transaction_status.name) != "IDLE"  # psycopg


def test_a_read_without_one_snapshot_runs_no_transaction(world: Database) -> None:
    _register(world, 3)
    with world.unit_of_work(read_only=True) as uow:
        assert uow.custody.size() == 3
        assert _in_transaction(uow)
    with world.unit_of_work(read_only=True, one_snapshot=False) as uow:
        assert uow.custody.size() == 3
        assert not _in_transaction(uow)  # nothing began, so there is nothing to roll back
    with pytest.raises(ValueError, match="only a read-only unit of work"):
        world.unit_of_work(one_snapshot=False)


def test_a_pooled_connection_idle_too_long_is_pinged_and_replaced_if_dead(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite connections are files, not sessions that a server can drop")
    from handover.store import database

    with db.unit_of_work(read_only=True) as uow:
        first = uow.connection.connection.dbapi_connection
    pings: list[Any] = []
    real_ping = db.engine.dialect.do_ping

    def ping(connection: Any) -> bool:
        pings.append(connection)
        if connection is first:  # as if the server had dropped it while it sat in the pool
            raise db.engine.dialect.loaded_dbapi.OperationalError("server closed the connection")
        return bool(real_ping(connection))

    monkeypatch.setattr(db.engine.dialect, "do_ping", ping)
    with db.unit_of_work(read_only=True) as uow:  # used moments ago: taken as alive, no ping
        assert uow.connection.connection.dbapi_connection is first
    assert pings == []
    monkeypatch.setattr(database, "IDLE_BEFORE_PING", 0.0)
    with db.unit_of_work(read_only=True) as uow:  # idle "too long": pinged, found dead, replaced unseen
        assert uow.custody.size() == 0
        assert uow.connection.connection.dbapi_connection is not first
    assert pings == [first]
