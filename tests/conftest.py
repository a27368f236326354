"""Fixtures shared by the suite: databases on both backends, and a small world of reference data.

Contract tests take `db` and run once on SQLite and once on a real PostgreSQL server that the suite starts itself.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from handover.store.uow import Database
from tests.factories import add_world
from tests.support.pg_server import PostgresServer

_template_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    with PostgresServer() as server:
        yield server


@pytest.fixture(scope="session")
def pg_template(pg_server: PostgresServer) -> str:
    """A migrated database to clone: CREATE DATABASE ... TEMPLATE is much faster than migrating each time."""
    url = pg_server.create_database("handover_template")
    db = Database(url)
    db.migrate()
    db.dispose()
    return "handover_template"


def _postgres_database(pg_server: PostgresServer, template: str) -> str:
    name = f"handover_test_{next(_template_counter)}"
    admin = sa.create_engine(pg_server.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    admin.dispose()
    return pg_server.url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """An empty, migrated database on each backend."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "handover.sqlite3"
        database = Database(f"sqlite:///{path}")
        database.migrate()
    else:
        server = request.getfixturevalue("pg_server")
        template = request.getfixturevalue("pg_template")
        database = Database(_postgres_database(server, template))
    yield database
    database.dispose()


@pytest.fixture
def world(db: Database) -> Database:
    """`db` with the small reference world of tests/factories.py."""
    with db.unit_of_work() as uow:
        add_world(uow)
        uow.commit()
    return db
