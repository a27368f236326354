"""The monitor's checks, one function per step, over bytes a `LogSource` served and trusting none of them.

Every check either returns what the next one needs or raises `Discrepancy`: one line that names the first bad log
index (or the tile, the checkpoint, the person) and says what is wrong. The steps:

1. `open_checkpoint`: the signed note opens with the verifier key; the checkpoint's origin is the key's name.
2. `read_entries`: every entry bundle of the tree, each entry a canonical custody event, event ids unique (and each
   person's events folded as they are decoded, the verdict on them held back for step 5), or a canonical access
   entry (a read of a person's record: told apart by its first bytes, decoded and counted, never folded).
3. `check_tiles`: every hash tile recomputed from the entries equals the published one, byte for byte, and the
   recomputed root equals the checkpoint's.
4. `check_history`: the tree extends the checkpoint verified last time (recomputed from the entries, not proved by
   the server).
5. `custody_chains`: each person's events, in log order, are accepted by the custody machine.
6. `compare_counts`: the counts the chains give equal the server's current-state counts.
7. `check_identities`: every registration's identity commitment matches the identity record and salt.
"""

from __future__ import annotations

import base64
import gc
import itertools
import json
import marshal
import os
import pickle
import signal
import traceback
import zlib
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, KeysView, Mapping, Sequence
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from handover.core.access import leaf as access_leaf
from handover.core.custody import CustodyEvent, EventType, PersonState, Refused, Status, fold, leaf
from handover.core.custody.identity import Identity, commitment
from handover.core.custody.model import Estate, Sex
from handover.core.tlog.checkpoint import Checkpoint
from handover.core.tlog.hashing import HASH_SIZE, hash_leaves, hash_pairs, leaf_hash
from handover.core.tlog.note import InvalidSignature, MalformedNote, NoteError, UnverifiedNote, Verifier, open_note
from handover.core.tlog.tiles import (
    TILE_HEIGHT,
    TILE_WIDTH,
    EntryBundle,
    Tile,
    TileError,
    bundles_for_size,
    decode_bundle,
    hash_from_tile,
    tile_for_index,
    tiles_for_size,
    tree_hash_from_tiles,
    verified_tile_reader,
)
from handover.core.tlog.tree import HashReader, stored_hash_index, tree_hash
from handover.i18n import _
from handover.monitor.sources import CHECKPOINT_LIMIT, LogSource, NotPublished
from handover.monitor.state import VerifiedCheckpoint, subtree_ranges

_TILE_BYTES = TILE_WIDTH * HASH_SIZE


class Discrepancy(Exception):
    """What is wrong with the log: the verdict. `index` is the first bad log index when one can be named."""

    def __init__(
        self,
        what: str,
        message: str,
        *,
        index: int | None = None,
        path: str | None = None,
        person_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.what = what
        self.message = message
        self.index = index
        self.path = path
        self.person_id = person_id

    def __reduce__(self) -> tuple[Any, ...]:
        # A worker process sends its verdict back pickled; the default would call __init__ with the message alone.
        return (Discrepancy, (self.what, self.message), self.__dict__)

    def as_dict(self) -> dict[str, Any]:
        return {
            "what": self.what,
            "message": self.message,
            "index": self.index,
            "path": self.path,
            "person_id": self.person_id,
        }


def b64(data: bytes) -> str:
    """Hashes as checkpoints spell them (standard base64), so a message can be compared with the checkpoint."""
    return base64.b64encode(data).decode("ascii")


# --- 1. the checkpoint --------------------------------------------------------------------------------------------


def open_checkpoint(data: bytes, verifier: Verifier) -> tuple[Checkpoint, str]:
    """The checkpoint the note states and the note itself, once the note opens with `verifier`."""
    key = f"{verifier.name}+{verifier.key_id:08x}"
    if len(data) > CHECKPOINT_LIMIT:
        raise Discrepancy("bad-checkpoint", _("checkpoint: larger than {limit} bytes.").format(limit=CHECKPOINT_LIMIT))
    try:
        note = open_note(data, [verifier])
    except InvalidSignature:
        raise Discrepancy(
            "bad-signature",
            _(
                "checkpoint: the signature by {key} does not verify: the checkpoint was altered after it was signed."
            ).format(key=key),
            path="checkpoint",
        ) from None
    except UnverifiedNote as error:
        others = ", ".join(f"{s.name}+{s.key_id:08x}" for s in error.unverified) or _("nobody")
        raise Discrepancy(
            "bad-signature",
            _("checkpoint: not signed by {key} (signed by {others}): wrong --vkey, or not this log.").format(
                key=key, others=others
            ),
            path="checkpoint",
        ) from None
    except (MalformedNote, NoteError) as error:
        raise Discrepancy(
            "bad-checkpoint", _("checkpoint: not a signed note: {error}").format(error=error), path="checkpoint"
        ) from None
    try:
        checkpoint = Checkpoint.parse(note.text)
    except ValueError as error:
        raise Discrepancy(
            "bad-checkpoint", _("checkpoint: not a C2SP checkpoint: {error}").format(error=error), path="checkpoint"
        ) from None
    if checkpoint.origin != verifier.name:
        raise Discrepancy(
            "wrong-origin",
            _("checkpoint: its origin {origin!r} is not the key's name {name!r}.").format(
                origin=checkpoint.origin, name=verifier.name
            ),
            path="checkpoint",
        )
    return checkpoint, data.decode("utf-8")


# --- 2. the entries -----------------------------------------------------------------------------------------------

PARALLEL_FROM = 50_000
"""Logs of this many entries or more are decoded and folded by one process per CPU; for fewer, starting the
processes costs more than it saves."""


@dataclass
class Entries:
    """What the entry bundles hold: their leaf hashes concatenated (32 bytes each), and the custody chains their
    events fold into, or the custody machine's refusal, held back for step 5.

    Each event is folded where it was decoded, so a log is read once and can be read by several processes, each
    owning some of the people: no process needs another's events.
    """

    size: int
    leaf_hashes: bytes
    chains: Chains | Discrepancy
    tile_roots: bytes = b""
    """The root of each full level-0 tile (so the level-1 row), computed alongside the leaf hashes."""
    access_entries: int = 0
    """How many entries are access entries (reads of a person's record) rather than custody events."""


def read_entries(
    source: LogSource, size: int, on_bundle: Callable[[int, int], None] | None = None, *, workers: int | None = None
) -> Entries:
    """Fetch every entry bundle of the tree of `size` entries and decode each entry as a canonical custody event.

    `workers` is how many processes decode and fold (default: one per CPU for a long log, else this one alone).
    Whatever their number, the verdict is the one a single pass in log order gives: the lowest bad index.
    """
    bundles = bundles_for_size(size)
    blobs: list[bytes] = []
    unpublished: Discrepancy | None = None
    for number, bundle in enumerate(bundles, 1):
        try:
            blobs.append(_fetch(source.bundle, bundle, bundle.start))
        except Discrepancy as failure:
            unpublished = failure  # the entries before the missing bundle come first
            break
        if on_bundle is not None:
            on_bundle(number, len(bundles))
    with _collector_paused():
        shares = _read_shares(blobs, size, _default_workers(size) if workers is None else workers)
        return _joined(source, size, blobs, shares, unpublished)


def _joined(
    source: LogSource, size: int, blobs: Sequence[bytes], shares: Sequence[_Share], unpublished: Discrepancy | None
) -> Entries:
    """The entries as the shares found them, or the verdict a single pass in log order would give."""
    bundles = bundles_for_size(size)
    failures = [share.failure for share in shares if share.failure is not None]
    failures += _duplicates_across(shares, bundles)
    if failures:
        raise min(failures, key=lambda failure: failure.index or 0)
    # Every process stops at the first bundle that does not split into its entries; none checked an entry past it.
    bad = [share.bad_bundle for share in shares if share.bad_bundle is not None]
    if bad:
        _split(source, bundles[min(bad)], blobs[min(bad)])  # refuses it, naming what is wrong, as one pass would
        raise AssertionError("unreachable: a bundle the workers could not split")  # pragma: no cover
    if unpublished is not None:
        raise unpublished
    refusals = [share.chains for share in shares if isinstance(share.chains, Discrepancy)]
    if refusals:
        chains: Chains | Discrepancy = min(refusals, key=lambda refusal: refusal.index or 0)
    else:
        chains = Chains.joined([share.chains for share in shares if isinstance(share.chains, Chains)])
    hashes = b"".join(share.hashes for share in shares)
    access = sum(share.access_entries for share in shares)
    return Entries(size, hashes, chains, b"".join(share.roots for share in shares), access)


def _split(source: LogSource, bundle: EntryBundle, data: bytes) -> list[bytes]:
    try:
        raw = decode_bundle(data)
    except ValueError as error:
        raise Discrepancy(
            "bad-bundle",
            _("log index {index}: {path} is not an entry bundle: {error}").format(
                index=bundle.start, path=bundle.path, error=error
            ),
            index=bundle.start,
            path=bundle.path,
        ) from None
    if len(raw) != bundle.width:
        raise _wrong_count(source, bundle, [leaf_hash(entry) for entry in raw])
    return raw


@dataclass
class _Share:
    """What one process found in its share of the log: the people whose person keys hash to it, and a run of
    bundles whose leaf hashes it computes. It stops at its first bad entry or bundle."""

    failure: Discrepancy | None = None
    bad_bundle: int | None = None
    """Position of the first bundle that does not split into as many entries as the tree has there."""
    hashes: bytes = b""
    roots: bytes = b""
    """The root of each full tile of its leaf hashes."""
    event_ids: dict[str, int] = field(default_factory=dict)
    """Log index of each of its events, to find an event logged for two people (in two shares)."""
    sent_event_ids: _SentEventIds | None = None
    """The event ids instead, as a worker sent them back."""
    chains: Chains | Discrepancy | None = None
    access_entries: int = 0
    """Access entries in the bundles it hashes (the share that hashes a bundle decodes its access entries)."""

    def __reduce__(self) -> tuple[Any, ...]:
        # A worker sends its share back pickled. Its event ids, a dict of an entry per event, would take longer to
        # pickle, and longer again to build back, than the rest of the share: they travel as a list and an array.
        state = dict(self.__dict__, event_ids={})
        state["sent_event_ids"] = _SentEventIds(list(self.event_ids), array("q", self.event_ids.values()))
        return (_Share, (), state)


@dataclass(frozen=True)
class _SentEventIds:
    """A share's event ids as a worker sends them back: the ids, and their log indexes in the same order."""

    ids: list[str]
    indexes: array[int]

    def as_dict(self) -> dict[str, int]:
        return dict(zip(self.ids, self.indexes, strict=True))

    def __reduce__(self) -> tuple[Any, ...]:
        return (_SentEventIds._unmarshalled, (_marshalled(self.ids), self.indexes))

    @staticmethod
    def _unmarshalled(ids: bytes, indexes: array[int]) -> _SentEventIds:
        return _SentEventIds(marshal.loads(ids), indexes)


def _marshalled(strings: Any) -> bytes:
    """Lists of strings, as a worker sends them back: marshal writes them several times faster than pickle, which
    looks every object up in a table to write repeats once; so does marshal from version 3, hence version 2."""
    return marshal.dumps(strings, 2)


def _read_share(blobs: Sequence[bytes], size: int, share: int, shares: int) -> _Share:
    result = _Share()
    bundles = bundles_for_size(size)
    hashed = range(share * len(blobs) // shares, (share + 1) * len(blobs) // shares)
    rows: list[bytes] = []
    roots: list[bytes] = []
    by_person: dict[str, list[CustodyEvent]] = defaultdict(list)
    event_ids = result.event_ids
    decode, person_key_of, crc32 = leaf.decode, leaf.person_key_of, zlib.crc32
    try:
        for number, data in enumerate(blobs):
            bundle = bundles[number]
            try:
                raw = decode_bundle(data)
            except ValueError:
                raw = []
            if len(raw) != bundle.width:
                result.bad_bundle = number
                break
            mine = number in hashed
            if mine:
                rows.append(hash_leaves(raw))
                if bundle.width == TILE_WIDTH:
                    roots.append(_perfect_root(rows[-1]))
            # Access entries (rare, found by a search of the whole bundle first) belong to no person's share: the
            # process hashing their bundle decodes and counts them, in log order with its custody events.
            access = _access_offsets(raw) if access_leaf.PREFIX in data else None
            keys: list[bytes] | None = None
            owned: Sequence[int] = range(len(raw))
            if shares > 1:
                keys = leaf.person_keys(raw)
                owned = [offset for offset, key in enumerate(keys) if crc32(key) % shares == share]
            if access:
                # In log order with the custody events: this share's first bad entry is the lowest it can name.
                owned = sorted({*owned, *access}) if mine else [offset for offset in owned if offset not in access]
            start = bundle.start
            for offset in owned:
                entry, index = raw[offset], start + offset
                if access and offset in access:
                    _decode_access(entry, index, bundle)
                    result.access_entries += 1
                    continue
                try:
                    event = decode(entry)
                    # Proved for canonical leaves (see `leaf.person_keys`); checked because the share-out relies on it.
                    if keys is not None and keys[offset] != person_key_of(event.person_id):
                        raise ValueError("its person id is not where the canonical form puts it")
                except ValueError as error:
                    raise _not_canonical(index, bundle, error) from None
                earlier = event_ids.setdefault(event.event_id, index)
                if earlier != index:
                    raise _duplicate(event.event_id, index, earlier, bundle)
                by_person[event.person_id].append(event)
    except Discrepancy as failure:
        result.failure = failure
        return result
    result.hashes, result.roots = b"".join(rows), b"".join(roots)
    result.chains = _fold_people(by_person, result.event_ids)
    return result


def _not_canonical(index: int, bundle: EntryBundle, error: ValueError) -> Discrepancy:
    return Discrepancy(
        "entry-not-canonical",
        _("log index {index}: the entry is not a canonical custody event: {error}").format(index=index, error=error),
        index=index,
        path=bundle.path,
    )


def _access_offsets(raw: Sequence[bytes]) -> frozenset[int]:
    return frozenset(offset for offset, entry in enumerate(raw) if access_leaf.is_access(entry))


def _decode_access(entry: bytes, index: int, bundle: EntryBundle) -> access_leaf.AccessEntry:
    try:
        return access_leaf.decode(entry)
    except ValueError as error:
        raise Discrepancy(
            "entry-not-canonical",
            _("log index {index}: the entry is not a canonical access entry: {error}").format(index=index, error=error),
            index=index,
            path=bundle.path,
        ) from None


def _duplicate(event_id: str, index: int, earlier: int, bundle: EntryBundle) -> Discrepancy:
    return Discrepancy(
        "duplicate-event",
        _("log index {index}: event {event} was already logged at index {earlier}.").format(
            index=index, event=event_id, earlier=earlier
        ),
        index=index,
        path=bundle.path,
    )


def _duplicates_across(shares: Sequence[_Share], bundles: Sequence[EntryBundle]) -> list[Discrepancy]:
    """The first event logged again in another share (each share has found its own repeats)."""
    if _no_id_in_two(shares):
        return []  # as almost always: found without building a dict of the ids a worker sent
    logged = [share.event_ids if share.sent_event_ids is None else share.sent_event_ids.as_dict() for share in shares]
    repeats = [
        (max(a[event_id], b[event_id]), min(a[event_id], b[event_id]), event_id)
        for a, b in itertools.combinations(logged, 2)
        for event_id in a.keys() & b.keys()
    ]
    index, earlier, event_id = min(repeats)
    return [_duplicate(event_id, index, earlier, bundles[index // TILE_WIDTH])]


def _no_id_in_two(shares: Sequence[_Share]) -> bool:
    """Whether no event id is in two shares. This process's share (the first) holds its ids in a dict, against which
    the ids a worker sent are checked as they came; with more workers, the ids seen so far go into a set."""
    first, *others = [_ids(share) for share in shares]
    seen: AbstractSet[str] = first if isinstance(first, KeysView) else set(first)
    for number, ids in enumerate(others, 1):
        if not seen.isdisjoint(ids):
            return False
        if number < len(others):
            seen = {*seen, *ids}
    return True


def _ids(share: _Share) -> KeysView[str] | list[str]:
    return share.event_ids.keys() if share.sent_event_ids is None else share.sent_event_ids.ids


def _default_workers(size: int) -> int:
    if size < PARALLEL_FROM:
        return 1
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _read_shares(blobs: Sequence[bytes], size: int, shares: int) -> list[_Share]:
    """Every share read, this process taking the first and a forked child each of the others.

    Fork, because a child then has the fetched bundles without a copy being sent; where there is no fork, this
    process reads the whole log alone.
    """
    if shares <= 1 or not hasattr(os, "fork"):
        return [_read_share(blobs, size, 0, 1)]
    children: list[_Child] = []
    try:
        try:
            for share in range(1, shares):
                children.append(_Child(blobs, size, share, shares))
        except OSError:  # no process to be had (a limit on processes or memory): this one reads the whole log
            return [_read_share(blobs, size, 0, 1)]
        return [_read_share(blobs, size, 0, shares), *(child.result() for child in children)]
    finally:
        for child in children:
            child.end()


class _Child:
    """A forked process reading one share; its result comes back pickled through a pipe."""

    def __init__(self, blobs: Sequence[bytes], size: int, share: int, shares: int) -> None:
        read_end, write_end = os.pipe()
        try:
            self.pid = os.fork()
        except OSError:
            os.close(read_end)
            os.close(write_end)
            raise
        if self.pid == 0:
            # The child leaves by os._exit whatever happens: it must never return into the parent's code, nor run
            # the parent's exit handlers or flush its streams (another thread may have held their locks at fork).
            status = 1
            try:
                signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends it quietly; the parent reports
                os.close(read_end)
                result = _read_share(blobs, size, share, shares)
                # Pickled whole before writing: if this process finishes first, the pickling overlaps the parent's
                # own share, rather than following it as the parent reads the pipe.
                data = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
                with open(write_end, "wb") as pipe:
                    pipe.write(data)
                status = 0
            except BaseException:
                os.write(2, traceback.format_exc().encode())
            finally:
                os._exit(status)
        os.close(write_end)
        self.pipe = open(read_end, "rb")  # noqa: SIM115 - closed by end(), whatever happens
        self.status: int | None = None

    def result(self) -> _Share:
        data = self.pipe.read()
        self.pipe.close()
        self.status = os.waitpid(self.pid, 0)[1]
        try:
            result = pickle.loads(data) if self.status == 0 else None
        except (pickle.UnpicklingError, EOFError):
            result = None
        if not isinstance(result, _Share):
            raise RuntimeError(f"a process verifying part of the log ended without its result (status {self.status})")
        return result

    def end(self) -> None:
        """Close the pipe and, unless it already ended, end the process (this one stopped early)."""
        self.pipe.close()
        if self.status is None:
            os.kill(self.pid, signal.SIGKILL)
            self.status = os.waitpid(self.pid, 0)[1]


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while the entries are read, until their events are freed again: events
    hold no cycles, and a million of them allocated in a row would have it walk the heap over and over for
    nothing."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _wrong_count(source: LogSource, bundle: EntryBundle, hashes: Sequence[bytes]) -> Discrepancy:
    """A bundle with entries missing (or extra): name the first index whose entry does not match the published leaf
    hashes, the best pointer to what was deleted or inserted (the tile is only a pointer here, checked in step 3)."""
    first = bundle.start + min(len(hashes), bundle.width)
    try:
        published = source.tile(Tile(0, bundle.index, bundle.width))
    except NotPublished:
        published = b""
    if len(published) == bundle.width * HASH_SIZE:
        for offset, value in enumerate(hashes[: bundle.width]):
            if published[offset * HASH_SIZE : (offset + 1) * HASH_SIZE] != value:
                first = bundle.start + offset
                break
    if len(hashes) < bundle.width:
        message = _(
            "log index {index}: entry missing: {path} holds {count} entries where the signed tree has {width} "
            "(the entries before index {index} match the published leaf hashes)."
        )
        what = "entry-missing"
    else:
        message = _(
            "log index {index}: entry inserted: {path} holds {count} entries where the signed tree has {width} "
            "(the entries before index {index} match the published leaf hashes)."
        )
        what = "entry-inserted"
    return Discrepancy(
        what,
        message.format(index=first, path=bundle.path, count=len(hashes), width=bundle.width),
        index=first,
        path=bundle.path,
    )


def _fetch(read: Callable[[Any], bytes], what: Tile | EntryBundle, index: int | None) -> bytes:
    try:
        return read(what)
    except NotPublished:
        raise Discrepancy(
            "not-published",
            _("{path}: not published, though the signed tree has it.").format(path=what.path),
            index=index,
            path=what.path,
        ) from None


# --- 3. the tiles -------------------------------------------------------------------------------------------------


def recompute_tiles(leaf_hashes: bytes, tile_roots: bytes | None = None) -> dict[Tile, bytes]:
    """Every hash tile of the tree whose leaf hashes are `leaf_hashes` (concatenated), computed from them alone.

    A level L+1 tile holds the roots of full level L tiles, so each row is the previous one hashed 8 levels up.
    `tile_roots` is the level-1 row when already computed (most of the work: every leaf hash goes into it).
    """
    if len(leaf_hashes) % HASH_SIZE:
        raise ValueError("leaf hashes must be whole 32-byte hashes")
    tiles: dict[Tile, bytes] = {}
    row, level = leaf_hashes, 0
    while row:
        for index, start in enumerate(range(0, len(row), _TILE_BYTES)):
            chunk = row[start : start + _TILE_BYTES]
            tiles[Tile(level, index, len(chunk) // HASH_SIZE)] = chunk
        full = len(row) // _TILE_BYTES
        if level == 0 and tile_roots is not None:
            assert len(tile_roots) == full * HASH_SIZE, "one root per full tile"
            row = tile_roots
        else:
            row = b"".join(_perfect_root(row[i * _TILE_BYTES : (i + 1) * _TILE_BYTES]) for i in range(full))
        level += 1
    return tiles


def _perfect_root(data: bytes) -> bytes:
    """Root of the perfect subtree whose bottom row is `data` (a power-of-two count of hashes)."""
    while len(data) > HASH_SIZE:
        data = hash_pairs(data)
    return data


def tile_reader(tiles: Mapping[Tile, bytes]) -> HashReader:
    """A HashReader over recomputed tiles: any stored hash of any tree size up to theirs (tiles only grow)."""
    by_place = {(tile.level, tile.index): (tile, data) for tile, data in tiles.items()}

    def read(indexes: Sequence[int]) -> list[bytes]:
        hashes = []
        for index in indexes:
            narrowest = tile_for_index(index)
            found = by_place.get((narrowest.level, narrowest.index))
            if found is None:
                raise ValueError(f"stored hash {index} is beyond the tree")
            hashes.append(hash_from_tile(found[0], found[1], index))
        return hashes

    return read


def check_tiles(
    source: LogSource, checkpoint: Checkpoint, entries: Entries, on_tile: Callable[[int, int], None] | None = None
) -> dict[Tile, bytes]:
    """Recompute every hash tile from the entries, compare each published tile with it byte for byte, then the
    recomputed root with the checkpoint's. Returns the recomputed tiles."""
    size = checkpoint.size
    recomputed = recompute_tiles(entries.leaf_hashes, entries.tile_roots)
    expected = tiles_for_size(size)
    assert set(recomputed) == set(expected), "recomputed tiles do not match the tree size"
    published: dict[Tile, bytes] = {}
    for number, tile in enumerate(expected, 1):
        data = _fetch(source.tile, tile, tile.start if tile.level == 0 else None)
        if len(data) != tile.width * HASH_SIZE:
            raise Discrepancy(
                "bad-tile",
                _("{path}: holds {got} bytes, not {want}.").format(
                    path=tile.path, got=len(data), want=tile.width * HASH_SIZE
                ),
                index=tile.start if tile.level == 0 else None,
                path=tile.path,
            )
        published[tile] = data
        if on_tile is not None:
            on_tile(number, len(expected))
    for tile in expected:
        if published[tile] != recomputed[tile]:
            raise _tile_discrepancy(tile, checkpoint, published, recomputed)
    root = tree_hash_from_tiles(size, recomputed)
    if root != checkpoint.root:
        raise Discrepancy(
            "root-mismatch",
            _(
                "checkpoint: the entries and the published tiles hash to root {computed}, but the signed checkpoint "
                "of size {size} says {signed}: the log was rewritten after it was signed, its tiles recomputed to "
                "match."
            ).format(computed=b64(root), size=size, signed=b64(checkpoint.root)),
            path="checkpoint",
        )
    return recomputed


def _tile_discrepancy(
    tile: Tile, checkpoint: Checkpoint, published: Mapping[Tile, bytes], recomputed: Mapping[Tile, bytes]
) -> Discrepancy:
    ours, theirs = recomputed[tile], published[tile]
    position = next(
        i
        for i in range(tile.width)
        if ours[i * HASH_SIZE : (i + 1) * HASH_SIZE] != theirs[i * HASH_SIZE : (i + 1) * HASH_SIZE]
    )
    if tile.level > 0:
        span = 1 << (TILE_HEIGHT * tile.level)
        first = tile.start + position * span
        return Discrepancy(
            "tile-mismatch",
            _(
                "{path}: hash {position} (over log indexes {first}..{last}) is not the one the entries give, though "
                "every leaf hash matches: the published tiles are inconsistent."
            ).format(path=tile.path, position=position, first=first, last=first + span - 1),
            path=tile.path,
        )
    index = tile.start + position
    moved_from = _published_index(published, checkpoint.size, ours[position * HASH_SIZE : (position + 1) * HASH_SIZE])
    if moved_from is not None and moved_from != index:
        return Discrepancy(
            "entries-reordered",
            _(
                "log index {index}: holds the entry the published tree has at log index {other}: entries were "
                "reordered after they were logged ({path})."
            ).format(index=index, other=moved_from, path=tile.path),
            index=index,
            path=tile.path,
        )
    try:
        verified_tile_reader(checkpoint.size, checkpoint.root, published)
        signed = True
    except (TileError, ValueError):
        signed = False
    if signed:
        message = _(
            "log index {index}: the entry was altered after it was logged: it does not hash to leaf {position} of "
            "{path}, which the signed checkpoint commits to."
        )
        what = "entry-altered"
    else:
        message = _(
            "log index {index}: the entry does not hash to leaf {position} of {path}, and the published tiles do "
            "not hash to the signed root either."
        )
        what = "tile-mismatch"
    return Discrepancy(
        what, message.format(index=index, position=position, path=tile.path), index=index, path=tile.path
    )


def _published_index(published: Mapping[Tile, bytes], size: int, wanted: bytes) -> int | None:
    for tile in tiles_for_size(size):
        if tile.level != 0:
            continue
        data = published[tile]
        for i in range(tile.width):
            if data[i * HASH_SIZE : (i + 1) * HASH_SIZE] == wanted:
                return tile.start + i
    return None


# --- 4. history ---------------------------------------------------------------------------------------------------


def subtree_hashes(tiles: Mapping[Tile, bytes], size: int) -> tuple[bytes, ...]:
    """The hashes of the complete subtrees the tree of `size` entries is made of (what the state file keeps)."""
    read = tile_reader(tiles)
    indexes = []
    for start, end in subtree_ranges(size):
        level = (end - start).bit_length() - 1
        indexes.append(stored_hash_index(level, start >> level))
    return tuple(read(indexes)) if indexes else ()


def check_history(previous: VerifiedCheckpoint | None, checkpoint: Checkpoint, tiles: Mapping[Tile, bytes]) -> None:
    """The tree (recomputed from the entries) must extend the checkpoint verified last time.

    No proof from the server is needed or trusted: the monitor holds every entry, so it recomputes the old root.
    """
    if previous is None:
        return
    read = tile_reader(tiles)
    shrank = previous.size > checkpoint.size
    if not shrank:
        now = tree_hash(previous.size, read)
        if now == previous.root:
            return
    # Where the histories part: the first of the old tree's complete subtrees that is gone or hashes differently.
    first, last = 0, previous.size - 1
    for (start, end), old_hash in zip(subtree_ranges(previous.size), previous.subtrees, strict=True):
        level = (end - start).bit_length() - 1
        if end > checkpoint.size or read([stored_hash_index(level, start >> level)])[0] != old_hash:
            first, last = start, end - 1
            break
    if shrank:
        message = _(
            "history rewritten: the log shrank to {size} entries from the {old} of the checkpoint verified on "
            "{when}; the histories part within log indexes {first}..{last}."
        ).format(size=checkpoint.size, old=previous.size, when=previous.verified_at, first=first, last=last)
    else:
        message = _(
            "history rewritten: the first {old} entries now hash to {now}, but the checkpoint of size {old} verified "
            "on {when} has root {then}; the change is within log indexes {first}..{last}."
        ).format(
            old=previous.size, now=b64(now), when=previous.verified_at, then=b64(previous.root), first=first, last=last
        )
    raise Discrepancy("history-rewritten", message, index=first, path="checkpoint")


# --- 5. custody chains --------------------------------------------------------------------------------------------


@dataclass
class Tally:
    """The counts step 6 compares, over some people's custody as their chains leave it. Tallies of different people
    add up, so processes that each fold some of the people can count them too."""

    # Keyed by the enum members themselves (`.value` is a slow property, and this runs once per person).
    by_status: Counter[Status] = field(default_factory=Counter)
    held: Counter[tuple[str, Estate]] = field(default_factory=Counter)
    """People held, by facility and estate."""
    received: Counter[str] = field(default_factory=Counter)
    """People held somewhere other than where they were registered, by facility."""
    awaiting: Counter[str] = field(default_factory=Counter)
    """People arrived, not yet admitted, by facility."""
    moved: int = 0
    at_origin: int = 0

    def count(self, status: Status, place: str | None, estate: Estate, at_origin: bool, people: int = 1) -> None:
        """Count `people` people in `status` at `place` (None for none), held in `estate` there if held, and at the
        place they were registered at or not."""
        self.by_status[status] += people
        if place is None:
            return
        if status is _HELD:
            self.held[place, estate] += people
            if at_origin:
                self.at_origin += people
            else:
                self.moved += people
                self.received[place] += people
        elif status is _ARRIVED:
            self.awaiting[place] += people

    def add(self, other: Tally) -> None:
        self.by_status.update(other.by_status)
        self.held.update(other.held)
        self.received.update(other.received)
        self.awaiting.update(other.awaiting)
        self.moved += other.moved
        self.at_origin += other.at_origin


@dataclass
class Chains:
    """What the custody machine derives from everyone's events: the counts, and where each person was registered."""

    tally: Tally
    registrations: dict[str, tuple[int, str | None]]
    """Each person's first log index (their registration) and the identity commitment logged there."""

    @property
    def people(self) -> int:
        return len(self.registrations)

    def __reduce__(self) -> tuple[Any, ...]:
        # A worker sends its chains back pickled. Its people's registrations, a dict of an entry per person, travel
        # as columns, the strings marshalled: several times faster to send, and to build back.
        registered = self.registrations.values()
        people = _marshalled((list(self.registrations), [logged for _, logged in registered]))
        return (Chains._rebuilt, (self.tally, people, array("q", [index for index, _ in registered])))

    @staticmethod
    def _rebuilt(tally: Tally, people: bytes, indexes: array[int]) -> Chains:
        ids, logged = marshal.loads(people)
        return Chains(tally, dict(zip(ids, zip(indexes, logged, strict=True), strict=True)))

    @staticmethod
    def joined(parts: Sequence[Chains]) -> Chains:
        """The chains of everyone, from the chains of disjoint sets of people."""
        joined = Chains(Tally(), {})
        for part in parts:
            joined.tally.add(part.tally)
            joined.registrations.update(part.registrations)
        return joined


def fold_chains(events: Sequence[CustodyEvent]) -> Chains:
    """Group events (of unique ids, as step 2 leaves them) by person in log order and fold each chain; the refusal
    with the lowest log index is the verdict."""
    by_person: dict[str, list[CustodyEvent]] = defaultdict(list)
    indexes: dict[str, int] = {}
    for index, event in enumerate(events):
        by_person[event.person_id].append(event)
        indexes.setdefault(event.event_id, index)
    chains = _fold_people(by_person, indexes)
    if isinstance(chains, Discrepancy):
        raise chains
    return chains


def _fold_people(by_person: Mapping[str, list[CustodyEvent]], indexes: Mapping[str, int]) -> Chains | Discrepancy:
    """Fold each person's chain of events (in log order; `indexes` gives each event's log index by event id); the
    refusal with the lowest log index, if any."""
    chains = Chains(Tally(), {})
    registrations = chains.registrations
    # People are counted by kind (all the tally needs of a person), then each kind into the tally: there are few
    # kinds, and counting each person into the tally's Counters directly would cost several times more (a Counter
    # overrides __delitem__, which sends every item assignment through a Python-level lookup).
    kinds: dict[tuple[Status, str | None, Estate, bool], int] = {}
    failures: list[Discrepancy] = []
    for person_id, chain in by_person.items():
        result = _fold(chain)
        if type(result) is PersonState:
            first = chain[0]
            kind = (result.status, result.facility_id, result.estate, result.facility_id == first.facility_id)
            kinds[kind] = kinds.get(kind, 0) + 1
            logged = first.detail("identity") if first.type is _REGISTERED else None
            registrations[person_id] = (indexes[first.event_id], logged)
            continue
        # fold stops at the first event it refuses, so a longer prefix is refused too: bisect for that event.
        low, high = 1, len(chain)
        while low < high:
            middle = (low + high) // 2
            if isinstance(_fold(chain[:middle]), PersonState):
                low = middle + 1
            else:
                high = middle
        refused = chain[low - 1]
        failures.append(_refusal(person_id, indexes[refused.event_id], refused, result))
    if failures:
        return min(failures, key=lambda failure: failure.index or 0)
    for kind, people in kinds.items():
        chains.tally.count(*kind, people)
    return chains


def custody_chains(entries: Entries) -> Chains:
    """Step 5: the chains the entries' events fold into, or the custody machine's refusal with the lowest index."""
    if isinstance(entries.chains, Discrepancy):
        raise entries.chains
    return entries.chains


# Enum members as module constants: reading one off its class is slow in the loops over every person of the log.
_HELD, _ARRIVED, _REGISTERED = Status.HELD, Status.ARRIVED, EventType.REGISTERED


def _fold(chain: Sequence[CustodyEvent]) -> PersonState | Refused | ValueError:
    try:
        return fold(chain)
    except (ValueError, KeyError) as error:  # an event lacking a detail its type needs, an unknown status or estate
        return ValueError(str(error))


def _refusal(person_id: str, index: int, event: CustodyEvent, result: Refused | ValueError) -> Discrepancy:
    if isinstance(result, Refused):
        message = _("log index {index} ({type}): the custody machine refuses it: {refusal} [rule {rule}]").format(
            index=index, type=event.type.value, refusal=result.message, rule=result.rule.value
        )
    else:
        message = _("log index {index} ({type}): person {person}'s chain cannot be folded: {error}").format(
            index=index, type=event.type.value, person=person_id, error=result
        )
    return Discrepancy("chain-refused", message, index=index, person_id=person_id)


# --- 6. counts ----------------------------------------------------------------------------------------------------


def derive_counts(chains: Chains) -> dict[str, Any]:
    """The server's current-state counts, as the custody chains give them (same names as its status)."""
    tally = chains.tally
    by_status = Counter({status.value: count for status, count in tally.by_status.items()})
    received, awaiting = tally.received, tally.awaiting
    held: dict[str, Counter[str]] = defaultdict(Counter)
    for (place, estate), count in tally.held.items():
        held[place][estate.value] = count
    places = sorted(held.keys() | received.keys() | awaiting.keys())
    return {
        "registered": chains.people,
        "by_status": dict(sorted(by_status.items())),
        "moved": tally.moved,
        "in_transit": by_status[Status.IN_TRANSIT.value] + by_status[Status.ARRIVED.value],
        "held_at_origin": tally.at_origin,
        "facilities": {
            place: {
                "held": {estate.value: held[place][estate.value] for estate in Estate},
                "received": received[place],
                "awaiting_admission": awaiting[place],
            }
            for place in places
        },
    }


def parse_status(data: bytes | None, size: int) -> tuple[dict[str, Any] | None, str | None]:
    """The server's status if it stands on this tree size, else None and why the counts cannot be compared."""
    if data is None:
        return None, _("the source publishes no status")
    try:
        status = json.loads(data)
    except ValueError:
        return None, _("the server's status is not JSON")
    if not isinstance(status, dict) or not _is_count(status.get("log_size")):
        return None, _("the server's status has no log size")
    if status["log_size"] != size:
        return None, _("the server's counts stand on log size {theirs}, the checkpoint on {ours}").format(
            theirs=status["log_size"], ours=size
        )
    return status, None


def compare_counts(derived: Mapping[str, Any], status: Mapping[str, Any]) -> None:
    """Every count the chains give must equal the server's; the first that differs is the verdict."""
    facilities: dict[str, Mapping[str, Any]] = {}
    listed = status.get("facilities")
    for place in listed if isinstance(listed, list) else []:
        if isinstance(place, dict) and isinstance(place.get("id"), str):
            facilities[place["id"]] = place
    server_by_status = status.get("by_status")
    if isinstance(server_by_status, dict):
        server_by_status = {k: v for k, v in server_by_status.items() if v != 0}
    pairs: list[tuple[str, object, object]] = [
        (_("people registered"), status.get("registered"), derived["registered"]),
        (_("people by status"), server_by_status, derived["by_status"]),
        (_("people moved"), status.get("moved"), derived["moved"]),
        (_("people in transit (including arrived, not yet admitted)"), status.get("in_transit"), derived["in_transit"]),
        (_("people held at their origin"), status.get("held_at_origin"), derived["held_at_origin"]),
    ]
    for place in sorted(facilities.keys() | derived["facilities"].keys()):
        ours = derived["facilities"].get(
            place, {"held": {e.value: 0 for e in Estate}, "received": 0, "awaiting_admission": 0}
        )
        theirs = facilities.get(place)
        if theirs is None:
            pairs.append((_("people held at {place}").format(place=place), _("no such facility"), ours["held"]))
            continue
        theirs_held = theirs.get("held")
        for estate in Estate:
            value = theirs_held.get(estate.value) if isinstance(theirs_held, dict) else None
            label = _("people held at {place} ({estate})").format(place=place, estate=estate.value)
            pairs.append((label, value, ours["held"][estate.value]))
        pairs.append((_("people received at {place}").format(place=place), theirs.get("received"), ours["received"]))
        pairs.append(
            (
                _("people awaiting admission at {place}").format(place=place),
                theirs.get("awaiting_admission"),
                ours["awaiting_admission"],
            )
        )
    for label, theirs_value, ours_value in pairs:
        if theirs_value != ours_value:
            raise Discrepancy(
                "counts-differ",
                _("counts: {what}: the server says {theirs}, the custody chains in the log give {ours}.").format(
                    what=label, theirs=_show(theirs_value), ours=_show(ours_value)
                ),
                path="status",
            )


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _show(value: object) -> str:
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return _("nothing") if value is None else str(value)


# --- 7. identities ------------------------------------------------------------------------------------------------

_IDENTITY_FIELDS = frozenset(
    {"aliases", "age_estimated", "birth_date", "mother_id", "name_ar", "name_latin", "nationalities", "sex"}
)


def parse_identity_records(data: bytes) -> dict[str, tuple[str, Mapping[str, Any]]]:
    """Identity records by person id: (salt hex, identity fields). JSON lines; a malformed line is a discrepancy."""
    records: dict[str, tuple[str, Mapping[str, Any]]] = {}
    try:
        lines = data.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        raise Discrepancy("bad-identity-record", _("identities: not UTF-8."), path="identities") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            person_id, salt, identity = record["person_id"], record["salt"], record["identity"]
            if not (isinstance(person_id, str) and isinstance(salt, str) and isinstance(identity, dict)):
                raise TypeError("person_id and salt must be strings, identity an object")
        except (ValueError, KeyError, TypeError) as error:
            raise Discrepancy(
                "bad-identity-record",
                _("identities, line {line}: not an identity record: {error}").format(line=number, error=error),
                path="identities",
            ) from None
        if person_id in records:
            raise Discrepancy(
                "bad-identity-record",
                _("identities, line {line}: a second record for person {person}.").format(
                    line=number, person=person_id
                ),
                path="identities",
                person_id=person_id,
            )
        records[person_id] = (salt, identity)
    return records


def identity_from_record(fields: Mapping[str, Any]) -> Identity:
    """The Identity a record's fields (as `Identity.canonical()` writes them) describe; ValueError if malformed."""
    if set(fields) != _IDENTITY_FIELDS:
        raise ValueError(f"fields {sorted(fields)} are not {sorted(_IDENTITY_FIELDS)}")
    strings = ("name_ar", "name_latin")
    lists = ("aliases", "nationalities")
    if not all(isinstance(fields[k], str) for k in strings):
        raise ValueError("names must be strings")
    if not all(isinstance(fields[k], list) and all(isinstance(v, str) for v in fields[k]) for k in lists):
        raise ValueError("aliases and nationalities must be lists of strings")
    if not isinstance(fields["age_estimated"], bool):
        raise ValueError("age_estimated must be true or false")
    born, mother = fields["birth_date"], fields["mother_id"]
    if not (born is None or isinstance(born, str)) or not (mother is None or isinstance(mother, str)):
        raise ValueError("birth_date and mother_id must be strings or null")
    return Identity(
        name_ar=fields["name_ar"],
        name_latin=fields["name_latin"],
        aliases=tuple(fields["aliases"]),
        sex=Sex(fields["sex"]),
        birth_date=date.fromisoformat(born) if born is not None else None,
        age_estimated=fields["age_estimated"],
        nationalities=tuple(fields["nationalities"]),
        mother_id=mother,
    )


def check_identities(records: Mapping[str, tuple[str, Mapping[str, Any]]], chains: Chains) -> int:
    """Every registration's identity commitment must equal commitment(record, salt); returns how many were checked.

    Registrations are checked in log order, so the verdict names the lowest bad index. Records for people the
    checkpointed tree does not hold yet (registered since) are not checked.
    """
    for person_id, (index, logged) in sorted(chains.registrations.items(), key=lambda item: item[1][0]):
        found = records.get(person_id)
        if found is None:
            raise Discrepancy(
                "identity-missing",
                _("person {person} (registered at log index {index}): no identity record.").format(
                    person=person_id, index=index
                ),
                index=index,
                person_id=person_id,
            )
        salt, fields = found
        try:
            computed = commitment(identity_from_record(fields), bytes.fromhex(salt))
        except ValueError as error:
            raise Discrepancy(
                "bad-identity-record",
                _("person {person} (registered at log index {index}): malformed identity record: {error}").format(
                    person=person_id, index=index, error=error
                ),
                index=index,
                person_id=person_id,
            ) from None
        if computed != logged:
            raise Discrepancy(
                "identity-mismatch",
                _(
                    "person {person} (registered at log index {index}): the identity record does not match the "
                    "commitment logged at registration: the record was changed or swapped."
                ).format(person=person_id, index=index),
                index=index,
                person_id=person_id,
            )
    return len(chains.registrations)
