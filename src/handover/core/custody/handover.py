"""Two-party handover documents: the counted list of people passing from one authority to another, signed by both.

The document is canonical JSON (the same rules as log leaves: sorted keys, no whitespace, UTF-8). Each officer signs
exactly these bytes with their own Ed25519 key, in the browser or offline; the server checks both signatures before
custody changes, and the custody events carry the document's SHA-256 so the log commits to what was signed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

DOCUMENT_VERSION = 1
_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


class DiscrepancyKind(StrEnum):
    MISSING = "missing"  # on the dispatching side's list, not present at the handover: custody does not pass
    EXTRA = "extra"  # present but not on the movement: recorded, custody does not pass by this document
    INJURY = "injury"  # handed over, with an injury noted by the receiving officer


class Side(StrEnum):
    DISPATCHING = "dispatching"
    RECEIVING = "receiving"


@dataclass(frozen=True, slots=True)
class Discrepancy:
    person_id: str
    kind: DiscrepancyKind
    note: str


@dataclass(frozen=True, slots=True)
class HandoverDocument:
    """What both officers sign. `people` are the ones whose custody passes (missing and extra ones are not)."""

    handover_id: str
    movement_id: str
    leg: int | None
    place_id: str
    occurred_at: datetime
    from_authority_id: str
    to_authority_id: str
    people: tuple[str, ...]
    discrepancies: tuple[Discrepancy, ...] = ()

    def counts(self) -> dict[str, int]:
        counted = {kind.value: 0 for kind in DiscrepancyKind}
        for line in self.discrepancies:
            counted[line.kind.value] += 1
        return {"handed_over": len(self.people), **counted}

    def canonical(self) -> bytes:
        if self.occurred_at.tzinfo is None:
            raise ValueError("a handover document's time must be timezone-aware")
        record = {
            "v": DOCUMENT_VERSION,
            "kind": "handover",
            "handover_id": self.handover_id,
            "movement_id": self.movement_id,
            "leg": self.leg,
            "place_id": self.place_id,
            "occurred_at": self.occurred_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "from_authority": self.from_authority_id,
            "to_authority": self.to_authority_id,
            "people": sorted(self.people),
            "counts": self.counts(),
            "discrepancies": [
                {"person_id": d.person_id, "kind": d.kind.value, "note": d.note}
                for d in sorted(self.discrepancies, key=lambda d: (d.person_id, d.kind.value))
            ],
        }
        return _CANONICAL.encode(record).encode()

    def digest(self) -> str:
        return hashlib.sha256(self.canonical()).hexdigest()


class BadKey(ValueError):
    pass


def public_key(text: str) -> bytes:
    """An officer's public key: base64 of the 32 raw Ed25519 bytes. Refuses anything else."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise BadKey("a public key is the base64 of 32 raw Ed25519 bytes") from None
    if len(raw) != 32:
        raise BadKey("a public key is the base64 of 32 raw Ed25519 bytes")
    try:
        Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise BadKey("not an Ed25519 public key") from None
    return raw


def signature_valid(key: bytes, signature: bytes, document: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(signature, document)
    except (InvalidSignature, ValueError):
        return False
    return True


def sign(seed: bytes, document: bytes) -> bytes:
    """An officer's signature over a document, with the 32-byte seed of their key (on their own device)."""
    return Ed25519PrivateKey.from_private_bytes(seed).sign(document)


def public_key_of(seed: bytes) -> str:
    """The base64 public key for a 32-byte seed, as officers are registered with it."""
    return base64.b64encode(Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()).decode()
