"""Engines for SQLite (default, one file) and PostgreSQL, and schema migration to the newest revision."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
READ_ONLY = "handover_read_only"
NO_TRANSACTION = "handover_no_transaction"
"""Execution option of a read-only unit of work whose statements each read their own snapshot (see `uow`)."""

IDLE_BEFORE_PING = 10.0
"""Seconds a pooled PostgreSQL connection may sit idle and still be used without a ping first."""


def make_engine(url: str, **kwargs: Any) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database, **kwargs)
    engine = create_engine(url, **kwargs)
    _ping_after_idling(engine)
    return engine


def _ping_after_idling(engine: Engine) -> None:
    """Ping a pooled connection before use only if it has been idle a while, rather than on every checkout as
    `pool_pre_ping` does: that costs every request a round trip to the server, a proof's only other one.

    A server restart or a dropped connection shows on a connection that sat idle, which is pinged first (a dead one
    is replaced, unseen by the caller). One used within the last seconds is taken as alive; should it have died all
    the same, the request using it fails and SQLAlchemy, seeing the disconnect, replaces the pool's connections.
    """

    @event.listens_for(engine, "checkin")
    def _returned(dbapi_connection: Any, record: Any) -> None:
        record.info["returned"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _taken(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        returned = record.info.get("returned")
        if returned is None or time.monotonic() - returned < IDLE_BEFORE_PING:
            return  # new, or in use moments ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise DisconnectionError("a pooled connection did not answer a ping") from error  # the pool replaces it


def _sqlite_engine(url: str, database: str | None, **kwargs: Any) -> Engine:
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN itself, so writers take the lock up front.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # IMMEDIATE: two writers never both read the event counter and then deadlock upgrading their locks.
        # Readers (pages, API reads) take no lock: WAL gives them a consistent snapshot alongside the writer.
        options = connection.get_execution_options()
        if options.get(NO_TRANSACTION, False):
            return  # each statement reads on its own (the connection is in autocommit mode, see _on_connect)
        connection.exec_driver_sql("BEGIN" if options.get(READ_ONLY, False) else "BEGIN IMMEDIATE")

    return engine


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` (creating it on an empty database)."""
    command.upgrade(alembic_config(engine), revision)
