"""C2SP tlog-checkpoint: the note text in which a log states its origin, size and root hash.

    example.com/behind-the-sofa
    20852163
    CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

Parsing is strict: only the one canonical spelling of each value is accepted, so `Checkpoint.parse(text).body()`
gives back `text` exactly, and what we accept other verifiers (Go's among them) accept too.
"""

from __future__ import annotations

from dataclasses import dataclass

from handover.core.tlog._codec import UINT64_MAX, check_note_text, decode_base64, decode_decimal, encode_base64
from handover.core.tlog.hashing import HASH_SIZE


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A log's statement of its tree: origin (the log's identity), size (number of leaves) and root hash."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # 'The origin MUST be non-empty'; every line must be one line of a note ('Extension lines ... MUST be
        # non-empty').
        for what, line in [("origin", self.origin), *(("extension line", ext) for ext in self.extensions)]:
            if not isinstance(line, str) or not line or "\n" in line:
                raise ValueError(f"checkpoint {what} must be one non-empty line, not {line!r}")
            check_note_text(line, f"checkpoint {what}")
        if not isinstance(self.size, int) or isinstance(self.size, bool) or not 0 <= self.size <= UINT64_MAX:
            raise ValueError(f"checkpoint size must be an integer 0..{UINT64_MAX}, not {self.size!r}")
        if not isinstance(self.root, bytes) or len(self.root) != HASH_SIZE:
            raise ValueError(f"checkpoint root must be a {HASH_SIZE}-byte hash")
        if not isinstance(self.extensions, tuple):
            raise ValueError("checkpoint extensions must be a tuple of lines")

    def body(self) -> str:
        """The note text: origin, decimal size, base64 root, then any extension lines, each ending in a newline."""
        lines = [self.origin, str(self.size), encode_base64(self.root), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, body: str) -> Checkpoint:
        """The checkpoint a note text states; ValueError on anything but the canonical form.

        'The note text is a sequence of at least three non-empty lines, separated by newlines (U+000A).' The size has
        'no leading zeroes (unless the tree is empty, in which case the tree size is 0)'.
        """
        if not isinstance(body, str) or not body.endswith("\n"):
            raise ValueError("a checkpoint body ends in a newline")
        lines = body[:-1].split("\n")
        if len(lines) < 3:
            raise ValueError("a checkpoint has an origin, a size and a root hash line")
        origin, size, root, *extensions = lines
        try:
            size_value = decode_decimal(size)
        except ValueError as exc:
            raise ValueError(f"checkpoint size {size!r} is not a canonical decimal up to {UINT64_MAX}") from exc
        try:
            root_hash = decode_base64(root)
        except ValueError as exc:
            raise ValueError(f"checkpoint root {root!r} is not canonical base64") from exc
        return cls(origin, size_value, root_hash, tuple(extensions))


def parse_checkpoint(body: str) -> Checkpoint:
    """`Checkpoint.parse`, as a function."""
    return Checkpoint.parse(body)
