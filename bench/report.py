"""A release of the public report over a large log, and its recount by `handover verify --report`, against the floor
of any count: reading every custody event of the log from the store."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from handover.services import report
from handover.store.uow import Database


@dataclass(frozen=True)
class ReportTime:
    entries: int
    people: int
    release_seconds: float
    """`services.report.make_release`: decode, count, merge, protect, attack, store."""
    read_seconds: float
    """The floor: every custody event read from the store."""
    verify_seconds: float
    """`handover verify DIR --report FILE`, the whole run."""
    plain_verify_seconds: float
    """`handover verify DIR` alone, in the same run."""

    @property
    def ratio(self) -> float:
        return self.release_seconds / self.read_seconds

    @property
    def recount_seconds(self) -> float:
        return self.verify_seconds - self.plain_verify_seconds


def _read_all(db: Database) -> float:
    start = time.perf_counter()
    with db.unit_of_work(read_only=True) as uow:
        for _ in uow.custody.all_events():
            pass
    return time.perf_counter() - start


def _verify(directory: Path, vkey: str, state: Path, *extra: str) -> float:
    handover = Path(sys.executable).parent / "handover"
    start = time.perf_counter()
    result = subprocess.run(
        [str(handover), "verify", str(directory), "--vkey", vkey, "--state", str(state), *extra],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"verify failed on the bench log: {result.stdout}{result.stderr}")
    return elapsed


def measure(db: Database, directory: Path, vkey: str, workdir: Path) -> ReportTime:
    """`db` holds a signed log exported to `directory` (see bench.verify.build_export)."""
    start = time.perf_counter()
    with db.unit_of_work() as uow:
        made = report.make_release(uow, datetime.now(UTC))
        uow.commit()
    release_seconds = time.perf_counter() - start
    with db.unit_of_work(read_only=True) as uow:
        document = workdir / "report.json"
        document.write_bytes(report.document(uow, made.number))
    size = made.checkpoint.size
    read_seconds = min(_read_all(db) for _ in range(2))
    plain = _verify(directory, vkey, workdir / "state-plain.json")
    with_report = _verify(directory, vkey, workdir / "state-report.json", "--report", str(document))
    return ReportTime(size, made.counts["registered"], release_seconds, read_seconds, with_report, plain)
