"""Handover documents: one canonical encoding, signatures that fail on any change, keys refused when malformed."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handover.core.custody.handover import (
    BadKey,
    Discrepancy,
    DiscrepancyKind,
    HandoverDocument,
    public_key,
    public_key_of,
    sign,
    signature_valid,
)

SEED = bytes(range(32))
AT = datetime(2026, 1, 26, 22, 30, tzinfo=UTC)


def document(**changes: object) -> HandoverDocument:
    values: dict[str, object] = {
        "handover_id": "h-1",
        "movement_id": "m-1",
        "leg": 2,
        "place_id": "rabia",
        "occurred_at": AT,
        "from_authority_id": "us-centcom",
        "to_authority_id": "iq-cts",
        "people": ("p2", "p1"),
        "discrepancies": (
            Discrepancy("p3", DiscrepancyKind.MISSING, ""),
            Discrepancy("p1", DiscrepancyKind.INJURY, "bruised wrist"),
        ),
    }
    values.update(changes)
    return HandoverDocument(**values)  # type: ignore[arg-type]


def test_the_document_is_canonical_json_with_counts() -> None:
    text = document().canonical()
    assert json.loads(text)["counts"] == {"handed_over": 2, "missing": 1, "extra": 0, "injury": 1}
    assert json.loads(text)["people"] == ["p1", "p2"]
    assert text == json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    # The same handover in another order or another timezone is the same document.
    same = document(people=("p1", "p2"), occurred_at=AT.astimezone(timezone(timedelta(hours=3))))
    assert same.canonical() == text and same.digest() == document().digest()
    with pytest.raises(ValueError, match="timezone"):
        document(occurred_at=AT.replace(tzinfo=None)).canonical()


@settings(max_examples=100, deadline=None)
@given(position=st.integers(0, 10_000), bit=st.integers(0, 7))
def test_any_changed_byte_breaks_the_signature(position: int, bit: int) -> None:
    text = document().canonical()
    key = base64.b64decode(public_key_of(SEED))
    signature = sign(SEED, text)
    assert signature_valid(key, signature, text)
    changed = bytearray(text)
    changed[position % len(text)] ^= 1 << bit
    assert not signature_valid(key, signature, bytes(changed))
    assert not signature_valid(base64.b64decode(public_key_of(bytes(32))), signature, text)


def test_public_keys_must_be_32_raw_bytes_in_base64() -> None:
    assert public_key(public_key_of(SEED)) == base64.b64decode(public_key_of(SEED))
    for bad in ("", "not base64!", base64.b64encode(b"short").decode(), base64.b64encode(bytes(33)).decode()):
        with pytest.raises(BadKey):
            public_key(bad)
