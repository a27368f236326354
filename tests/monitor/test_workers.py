"""Reading a log with several processes, each owning some of the people, gives the verdict one process gives: the
same first bad index, the same message, the same counts. (Long logs are read that way; these logs are short, so the
tests ask for the workers.)"""

from __future__ import annotations

import json
import os
import pickle
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from handover.core.custody import CustodyEvent, EventType, leaf
from handover.core.custody.events import details
from handover.core.custody.identity import Identity, commitment
from handover.core.custody.model import Sex
from handover.core.tlog.tiles import encode_bundle
from handover.monitor import DirectorySource, Discrepancy, checks, verify_log
from tests.monitor.test_checks import SIGNER, T0, registration, write_log

WORKERS = [1, 2, 3]
PEOPLE = 400


def manifest(n: int, person: str | None = None) -> CustodyEvent:
    return CustodyEvent(
        event_id=f"manifest-{n}",
        person_id=person or f"person-{n}",
        type=EventType.MANIFESTED,
        occurred_at=T0 + timedelta(hours=1),
        recorded_at=T0 + timedelta(hours=1),
        facility_id="ghweran",
        movement_id="m1",
    )


def honest() -> list[CustodyEvent]:
    """People registered, then every other one put on a movement: three bundles, the last partial. Some ids need
    escaping, and one registration has a detail named person_id (the share-out must not take it for the person)."""
    people = [registration(n) for n in range(PEOPLE)]
    people[7] = registration(7, person='person-"7"\\\u2028é')
    people[8] = CustodyEvent(
        "event-8",
        "person-8",
        EventType.REGISTERED,
        T0,
        T0,
        "ghweran",
        "sy-moi",
        details=details(estate="adult_men", identity="ab" * 32, person_id="person-9"),
    )
    return [*people, *(manifest(n, people[n].person_id) for n in range(0, PEOPLE, 2))]


def leaves(events: list[CustodyEvent]) -> list[bytes]:
    return [leaf.encode(event) for event in events]


Change = Callable[[list[bytes]], None]


def _set(index: int, data: bytes) -> Change:
    def change(entries: list[bytes]) -> None:
        entries[index] = data

    return change


def _refused_at(index: int) -> Change:
    """A notification for nobody registered, at `index`."""
    stray = CustodyEvent(f"stray-{index}", f"nobody-{index}", EventType.NOTIFIED, T0, T0, details=details(channel="x"))
    return _set(index, leaf.encode(stray))


def _twice(first: int, second: int) -> Change:
    def change(entries: list[bytes]) -> None:
        entries[second] = entries[first]

    return change


def _both(*changes: Change) -> Change:
    def change(entries: list[bytes]) -> None:
        for each in changes:
            each(entries)

    return change


def _not_canonical(index: int) -> Change:
    def change(entries: list[bytes]) -> None:
        entries[index] = entries[index].replace(b'"v":1}', b'"v":1 }')

    return change


def _person_elsewhere(index: int) -> Change:
    """Not canonical, and the person id is not where the share-out looks for it."""

    def change(entries: list[bytes]) -> None:
        entries[index] = entries[index].replace(b'"person_id":"', b'"person_id" :"')

    return change


CASES: dict[str, Change] = {
    "honest": lambda entries: None,
    "not canonical": _not_canonical(400),
    "person id elsewhere": _person_elsewhere(300),
    "two non-canonical": _both(_not_canonical(500), _not_canonical(260)),
    "same event twice": _twice(10, 400),
    "event logged again for another person": _set(
        450, leaf.encode(CustodyEvent("event-3", "person-77", EventType.NOTIFIED, T0, T0))
    ),
    "several repeats, the first wins": _both(_twice(100, 480), _twice(5, 420), _twice(200, 300)),
    "repeat after a non-canonical entry": _both(_twice(10, 400), _not_canonical(350)),
    "non-canonical after a repeat": _both(_twice(10, 300), _not_canonical(350)),
    "chain refused": _refused_at(420),
    "chains refused, the lowest wins": _both(_refused_at(480), _refused_at(270), _refused_at(490)),
    "chain refused and a non-canonical entry": _both(_refused_at(270), _not_canonical(480)),
    "a second registration": _set(470, leaf.encode(registration(999, person="person-4"))),
}


def _write(tmp_path: Path, change: Change) -> Path:
    entries = leaves(honest())
    change(entries)
    return write_log(tmp_path / "log", entries)


def _outcome(directory: Path, tmp_path: Path, workers: int) -> tuple[object, ...]:
    state = tmp_path / "state.json"
    outcome = verify_log(DirectorySource(directory), SIGNER.verifier, state_path=state, workers=workers)
    state.unlink(missing_ok=True)  # each run starts afresh
    failure = outcome.failure.as_dict() if outcome.failure is not None else None
    return outcome.verified, outcome.people, [(s.number, s.detail) for s in outcome.steps], failure


@pytest.mark.parametrize("change", CASES.values(), ids=CASES.keys())
def test_the_verdict_does_not_depend_on_the_number_of_workers(tmp_path: Path, change: Change) -> None:
    directory = _write(tmp_path, change)
    alone, *others = (_outcome(directory, tmp_path, workers) for workers in WORKERS)
    assert others == [alone] * len(others)


def test_the_honest_log_verifies_with_workers(tmp_path: Path) -> None:
    verified, people, steps, failure = _outcome(_write(tmp_path, CASES["honest"]), tmp_path, 3)
    assert verified and people == PEOPLE and failure is None
    assert [number for number, _ in steps] == [1, 2, 3, 4, 5]


def test_workers_give_the_same_chains_and_hashes(tmp_path: Path) -> None:
    directory = _write(tmp_path, CASES["honest"])
    size = PEOPLE + len(range(0, PEOPLE, 2))
    alone = checks.read_entries(DirectorySource(directory), size, workers=1)
    for workers in (2, 3, 4):
        shared = checks.read_entries(DirectorySource(directory), size, workers=workers)
        assert shared == alone
    assert isinstance(alone.chains, checks.Chains)
    counts = checks.derive_counts(alone.chains)
    assert counts["registered"] == PEOPLE and counts["by_status"] == {"held": PEOPLE}
    assert alone.chains.registrations["person-8"] == (8, "ab" * 32)


@pytest.mark.parametrize("what", ["bad bundle", "missing bundle"])
def test_a_bad_bundle_comes_after_the_entries_before_it(tmp_path: Path, what: str) -> None:
    directory = _write(tmp_path, CASES["honest"])
    bundle = directory / "tile/entries/001"
    if what == "bad bundle":
        bundle.write_bytes(bundle.read_bytes()[:-3])
    else:
        bundle.unlink()
    alone = [_outcome(directory, tmp_path, workers) for workers in WORKERS]
    assert alone[1:] == alone[:1] * 2 and alone[0][3]["index"] == 256  # type: ignore[index]
    entries = leaves(honest())
    (directory / "tile/entries/000").write_bytes(encode_bundle([*entries[:100], b"{}", *entries[101:256]]))
    earlier = [_outcome(directory, tmp_path, workers) for workers in WORKERS]
    assert earlier[1:] == earlier[:1] * 2
    assert earlier[0][3]["what"] == "entry-not-canonical" and earlier[0][3]["index"] == 100  # type: ignore[index]


def test_a_discrepancy_survives_the_trip_back_from_a_worker() -> None:
    found = Discrepancy("duplicate-event", "log index 5: ...", index=5, path="tile/entries/000", person_id="p")
    assert pickle.loads(pickle.dumps(found)).as_dict() == found.as_dict()


def test_a_worker_that_dies_is_an_error_not_a_verdict(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = _write(tmp_path, CASES["honest"])
    real = checks._read_share

    def dying(blobs: list[bytes], size: int, share: int, shares: int) -> object:
        if share == 1:
            os._exit(3)  # as if killed
        return real(blobs, size, share, shares)

    forked: list[int] = []
    fork = os.fork

    def recorded_fork() -> int:
        pid = fork()
        if pid:
            forked.append(pid)
        return pid

    monkeypatch.setattr(checks, "_read_share", dying)
    monkeypatch.setattr(os, "fork", recorded_fork)
    with pytest.raises(RuntimeError, match="ended without its result"):
        checks.read_entries(DirectorySource(directory), PEOPLE + PEOPLE // 2, workers=2)
    assert len(forked) == 1
    with pytest.raises(ChildProcessError):
        os.waitpid(forked[0], os.WNOHANG)  # reaped: no zombie left behind


def test_without_a_process_to_fork_one_reads_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = _write(tmp_path, CASES["honest"])
    size = PEOPLE + PEOPLE // 2
    alone = checks.read_entries(DirectorySource(directory), size, workers=1)

    def no_fork() -> int:
        raise BlockingIOError("Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    assert checks.read_entries(DirectorySource(directory), size, workers=2) == alone


def _identity(n: int) -> Identity:
    return Identity(f"اسم {n}", f"Name {n}", (), Sex.MALE, date(1990, 1, 1 + n % 28), False, ("IQ",))


@pytest.mark.parametrize("swapped", [[], [300, 120]], ids=["honest", "two-swapped"])
def test_identities_are_checked_alike_with_workers(tmp_path: Path, swapped: list[int]) -> None:
    salt = bytes(range(16))
    events = [
        replace(e, details=details(estate="adult_men", identity=commitment(_identity(n), salt)))
        for n, e in enumerate(honest()[:PEOPLE])
    ] + honest()[PEOPLE:]
    directory = write_log(tmp_path / "log", leaves(events))
    lines = []
    for n, event in enumerate(events[:PEOPLE]):
        fields = json.loads(_identity(n + 1 if n in swapped else n).canonical())
        lines.append(json.dumps({"person_id": event.person_id, "salt": salt.hex(), "identity": fields}))
    (directory / "identities").write_text("\n".join(lines) + "\n")
    outcomes = []
    for workers in WORKERS:
        state = tmp_path / "state.json"
        outcome = verify_log(
            DirectorySource(directory), SIGNER.verifier, state_path=state, identities=True, workers=workers
        )
        state.unlink(missing_ok=True)
        outcomes.append((outcome.identities_checked, outcome.failure.as_dict() if outcome.failure else None))
    assert outcomes == [outcomes[0]] * len(WORKERS)
    checked, failure = outcomes[0]
    if swapped:
        assert failure is not None and (failure["what"], failure["index"]) == ("identity-mismatch", 120)
    else:
        assert checked == PEOPLE and failure is None
