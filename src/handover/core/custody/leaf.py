"""The log leaf of a custody event: its canonical bytes.

Canonical JSON in the sense of RFC 8785 (JCS) for the values events hold (strings, one integer, null-free objects):
keys sorted by code point, no insignificant whitespace, UTF-8, strings escaped as JSON requires and no more. Fields
that are empty are left out, so an event has exactly one encoding. Times are RFC 3339 in UTC with a `Z`.
People appear by random id only; a registration carries the salted identity commitment, never the identity.

orjson writes exactly these bytes (tests/core/test_leaf.py holds it to the standard library's encoder with
`ensure_ascii=False, sort_keys=True` and compact separators, the encoder the first logs were written with), several
times faster, and a monitor reads every leaf of the log.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson

from handover.core.custody.events import CustodyEvent, EventType
from handover.core.frozen import fast_constructor

LEAF_VERSION = 1


# OPT_UTC_Z writes a UTC time as RFC 3339 with a `Z` (seconds, then microseconds only when there are some), as
# `datetime.isoformat` would with `+00:00` replaced.
_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_UTC_Z


def _canonical(record: dict[str, Any]) -> bytes:
    try:
        return orjson.dumps(record, option=_OPTIONS)
    except orjson.JSONEncodeError as error:  # a lone surrogate: text that UTF-8 cannot carry
        raise ValueError(f"custody event cannot be encoded: {error}") from error


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime in a custody event")
    return moment.astimezone(UTC)


def _time(moment: datetime) -> str:
    return orjson.dumps(_utc(moment), option=_OPTIONS)[1:-1].decode()


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
        "occurred_at": _utc(event.occurred_at),
        "recorded_at": _utc(event.recorded_at),
    }
    for key in ("facility_id", "authority_id", "movement_id", "corrects"):
        value = getattr(event, key)
        if value is not None:
            record[key] = value
    if event.details:
        record["details"] = dict(event.details)
    return _canonical(record)


_REQUIRED = frozenset(("event_id", "person_id", "type", "occurred_at", "recorded_at"))
_KEYS = _REQUIRED | {"v", "details", "facility_id", "authority_id", "movement_id", "corrects"}
_TYPES = {kind.value: kind for kind in EventType}


def decode(leaf: bytes) -> CustodyEvent:
    """Read a leaf back into an event; refuses anything that is not exactly the canonical encoding.

    A monitor decodes every entry of the log, so this checks canonical form on the parsed object (same bytes when
    re-encoded, only known keys, strings where strings belong, canonical times) rather than building the event
    and encoding it again. A leaf of a shape accepted before goes to that shape's own decoder (see `_SHAPES`).
    """
    try:
        record = orjson.loads(leaf)
    except orjson.JSONDecodeError as error:
        raise ValueError(f"leaf is not UTF-8 JSON: {error}") from error
    if type(record) is dict:
        shape = tuple(record)
        if shape in _SHAPES:
            return _decoder(shape)(record, leaf)
    return _decode_checked(record, leaf)


def _decode_checked(record: Any, leaf: bytes) -> CustodyEvent:
    """`decode` for a leaf of a new shape, or one whose values are not all of the types its fields need: every
    field checked one by one. The checks, and the order they are made in, are the shape decoders' (`_decoder`)."""
    _check_fields(record)
    # Cannot raise: by now the record is strings, one int and one object of strings, all as orjson read them.
    if orjson.dumps(record, option=_OPTIONS) != leaf:
        raise ValueError("leaf is not in canonical form")
    kind = _TYPES.get(record["type"])
    if kind is None:
        raise ValueError(f"leaf has an unknown event type {record['type']!r}")
    try:
        occurred, recorded = _parse_time(record["occurred_at"]), _parse_time(record["recorded_at"])
    except ValueError as error:
        raise ValueError(f"leaf is not a valid custody event: {error}") from error
    _SHAPES.add(tuple(record))
    get = record.get
    return _event(
        record["event_id"],
        record["person_id"],
        kind,
        occurred,
        recorded,
        get("facility_id"),
        get("authority_id"),
        get("movement_id"),
        get("corrects"),
        tuple(record.get("details", _NO_DETAILS).items()),  # already sorted: the canonical check above passed
    )


_SHAPES: set[tuple[str, ...]] = set()
"""The shapes of the leaves accepted so far: their fields, in order. Only canonical leaves are added (their fields
known, in sorted order), so there are at most 32 shapes: which of the five optional fields a leaf has."""


@lru_cache(maxsize=64)
def _decoder(shape: tuple[str, ...]) -> Callable[[dict[str, Any], bytes], CustodyEvent]:
    """`_decode_checked` for leaves of one accepted shape, generated as `fast_constructor` generates a constructor.

    The shape fixes where each field is, so the values are unpacked into locals in one step and each is checked for
    its type alone (a string, the version 1, the details an object of strings): the checks `_check_fields` makes
    of the fields' names are already made. A leaf whose values are not all of those types is checked as one of a
    new shape, for the verdict to be the same whatever shapes came before it. Every field lookup and check by name
    would cost a monitor, which decodes every entry of the log, more than parsing the leaf does.
    """
    if not set(shape) <= _KEYS:
        raise ValueError(f"not a shape of leaf: {shape}")  # pragma: no cover - only accepted shapes come here
    names = {key: f"f_{key}" for key in shape}
    typed = []
    for key, name in names.items():
        if key == "v":
            typed.append(f"type({name}) is int and {name} == {LEAF_VERSION}")
        elif key == "details":
            typed.append(
                f"type({name}) is dict and {name} and list(map(type, {name}.values())).count(str) == len({name})"
            )
        else:
            typed.append(f"type({name}) is str")
    optional = [names.get(key, "None") for key in ("facility_id", "authority_id", "movement_id", "corrects")]
    details = f"tuple({names['details']}.items())" if "details" in names else "()"
    lines = [
        "def decode(record, leaf):",
        f"    {', '.join(names.values())}, = record.values()",
        f"    if not ({' and '.join(typed)}):",
        "        return checked(record, leaf)",
        "    if dumps(record, option=options) != leaf:",
        "        raise ValueError('leaf is not in canonical form')",
        f"    kind = types.get({names['type']})",
        "    if kind is None:",
        f"        raise ValueError(f'leaf has an unknown event type {{{names['type']}!r}}')",
        "    try:",
        f"        occurred, recorded = parse_time({names['occurred_at']}), parse_time({names['recorded_at']})",
        "    except ValueError as error:",
        "        raise ValueError(f'leaf is not a valid custody event: {error}') from error",
        f"    return event({names['event_id']}, {names['person_id']}, kind, occurred, recorded, {', '.join(optional)},"
        f" {details})",
    ]
    namespace: dict[str, Any] = {
        "checked": _decode_checked,
        "dumps": orjson.dumps,
        "options": _OPTIONS,
        "types": _TYPES,
        "parse_time": _parse_time,
        "event": _event,
    }
    exec("\n".join(lines), namespace)
    decode: Callable[[dict[str, Any], bytes], CustodyEvent] = namespace["decode"]
    return decode


_NO_DETAILS: dict[str, str] = {}


def _check_fields(record: Any) -> None:
    """Refuse a parsed leaf whose fields are not an event's: unknown or missing fields, or values of the wrong types."""
    if type(record) is not dict or record.get("v") != LEAF_VERSION or type(record["v"]) is not int:
        raise ValueError("leaf is not a version-1 custody event")
    if not record.keys() <= _KEYS:
        raise ValueError(f"leaf has unknown fields: {sorted(record.keys() - _KEYS)}")
    details = record.get("details", {})
    # Every field but the version and the details is a string: as many strings as there are such fields.
    strings = list(map(type, record.values())).count(str) - (type(details) is str)
    if strings != len(record) - 1 - ("details" in record) or not record.keys() >= _REQUIRED:
        raise ValueError("leaf fields must be strings (absent when empty)")
    if type(details) is not dict or ("details" in record and not details):
        raise ValueError("leaf details must be a non-empty object (absent when empty)")
    if list(map(type, details.values())).count(str) != len(details):
        raise ValueError("leaf details must be an object of strings")


# A monitor builds an event for every entry of the log.
_event = fast_constructor(CustodyEvent)

_PERSON = b'"person_id":"'


def person_keys(leaves: Sequence[bytes]) -> list[bytes]:
    """The bytes that spell the person id in each leaf, found without decoding it (to share a log's people out
    among processes): for a canonical leaf, `person_key_of` its person id; for any other leaf, some bytes.

    In canonical JSON every quote inside a string is escaped, so `","` ends a string value, and a string cannot
    hold `"person_id":"`. Only strings and the version follow the top-level person id, so its key is the last
    `"person_id":"` in the leaf (a detail may be named person_id, but details come first).
    """
    marker, width = _PERSON, len(_PERSON)
    return [data[(start := data.rfind(marker) + width) : data.find(b'","', start)] for data in leaves]


def person_key_of(person_id: str) -> bytes:
    """How a canonical leaf spells `person_id`: what `person_keys` finds in it."""
    return orjson.dumps(person_id)[1:-1]
