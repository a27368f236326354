"""C2SP tlog-proof: an offline proof that an entry is in a log, checkable without asking the log anything.

    c2sp.org/tlog-proof@v1
    extra <base64 opaque data>            (optional)
    index <decimal leaf index>
    <base64 hash>                         (zero or more: the inclusion proof, leaf's sibling first)

    <the signed checkpoint note, verbatim>

Checking one takes three steps, the first two being the caller's (they hold the log's key and origin):
`open_note(proof.checkpoint, verifiers)`, `Checkpoint.parse(note.text)` and a check of its origin, then
`verify_proof(proof, leaf_hash, checkpoint)`.
"""

from __future__ import annotations

from dataclasses import dataclass

from handover.core.tlog._codec import UINT64_MAX, decode_base64, decode_decimal, encode_base64
from handover.core.tlog.checkpoint import Checkpoint
from handover.core.tlog.hashing import HASH_SIZE
from handover.core.tlog.note import split_note
from handover.core.tlog.tree import check_inclusion

HEADER = "c2sp.org/tlog-proof@v1"
"""'The first line MUST be the string c2sp.org/tlog-proof@v1.'"""
FILE_EXTENSION = ".tlog-proof"
"""'Proofs SHOULD be stored with file extension .tlog-proof.'"""


@dataclass(frozen=True, slots=True)
class TlogProof:
    """Leaf `index`, its inclusion `hashes` in the checkpointed tree, the signed `checkpoint` note, optional `extra`.

    `extra` is not authenticated by anything: 'Applications MUST NOT implicitly trust the extra data'.
    """

    index: int
    hashes: tuple[bytes, ...]
    checkpoint: str
    extra: bytes | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.index, int) or isinstance(self.index, bool) or not 0 <= self.index <= UINT64_MAX:
            raise ValueError(f"proof index must be an integer 0..{UINT64_MAX}, not {self.index!r}")
        if not isinstance(self.hashes, tuple):
            raise ValueError("proof hashes must be a tuple")
        for value in self.hashes:
            if not isinstance(value, bytes) or len(value) != HASH_SIZE:
                raise ValueError(f"every proof hash has {HASH_SIZE} bytes")
        if self.extra is not None and not isinstance(self.extra, bytes):
            raise ValueError("proof extra data must be bytes or None")
        split_note(self.checkpoint)  # a well-formed signed note (not yet verified: that is the caller's step)

    def encode(self) -> str:
        lines = [HEADER]
        if self.extra is not None:
            lines.append(f"extra {encode_base64(self.extra)}")
        lines.append(f"index {self.index}")
        lines.extend(encode_base64(value) for value in self.hashes)
        # 'After the inclusion proof lines and an empty line, the checkpoint issued by the log is included verbatim'
        return "".join(line + "\n" for line in lines) + "\n" + self.checkpoint

    @classmethod
    def parse(cls, text: str) -> TlogProof:
        """The proof in `text`; ValueError unless every line is exactly as the format spells it."""
        # Every proof line is non-empty and a checkpoint note starts with its non-empty origin line, so the first
        # empty line is the one that separates them.
        head, blank, checkpoint = text.partition("\n\n")
        if not blank:
            raise ValueError("no empty line between the inclusion proof and the checkpoint")
        lines = head.split("\n")
        if lines[0] != HEADER:
            raise ValueError(f"a tlog proof starts with the line {HEADER!r}")
        position = 1
        extra = None
        if position < len(lines) and lines[position].startswith("extra "):
            extra = decode_base64(lines[position].removeprefix("extra "))
            position += 1
        if position == len(lines) or not lines[position].startswith("index "):
            raise ValueError("a tlog proof names the entry's index on the line after the header (or extra data)")
        index = decode_decimal(lines[position].removeprefix("index "))
        hashes = tuple(decode_base64(line) for line in lines[position + 1 :])
        return cls(index, hashes, checkpoint, extra)


def parse_proof(text: str) -> TlogProof:
    """`TlogProof.parse`, as a function."""
    return TlogProof.parse(text)


def verify_proof(proof: TlogProof, leaf_hash: bytes, checkpoint: Checkpoint) -> bool:
    """True if `proof` puts `leaf_hash` at `proof.index` in the tree `checkpoint` describes.

    `checkpoint` must be the one the proof carries (parsed from its opened note); a different one gives False, so a
    proof cannot be checked against a checkpoint whose signature was verified elsewhere.
    """
    text, _ = split_note(proof.checkpoint)
    if text != checkpoint.body():
        return False
    return check_inclusion(proof.hashes, checkpoint.size, checkpoint.root, proof.index, leaf_hash)
