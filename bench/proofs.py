"""Inclusion-proof time on a large stored tree.

The tree is synthetic (leaf i is the 8-byte big-endian i): building 10^7 real custody events would take the bench
most of an hour, and a proof only reads stored hashes, which are the same shape whatever the leaves hold.
"""

from __future__ import annotations

import hashlib
import random
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import update

from handover.core.tlog.hashing import leaf_hash
from handover.core.tlog.memory import MemoryLog
from handover.core.tlog.tree import check_inclusion, stored_hash_count
from handover.services import log
from handover.store.repositories import counters_t, hashes_t
from handover.store.uow import Database

CHUNK = 100_000


def synthetic_stored_hashes(size: int) -> Iterator[bytes]:
    """Stored hashes in Go's tlog order for leaves 0..size-1, without reading any back: a right-frontier stack."""
    frontier: list[bytes] = []
    for i in range(size):
        h = leaf_hash(i.to_bytes(8, "big"))
        yield h
        n = i
        while n & 1:  # each trailing one bit of i completes a subtree
            h = hashlib.sha256(b"\x01" + frontier.pop() + h).digest()
            yield h
            n >>= 1
        frontier.append(h)


def _check_generator() -> None:
    memory = MemoryLog()
    for i in range(1000):
        memory.append(i.to_bytes(8, "big"))
    assert list(synthetic_stored_hashes(1000)) == memory.hashes, "synthetic layout differs from the core's"


def fill(db: Database, size: int) -> None:
    _check_generator()
    with db.engine.begin() as conn:
        batch: list[tuple[int, bytes]] = []
        marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        sql = f"INSERT INTO {hashes_t.name} (idx, hash) VALUES ({marker}, {marker})"
        for index, h in enumerate(synthetic_stored_hashes(size)):
            batch.append((index, h))
            if len(batch) == CHUNK:
                conn.exec_driver_sql(sql, batch)
                batch = []
        if batch:
            conn.exec_driver_sql(sql, batch)
        # The proof service checks the size against the event counter; the synthetic tree stands in for events.
        conn.execute(update(counters_t).where(counters_t.c.name == "events").values(value=size))
    with db.unit_of_work() as uow:
        assert uow.log.hash_count() == stored_hash_count(size)


@dataclass(frozen=True)
class ProofTime:
    backend: str
    leaves: int
    median_ms: float
    p95_ms: float
    lookup_ms: float  # baseline: one read-only unit of work (as a proof's) reading one stored hash


def measure(db: Database, backend: str, size: int, samples: int = 2000) -> ProofTime:
    """Median time for one inclusion proof read from the store, each in its own read-only unit of work as the API
    serves them: without one snapshot (no transaction), since a proof is one statement."""
    rng = random.Random(size)
    with db.unit_of_work(read_only=True) as uow:
        root = log.root(uow, size)
    timings = []
    for _ in range(samples):
        index = rng.randrange(size)
        start = time.perf_counter()
        with db.unit_of_work(read_only=True, one_snapshot=False) as uow:
            proof = log.inclusion_proof(uow, index, size)
        timings.append(time.perf_counter() - start)
        assert check_inclusion(proof, size, root, index, leaf_hash(index.to_bytes(8, "big")))
    timings.sort()
    lookups = []
    for _ in range(samples):
        index = rng.randrange(stored_hash_count(size))
        start = time.perf_counter()
        with db.unit_of_work(read_only=True, one_snapshot=False) as uow:
            uow.log.read_hashes([index])
        lookups.append(time.perf_counter() - start)
    return ProofTime(
        backend,
        size,
        1000 * statistics.median(timings),
        1000 * timings[int(0.95 * len(timings))],
        1000 * statistics.median(lookups),
    )
