"""Property tests: the stored-hash tree agrees with RFC 9162 written out literally, for random logs of up to 600.

(Multi-level tiles need more than 65,536 leaves; they have their own test in test_tiles.py, built once.)
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from handover.core.tlog import (
    EMPTY_ROOT,
    MemoryLog,
    check_consistency,
    check_inclusion,
    leaf_hash,
    prove_consistency,
    prove_inclusion,
    stored_hash_count,
    tile_hashes,
    tiles_for_size,
    tree_hash,
    tree_hash_from_tiles,
    verified_tile_reader,
)
from tests.core.tlog.support import Rfc9162Tree

MAX_LEAVES = 600


@st.composite
def entry_lists(draw: st.DrawFn, max_size: int = MAX_LEAVES) -> list[bytes]:
    """Random entries, including empty and repeated ones, up to `max_size` of them."""
    size = draw(st.integers(min_value=0, max_value=max_size))
    return draw(st.lists(st.binary(max_size=6), min_size=size, max_size=size))


def _log(entries: list[bytes]) -> MemoryLog:
    log = MemoryLog()
    for entry in entries:
        log.append(entry)
    return log


def _flip(data: bytes, bit: int = 0) -> bytes:
    return data[:0] + bytes([data[0] ^ (1 << bit)]) + data[1:]


@settings(max_examples=40, deadline=None)
@given(entry_lists())
def test_tree_hash_is_rfc_9162_mth_for_every_prefix(entries: list[bytes]) -> None:
    log, reference = _log(entries), Rfc9162Tree(entries)
    assert len(log.hashes) == stored_hash_count(len(entries))
    for size in range(len(entries) + 1):
        assert tree_hash(size, log.read_hashes) == reference.mth(0, size)
    assert tree_hash(0, log.read_hashes) == EMPTY_ROOT


@settings(max_examples=30, deadline=None)
@given(entry_lists().filter(bool), st.data())
def test_every_inclusion_proof_is_rfc_9162_path_and_verifies(entries: list[bytes], data: st.DataObject) -> None:
    log, reference = _log(entries), Rfc9162Tree(entries)
    size = data.draw(st.integers(min_value=1, max_value=len(entries)), label="size")
    root = log.root(size)
    for index in range(size):
        proof = prove_inclusion(size, index, log.read_hashes)
        leaf = leaf_hash(entries[index])
        assert proof == reference.path(index, 0, size)
        assert check_inclusion(proof, size, root, index, leaf)
        # A different leaf, a different place, a different root: each must fail.
        assert not check_inclusion(proof, size, root, index, _flip(leaf))
        for other in {index - 1, index + 1, index ^ 1} - {index}:
            if 0 <= other < size and leaf_hash(entries[other]) != leaf:
                assert not check_inclusion(proof, size, root, other, leaf)
        assert not check_inclusion(proof, size, _flip(root), index, leaf)
        if proof:
            assert not check_inclusion(proof[:-1], size, root, index, leaf)
            assert not check_inclusion([*proof, proof[-1]], size, root, index, leaf)
            bit = data.draw(st.integers(min_value=0, max_value=7), label="bit")
            at = data.draw(st.integers(min_value=0, max_value=len(proof) - 1), label="at")
            tampered = [*proof[:at], _flip(proof[at], bit), *proof[at + 1 :]]
            assert not check_inclusion(tampered, size, root, index, leaf)


@settings(max_examples=30, deadline=None)
@given(entry_lists().filter(bool), st.data())
def test_consistency_proofs_are_rfc_9162_and_verify(entries: list[bytes], data: st.DataObject) -> None:
    log, reference = _log(entries), Rfc9162Tree(entries)
    size2 = data.draw(st.integers(min_value=1, max_value=len(entries)), label="size2")
    root2 = log.root(size2)
    for size1 in range(1, size2 + 1):
        root1 = log.root(size1)
        proof = prove_consistency(size2, size1, log.read_hashes)
        assert proof == (reference.proof(size1, size2) if size1 < size2 else [])
        assert check_consistency(proof, size2, root2, size1, root1)
        if size1 == size2:
            continue
        assert not check_consistency(proof, size2, _flip(root2), size1, root1)
        assert not check_consistency(proof, size2, root2, size1, _flip(root1))
        assert not check_consistency(proof, size1, root1, size2, root2)
        assert not check_consistency(proof[:-1], size2, root2, size1, root1)
        assert not check_consistency([*proof, proof[-1]], size2, root2, size1, root1)
        at = data.draw(st.integers(min_value=0, max_value=len(proof) - 1), label="at")
        tampered = [*proof[:at], _flip(proof[at]), *proof[at + 1 :]]
        assert not check_consistency(tampered, size2, root2, size1, root1)


@settings(max_examples=40, deadline=None)
@given(entry_lists())
def test_root_recomputed_from_published_tiles_is_the_tree_hash(entries: list[bytes]) -> None:
    log = _log(entries)
    size = len(entries)
    tiles = {tile: tile_hashes(tile, log.read_hashes) for tile in tiles_for_size(size)}
    assert tree_hash_from_tiles(size, tiles) == tree_hash(size, log.read_hashes)
    reader = verified_tile_reader(size, log.root(), tiles)
    if size:
        assert prove_inclusion(size, size // 2, reader) == prove_inclusion(size, size // 2, log.read_hashes)
        assert prove_consistency(size, 1 + size // 3, reader) == prove_consistency(size, 1 + size // 3, log.read_hashes)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 300), st.integers(0, 70))
def test_appending_a_batch_stores_what_appending_one_by_one_stores(existing: int, batch: int) -> None:
    from handover.core.tlog.hashing import leaf_hash
    from handover.core.tlog.tree import appended_hashes, stored_hash_count, stored_hashes

    store: list[bytes] = []

    def read(indexes):  # type: ignore[no-untyped-def]
        return [store[i] for i in indexes]

    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(existing + batch)]
    for n in range(existing):
        store += stored_hashes(n, leaves[n], read)
    before = len(store)
    batched = appended_hashes(existing, leaves[existing:], read)
    for n in range(existing, existing + batch):
        store += stored_hashes(n, leaves[n], read)

    assert batched == store[before:]
    assert stored_hash_count(existing + batch) == len(store)
