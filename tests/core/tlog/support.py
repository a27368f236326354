"""Test support: where the shared reference vectors live, and RFC 9162 written out literally as a reference.

The reference follows the RFC's recursive definitions line for line (MTH, PATH, PROOF and SUBPROOF in sections
2.1.1, 2.1.3.1 and 2.1.4.1), with nothing of the stored-hash layout, so agreeing with it means agreeing with the RFC.
"""

from __future__ import annotations

import base64
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from handover.core.tlog.hashing import EMPTY_ROOT, leaf_hash, node_hash

VECTORS = Path(os.environ.get("HANDOVER_VECTORS", Path(__file__).resolve().parents[4] / "shared" / "vectors"))
"""The shared reference vectors (`../shared/vectors` next to the repository; HANDOVER_VECTORS overrides)."""


def load_vector(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def b64(text: str) -> bytes:
    return base64.b64decode(text)


def leaves_for(count: int, seed: bytes = b"") -> list[bytes]:
    """`count` distinct entries, cheap to make: the tree shape is what matters, not the bytes."""
    return [seed + i.to_bytes(4, "big") for i in range(count)]


class Rfc9162Tree:
    """MTH, PATH and PROOF of RFC 9162 over a fixed list of entries, memoised on the (lo, hi) ranges they recurse on."""

    def __init__(self, entries: list[bytes]) -> None:
        self.leaf_hashes = [leaf_hash(entry) for entry in entries]
        self.mth = cache(self._mth)

    @staticmethod
    def split(n: int) -> int:
        """k, the largest power of two smaller than n (n > 1)."""
        k = 1
        while k * 2 < n:
            k *= 2
        return k

    def _mth(self, lo: int, hi: int) -> bytes:
        """MTH(D[lo:hi])."""
        n = hi - lo
        if n == 0:
            return EMPTY_ROOT
        if n == 1:
            return self.leaf_hashes[lo]
        k = self.split(n)
        return node_hash(self.mth(lo, lo + k), self.mth(lo + k, hi))

    def path(self, m: int, lo: int, hi: int) -> list[bytes]:
        """PATH(m, D[lo:hi]), m relative to lo."""
        n = hi - lo
        if n == 1:
            return []
        k = self.split(n)
        if m < k:
            return [*self.path(m, lo, lo + k), self.mth(lo + k, hi)]
        return [*self.path(m - k, lo + k, hi), self.mth(lo, lo + k)]

    def proof(self, m: int, n: int) -> list[bytes]:
        """PROOF(m, D[0:n]) = SUBPROOF(m, D[0:n], true), for 0 < m < n."""
        return self.subproof(m, 0, n, True)

    def subproof(self, m: int, lo: int, hi: int, b: bool) -> list[bytes]:
        n = hi - lo
        if m == n:
            return [] if b else [self.mth(lo, hi)]
        k = self.split(n)
        if m <= k:
            return [*self.subproof(m, lo, lo + k, b), self.mth(lo + k, hi)]
        return [*self.subproof(m - k, lo + k, hi, False), self.mth(lo, lo + k)]
