"""Leaves: orjson writes byte for byte what the standard library's canonical encoder wrote (the first logs were
written with it, and must still verify), and decode refuses everything that is not exactly that encoding."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handover.core.custody import CustodyEvent, EventType, leaf
from handover.core.custody.events import details

# --- the reference: the encoder and decoder the log was first written and read with -----------------------------

_REFERENCE = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _reference_time(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime in a custody event")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def reference_encode(event: CustodyEvent) -> bytes:
    record: dict[str, Any] = {
        "v": 1,
        "event_id": event.event_id,
        "person_id": event.person_id,
        "type": event.type.value,
        "occurred_at": _reference_time(event.occurred_at),
        "recorded_at": _reference_time(event.recorded_at),
    }
    for key in ("facility_id", "authority_id", "movement_id", "corrects"):
        value = getattr(event, key)
        if value is not None:
            record[key] = value
    if event.details:
        record["details"] = dict(event.details)
    return _REFERENCE.encode(record).encode()


def reference_decode(data: bytes) -> CustodyEvent:
    record = json.loads(data)
    if not isinstance(record, dict) or record.get("v") != 1 or type(record["v"]) is not int:
        raise ValueError("not version 1")
    keys = {"v", "details", "event_id", "person_id", "type", "occurred_at", "recorded_at"}
    optional = ("facility_id", "authority_id", "movement_id", "corrects")
    if not record.keys() <= keys | set(optional):
        raise ValueError("unknown fields")
    required = ("event_id", "person_id", "type", "occurred_at", "recorded_at")
    texts = [record.get(key) for key in required] + [record[key] for key in optional if key in record]
    if not all(isinstance(value, str) for value in texts):
        raise ValueError("not strings")
    extra = record.get("details", {})
    if not isinstance(extra, dict) or ("details" in record and not extra):
        raise ValueError("empty details")
    if not all(isinstance(v, str) for v in extra.values()):
        raise ValueError("details not strings")
    if _REFERENCE.encode(record).encode() != data:
        raise ValueError("not canonical")

    def moment(text: str) -> datetime:
        if not text.endswith("Z"):
            raise ValueError("not Z")
        parsed = datetime.fromisoformat(text[:-1] + "+00:00")
        if _reference_time(parsed) != text:
            raise ValueError("not canonical time")
        return parsed

    return CustodyEvent(
        event_id=record["event_id"],
        person_id=record["person_id"],
        type=EventType(record["type"]),
        occurred_at=moment(record["occurred_at"]),
        recorded_at=moment(record["recorded_at"]),
        facility_id=record.get("facility_id"),
        authority_id=record.get("authority_id"),
        movement_id=record.get("movement_id"),
        corrects=record.get("corrects"),
        details=tuple(extra.items()),
    )


def outcome(function: Any, value: Any) -> Any:
    """What `function` gives for `value`, or "refused" when it raises."""
    try:
        return function(value)
    except (ValueError, TypeError, OverflowError):
        return "refused"


# --- events with awkward text and times --------------------------------------------------------------------------

AWKWARD = [
    *map(chr, range(0x20)),
    '"',
    "\\",
    "/",
    "\x7f",
    "\x80",
    "\u2028",
    "\u2029",
    "\ufeff",
    "\ufffe",
    "\uffff",
    "\U0001f600",
    "\U0010ffff",
    "é",
    "ع",
]
SURROGATES = ["\ud800", "\udfff"]  # lone: not UTF-8, so neither encoder may write them
# Surrogates now and then, so most examples encode.
characters = st.one_of(st.characters(codec="utf-8"), st.sampled_from(AWKWARD), st.sampled_from(AWKWARD + SURROGATES))
text = st.text(characters, max_size=12)
offsets = st.one_of(
    st.just(UTC),
    st.builds(
        timezone, st.timedeltas(min_value=-timedelta(hours=23, minutes=59), max_value=timedelta(hours=23, minutes=59))
    ),
)
moments = st.datetimes(timezones=offsets)  # near year 1 or 9999 an offset may leave the calendar: both refuse
events = st.builds(
    CustodyEvent,
    event_id=text,
    person_id=text,
    type=st.sampled_from(EventType),
    occurred_at=moments,
    recorded_at=moments,
    facility_id=st.none() | text,
    authority_id=st.none() | text,
    movement_id=st.none() | text,
    corrects=st.none() | text,
    details=st.dictionaries(text, text, max_size=4).map(lambda d: tuple(sorted(d.items()))),
)


@settings(max_examples=2000, deadline=None)
@given(events)
def test_leaves_are_byte_for_byte_the_reference_encoding(event: CustodyEvent) -> None:
    expected = outcome(reference_encode, event)
    assert outcome(leaf.encode, event) == expected
    if expected != "refused":
        assert leaf.decode(expected) == event


TRAPS = st.sampled_from(['"person_id":"', '","', "person_id", '\\"', "\\"])
tricky = st.lists(st.one_of(text, TRAPS), max_size=4).map("".join)


@settings(max_examples=1000, deadline=None)
@given(events, tricky, tricky, tricky)
def test_the_person_key_is_found_without_decoding(event: CustodyEvent, person: str, key: str, value: str) -> None:
    event = replace(event, person_id=person, details=tuple(sorted({**dict(event.details), key: value}.items())))
    data = outcome(leaf.encode, event)
    if data != "refused":
        assert leaf.person_keys([data]) == [leaf.person_key_of(event.person_id)]


def test_a_naive_time_or_a_lone_surrogate_is_refused() -> None:
    good = CustodyEvent(
        "e", "p", EventType.ASSESSED, datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)
    )
    with pytest.raises(ValueError, match="naive"):
        leaf.encode(CustodyEvent("e", "p", EventType.ASSESSED, datetime(2026, 1, 1), good.recorded_at))
    for broken in ("\ud800", "a\udc00b"):
        with pytest.raises(ValueError):
            leaf.encode(CustodyEvent(broken, "p", EventType.ASSESSED, good.occurred_at, good.recorded_at))
        with pytest.raises(ValueError):
            leaf.encode(
                CustodyEvent("e", "p", EventType.ASSESSED, good.occurred_at, good.recorded_at, details=((broken, "x"),))
            )


# --- decode refuses what is not canonical --------------------------------------------------------------------------

T0 = datetime(2026, 1, 21, 6, 0, tzinfo=UTC)
CANONICAL = leaf.encode(
    CustodyEvent(
        event_id="e-1",
        person_id="p-1",
        type=EventType.REGISTERED,
        occurred_at=T0,
        recorded_at=T0 + timedelta(microseconds=5),
        facility_id="al-hol",
        authority_id="sy-moi",
        details=details(estate="adult_women", identity="ab" * 32),
    )
)


def test_the_canonical_leaf_is_as_written() -> None:
    assert CANONICAL == (
        b'{"authority_id":"sy-moi","details":{"estate":"adult_women","identity":"' + b"ab" * 32 + b'"},'
        b'"event_id":"e-1","facility_id":"al-hol","occurred_at":"2026-01-21T06:00:00Z","person_id":"p-1",'
        b'"recorded_at":"2026-01-21T06:00:00.000005Z","type":"registered","v":1}'
    )


def _swap(old: bytes, new: bytes) -> bytes:
    assert old in CANONICAL
    return CANONICAL.replace(old, new, 1)


NOT_CANONICAL = {
    "whitespace": _swap(b'{"authority_id"', b'{ "authority_id"'),
    "trailing newline": CANONICAL + b"\n",
    "duplicate key": _swap(b'"v":1}', b'"v":1,"v":1}'),
    "duplicate key, first value kept": _swap(b'"type":"registered"', b'"type":"died","type":"registered"'),
    "keys out of order": _swap(b'"event_id":"e-1","facility_id":"al-hol"', b'"facility_id":"al-hol","event_id":"e-1"'),
    "unknown key": _swap(b'"v":1}', b'"v":1,"w":"x"}'),
    "version 2": _swap(b'"v":1}', b'"v":2}'),
    "version as float": _swap(b'"v":1}', b'"v":1.0}'),
    "version as true": _swap(b'"v":1}', b'"v":true}'),
    "huge version": _swap(b'"v":1}', b'"v":100000000000000000000001}'),
    "id a number": _swap(b'"event_id":"e-1"', b'"event_id":1'),
    "optional field null": _swap(b'"facility_id":"al-hol"', b'"facility_id":null'),
    "required field null": _swap(b'"person_id":"p-1"', b'"person_id":null'),
    "required field missing": _swap(b'"person_id":"p-1",', b""),
    "empty details": _swap(b'"details":{"estate":"adult_women","identity":"' + b"ab" * 32 + b'"},', b'"details":{},'),
    "details a list": _swap(b'"details":{"estate":"adult_women","identity":"' + b"ab" * 32 + b'"}', b'"details":[]'),
    "detail a number": _swap(b'"estate":"adult_women"', b'"estate":5'),
    "time not UTC": _swap(b"06:00:00Z", b"09:00:00+03:00"),
    "time without Z": _swap(b"06:00:00Z", b"06:00:00"),
    "time with zero microseconds": _swap(b"06:00:00Z", b"06:00:00.000000Z"),
    "time with milliseconds": _swap(b".000005Z", b".005Z"),
    "time with a space": _swap(b"2026-01-21T06", b"2026-01-21 06"),
    "unknown type": _swap(b'"type":"registered"', b'"type":"vanished"'),
    "needless escape": _swap(b'"p-1"', b'"p\\u002d1"'),
    "escaped slash": _swap(b'"p-1"', b'"p\\/1"'),
    "upper-case escape": _swap(b'"p-1"', b'"p\\u001F1"'),
    "escaped surrogate pair": _swap(b'"p-1"', b'"p\\ud83d\\ude001"'),
    "lone escaped surrogate": _swap(b'"p-1"', b'"p\\ud8001"'),
    "UTF-8 of a surrogate": _swap(b'"p-1"', b'"p\xed\xa0\x801"'),
    "invalid UTF-8": _swap(b'"p-1"', b'"p\xff1"'),
    "over-long UTF-8": _swap(b'"p-1"', b'"p\xc0\xaf1"'),
    "byte order mark": b"\xef\xbb\xbf" + CANONICAL,
    "UTF-16": CANONICAL.decode().encode("utf-16"),
    "raw control character": _swap(b'"p-1"', b'"p\x011"'),
    "NaN": _swap(b'"v":1}', b'"v":NaN}'),
    "not an object": b"[" + CANONICAL + b"]",
    "empty": b"",
}


@pytest.mark.parametrize("data", NOT_CANONICAL.values(), ids=NOT_CANONICAL.keys())
def test_decode_refuses_what_is_not_canonical(data: bytes) -> None:
    assert outcome(reference_decode, data) == "refused"
    with pytest.raises(ValueError):
        leaf.decode(data)


@pytest.mark.parametrize("data", NOT_CANONICAL.values(), ids=NOT_CANONICAL.keys())
def test_a_leaf_shaped_like_an_accepted_one_is_refused_the_same(data: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    """decode checks fields one by one only for leaves of a shape it has not accepted yet: the verdict is the same."""
    monkeypatch.setattr(leaf, "_SHAPES", set())
    with pytest.raises(ValueError) as unknown_shape:
        leaf.decode(data)
    leaf.decode(CANONICAL)
    assert len(leaf._SHAPES) == 1
    with pytest.raises(ValueError) as known_shape:
        leaf.decode(data)
    assert str(known_shape.value) == str(unknown_shape.value)


def test_decode_reads_back_the_canonical_leaf() -> None:
    event = leaf.decode(CANONICAL)
    assert event == reference_decode(CANONICAL)
    assert event.recorded_at == T0 + timedelta(microseconds=5) and event.detail("estate") == "adult_women"


MUTATIONS = st.sampled_from(
    [b" ", b"\\", b'"', b"u", b"0", b"F", b"Z", b",", b":", b"{", b"}", b"\xff", b"\xed", b"\xc3\xa9", b"1"]
)


@settings(max_examples=1500, deadline=None)
@given(st.data())
def test_decode_accepts_exactly_what_the_reference_accepts(data: st.DataObject) -> None:
    leaves = [CANONICAL, leaf.encode(data.draw(events.filter(lambda e: outcome(leaf.encode, e) != "refused")))]
    mutated = bytearray(data.draw(st.sampled_from(leaves)))
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(mutated)))
        how = data.draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = data.draw(MUTATIONS)
        if how == "insert":
            mutated[at:at] = piece
        elif how == "delete":
            del mutated[at : at + len(piece)]
        else:
            mutated[at : at + len(piece)] = piece
    assert outcome(leaf.decode, bytes(mutated)) == outcome(reference_decode, bytes(mutated))
