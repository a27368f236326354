"""`make bench`: run the benchmarks and write BENCHMARKS.md."""

from __future__ import annotations

import itertools
import os
import platform
import sqlite3
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from tests.support.pg_server import PostgresServer

from bench.append import Figure, measure
from handover.store.uow import Database

ROOT = Path(__file__).resolve().parent.parent
BATCHED = int(os.environ.get("BENCH_BATCHED", "20000"))
SINGLE = int(os.environ.get("BENCH_SINGLE", "1000"))


def _cpu() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def main() -> None:
    counter = itertools.count()
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as tmp:

        def sqlite_db() -> Database:
            db = Database(f"sqlite:///{tmp}/bench-{next(counter)}.sqlite3")
            db.migrate()
            return db

        figures += measure(sqlite_db, "SQLite", BATCHED, SINGLE)
    with PostgresServer() as pg:
        admin = sa.create_engine(pg.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            pg_version = conn.exec_driver_sql("show server_version").scalar_one()

        def pg_db() -> Database:
            db = Database(pg.create_database(f"bench_{next(counter)}"))
            db.migrate()
            return db

        figures += measure(pg_db, "PostgreSQL", BATCHED, SINGLE)
        admin.dispose()
    write(figures, pg_version)


def write(figures: list[Figure], pg_version: str) -> None:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    rows = "\n".join(
        f"| {f.backend} | {f.mode} | {f.events:,} | {f.ours:,.0f} | {f.baseline:,.0f} | {f.ratio:.2f} |"
        for f in figures
    )
    text = f"""# Benchmarks

Written by `make bench` ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit.stdout.strip() or "uncommitted"}).
Figures are ratios against a baseline measured in the same run on the same machine; absolute numbers vary with the
machine, the ratios much less.

## Custody events appended per second

**Method.** A fresh migrated database per round. The timed workload records, through `services.custody.record` (the
path every user action takes: read the people's current custody, decide each command in the pure core, reserve
gapless log indexes, insert the events, update the custody projection, commit), one registration and then one
manifest event for each person: registrations insert projection rows, manifests update them. "Batched" commits 1,000
commands per transaction; "one event per transaction" commits each command alone. The baseline inserts the same
event rows (registrations only) with one plain `INSERT` `executemany` on the driver's own cursor in one transaction:
no decision, no projection, no counter, the floor for getting those rows into that table. Median of 3 rounds. The
ratio is ours / baseline (1.0 would mean the custody rules, projection and counter cost nothing).
PostgreSQL is the suite's throwaway server (fsync and synchronous_commit off, as in the tests), on loopback.

| backend | mode | events | events/s (ours) | rows/s (raw executemany) | ratio |
|---|---|---:|---:|---:|---:|
{rows}

The goal we are heading for is 20,000 events/s batched on SQLite on 2 cores.

**Machine.** {os.cpu_count()} cores ({_cpu()}), Python {platform.python_version()}, SQLite {sqlite3.sqlite_version},
PostgreSQL {pg_version}, SQLAlchemy {sa.__version__}, {platform.system()} {platform.release()}.
"""
    (ROOT / "BENCHMARKS.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
