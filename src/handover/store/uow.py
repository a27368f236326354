"""The unit of work: one connection, one transaction, the repositories on it."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import Engine

from handover.store.accounts import SqlAccessLog, SqlAccounts
from handover.store.database import NO_TRANSACTION, READ_ONLY, make_engine, migrate
from handover.store.operations import SqlOperations
from handover.store.repatriation import SqlRepatriation
from handover.store.reports import SqlReports
from handover.store.repositories import SqlCustody, SqlLog, SqlMeta, SqlMovements, SqlPersons, SqlReference


class SqlUnitOfWork:
    """Use as `with db.unit_of_work() as uow: ...; uow.commit()`. Leaving without commit rolls back."""

    def __init__(self, engine: Engine, read_only: bool = False, one_snapshot: bool = True) -> None:
        self.connection = engine.connect()
        if read_only:
            options: dict[str, object] = {READ_ONLY: True}
            if not one_snapshot:
                # No transaction: each statement reads its own snapshot, and there is no BEGIN or ROLLBACK to wait
                # for (on PostgreSQL a round trip each, as long as the read itself).
                options[NO_TRANSACTION] = True
                if engine.dialect.name == "postgresql":
                    options["isolation_level"] = "AUTOCOMMIT"
            elif engine.dialect.name == "postgresql":
                # One snapshot for the whole read, so counts and the log size they stand on always agree.
                options["isolation_level"] = "REPEATABLE READ"
            self.connection = self.connection.execution_options(**options)
        self.reference = SqlReference(self.connection)
        self.persons = SqlPersons(self.connection)
        self.movements = SqlMovements(self.connection)
        self.custody = SqlCustody(self.connection, lock_rows=not read_only)
        self.meta = SqlMeta(self.connection)
        self.log = SqlLog(self.connection)
        self.operations = SqlOperations(self.connection)
        self.accounts = SqlAccounts(self.connection)
        self.access_log = SqlAccessLog(self.connection)
        self.repatriation = SqlRepatriation(self.connection)
        self.reports = SqlReports(self.connection)

    def commit(self) -> None:
        self.connection.commit()

    def rollback(self) -> None:
        self.connection.rollback()

    def __enter__(self) -> SqlUnitOfWork:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.connection.rollback()
        self.connection.close()


class Database:
    """The store for one database URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)

    def migrate(self) -> None:
        migrate(self.engine)

    def unit_of_work(self, read_only: bool = False, one_snapshot: bool = True) -> SqlUnitOfWork:
        """A transaction; `read_only` ones take no write lock on SQLite (reads never commit anyway).

        A read-only unit of work reads one snapshot, so whatever it reads agrees. With `one_snapshot=False` it runs
        no transaction and each statement reads its own snapshot: for reads of one statement (an inclusion proof,
        see `services.log.inclusion_proof`), which agree with themselves anyway, at one round trip to PostgreSQL
        rather than three.
        """
        if not one_snapshot and not read_only:
            raise ValueError("only a read-only unit of work can do without one snapshot")
        return SqlUnitOfWork(self.engine, read_only=read_only, one_snapshot=one_snapshot)

    def dispose(self) -> None:
        self.engine.dispose()
