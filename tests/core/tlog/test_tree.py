"""The stored-hash layout and the proving and checking functions, case by case."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handover.core.tlog import (
    EMPTY_ROOT,
    MemoryLog,
    check_consistency,
    check_inclusion,
    leaf_hash,
    node_hash,
    prove_consistency,
    prove_inclusion,
    split_stored_hash_index,
    stored_hash_count,
    stored_hash_index,
    stored_hashes,
    tree_hash,
)
from handover.core.tlog.hashing import hash_leaves, hash_pairs
from tests.core.tlog.support import leaves_for


def _log(size: int) -> MemoryLog:
    log = MemoryLog()
    for entry in leaves_for(size):
        log.append(entry)
    return log


class RecordingReader:
    """A HashReader that remembers every call, to check how the tree reads storage."""

    def __init__(self, log: MemoryLog) -> None:
        self.log = log
        self.calls: list[list[int]] = []

    def __call__(self, indexes: Sequence[int]) -> list[bytes]:
        self.calls.append(list(indexes))
        return self.log.read_hashes(indexes)


def test_hashing_matches_rfc_9162_prefixes() -> None:
    import hashlib

    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    assert node_hash(b"L" * 32, b"R" * 32) == hashlib.sha256(b"\x01" + b"L" * 32 + b"R" * 32).digest()
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@given(st.lists(st.binary(max_size=40), max_size=9), st.lists(st.binary(min_size=32, max_size=32), max_size=8))
def test_hashing_a_row_at_once_is_hashing_each(entries: list[bytes], hashes: list[bytes]) -> None:
    assert hash_leaves(entries) == b"".join(leaf_hash(entry) for entry in entries)
    pairs = hashes[: len(hashes) // 2 * 2]
    nodes = [node_hash(left, right) for left, right in zip(pairs[::2], pairs[1::2], strict=True)]
    assert hash_pairs(b"".join(pairs)) == b"".join(nodes)
    if len(hashes) % 2:
        with pytest.raises(ValueError):
            hash_pairs(b"".join(hashes))


def test_stored_hash_layout_is_gos() -> None:
    # Leaf 0; leaf 1 and the level 1 node it completes; leaf 2; leaf 3, then (1, 1) and (2, 0); leaf 4.
    order = [(0, 0), (0, 1), (1, 0), (0, 2), (0, 3), (1, 1), (2, 0), (0, 4)]
    assert [stored_hash_index(level, n) for level, n in order] == list(range(8))
    assert [split_stored_hash_index(i) for i in range(8)] == order


def test_split_inverts_stored_hash_index() -> None:
    for index in range(20_000):
        assert stored_hash_index(*split_stored_hash_index(index)) == index
    for level in range(12):
        for n in range(300):
            assert split_stored_hash_index(stored_hash_index(level, n)) == (level, n)


def test_stored_hash_count_matches_what_appending_stores() -> None:
    log = MemoryLog()
    assert stored_hash_count(0) == 0
    for n in range(1, 700):
        log.append(n.to_bytes(2, "big"))
        assert stored_hash_count(n) == len(log.hashes) == 2 * n - n.bit_count()


def test_appending_reads_only_earlier_hashes_in_one_call() -> None:
    log = _log(1023)  # leaf 1023 completes ten subtrees at once
    reader = RecordingReader(log)
    hashes = stored_hashes(1023, leaf_hash(b"last"), reader)
    assert len(hashes) == 11
    assert len(reader.calls) == 1
    assert reader.calls[0] == sorted(reader.calls[0])
    assert all(index < stored_hash_index(0, 1023) for index in reader.calls[0])


def test_tree_hash_reads_at_most_one_plus_log_n_hashes_in_one_call() -> None:
    log = _log(1000)
    for size in (1, 2, 3, 7, 8, 999, 1000):
        reader = RecordingReader(log)
        tree_hash(size, reader)
        assert len(reader.calls) == 1
        assert len(reader.calls[0]) <= 1 + size.bit_length()
    assert tree_hash(0, RecordingReader(log)) == EMPTY_ROOT


def test_proofs_read_storage_once() -> None:
    log = _log(1000)
    reader = RecordingReader(log)
    prove_inclusion(1000, 617, reader)
    prove_consistency(1000, 617, reader)
    assert len(reader.calls) == 2


@pytest.mark.parametrize(("size", "index"), [(0, 0), (5, 5), (5, -1), (5, 9)])
def test_no_inclusion_proof_for_a_leaf_outside_the_tree(size: int, index: int) -> None:
    with pytest.raises(ValueError):
        prove_inclusion(size, index, _log(8).read_hashes)


@pytest.mark.parametrize(("size2", "size1"), [(5, 0), (0, 0), (4, 5)])
def test_no_consistency_proof_from_empty_or_larger_tree(size2: int, size1: int) -> None:
    with pytest.raises(ValueError):
        prove_consistency(size2, size1, _log(8).read_hashes)


def test_consistency_of_a_tree_with_itself_is_the_empty_proof() -> None:
    log = _log(8)
    assert prove_consistency(5, 5, log.read_hashes) == []
    assert check_consistency([], 5, log.root(5), 5, log.root(5))
    assert not check_consistency([], 5, log.root(5), 5, log.root(4))
    assert check_consistency([], 0, EMPTY_ROOT, 0, EMPTY_ROOT)


def test_nothing_is_consistent_from_the_empty_tree() -> None:
    # RFC 9162 defines PROOF(m, D_n) only for 0 < m < n; an "empty proof from size 0" proves nothing, so we refuse.
    log = _log(8)
    assert not check_consistency([], 8, log.root(8), 0, EMPTY_ROOT)


@pytest.mark.parametrize(
    "answer",
    [[], [b"\x00" * 32] * 5, [b"\x00" * 31], ["not bytes"]],
    ids=["too few", "too many", "short hash", "not bytes"],
)
def test_a_hash_reader_that_answers_wrongly_is_refused(answer: list[bytes]) -> None:
    def reader(indexes: Sequence[int]) -> list[bytes]:
        return answer if len(answer) != 1 else answer * len(indexes)

    with pytest.raises(ValueError, match="hash reader"):
        tree_hash(7, reader)


def test_memory_log_refuses_negative_indexes() -> None:
    with pytest.raises(IndexError):
        _log(3).read_hashes([-1])


_junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    st.text(max_size=4),
    st.binary(max_size=40),
    st.binary(min_size=32, max_size=32),
    st.lists(st.one_of(st.binary(max_size=40), st.integers(), st.none(), st.text(max_size=2)), max_size=4),
    st.tuples(st.binary(min_size=32, max_size=32)),
    st.dictionaries(st.integers(), st.binary(), max_size=2),
)


@settings(max_examples=500)
@given(_junk, _junk, _junk, _junk, _junk)
def test_check_inclusion_never_raises(proof: object, size: object, root: object, index: object, leaf: object) -> None:
    assert check_inclusion(proof, size, root, index, leaf) in (True, False)  # type: ignore[arg-type]


@settings(max_examples=500)
@given(_junk, _junk, _junk, _junk, _junk)
def test_check_consistency_never_raises(
    proof: object, size2: object, root2: object, size1: object, root1: object
) -> None:
    assert check_consistency(proof, size2, root2, size1, root1) in (True, False)  # type: ignore[arg-type]


def test_checks_refuse_wrong_types_even_when_values_would_fit() -> None:
    log = _log(4)
    proof = prove_inclusion(4, 1, log.read_hashes)
    root, leaf = log.root(4), leaf_hash(log.entries[1])
    assert check_inclusion(proof, 4, root, 1, leaf)
    assert check_inclusion(tuple(proof), 4, root, 1, leaf)
    assert not check_inclusion(b"".join(proof), 4, root, 1, leaf)  # type: ignore[arg-type]
    assert not check_inclusion(proof, 4.0, root, 1, leaf)  # type: ignore[arg-type]
    assert not check_inclusion(proof, 4, root, True, leaf)
    assert not check_inclusion(proof, 4, root.hex(), 1, leaf)  # type: ignore[arg-type]
    assert not check_inclusion(proof, 2**64 + 4, root, 1, leaf)
