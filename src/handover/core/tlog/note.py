"""C2SP signed-note with Ed25519 keys: the envelope our checkpoints travel in.

Byte-compatible with Go's golang.org/x/mod/sumdb/note, which witnesses and monitors written by others use: same key
strings (`PRIVATE+KEY+<name>+<keyid>+<data>` and `<name>+<keyid>+<data>`), same key IDs, same signature lines.

A note is text ending in a newline, a blank line, then one or more lines `— <key name> base64(key ID || signature)`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature as _BadEd25519Signature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from handover.core.tlog._codec import check_note_text, decode_base64, encode_base64

ED25519 = 0x01
"""Signature type byte for Ed25519 (C2SP signed-note, "Signature types")."""
SIGNATURE_PREFIX = "\u2014 "
"""Each signature line starts with an em dash (U+2014) and a space."""
MAX_SIGNATURES = 100
"""'Verifiers SHOULD apply a maximum limit to the number of signatures ... but MUST accept at least up to 16'; Go
takes 100, and so do we, so a note one of them accepts the other accepts too."""

_KEY_ID_HEX = re.compile(r"[0-9a-fA-F]{8}")  # Go parses the key ID with strconv.ParseUint(s, 16, 32): either case


class NoteError(ValueError):
    """Anything wrong with a signed note or a note key."""


class MalformedNote(NoteError):
    """The message is not a well-formed signed note (or the text cannot be signed as one)."""


class MalformedKey(NoteError):
    """A signer or verifier key string, or a key name, that does not follow the format."""


class InvalidSignature(NoteError):
    """A known key's signature does not verify: the note was altered, or signed by someone else."""

    def __init__(self, name: str, key_id: int) -> None:
        super().__init__(f"invalid signature for key {name}+{key_id:08x}")
        self.name = name
        self.key_id = key_id


class UnverifiedNote(NoteError):
    """A well-formed note with no signature from any key we know, so its text must be ignored."""

    def __init__(self, text: str, unverified: tuple[Signature, ...]) -> None:
        super().__init__("note has no signature from a known key")
        self.text = text
        self.unverified = unverified


def check_key_name(name: str) -> None:
    """'Key names MUST be non-empty and MUST NOT contain any Unicode spaces or plus (U+002B) characters.'

    Control characters are refused too: a note cannot carry them, so a key named with one could never sign.
    """
    if not isinstance(name, str) or not name:
        raise MalformedKey("a key name must be a non-empty string")
    try:
        check_note_text(name, "key name")
    except ValueError as exc:
        raise MalformedKey(str(exc)) from exc
    if "+" in name or any(char.isspace() for char in name):
        raise MalformedKey(f"key name {name!r} contains a space or a plus sign")


def key_id(name: str, public_key: bytes) -> int:
    """key ID = SHA-256(key name || 0x0A || 0x01 || 32-byte Ed25519 public key)[:4], as a big-endian uint32."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([ED25519]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


@dataclass(frozen=True, slots=True)
class Verifier:
    """A named Ed25519 public key that can check note signatures."""

    name: str
    public_key: bytes

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if not isinstance(self.public_key, bytes) or len(self.public_key) != 32:
            raise MalformedKey("an Ed25519 public key has 32 bytes")
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key)
        except ValueError as exc:
            raise MalformedKey("not an Ed25519 public key") from exc

    @property
    def key_id(self) -> int:
        return key_id(self.name, self.public_key)

    @property
    def vkey(self) -> str:
        """`<name>+<hex key ID>+<base64(0x01 || public key)>`."""
        return f"{self.name}+{self.key_id:08x}+{encode_base64(bytes([ED25519]) + self.public_key)}"

    @classmethod
    def from_vkey(cls, vkey: str) -> Verifier:
        parts = vkey.split("+", 2)  # the name has no '+'; base64 may
        if len(parts) != 3 or not _KEY_ID_HEX.fullmatch(parts[1]):
            raise MalformedKey("a verifier key reads <name>+<8 hex digits>+<base64 key>")
        name, claimed_id, data = parts[0], int(parts[1], 16), _decode_key_data(parts[2])
        verifier = cls(name, data)
        if verifier.key_id != claimed_id:
            raise MalformedKey(f"key ID {parts[1]} does not match the key")
        return verifier

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except _BadEd25519Signature:
            return False
        return True


@dataclass(frozen=True, slots=True)
class Signer:
    """A named Ed25519 private key. The seed stays out of repr() so it never lands in a log line."""

    name: str
    seed: bytes = field(repr=False)

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if not isinstance(self.seed, bytes) or len(self.seed) != 32:
            raise MalformedKey("an Ed25519 private key seed has 32 bytes")

    @classmethod
    def generate(cls, name: str) -> Signer:
        return cls(name, Ed25519PrivateKey.generate().private_bytes_raw())

    @classmethod
    def from_skey(cls, skey: str) -> Signer:
        """Parse `PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || seed)>`; the key ID must match the public key."""
        parts = skey.split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"] or not _KEY_ID_HEX.fullmatch(parts[3]):
            raise MalformedKey("a signer key reads PRIVATE+KEY+<name>+<8 hex digits>+<base64 key>")
        signer = cls(parts[2], _decode_key_data(parts[4]))
        if signer.key_id != int(parts[3], 16):
            raise MalformedKey(f"key ID {parts[3]} does not match the key")
        return signer

    @property
    def skey(self) -> str:
        """The secret key string. Whoever holds it can sign as this log."""
        return f"PRIVATE+KEY+{self.name}+{self.key_id:08x}+{encode_base64(bytes([ED25519]) + self.seed)}"

    @property
    def public_key(self) -> bytes:
        return Ed25519PrivateKey.from_private_bytes(self.seed).public_key().public_bytes_raw()

    @property
    def key_id(self) -> int:
        return key_id(self.name, self.public_key)

    @property
    def verifier(self) -> Verifier:
        return Verifier(self.name, self.public_key)

    def sign(self, message: bytes) -> bytes:
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)


@dataclass(frozen=True, slots=True)
class Signature:
    """One signature line: who signed (key name and ID) and the raw signature bytes (without the key ID)."""

    name: str
    key_id: int
    signature: bytes

    @property
    def line(self) -> str:
        """The signature line as it appears in a note, newline included."""
        encoded = encode_base64(self.key_id.to_bytes(4, "big") + self.signature)
        return f"{SIGNATURE_PREFIX}{self.name} {encoded}\n"


@dataclass(frozen=True, slots=True)
class Note:
    """An opened note: its text, the signatures known keys verified, and signatures from keys we do not know.

    The unknown ones are kept (a witness's cosignature, say) so the note can be passed on whole; never trust them.
    """

    text: str
    signatures: tuple[Signature, ...]
    unverified: tuple[Signature, ...] = ()


def sign(text: str, signers: Sequence[Signer]) -> str:
    """The signed note: text, a blank line, then one signature line per signer, in order."""
    if not text.endswith("\n"):
        raise MalformedNote("note text must end in a newline")
    try:
        check_note_text(text, "note text")
    except ValueError as exc:
        raise MalformedNote(str(exc)) from exc
    if not signers:
        raise MalformedNote("a signed note needs at least one signature")
    message = text.encode("utf-8")
    lines = [Signature(s.name, s.key_id, s.sign(message)).line for s in signers]
    return text + "\n" + "".join(lines)


def split_note(message: str) -> tuple[str, list[str]]:
    """Text and signature lines (newlines stripped) of a note, unverified: for parsing, never for trusting.

    'The note text includes the final newline but not the separating blank line. The note text MAY contain empty
    lines; the text is separated from the signatures by the last empty line in the note.'
    """
    try:
        check_note_text(message, "note")
    except ValueError as exc:
        raise MalformedNote(str(exc)) from exc
    split = message.rfind("\n\n")
    if split < 0:
        raise MalformedNote("no blank line before the signatures")
    text, block = message[: split + 1], message[split + 2 :]
    if not block.endswith("\n"):
        raise MalformedNote("a note ends with signature lines, each ending in a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedNote(f"more than {MAX_SIGNATURES} signatures")
    return text, lines


def open_note(message: str | bytes, verifiers: Iterable[Verifier]) -> Note:
    """Parse `message` and verify its signatures against `verifiers`; the returned text may then be trusted.

    Signatures from keys not in `verifiers` are ignored ('Verifiers MUST ignore signatures from unknown keys, even if
    they share a name or ID (but not both) with a known key'). Every signature from a known key must verify, and at
    least one must be present. Raises MalformedNote, InvalidSignature or UnverifiedNote.
    """
    if isinstance(message, bytes):
        try:
            message = message.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedNote("a note must be valid UTF-8") from exc
    known = _index_verifiers(verifiers)
    text, lines = split_note(message)
    payload = text.encode("utf-8")
    verified: dict[tuple[str, int], Signature] = {}
    unverified: dict[str, Signature] = {}
    for line in lines:
        signature = _parse_signature_line(line)
        verifier = known.get((signature.name, signature.key_id))
        if verifier is None:
            unverified.setdefault(line, signature)  # an identical line twice is kept once, as Go does
            continue
        # The spec says a known key's signature MUST be verified; unlike Go we check repeats as well.
        if not verifier.verify(payload, signature.signature):
            raise InvalidSignature(signature.name, signature.key_id)
        verified.setdefault((signature.name, signature.key_id), signature)
    if not verified:
        raise UnverifiedNote(text, tuple(unverified.values()))
    return Note(text, tuple(verified.values()), tuple(unverified.values()))


def _parse_signature_line(line: str) -> Signature:
    if not line.startswith(SIGNATURE_PREFIX):
        raise MalformedNote(f"signature line does not start with an em dash and a space: {line!r}")
    name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
    try:
        check_key_name(name)
        raw = decode_base64(encoded)
    except ValueError as exc:
        raise MalformedNote(f"malformed signature line {line!r}") from exc
    if len(raw) < 5:  # a key ID and at least one byte of signature
        raise MalformedNote(f"signature too short in {line!r}")
    return Signature(name, int.from_bytes(raw[:4], "big"), raw[4:])


def _decode_key_data(encoded: str) -> bytes:
    """The key bytes after the signature type byte, which must say Ed25519 (the only type we accept)."""
    try:
        data = decode_base64(encoded)
    except ValueError as exc:
        raise MalformedKey("key data is not base64") from exc
    if len(data) != 33 or data[0] != ED25519:
        raise MalformedKey("not an Ed25519 key (type byte 0x01 and 32 bytes)")
    return data[1:]


def _index_verifiers(verifiers: Iterable[Verifier]) -> dict[tuple[str, int], Verifier]:
    known: dict[tuple[str, int], Verifier] = {}
    for verifier in verifiers:
        slot = (verifier.name, verifier.key_id)
        if known.setdefault(slot, verifier) != verifier:
            # Two different keys with one name and ID: someone tampered with the key list. Refuse, as Go does.
            raise NoteError(f"ambiguous verifiers for key {verifier.name}+{verifier.key_id:08x}")
    return known
