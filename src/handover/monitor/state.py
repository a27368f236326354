"""The monitor's memory: the last checkpoint it verified, in a local JSON file.

A log that rewrites its history can sign a fresh, perfectly valid checkpoint over the new one; only someone who saw an
earlier checkpoint can tell. So after every successful run the monitor keeps the checkpoint it verified, and the next
run requires the new tree to extend it (recomputed from the entries, which the monitor holds in full).

Besides origin, size, root and the signed note, the file keeps the hashes of the complete subtrees the old tree is
made of (at most 64): when the history was rewritten they narrow down where, without keeping any entries.

    {"version": 1, "origin": "...", "size": 130, "root": "<hex>", "note": "<signed note>",
     "verified_at": "2026-01-21T06:00:00+00:00", "subtrees": ["<hex>", ...]}
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from handover.core.tlog.checkpoint import Checkpoint
from handover.core.tlog.hashing import EMPTY_ROOT, HASH_SIZE, node_hash
from handover.core.tlog.note import NoteError, Verifier, open_note
from handover.i18n import _

STATE_VERSION = 1


class StateFileError(Exception):
    """The state file cannot be read, or holds something this key never signed: fix or move it, then run again."""


@dataclass(frozen=True, slots=True)
class VerifiedCheckpoint:
    """A checkpoint this monitor verified: the log's signed statement and when we checked it."""

    origin: str
    size: int
    root: bytes
    note: str
    verified_at: str
    subtrees: tuple[bytes, ...]
    """MTH of each range of `subtree_ranges(size)`, left to right."""

    def as_json(self) -> dict[str, object]:
        return {
            "version": STATE_VERSION,
            "origin": self.origin,
            "size": self.size,
            "root": self.root.hex(),
            "note": self.note,
            "verified_at": self.verified_at,
            "subtrees": [h.hex() for h in self.subtrees],
        }


def subtree_ranges(size: int) -> list[tuple[int, int]]:
    """The complete subtrees [start, end) a tree of `size` leaves is made of, largest first (RFC 9162's splits)."""
    ranges = []
    start = 0
    while start < size:
        width = 1 << ((size - start).bit_length() - 1)
        ranges.append((start, start + width))
        start += width
    return ranges


def root_of_subtrees(hashes: Sequence[bytes]) -> bytes:
    """The tree hash from its complete subtrees' hashes: RFC 9162 hashes them together from the right."""
    if not hashes:
        return EMPTY_ROOT
    result = hashes[-1]
    for part in reversed(hashes[:-1]):
        result = node_hash(part, result)
    return result


def default_state_path(origin: str, environ: Mapping[str, str] | None = None) -> Path:
    """`$XDG_STATE_HOME/handover/verify-<origin hash>.json`, XDG_STATE_HOME defaulting to ~/.local/state."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_STATE_HOME", "")
    # The XDG spec: a relative path in the variable is invalid and must be ignored.
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".local" / "state"
    digest = hashlib.sha256(origin.encode("utf-8")).hexdigest()[:16]
    return root / "handover" / f"verify-{digest}.json"


def load_state(path: Path, verifier: Verifier) -> VerifiedCheckpoint | None:
    """The checkpoint verified last, or None if there is no state file yet.

    The file is ours, but it is checked as strictly as anything else: its note must still open with the key and say
    what the file says, and its subtree hashes must make up its root. Raises StateFileError otherwise.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise StateFileError(_("Cannot read the state file {path}: {error}").format(path=path, error=error)) from None
    try:
        return _parse(json.loads(text), verifier)
    except (ValueError, KeyError, TypeError, NoteError) as error:
        raise StateFileError(
            _(
                "The state file {path} is not a checkpoint this key signed ({error}); move it away to start afresh."
            ).format(path=path, error=error)
        ) from None


def _parse(record: object, verifier: Verifier) -> VerifiedCheckpoint:
    if not isinstance(record, dict) or record.get("version") != STATE_VERSION:
        raise ValueError(f"not a version {STATE_VERSION} state file")
    origin, size, note, verified_at = record["origin"], record["size"], record["note"], record["verified_at"]
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ValueError("size is not a tree size")
    if not (isinstance(origin, str) and isinstance(note, str) and isinstance(verified_at, str)):
        raise ValueError("origin, note and verified_at must be strings")
    root = bytes.fromhex(record["root"])
    subtrees = tuple(bytes.fromhex(h) for h in record["subtrees"])
    checkpoint = Checkpoint.parse(open_note(note, [verifier]).text)
    if (checkpoint.origin, checkpoint.size, checkpoint.root) != (origin, size, root):
        raise ValueError("the signed note says something else than the file")
    if len(subtrees) != len(subtree_ranges(size)) or any(len(h) != HASH_SIZE for h in subtrees):
        raise ValueError("wrong number or size of subtree hashes")
    if root_of_subtrees(subtrees) != root:
        raise ValueError("the subtree hashes do not make up the root")
    return VerifiedCheckpoint(origin, size, root, note, verified_at, subtrees)


def save_state(path: Path, state: VerifiedCheckpoint) -> None:
    """Write the state file atomically (a crash leaves the old one or the new one, never half of either)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(state.as_json(), indent=2, ensure_ascii=False) + "\n"
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
