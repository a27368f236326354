"""`handover verify` over a large exported log, against the floor of any verifier: reading and hashing the entries."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.append import _manifests, _prepare, _registrations, service_batched
from handover.core.tlog.hashing import leaf_hash
from handover.core.tlog.note import Signer
from handover.core.tlog.tiles import bundles_for_size, decode_bundle
from handover.services import log
from handover.store.uow import Database


@dataclass(frozen=True)
class VerifyTime:
    entries: int
    vkey: str
    directory: Path
    build_seconds: float
    verify_seconds: float
    floor_seconds: float

    @property
    def ratio(self) -> float:
        return self.verify_seconds / self.floor_seconds


def build_export(db: Database, entries: int, directory: Path) -> tuple[str, float]:
    """A log of `entries` real custody events (a registration and a manifest per person), signed and exported."""
    start = time.perf_counter()
    ids = _prepare(db, entries // 2)
    service_batched(db, _registrations(ids, "v"), 1000)
    service_batched(db, _manifests(ids, "v"), 1000)
    built = time.perf_counter() - start
    signer = Signer.generate("bench.handover.invalid/log")
    with db.unit_of_work() as uow:
        signed = log.sign_checkpoint(uow, signer, datetime.now(UTC))
        uow.commit()
    with db.unit_of_work(read_only=True) as uow:
        for path, data in log.publication(uow, signed):
            target = directory / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    return signer.verifier.vkey, built


def floor(directory: Path, entries: int) -> float:
    """Read every entry bundle and hash every entry: what any verifier must at least do."""
    start = time.perf_counter()
    for bundle in bundles_for_size(entries):
        for entry in decode_bundle((directory / bundle.path).read_bytes()):
            leaf_hash(entry)
    return time.perf_counter() - start


def measure(db: Database, entries: int, workdir: Path) -> VerifyTime:
    directory = workdir / "export"
    vkey, built = build_export(db, entries, directory)
    handover = Path(sys.executable).parent / "handover"
    start = time.perf_counter()
    result = subprocess.run(
        [str(handover), "verify", str(directory), "--vkey", vkey, "--state", str(workdir / "state.json")],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"verify failed on the bench log: {result.stdout}{result.stderr}")
    return VerifyTime(entries, vkey, directory, built, elapsed, floor(directory, entries))
