"""The log leaf of a custody event: its canonical bytes.

Canonical JSON in the sense of RFC 8785 (JCS) for the values events hold (strings, one integer, null-free objects):
keys sorted by code point, no insignificant whitespace, UTF-8, strings escaped as JSON requires and no more. Fields
that are empty are left out, so an event has exactly one encoding. Times are RFC 3339 in UTC with a `Z`.
People appear by random id only; a registration carries the salted identity commitment, never the identity.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from handover.core.custody.events import CustodyEvent, EventType

LEAF_VERSION = 1
# One encoder for all leaves: json.dumps with options builds a new encoder on every call, a measurable cost here.
# ensure_ascii=False keeps non-ASCII as UTF-8, as JCS requires; sort_keys orders by code point for these keys.
_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _time(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime in a custody event")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@lru_cache(maxsize=65536)
def _parse_time(text: str) -> datetime:
    """A leaf's time, refused unless it is exactly how `encode` writes it (cached: batches share their times)."""
    if not text.endswith("Z"):
        raise ValueError(f"time {text!r} is not UTC with a Z")
    moment = datetime.fromisoformat(text[:-1] + "+00:00")
    if _time(moment) != text:
        raise ValueError(f"time {text!r} is not in canonical form")
    return moment


def encode(event: CustodyEvent) -> bytes:
    record: dict[str, Any] = {
        "v": LEAF_VERSION,
        "event_id": event.event_id,
        "person_id": event.person_id,
        "type": event.type.value,
        "occurred_at": _time(event.occurred_at),
        "recorded_at": _time(event.recorded_at),
    }
    for key in ("facility_id", "authority_id", "movement_id", "corrects"):
        value = getattr(event, key)
        if value is not None:
            record[key] = value
    if event.details:
        record["details"] = dict(event.details)
    return _CANONICAL.encode(record).encode()


_REQUIRED = ("event_id", "person_id", "type", "occurred_at", "recorded_at")
_OPTIONAL = ("facility_id", "authority_id", "movement_id", "corrects")
_KEYS = frozenset(("v", "details", *_REQUIRED, *_OPTIONAL))
_TYPES = {kind.value: kind for kind in EventType}


def decode(leaf: bytes) -> CustodyEvent:
    """Read a leaf back into an event; refuses anything that is not exactly the canonical encoding.

    A monitor decodes every entry of the log, so this checks canonical form on the parsed object (same bytes when
    re-encoded, only known keys, strings where strings belong, canonical times) rather than building the event
    and encoding it again.
    """
    try:
        record = json.loads(leaf)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"leaf is not UTF-8 JSON: {error}") from error
    if not isinstance(record, dict) or record.get("v") != LEAF_VERSION or type(record["v"]) is not int:
        raise ValueError("leaf is not a version-1 custody event")
    if not record.keys() <= _KEYS:
        raise ValueError(f"leaf has unknown fields: {sorted(record.keys() - _KEYS)}")
    texts = [record.get(key) for key in _REQUIRED] + [record[key] for key in _OPTIONAL if key in record]
    if not all(isinstance(value, str) for value in texts):
        raise ValueError("leaf fields must be strings (absent when empty)")
    details = record.get("details", {})
    if not isinstance(details, dict) or ("details" in record and not details):
        raise ValueError("leaf details must be a non-empty object (absent when empty)")
    if not all(isinstance(v, str) for v in details.values()):
        raise ValueError("leaf details must be an object of strings")
    if _CANONICAL.encode(record).encode() != leaf:
        raise ValueError("leaf is not in canonical form")
    kind = _TYPES.get(record["type"])
    if kind is None:
        raise ValueError(f"leaf has an unknown event type {record['type']!r}")
    try:
        return CustodyEvent(
            event_id=record["event_id"],
            person_id=record["person_id"],
            type=kind,
            occurred_at=_parse_time(record["occurred_at"]),
            recorded_at=_parse_time(record["recorded_at"]),
            facility_id=record.get("facility_id"),
            authority_id=record.get("authority_id"),
            movement_id=record.get("movement_id"),
            corrects=record.get("corrects"),
            details=tuple(details.items()),  # already sorted: the canonical check above passed
        )
    except ValueError as error:
        raise ValueError(f"leaf is not a valid custody event: {error}") from error
