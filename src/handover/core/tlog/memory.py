"""A whole log in memory: for tests, and for callers that need a throwaway tree (say, to check a bundle)."""

from __future__ import annotations

from collections.abc import Sequence

from handover.core.tlog.hashing import leaf_hash
from handover.core.tlog.tree import stored_hash_count, stored_hashes, tree_hash


class MemoryLog:
    """Entries and stored hashes in two lists, laid out exactly as a database-backed log stores them."""

    def __init__(self) -> None:
        self.entries: list[bytes] = []
        self.hashes: list[bytes] = []

    @property
    def size(self) -> int:
        return len(self.entries)

    def append(self, data: bytes) -> int:
        """Add an entry; returns its index."""
        index = len(self.entries)
        self.hashes.extend(stored_hashes(index, leaf_hash(data), self.read_hashes))
        self.entries.append(bytes(data))
        assert len(self.hashes) == stored_hash_count(len(self.entries))
        return index

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        """The `HashReader` over this log's stored hashes."""
        for index in indexes:
            if not 0 <= index < len(self.hashes):  # a negative index would silently read from the end
                raise IndexError(f"no stored hash at index {index}")
        return [self.hashes[index] for index in indexes]

    def root(self, size: int | None = None) -> bytes:
        """The root hash of the tree of the first `size` entries (default: all of them)."""
        size = self.size if size is None else size
        if not 0 <= size <= self.size:
            raise ValueError(f"the log has {self.size} entries, not {size}")
        return tree_hash(size, self.read_hashes)
