"""RFC 9162 section 2.1 hashing: SHA-256 with domain separation between leaves and interior nodes.

The one-byte prefixes stop anyone passing off an interior node as a leaf (or the reverse), which is what makes a
Merkle audit path binding.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

HASH_SIZE = 32
"""Bytes in every hash the log uses (SHA-256)."""

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""MTH({}) = SHA-256(): the root of the empty tree (RFC 9162 section 2.1.1)."""


def leaf_hash(data: bytes) -> bytes:
    """MTH({d(0)}) = SHA-256(0x00 || d(0)): the hash of one log entry."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right): the hash of an interior node from its two children."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def hash_leaves(entries: Iterable[bytes]) -> bytes:
    """The leaf hash of each entry, concatenated: `leaf_hash` in one comprehension, without a Python call per entry
    (a monitor hashes every entry of the log)."""
    sha256, prefix = hashlib.sha256, _LEAF_PREFIX
    return b"".join([sha256(prefix + entry).digest() for entry in entries])


def hash_pairs(row: bytes) -> bytes:
    """The row above `row`, concatenated hashes of an even count: the `node_hash` of each pair, concatenated.

    Each pair is already two adjacent hashes of `row`, so it is hashed as one slice rather than split and joined.
    """
    if len(row) % (2 * HASH_SIZE):
        raise ValueError("a row of hash pairs must hold an even count of whole hashes")
    sha256, prefix, pair = hashlib.sha256, _NODE_PREFIX, 2 * HASH_SIZE
    return b"".join([sha256(prefix + row[i : i + pair]).digest() for i in range(0, len(row), pair)])
