"""The RFC 9162 Merkle tree over stored hashes, modelled on Go's golang.org/x/mod/sumdb/tlog.

Storage layout (Crosby and Wallach, "Efficient Data Structures for Tamper-Evident Logging", section 3.3): every
complete subtree hash is stored exactly once, in the order it becomes known. Appending leaf n stores its leaf hash
and then the hash of every subtree that leaf completes, so storage is append-only and a root, an inclusion proof or
a consistency proof needs at most a few dozen stored hashes, fetched in one `HashReader` call.

Tree coordinates: (level, n) is the n-th complete subtree of 2**level leaves, covering leaves
[n * 2**level, (n + 1) * 2**level). Level 0 holds the leaf hashes.

Proving functions raise ValueError on impossible requests (they are called by the log itself). Checking functions
return False on anything malformed and never raise: they are fed by whoever hands us a proof.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from handover.core.tlog._codec import UINT64_MAX
from handover.core.tlog.hashing import EMPTY_ROOT, HASH_SIZE, node_hash

HashReader = Callable[[Sequence[int]], Sequence[bytes]]
"""Reads stored hashes by stored-hash index, all in one call; must return one 32-byte hash per index, in order.

Like Go's HashReader.ReadHashes; a database implements it with a single `WHERE index IN (...)` query.
"""

_BYTES_LIKE = (bytes, bytearray)


def read_stored_hashes(read: HashReader, indexes: list[int]) -> list[bytes]:
    """Read stored hashes through `read`, refusing a reader that answers with the wrong number or size of hashes."""
    if not indexes:
        return []
    hashes = list(read(indexes))
    if len(hashes) != len(indexes):
        raise ValueError(f"hash reader returned {len(hashes)} hashes for {len(indexes)} indexes")
    for stored in hashes:
        if not isinstance(stored, _BYTES_LIKE) or len(stored) != HASH_SIZE:
            raise ValueError(f"hash reader returned {stored!r}, not a {HASH_SIZE}-byte hash")
    return [bytes(stored) for stored in hashes]


# --- storage layout ---------------------------------------------------------------------------------------------


def stored_hash_index(level: int, n: int) -> int:
    """Where the hash of subtree (level, n) sits in storage."""
    if level < 0 or n < 0:
        raise ValueError(f"no subtree at level {level}, index {n}")
    # The last leaf under (level, n) completes it. That leaf stores its own hash and then one hash per subtree it
    # completes, lowest level first, so (level, n) sits `level` places after the hash of leaf `last`.
    last = ((n + 1) << level) - 1
    # Before leaf `last` come leaves 0..last-1, leaf i storing 1 + trailing_ones(i) hashes. They add up to
    # last + last/2 + last/4 + ... = 2*last - popcount(last).
    return 2 * last - last.bit_count() + level


def split_stored_hash_index(index: int) -> tuple[int, int]:
    """The (level, n) coordinates of the hash stored at `index`: the inverse of `stored_hash_index`."""
    if index < 0:
        raise ValueError(f"no stored hash at index {index}")
    # stored_hash_index(0, n) < 2n, so the leaf written last before `index` is in [index/2, index/2 + log2(index)].
    n = index // 2
    leaf_index = stored_hash_index(0, n)
    while True:
        # Leaf n stores 1 + trailing_zeros(n + 1) hashes: its own and those of the subtrees it completes.
        next_leaf_index = leaf_index + 1 + _trailing_zeros(n + 1)
        if next_leaf_index > index:
            break
        n += 1
        leaf_index = next_leaf_index
    # The hash we want was stored with leaf n: it is one of (0, n), (1, n/2), (2, n/4), ...
    level = index - leaf_index
    return level, n >> level


def stored_hash_count(n: int) -> int:
    """How many hashes a tree of n leaves has stored: exactly the index where leaf n's hash will go."""
    return stored_hash_index(0, n)


def stored_hashes(n: int, leaf: bytes, read: HashReader) -> list[bytes]:
    """The hashes to store, from index `stored_hash_index(0, n)` on, when appending leaf n with leaf hash `leaf`.

    That is the leaf hash followed by the hash of each subtree the leaf completes (one per trailing 1 bit of n),
    for which it reads the left sibling of each from earlier storage.
    """
    if n < 0:
        raise ValueError(f"no leaf at index {n}")
    if len(leaf) != HASH_SIZE:
        raise ValueError(f"a leaf hash has {HASH_SIZE} bytes, not {len(leaf)}")
    completed = _trailing_zeros(n + 1)
    # Left siblings from the highest level down, so that the indexes come out ascending.
    sibling_indexes = [stored_hash_index(level, (n >> level) - 1) for level in reversed(range(completed))]
    siblings = read_stored_hashes(read, sibling_indexes)
    hashes = [bytes(leaf)]
    for sibling in reversed(siblings):
        hashes.append(node_hash(sibling, hashes[-1]))
    return hashes


def appended_hashes(n: int, leaves: Sequence[bytes], read: HashReader) -> list[bytes]:
    """The hashes to store, from index `stored_hash_count(n)` on, when appending leaf hashes `leaves` as leaves n,
    n + 1, ...: exactly what `stored_hashes` gives for each in turn, concatenated.

    A batch needs from storage only the tree's right edge (one complete subtree per 1 bit of n, read at once); every
    other sibling is one the batch itself completed, so it is kept on a stack rather than read back.
    """
    if n < 0:
        raise ValueError(f"no leaf at index {n}")
    for leaf in leaves:
        if len(leaf) != HASH_SIZE:
            raise ValueError(f"a leaf hash has {HASH_SIZE} bytes, not {len(leaf)}")
    edge: list[tuple[int, int]] = []  # (level, index of the subtree at that level), left to right
    start = 0
    for level in reversed(range(n.bit_length())):
        if n >> level & 1:
            edge.append((level, start >> level))
            start += 1 << level
    stack = list(
        zip(
            [level for level, _ in edge],
            read_stored_hashes(read, [stored_hash_index(level, k) for level, k in edge]),
            strict=True,
        )
    )
    added: list[bytes] = []
    for leaf in leaves:
        level, current = 0, bytes(leaf)
        added.append(current)
        while stack and stack[-1][0] == level:
            current = node_hash(stack.pop()[1], current)
            level += 1
            added.append(current)
        stack.append((level, current))
    return added


# --- tree hashes and proofs (RFC 9162 sections 2.1.1, 2.1.3.1, 2.1.4.1) -------------------------------------------


def tree_hash(n: int, read: HashReader) -> bytes:
    """MTH(D[0:n]), the root hash of the tree of the first n leaves (EMPTY_ROOT for n = 0)."""
    if n < 0:
        raise ValueError(f"no tree of size {n}")
    if n == 0:
        return EMPTY_ROOT
    hashes = iter(read_stored_hashes(read, _subtree_indexes(0, n)))
    return _subtree_hash(0, n, hashes)


def prove_inclusion(size: int, index: int, read: HashReader) -> list[bytes]:
    """PATH(index, D[0:size]): the audit path showing leaf `index` is in the tree of `size` leaves (Go: ProveRecord).

    Hashes run from the leaf's sibling up to the root's child, as RFC 9162 and C2SP tlog-proof lay them out.
    """
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of size {size}")
    indexes: list[int] = []
    _inclusion_indexes(0, size, index, indexes)
    return _inclusion_proof(0, size, index, iter(read_stored_hashes(read, indexes)))


def prove_consistency(size2: int, size1: int, read: HashReader) -> list[bytes]:
    """PROOF(size1, D[0:size2]): shows the tree of `size1` leaves is a prefix of the tree of `size2` (Go: ProveTree).

    Equal sizes give the empty proof. RFC 9162 defines no proof from the empty tree, so `size1` must be at least 1.
    """
    if not 1 <= size1 <= size2:
        raise ValueError(f"no consistency proof from size {size1} to size {size2}")
    indexes: list[int] = []
    _consistency_indexes(0, size2, size1, indexes)
    return _consistency_proof(0, size2, size1, iter(read_stored_hashes(read, indexes)))


# --- checking proofs (RFC 9162 sections 2.1.3.2 and 2.1.4.2) -------------------------------------------------------


def check_inclusion(proof: Sequence[bytes], size: int, root: bytes, index: int, leaf_hash: bytes) -> bool:
    """True if `proof` shows that the tree of `size` leaves with `root` has `leaf_hash` at `index`.

    RFC 9162 section 2.1.3.2, step for step. False (never an exception) on any malformed input.
    """
    path = _hash_list(proof)
    if path is None or not (_is_size(size) and _is_size(index)) or not (_is_hash(root) and _is_hash(leaf_hash)):
        return False
    # 1. If leaf_index is greater than or equal to tree_size, then fail the proof verification.
    if index >= size:
        return False
    # 2. Set fn to leaf_index and sn to tree_size - 1.  3. Set r to hash.
    fn, sn, r = index, size - 1, bytes(leaf_hash)
    # 4. For each value p in the inclusion_path array:
    for p in path:
        # a. If sn is 0, then stop the iteration and fail the proof verification.
        if sn == 0:
            return False
        # b. If LSB(fn) is set, or if fn is equal to sn, then:
        if fn & 1 or fn == sn:
            # i. Set r to HASH(0x01 || p || r).
            r = node_hash(p, r)
            # ii. If LSB(fn) is not set, then right-shift both fn and sn equally until either LSB(fn) is set or
            #     fn is 0.  (A left child that is also the last node: climb until it becomes a right child.)
            while fn & 1 == 0 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            # Otherwise: i. Set r to HASH(0x01 || r || p).
            r = node_hash(r, p)
        # c. Finally, right-shift both fn and sn one time.
        fn, sn = fn >> 1, sn >> 1
    # 5. Compare sn to 0. Compare r against the root_hash. If sn is equal to 0 and r and the root_hash are equal,
    #    then the log has proven the inclusion of hash. Otherwise, fail the proof verification.
    return sn == 0 and r == bytes(root)


def check_consistency(proof: Sequence[bytes], size2: int, root2: bytes, size1: int, root1: bytes) -> bool:
    """True if `proof` shows the tree (`size1`, `root1`) is a prefix of the tree (`size2`, `root2`) (Go: CheckTree).

    RFC 9162 section 2.1.4.2 for 0 < size1 < size2. Equal sizes need no proof: the proof must be empty and the roots
    equal (and equal to EMPTY_ROOT for size 0). A proof from size 0 to a larger tree is meaningless (RFC 9162
    defines none), so it is refused. False (never an exception) on any malformed input.
    """
    path = _hash_list(proof)
    if path is None or not (_is_size(size1) and _is_size(size2)):
        return False
    if not (isinstance(root1, _BYTES_LIKE) and isinstance(root2, _BYTES_LIKE)):
        return False
    first_hash, second_hash = bytes(root1), bytes(root2)
    if size1 > size2:
        return False
    if size1 == size2:
        if path:
            return False
        if size1 == 0:
            return first_hash == second_hash == EMPTY_ROOT
        return first_hash == second_hash
    if size1 == 0 or len(first_hash) != HASH_SIZE or len(second_hash) != HASH_SIZE:
        return False
    # 1. If consistency_path is an empty array, stop and fail the proof verification.
    if not path:
        return False
    # 2. If first is an exact power of 2, then prepend first_hash to the consistency_path array.
    if size1 & (size1 - 1) == 0:
        path = [first_hash, *path]
    # 3. Set fn to first - 1 and sn to second - 1.
    fn, sn = size1 - 1, size2 - 1
    # 4. If LSB(fn) is set, then right-shift both fn and sn equally until LSB(fn) is not set.
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    # 5. Set both fr and sr to the first value in the consistency_path array.
    fr = sr = path[0]
    # 6. For each subsequent value c in the consistency_path array:
    for c in path[1:]:
        # a. If sn is 0, then stop the iteration and fail the proof verification.
        if sn == 0:
            return False
        # b. If LSB(fn) is set, or if fn is equal to sn, then:
        if fn & 1 or fn == sn:
            # i. Set fr to HASH(0x01 || c || fr).  ii. Set sr to HASH(0x01 || c || sr).
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            # iii. If LSB(fn) is not set, then right-shift both fn and sn equally until either LSB(fn) is set or
            #      fn is 0.
            while fn & 1 == 0 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            # Otherwise: i. Set sr to HASH(0x01 || sr || c).
            sr = node_hash(sr, c)
        # c. Finally, right-shift both fn and sn one time.
        fn, sn = fn >> 1, sn >> 1
    # 7. Verify that fr equals first_hash, that sr equals second_hash, and that sn is 0.
    return fr == first_hash and sr == second_hash and sn == 0


# --- internals ----------------------------------------------------------------------------------------------------


def _trailing_zeros(n: int) -> int:
    return (n & -n).bit_length() - 1


def _split_point(width: int) -> int:
    """k, the largest power of two smaller than `width` (>= 2): RFC 9162 splits D[0:n] into D[0:k] and D[k:n]."""
    return 1 << ((width - 1).bit_length() - 1)


def _subtree_indexes(lo: int, hi: int) -> list[int]:
    """Stored indexes of the complete subtrees that together cover leaves [lo, hi), left to right.

    Each is the largest complete subtree starting at `lo`; `lo` is always aligned to it in the callers' splits.
    """
    indexes = []
    while lo < hi:
        level = (hi - lo).bit_length() - 1
        assert lo & ((1 << level) - 1) == 0, "subtree start not aligned"
        indexes.append(stored_hash_index(level, lo >> level))
        lo += 1 << level
    return indexes


def _subtree_hash(lo: int, hi: int, hashes: Iterator[bytes]) -> bytes:
    """MTH(D[lo:hi]) from the hashes `_subtree_indexes(lo, hi)` asked for, consumed from `hashes`."""
    parts = [next(hashes) for _ in _subtree_indexes(lo, hi)]
    # The complete subtrees get smaller to the right; RFC 9162 hashes them together from the right.
    result = parts[-1]
    for part in reversed(parts[:-1]):
        result = node_hash(part, result)
    return result


def _inclusion_indexes(lo: int, hi: int, n: int, need: list[int]) -> None:
    """Append the stored indexes `_inclusion_proof(lo, hi, n, ...)` will consume, in the order it consumes them."""
    if hi - lo == 1:
        return
    k = _split_point(hi - lo)
    if n < lo + k:
        _inclusion_indexes(lo, lo + k, n, need)
        need.extend(_subtree_indexes(lo + k, hi))
    else:
        need.extend(_subtree_indexes(lo, lo + k))
        _inclusion_indexes(lo + k, hi, n, need)


def _inclusion_proof(lo: int, hi: int, n: int, hashes: Iterator[bytes]) -> list[bytes]:
    """PATH(n - lo, D[lo:hi]) (RFC 9162 section 2.1.3.1): walk towards leaf n, keeping the side not taken."""
    if hi - lo == 1:
        return []  # the verifier has the leaf hash itself
    k = _split_point(hi - lo)
    if n < lo + k:
        path = _inclusion_proof(lo, lo + k, n, hashes)
        sibling = _subtree_hash(lo + k, hi, hashes)
    else:
        sibling = _subtree_hash(lo, lo + k, hashes)
        path = _inclusion_proof(lo + k, hi, n, hashes)
    return [*path, sibling]


def _consistency_indexes(lo: int, hi: int, n: int, need: list[int]) -> None:
    """Append the stored indexes `_consistency_proof(lo, hi, n, ...)` will consume, in the order it consumes them."""
    if n == hi:
        if lo != 0:
            need.extend(_subtree_indexes(lo, hi))
        return
    k = _split_point(hi - lo)
    if n <= lo + k:
        _consistency_indexes(lo, lo + k, n, need)
        need.extend(_subtree_indexes(lo + k, hi))
    else:
        need.extend(_subtree_indexes(lo, lo + k))
        _consistency_indexes(lo + k, hi, n, need)


def _consistency_proof(lo: int, hi: int, n: int, hashes: Iterator[bytes]) -> list[bytes]:
    """SUBPROOF(n - lo, D[lo:hi], lo == 0) (RFC 9162 section 2.1.4.1), the old tree being D[0:n]."""
    if n == hi:
        # The old tree ends here. If this subtree is the whole old tree the verifier already has its hash.
        return [] if lo == 0 else [_subtree_hash(lo, hi, hashes)]
    k = _split_point(hi - lo)
    if n <= lo + k:
        proof = _consistency_proof(lo, lo + k, n, hashes)
        sibling = _subtree_hash(lo + k, hi, hashes)
    else:
        sibling = _subtree_hash(lo, lo + k, hashes)
        proof = _consistency_proof(lo + k, hi, n, hashes)
    return [*proof, sibling]


def _is_size(value: object) -> bool:
    """A tree size or leaf index as other implementations can hold it: an int (not a bool) in uint64 range."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= UINT64_MAX


def _is_hash(value: object) -> bool:
    return isinstance(value, _BYTES_LIKE) and len(value) == HASH_SIZE


def _hash_list(proof: object) -> list[bytes] | None:
    """The proof as a list of 32-byte hashes, or None if it is anything else."""
    if isinstance(proof, (str, *_BYTES_LIKE)) or not isinstance(proof, Sequence):
        return None
    hashes = []
    for item in proof:
        if not _is_hash(item):
            return None
        hashes.append(bytes(item))
    return hashes
