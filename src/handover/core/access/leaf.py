"""The log leaf of an access entry: someone read a person's record. Its canonical bytes, and reading them back.

An access entry shares the log with custody events (one index sequence, one tree) and is told apart by its first
bytes: canonical JSON sorts keys by code point, so an access leaf always opens with `{"at":"` and a custody leaf
never does (its keys are `authority_id`, `corrects`, `details`, `event_id`, ...; `at` is not one of them, and its
decoder refuses unknown keys).

    {"at":"2026-01-22T09:00:00Z","kind":"access","person":"<id>","purpose":"consular","reader":"<id>","v":1}

Ids only, as everywhere in the log: the reader's random account id, the person's random id, a purpose code from a
fixed list (`handover.core.policy.access.Purpose`) and the time. No names, no free text (a stated reason stays in
the access_log table). The person id is under the key `person`, not `person_id`, so tools that find a custody
leaf's person without decoding it (`custody.leaf.person_keys`) do not take an access entry for a custody event.
Canonical JSON as in `custody.leaf`: RFC 8785 for these values, times RFC 3339 UTC with a `Z`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from handover.core.policy.access import Purpose

LEAF_VERSION = 1
KIND = "access"
PREFIX = b'{"at":"'

_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_UTC_Z
_KEYS = frozenset(("at", "kind", "person", "purpose", "reader", "v"))
_PURPOSES = {p.value: p for p in Purpose}


@dataclass(frozen=True, slots=True)
class AccessEntry:
    """One read of one person's record, as the log holds it."""

    reader_id: str
    person_id: str
    purpose: Purpose
    at: datetime


def is_access(leaf: bytes) -> bool:
    """Whether a leaf is an access entry (not a custody event), by its first bytes; `decode` still checks the rest."""
    return leaf.startswith(PREFIX)


def _time(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime in an access entry")
    return moment.astimezone(UTC)


def encode(entry: AccessEntry) -> bytes:
    for name, value in (("reader", entry.reader_id), ("person", entry.person_id)):
        if not value:
            raise ValueError(f"access entry without a {name} id")
    record: dict[str, Any] = {
        "v": LEAF_VERSION,
        "kind": KIND,
        "at": _time(entry.at),
        "reader": entry.reader_id,
        "person": entry.person_id,
        "purpose": Purpose(entry.purpose).value,
    }
    try:
        return orjson.dumps(record, option=_OPTIONS)
    except orjson.JSONEncodeError as error:
        raise ValueError(f"access entry cannot be encoded: {error}") from error


def decode(leaf: bytes) -> AccessEntry:
    """Read an access leaf back; refuses anything that is not exactly the canonical encoding of one."""
    try:
        record = orjson.loads(leaf)
    except orjson.JSONDecodeError as error:
        raise ValueError(f"leaf is not UTF-8 JSON: {error}") from error
    if type(record) is not dict or record.keys() != _KEYS:
        raise ValueError("leaf is not an access entry: wrong fields")
    if type(record["v"]) is not int or record["v"] != LEAF_VERSION or record["kind"] != KIND:
        raise ValueError("leaf is not a version-1 access entry")
    strings = ("at", "kind", "person", "purpose", "reader")
    if any(type(record[key]) is not str or not record[key] for key in strings):
        raise ValueError("access entry fields must be non-empty strings")
    purpose = _PURPOSES.get(record["purpose"])
    if purpose is None:
        raise ValueError(f"access entry has an unknown purpose {record['purpose']!r}")
    text = record["at"]
    if not text.endswith("Z"):
        raise ValueError(f"time {text!r} is not UTC with a Z")
    try:
        at = datetime.fromisoformat(text[:-1] + "+00:00")
    except ValueError as error:
        raise ValueError(f"access entry time {text!r}: {error}") from error
    entry = AccessEntry(record["reader"], record["person"], purpose, at)
    if encode(entry) != leaf:
        raise ValueError("leaf is not in canonical form")
    return entry
