"""Access entries in the log: canonical bytes, ids only, told apart from custody events by their first bytes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handover.core.access import leaf
from handover.core.access.leaf import AccessEntry
from handover.core.custody import CustodyEvent, EventType
from handover.core.custody import leaf as custody_leaf
from handover.core.policy.access import Purpose

AT = datetime(2026, 1, 22, 9, 30, 15, 250000, tzinfo=UTC)
ENTRY = AccessEntry("acct-7f3a", "person-91c2", Purpose.CONSULAR, AT)


def test_the_exact_bytes() -> None:
    assert leaf.encode(ENTRY) == (
        b'{"at":"2026-01-22T09:30:15.250000Z","kind":"access","person":"person-91c2",'
        b'"purpose":"consular","reader":"acct-7f3a","v":1}'
    )


def _reference(entry: AccessEntry) -> bytes:
    record = {
        "v": 1,
        "kind": "access",
        "at": entry.at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "reader": entry.reader_id,
        "person": entry.person_id,
        "purpose": entry.purpose.value,
    }
    return json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


ids = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)
times = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))


@given(reader=ids, person=ids, purpose=st.sampled_from(list(Purpose)), at=times)
def test_canonical_json_and_a_round_trip(reader: str, person: str, purpose: Purpose, at: datetime) -> None:
    entry = AccessEntry(reader, person, purpose, at)
    data = leaf.encode(entry)
    assert data == _reference(entry)
    assert leaf.is_access(data)
    assert leaf.decode(data) == entry


def test_times_are_written_in_utc() -> None:
    local = AT.astimezone(timezone(timedelta(hours=3)))
    assert leaf.encode(AccessEntry("r", "p", Purpose.MONITORING, local)) == leaf.encode(
        AccessEntry("r", "p", Purpose.MONITORING, AT)
    )
    with pytest.raises(ValueError, match="naive"):
        leaf.encode(AccessEntry("r", "p", Purpose.MONITORING, datetime(2026, 1, 1)))


def test_ids_and_a_purpose_code_only() -> None:
    record = json.loads(leaf.encode(ENTRY))
    assert set(record) == {"at", "kind", "person", "purpose", "reader", "v"}
    assert "person_id" not in record  # tools that find a custody leaf's person must not take this for one
    with pytest.raises(ValueError):  # free text never goes into the log
        leaf.encode(AccessEntry("r", "p", "looked at her file because", AT))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "data",
    [
        b'{"at":"2026-01-22T09:30:15.250000Z","kind":"access","person":"p","purpose":"consular","reader":"r","v":1} ',
        b'{"kind":"access","at":"2026-01-22T09:30:15.250000Z","person":"p","purpose":"consular","reader":"r","v":1}',
        b'{"at":"2026-01-22T09:30:15.25Z","kind":"access","person":"p","purpose":"consular","reader":"r","v":1}',
        b'{"at":"2026-01-22T12:30:15+03:00","kind":"access","person":"p","purpose":"consular","reader":"r","v":1}',
        b'{"at":"2026-01-22T09:30:15Z","kind":"access","person":"p","purpose":"curious","reader":"r","v":1}',
        b'{"at":"2026-01-22T09:30:15Z","kind":"access","person":"p","purpose":"consular","reader":"r","v":2}',
        b'{"at":"2026-01-22T09:30:15Z","kind":"access","note":"x","person":"p","purpose":"consular","reader":"r","v":1}',
        b'{"at":"2026-01-22T09:30:15Z","kind":"access","person":"","purpose":"consular","reader":"r","v":1}',
        b'{"at":"2026-01-22T09:30:15Z","kind":"event","person":"p","purpose":"consular","reader":"r","v":1}',
        b'{"at":"2026-01-22T09:30:15Z","kind":"access","person":7,"purpose":"consular","reader":"r","v":1}',
        b"[]",
        b"\xff",
    ],
)
def test_anything_but_the_canonical_encoding_is_refused(data: bytes) -> None:
    with pytest.raises(ValueError):
        leaf.decode(data)


def test_custody_leaves_and_access_leaves_are_told_apart() -> None:
    for kind in EventType:
        event = CustodyEvent(
            event_id="e1",
            person_id="p1",
            type=kind,
            occurred_at=AT,
            recorded_at=AT,
            authority_id="a",
            facility_id="f",
            movement_id="m",
            corrects="e0",
            details=(("at", "x"),),
        )
        assert not leaf.is_access(custody_leaf.encode(event))
    with pytest.raises(ValueError):
        custody_leaf.decode(leaf.encode(ENTRY))
