"""What a monitor checks on a page: the latest signed checkpoint, and each event's inclusion proof checked against it.

The check is the pure core's: `check_inclusion(proof, size, root, index, leaf_hash(leaf.encode(event)))`, with the
size and root of the *stored signed checkpoint*, never the live tree. So an event row edited after signing, or a
stored hash rewritten after signing, makes the affected proofs fail instead of quietly agreeing with itself.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from handover.core.custody import leaf
from handover.core.tlog.checkpoint import Checkpoint
from handover.core.tlog.hashing import leaf_hash
from handover.core.tlog.note import SIGNATURE_PREFIX, NoteError, UnverifiedNote, Verifier, open_note, split_note
from handover.core.tlog.tree import check_inclusion
from handover.i18n import _
from handover.services import log
from handover.services.ports import StoredEvent, UnitOfWork


@dataclass(frozen=True, slots=True)
class NoteKey:
    """A key named on a signature line of a note: its name and 32-bit key ID (read, not verified)."""

    name: str
    key_id: int

    @property
    def key_id_hex(self) -> str:
        return f"{self.key_id:08x}"


@dataclass(frozen=True, slots=True)
class CheckpointView:
    """The latest signed checkpoint as stored, with what can be read and checked about it here.

    `note_matches`: the signed note states the stored size and root. `signature_verified`: True or False when the
    server's own key was given and signed the note; None when there was no key to check with, or the note carries
    no signature from it. `log_size` is the log's size in the same transaction.
    """

    size: int
    root: bytes
    signed_at: datetime
    note: str
    origin: str | None
    keys: tuple[NoteKey, ...]
    note_matches: bool
    signature_verified: bool | None
    log_size: int

    @property
    def root_b64(self) -> str:
        return base64.b64encode(self.root).decode()

    @property
    def after(self) -> int:
        """Events recorded after the checkpoint: the next one will include them."""
        return max(0, self.log_size - self.size)

    @property
    def key(self) -> NoteKey | None:
        """The log's own key: the signature whose name is the checkpoint's origin (else the first one)."""
        for key in self.keys:
            if key.name == self.origin:
                return key
        return self.keys[0] if self.keys else None


def _note_keys(lines: Sequence[str]) -> tuple[NoteKey, ...]:
    """Key names and IDs from signature lines `— <name> base64(key ID || signature)`; malformed lines are skipped."""
    keys = []
    for line in lines:
        if not line.startswith(SIGNATURE_PREFIX):
            continue
        name, _sep, blob = line.removeprefix(SIGNATURE_PREFIX).partition(" ")
        try:
            raw = base64.b64decode(blob, validate=True)
        except (binascii.Error, ValueError):
            continue
        if name and len(raw) > 4:
            keys.append(NoteKey(name, int.from_bytes(raw[:4], "big")))
    return tuple(keys)


def checkpoint_view(uow: UnitOfWork, verifier: Verifier | None = None) -> CheckpointView | None:
    """The latest checkpoint, or None before the first one is signed. `verifier`: the server's key, if it has one."""
    stored = uow.log.latest_checkpoint()
    if stored is None:
        return None
    origin: str | None = None
    keys: tuple[NoteKey, ...] = ()
    note_matches = False
    try:
        text, lines = split_note(stored.note)
        keys = _note_keys(lines)
        stated = Checkpoint.parse(text)
        origin = stated.origin
        note_matches = stated.size == stored.size and stated.root == stored.root
    except ValueError:
        pass  # a stored note that does not parse states nothing: note_matches stays False
    signature_verified: bool | None = None
    if verifier is not None:
        try:
            open_note(stored.note, [verifier])
            signature_verified = True
        except UnverifiedNote:
            signature_verified = None  # signed by another key (an earlier one, say): nothing to say here
        except NoteError:
            signature_verified = False
    return CheckpointView(
        size=stored.size,
        root=stored.root,
        signed_at=stored.signed_at,
        note=stored.note,
        origin=origin,
        keys=keys,
        note_matches=note_matches,
        signature_verified=signature_verified,
        log_size=uow.custody.size(),
    )


class Inclusion(StrEnum):
    VERIFIED = "verified"  # the proof puts this event, as stored now, in the signed tree
    PENDING = "pending"  # recorded after the latest checkpoint (or before any was signed)
    FAILED = "failed"  # inside the checkpoint, but the proof does not verify: tampering, or a broken store


@dataclass(frozen=True, slots=True)
class EventInclusion:
    """One event's inclusion proof against the latest checkpoint, and the verdict of checking it."""

    seq: int
    event_id: str
    leaf_hash: bytes
    status: Inclusion
    checkpoint_size: int | None
    proof: tuple[bytes, ...] = ()
    problem: str = ""  # why it failed, when it did

    @property
    def in_checkpoint(self) -> bool:
        return self.checkpoint_size is not None and self.seq < self.checkpoint_size


def event_inclusions(
    uow: UnitOfWork, events: Sequence[StoredEvent], checkpoint: CheckpointView | None
) -> list[EventInclusion]:
    """For each event: its proof from the store, checked by the pure core against the stored checkpoint's root."""
    return [_inclusion(uow, stored, checkpoint) for stored in events]


def _inclusion(uow: UnitOfWork, stored: StoredEvent, checkpoint: CheckpointView | None) -> EventInclusion:
    seq, event_id = stored.seq, stored.event.event_id
    size = checkpoint.size if checkpoint is not None else None
    try:
        hashed = leaf_hash(leaf.encode(stored.event))
    except ValueError as error:
        problem = _("The event cannot be encoded as a log entry: {error}").format(error=error)
        return EventInclusion(seq, event_id, b"", Inclusion.FAILED, size, problem=problem)
    if checkpoint is None or seq >= checkpoint.size:
        return EventInclusion(seq, event_id, hashed, Inclusion.PENDING, size)
    try:
        proof = tuple(log.inclusion_proof(uow, seq, checkpoint.size))
    except (ValueError, LookupError) as error:
        # The store cannot even produce a proof: hashes missing, or the log is shorter than its checkpoint.
        problem = _("The log cannot produce a proof: {error}").format(error=error)
        return EventInclusion(seq, event_id, hashed, Inclusion.FAILED, size, problem=problem)
    if check_inclusion(proof, checkpoint.size, checkpoint.root, seq, hashed):
        return EventInclusion(seq, event_id, hashed, Inclusion.VERIFIED, size, proof)
    problem = _(
        "The proof does not lead from this event to the signed root: the event or the stored tree changed after "
        "the checkpoint was signed."
    )
    return EventInclusion(seq, event_id, hashed, Inclusion.FAILED, size, proof, problem)
