"""Upgrading a database from before the log builds the log over the events it already holds."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command

from handover.services import log
from handover.services.registry import NewPerson, register_people
from handover.services.runtime import SimulatedClock, seeded_runtime
from handover.store.database import alembic_config
from handover.store.uow import Database
from tests.factories import T0, add_world, man

# The tables of revision 0001, in an order that respects their foreign keys.
TABLES_0001 = ("authorities", "facilities", "routes", "persons", "custody_events", "custody_current", "meta")


def test_upgrade_backfills_the_tree_over_existing_events(tmp_path: Path) -> None:
    current = Database(f"sqlite:///{tmp_path / 'current.sqlite3'}")
    current.migrate()
    rt = seeded_runtime(1, SimulatedClock(T0))
    with current.unit_of_work() as uow:
        add_world(uow)
        register_people(uow, rt, [NewPerson(man(i), "ghweran") for i in range(300)], T0)
        uow.commit()
        expected_root = log.root(uow)

    # A database as revision 0001 left it: the same rows, no log tables.
    old = Database(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    command.upgrade(alembic_config(old.engine), "0001")
    with current.engine.connect() as source, old.engine.begin() as target:
        for name in TABLES_0001:
            table = sa.Table(name, sa.MetaData(), autoload_with=source)
            rows = [dict(r) for r in source.execute(sa.select(table)).mappings()]
            if rows:
                target.execute(sa.insert(table), rows)
        target.exec_driver_sql("UPDATE counters SET value = 300 WHERE name = 'events'")
    old.migrate()
    with old.unit_of_work() as uow:
        assert uow.log.hash_count() > 300
        assert log.root(uow) == expected_root
    old.dispose()
    current.dispose()
