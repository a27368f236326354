"""Custody events appended per second, through the service, against a raw executemany of the same rows."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from tests.factories import AUTHORITIES, man

from handover.core.custody import Capacity, Estate, Facility
from handover.core.custody import commands as c
from handover.core.custody.model import FacilityKind
from handover.services.custody import decide_all, record
from handover.services.ports import PersonRecord
from handover.services.reference import add_reference_data
from handover.store import mapping
from handover.store.uow import Database

T0 = datetime(2026, 1, 21, 6, 0, tzinfo=UTC)
BIG = Facility("bench", "Bench prison", "SY", FacilityKind.PRISON, 0.0, 0.0, "sy-moi", 3, Capacity(10**9, 0, 0))


@dataclass(frozen=True)
class Figure:
    backend: str
    mode: str
    events: int
    ours: float  # events per second through the service
    baseline: float  # rows per second by raw executemany

    @property
    def ratio(self) -> float:
        return self.ours / self.baseline


def _prepare(db: Database, people: int) -> list[str]:
    """Reference data and registry rows, so only custody events are timed."""
    ids = [f"person-{i:07d}" for i in range(people)]
    with db.unit_of_work() as uow:
        add_reference_data(uow, AUTHORITIES, [BIG], [])
        identity = man(0)
        uow.persons.add([PersonRecord(pid, identity, "adult_men", "00" * 16, "00" * 32) for pid in ids])
        uow.commit()
    return ids


def _registrations(ids: list[str], prefix: str) -> list[c.Command]:
    return [
        c.Register(
            person_id=pid,
            event_id=f"{prefix}-{i}",
            occurred_at=T0,
            recorded_at=T0,
            facility=BIG,
            custodian_id="sy-moi",
            estate=Estate.ADULT_MEN,
            identity_commitment="00" * 32,
        )
        for i, pid in enumerate(ids)
    ]


def _manifests(ids: list[str], prefix: str) -> list[c.Command]:
    return [
        c.Manifest(
            person_id=pid,
            event_id=f"{prefix}-m-{i}",
            occurred_at=T0,
            recorded_at=T0,
            movement_id="mv",
            origin_id="bench",
        )
        for i, pid in enumerate(ids)
    ]


def _timed(action: Callable[[], None]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def service_batched(db: Database, commands: list[c.Command], batch: int, with_log: bool = True) -> float:
    """Through services.custody.record; `with_log=False` leaves out only the log's leaves and stored hashes."""

    def run() -> None:
        for start in range(0, len(commands), batch):
            with db.unit_of_work() as uow:
                chunk = commands[start : start + batch]
                if with_log:
                    record(uow, chunk)
                else:
                    events, touched = decide_all(uow, chunk)
                    uow.custody.append(events, touched)
                uow.commit()

    return _timed(run)


def service_one_at_a_time(db: Database, commands: list[c.Command]) -> float:
    def run() -> None:
        for command in commands:
            with db.unit_of_work() as uow:
                record(uow, [command])
                uow.commit()

    return _timed(run)


def raw_executemany(db: Database, commands: list[c.Command]) -> float:
    """The floor: the same event rows, one INSERT executemany on the driver's cursor, one transaction."""
    from handover.core.custody import apply, decide

    rows = []
    for seq, command in enumerate(commands):
        decision = decide(None, command)
        assert not hasattr(decision, "rule")
        (event,) = decision  # type: ignore[misc]
        apply(None, event)
        rows.append(mapping.event_row(seq, event))
    columns = list(rows[0])
    bind = db.engine.dialect.name
    placeholder = "?" if bind == "sqlite" else "%s"
    sql = f"INSERT INTO custody_events ({', '.join(columns)}) VALUES ({', '.join(placeholder for _ in columns)})"
    # The driver wants plain values: ISO strings on SQLite (as SQLAlchemy stores them), datetimes on PostgreSQL.
    if bind == "sqlite":
        values = [
            tuple(v.replace(tzinfo=None).isoformat(sep=" ") if isinstance(v, datetime) else v for v in r.values())
            for r in rows
        ]
    else:
        values = [tuple(r.values()) for r in rows]

    def run() -> None:
        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.executemany(sql, values)
            raw.commit()
        finally:
            raw.close()

    return _timed(run)


def measure(make_db: Callable[[], Database], backend: str, batched: int, single: int, repeats: int = 3) -> list[Figure]:
    figures = []
    for mode, count in (("batched (1,000 per transaction)", batched), ("one event per transaction", single)):
        ours, base = [], []
        for round_ in range(repeats):
            db = make_db()
            ids = _prepare(db, count)
            commands = _registrations(ids, f"r{round_}")
            if mode.startswith("batched"):
                elapsed = service_batched(db, commands, 1000) + service_batched(db, _manifests(ids, f"r{round_}"), 1000)
            else:
                elapsed = service_one_at_a_time(db, commands) + service_one_at_a_time(db, _manifests(ids, f"r{round_}"))
            ours.append(2 * count / elapsed)
            db.dispose()
            baseline_db = make_db()
            _prepare(baseline_db, count)
            base.append(count / raw_executemany(baseline_db, commands))
            baseline_db.dispose()
        figures.append(Figure(backend, mode, 2 * count, statistics.median(ours), statistics.median(base)))
    return figures


@dataclass(frozen=True)
class LogCost:
    backend: str
    events: int
    with_log: float  # events per second
    without_log: float

    @property
    def cost(self) -> float:
        """The share of throughput the log takes: 1 - with/without."""
        return 1 - self.with_log / self.without_log


def measure_log_cost(make_db: Callable[[], Database], backend: str, count: int, repeats: int = 3) -> LogCost:
    """Batched appends with the log against the same appends without it, interleaved so drift hits both alike."""
    with_log, without = [], []
    for round_ in range(repeats):
        for flag, sink in ((True, with_log), (False, without)):
            db = make_db()
            ids = _prepare(db, count)
            elapsed = service_batched(db, _registrations(ids, f"l{round_}"), 1000, with_log=flag)
            elapsed += service_batched(db, _manifests(ids, f"l{round_}"), 1000, with_log=flag)
            sink.append(2 * count / elapsed)
            db.dispose()
    return LogCost(backend, 2 * count, statistics.median(with_log), statistics.median(without))
