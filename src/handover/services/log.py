"""The transparency log: one leaf per entry, in log order, and signed checkpoints over it.

The log holds two kinds of entry in one index sequence, both taking their indexes from the one log counter: custody
events (rows of `custody_events`, leaf `core.custody.leaf`) and access entries, each a read of a person's record
(rows of `access_log`, leaf `core.access.leaf`). Entry bundles serve them merged by index. The bytes tell them apart:
an access leaf opens with `{"at":"` and a canonical custody leaf never does (`core.access.leaf.is_access`), so a
monitor decodes each with its own decoder, folds custody events into custody chains and counts access entries.

Leaves and their stored hashes are written in the same transaction as the events and reads (see custody.record and
access_log.record_reads), so the tree always matches the committed entries. Checkpoints are signed only over
committed state and only after proving the new tree consistent with the last checkpoint signed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from datetime import datetime

from handover.core.tlog.checkpoint import Checkpoint
from handover.core.tlog.hashing import leaf_hash
from handover.core.tlog.note import Signer, sign
from handover.core.tlog.proof import TlogProof
from handover.core.tlog.tiles import (
    MAX_ENTRY_SIZE,
    EntryBundle,
    Tile,
    bundles_for_size,
    encode_bundle,
    tile_hashes,
    tiles_for_size,
)
from handover.core.tlog.tree import (
    appended_hashes,
    check_consistency,
    prove_consistency,
    prove_inclusion,
    stored_hash_count,
    stored_hash_index,
    tree_hash,
)
from handover.i18n import _
from handover.services.errors import ConflictError, NotFoundError
from handover.services.ports import EntriesMismatch, LogRepository, StoredCheckpoint, UnitOfWork

EMPTY_LOG = "empty-log"

_logger = logging.getLogger(__name__)


class CachedReader:
    """Reads stored hashes from the store, remembering them and the ones this transaction adds.

    Appending a batch touches the same few frontier hashes again and again; one query fetches each once.
    """

    def __init__(self, log: LogRepository) -> None:
        self._log = log
        self.cache: dict[int, bytes] = {}

    def __call__(self, indexes: Sequence[int]) -> list[bytes]:
        missing = [i for i in indexes if i not in self.cache]
        if missing:
            self.cache.update(zip(missing, self._log.read_hashes(missing), strict=True))
        return [self.cache[i] for i in indexes]


def append_leaves(uow: UnitOfWork, first_index: int, leaves: Sequence[bytes]) -> None:
    """Add the stored hashes for leaves `first_index`, `first_index + 1`, ... (which must be the next ones)."""
    too_long = next((i for i, data in enumerate(leaves) if len(data) > MAX_ENTRY_SIZE), None)
    if too_long is not None:
        # Entry bundles prefix each entry with a 16-bit length; a longer leaf could never be served.
        raise ValueError(f"log entry {first_index + too_long} is longer than {MAX_ENTRY_SIZE} bytes")
    added = appended_hashes(first_index, [leaf_hash(data) for data in leaves], uow.log.read_hashes)
    uow.log.append_hashes(stored_hash_count(first_index), added)


def root(uow: UnitOfWork, size: int | None = None) -> bytes:
    size = uow.custody.size() if size is None else size
    return tree_hash(size, CachedReader(uow.log))


def inclusion_proof(uow: UnitOfWork, index: int, size: int) -> list[bytes]:
    """The proof, read in one statement: it can be served from a unit of work without one snapshot, in one round
    trip (see `Database.unit_of_work`)."""
    if not 0 <= index < size:
        raise _no_leaf(uow, index, size)
    try:
        return _read_inclusion_proof(uow, index, size)
    except LookupError:
        if size > uow.custody.size():
            raise _no_leaf(uow, index, size) from None
    # The log has the leaves. Read without one snapshot, it may have grown to them only after the hashes were read:
    # read once more. Hashes missing still are missing from a log that has the leaves: not the caller's mistake.
    return _read_inclusion_proof(uow, index, size)


def _read_inclusion_proof(uow: UnitOfWork, index: int, size: int) -> list[bytes]:
    reader = CachedReader(uow.log)
    # The hash stored for leaf size-1 is there once the log has `size` leaves. Read in the proof's own query, it
    # answers for the event counter: a proof costs one statement, and proofs are what a log serves most.
    last = stored_hash_index(0, size - 1)
    proof = prove_inclusion(size, index, lambda indexes: reader([*indexes, last])[:-1])
    reader([last])  # already read, unless the tree is one leaf and the proof empty
    return proof


def _no_leaf(uow: UnitOfWork, index: int, size: int) -> ValueError:
    return ValueError(f"no leaf {index} in a tree of size {size} (the log has {uow.custody.size()} leaves)")


def consistency_proof(uow: UnitOfWork, old_size: int, new_size: int) -> list[bytes]:
    if not 0 < old_size <= new_size <= uow.custody.size():
        raise ValueError(
            f"no consistency proof from size {old_size} to {new_size} (the log has {uow.custody.size()} leaves)"
        )
    return prove_consistency(new_size, old_size, CachedReader(uow.log))


def consistent(uow: UnitOfWork, old_size: int, old_root: bytes, new_size: int, new_root: bytes) -> bool:
    """Whether the tree of `new_size` extends the one of `old_size` with `old_root` (proved, then checked)."""
    if old_size == 0:
        return True
    if old_size == new_size:
        return old_root == new_root
    proof = prove_consistency(new_size, old_size, CachedReader(uow.log))
    return check_consistency(proof, new_size, new_root, old_size, old_root)


def sign_checkpoint(uow: UnitOfWork, signer: Signer, now: datetime) -> StoredCheckpoint:
    """Sign the committed tree, after proving it consistent with the last checkpoint; the key's name is the origin.

    Returns the last checkpoint unchanged when the tree has not grown. Never signs two inconsistent checkpoints:
    a tree that does not extend the last signed one is refused (and is the sign of tampering).
    """
    size = uow.custody.size()
    if size == 0:
        # RFC 9162 gives the empty tree a root, but Go's tlog (and so verifiers built on it) reject it: wait for
        # the first event.
        raise ConflictError("log", EMPTY_LOG, "empty", _("The log is empty: there is nothing to sign yet."))
    last = uow.log.latest_checkpoint()
    if last is not None and last.size == size:
        return last
    if last is not None and last.size > size:
        raise ConflictError(
            "log",
            "log-shrank",
            f"size {size}",
            _("The log has {size} entries but checkpoint {signed} was signed: refusing to sign.").format(
                size=size, signed=last.size
            ),
        )
    new_root = root(uow, size)
    if last is not None and not consistent(uow, last.size, last.root, size, new_root):
        raise ConflictError(
            "log",
            "inconsistent-tree",
            f"size {size}",
            _("The tree of size {size} does not extend checkpoint {signed}: refusing to sign.").format(
                size=size, signed=last.size
            ),
        )
    body = Checkpoint(origin=signer.name, size=size, root=new_root).body()
    stored = StoredCheckpoint(size=size, root=new_root, note=sign(body, [signer]), signed_at=now)
    uow.log.add_checkpoint(stored)
    return stored


def latest_checkpoint(uow: UnitOfWork) -> StoredCheckpoint:
    found = uow.log.latest_checkpoint()
    if found is None:
        raise NotFoundError("checkpoint", "latest", _("No checkpoint has been signed yet."))
    return found


def covered(uow: UnitOfWork, tile: Tile | EntryBundle, size: int) -> bool:
    """Whether a tile (or entry bundle) may be served while the latest checkpoint has `size` leaves.

    Full tiles never change once the tree passes them. Partial ones are served at the widths of checkpointed tree
    sizes only (C2SP tlog-tiles: "Logs MUST serve partial tiles corresponding to tree sizes for which a checkpoint
    was produced").
    """
    if tile.end > size:
        return False
    if not tile.is_partial:
        return True
    if isinstance(tile, EntryBundle):
        return uow.log.checkpoint(tile.end) is not None
    # Tree sizes whose partial tile at this level and index has exactly this width.
    scale = 1 << (8 * tile.level)
    first = (tile.index * 256 + tile.width) * scale
    return uow.log.has_checkpoint_between(first, first + scale - 1)


def tile_data(uow: UnitOfWork, tile: Tile) -> bytes:
    return tile_hashes(tile, CachedReader(uow.log))


def entries(uow: UnitOfWork, start: int, stop: int) -> list[bytes]:
    """The log's entries at indexes [start, stop): custody events and access entries, in index order. Raises
    `EntriesMismatch` naming the first index that the stored entries do not hold exactly once."""
    return uow.log.entries(start, stop)


def entry_bundle(uow: UnitOfWork, bundle: EntryBundle) -> bytes:
    """An entry bundle as stored. Where the stored entries do not fill the bundle (a row deleted behind the log's
    back), the bundle holds what is stored, so a monitor finds and names the index; the server logs an error."""
    try:
        leaves = uow.log.entries(bundle.start, bundle.end)
    except EntriesMismatch as mismatch:
        _logger.error("entry bundle %s: %s", bundle.path, mismatch)
        leaves = mismatch.entries
    return encode_bundle(leaves)


def receipt(uow: UnitOfWork, event_id: str) -> TlogProof:
    """An offline proof (C2SP tlog-proof) that the event is in the log, against the latest checkpoint."""
    stored = uow.custody.by_event_id(event_id)
    if stored is None:
        raise NotFoundError("event", event_id, _("No event {id}.").format(id=event_id))
    checkpoint = latest_checkpoint(uow)
    if stored.seq >= checkpoint.size:
        raise ConflictError(
            event_id,
            "not-yet-checkpointed",
            f"log index {stored.seq}",
            _(
                "Event {id} is at log index {index}, after the latest checkpoint (size {size}); try again after the "
                "next checkpoint."
            ).format(id=event_id, index=stored.seq, size=checkpoint.size),
        )
    proof = prove_inclusion(checkpoint.size, stored.seq, CachedReader(uow.log))
    return TlogProof(index=stored.seq, hashes=tuple(proof), checkpoint=checkpoint.note)


def publication(uow: UnitOfWork, checkpoint: StoredCheckpoint) -> Iterator[tuple[str, bytes]]:
    """Every file of the C2SP tlog-tiles layout for `checkpoint`: the checkpoint, hash tiles, entry bundles."""
    yield "checkpoint", checkpoint.note.encode()
    reader = CachedReader(uow.log)
    for tile in tiles_for_size(checkpoint.size):
        yield tile.path, tile_hashes(tile, reader)
    for bundle in bundles_for_size(checkpoint.size):
        yield bundle.path, entry_bundle(uow, bundle)
