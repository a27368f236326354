"""The monitor's checks as plain functions: tile recomputation against the core's own log, the state file, and logs
written straight to a directory (no server) to reach the cases a server would never serve."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grimp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handover.core.custody import CustodyEvent, EventType, leaf
from handover.core.custody.events import details
from handover.core.tlog.checkpoint import Checkpoint
from handover.core.tlog.hashing import EMPTY_ROOT, leaf_hash
from handover.core.tlog.memory import MemoryLog
from handover.core.tlog.note import Signer, sign
from handover.core.tlog.tiles import bundles_for_size, encode_bundle, tile_hashes, tiles_for_size
from handover.core.tlog.tree import tree_hash
from handover.monitor import DirectorySource, Discrepancy, StateFileError, verify_log
from handover.monitor.checks import recompute_tiles, subtree_hashes, tile_reader
from handover.monitor.state import (
    VerifiedCheckpoint,
    default_state_path,
    load_state,
    root_of_subtrees,
    save_state,
    subtree_ranges,
)

SIGNER = Signer.generate("test.handover.example/synthetic")
T0 = datetime(2026, 1, 21, 6, 0, tzinfo=UTC)


def _memory_log(size: int) -> MemoryLog:
    log = MemoryLog()
    for i in range(size):
        log.append(f"entry {i}".encode())
    return log


def _leaf_row(log: MemoryLog) -> bytes:
    return b"".join(leaf_hash(e) for e in log.entries)


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=1100))
def test_recomputed_tiles_are_the_ones_the_log_serves(size: int) -> None:
    log = _memory_log(size)
    tiles = recompute_tiles(_leaf_row(log))
    assert tiles == {tile: tile_hashes(tile, log.read_hashes) for tile in tiles_for_size(size)}
    read = tile_reader(tiles)
    for old in {0, min(1, size), size // 3, size // 2, max(size - 1, 0), size}:
        assert tree_hash(old, read) == log.root(old)
        hashes = subtree_hashes(tiles, old)
        assert root_of_subtrees(hashes) == log.root(old)
        assert len(hashes) == len(subtree_ranges(old))


def test_recomputed_tiles_reach_level_two() -> None:
    size = 256 * 256 + 3
    log = _memory_log(size)
    tiles = recompute_tiles(_leaf_row(log))
    assert {t.level for t in tiles} == {0, 1, 2}
    for tile in tiles_for_size(size):
        if tile.level > 0 or tile.index in (0, 255, 256):
            assert tiles[tile] == tile_hashes(tile, log.read_hashes)
    assert tree_hash(size, tile_reader(tiles)) == log.root()


def test_subtree_ranges_split_as_rfc_9162_does() -> None:
    assert subtree_ranges(0) == []
    assert subtree_ranges(1) == [(0, 1)]
    assert subtree_ranges(285) == [(0, 256), (256, 272), (272, 280), (280, 284), (284, 285)]
    assert root_of_subtrees([]) == EMPTY_ROOT


# --- the state file -----------------------------------------------------------------------------------------------


def _verified(size: int = 10) -> VerifiedCheckpoint:
    log = _memory_log(size)
    note = sign(Checkpoint(SIGNER.name, size, log.root()).body(), [SIGNER])
    hashes = subtree_hashes(recompute_tiles(_leaf_row(log)), size)
    return VerifiedCheckpoint(SIGNER.name, size, log.root(), note, "2026-01-21T06:00:00+00:00", hashes)


def test_the_state_file_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "state.json"
    assert load_state(path, SIGNER.verifier) is None
    state = _verified()
    save_state(path, state)
    assert load_state(path, SIGNER.verifier) == state
    assert [p.name for p in path.parent.iterdir()] == ["state.json"]  # no temporary file left behind


@pytest.mark.parametrize(
    "change",
    [
        lambda r: r.update(size=r["size"] + 1),
        lambda r: r.update(root="00" * 32),
        lambda r: r.update(subtrees=r["subtrees"][:-1]),
        lambda r: r.update(subtrees=["11" * 32] * len(r["subtrees"])),
        lambda r: r.update(note=r["note"].replace("10\n", "11\n", 1)),
        lambda r: r.update(version=2),
        lambda r: r.pop("origin"),
    ],
    ids=["size", "root", "subtree-count", "subtree-hashes", "note", "version", "missing-field"],
)
def test_a_state_file_that_does_not_hold_together_is_refused(tmp_path: Path, change) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "state.json"
    record = _verified().as_json()
    change(record)
    path.write_text(json.dumps(record))
    with pytest.raises(StateFileError):
        load_state(path, SIGNER.verifier)


def test_a_state_file_another_key_signed_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    save_state(path, _verified())
    with pytest.raises(StateFileError, match="not a checkpoint this key signed"):
        load_state(path, Signer.generate(SIGNER.name).verifier)


def test_the_default_state_path_follows_xdg(tmp_path: Path) -> None:
    path = default_state_path("example.org/log", {"XDG_STATE_HOME": str(tmp_path)})
    assert path.parent == tmp_path / "handover"
    assert path.name.startswith("verify-") and path.suffix == ".json"
    assert path != default_state_path("example.org/other", {"XDG_STATE_HOME": str(tmp_path)})
    relative = default_state_path("example.org/log", {"XDG_STATE_HOME": "relative/dir"})
    assert relative.parent == Path.home() / ".local" / "state" / "handover"


# --- synthetic logs written to a directory ------------------------------------------------------------------------


def registration(n: int, person: str | None = None) -> CustodyEvent:
    return CustodyEvent(
        event_id=f"event-{n}",
        person_id=person or f"person-{n}",
        type=EventType.REGISTERED,
        occurred_at=T0 + timedelta(minutes=n),
        recorded_at=T0 + timedelta(minutes=n),
        facility_id="ghweran",
        authority_id="sy-moi",
        details=details(estate="adult_men", identity="ab" * 32),
    )


def write_log(directory: Path, leaves: list[bytes], signer: Signer = SIGNER) -> Path:
    """The C2SP tlog-tiles layout of `leaves`, as an exporter writes it, with a checkpoint `signer` signed."""
    log = MemoryLog()
    for data in leaves:
        log.append(data)
    files = {"checkpoint": sign(Checkpoint(signer.name, log.size, log.root()).body(), [signer]).encode()}
    for tile in tiles_for_size(log.size):
        files[tile.path] = tile_hashes(tile, log.read_hashes)
    for bundle in bundles_for_size(log.size):
        files[bundle.path] = encode_bundle(log.entries[bundle.start : bundle.end])
    for path, data in files.items():
        (directory / path).parent.mkdir(parents=True, exist_ok=True)
        (directory / path).write_bytes(data)
    return directory


def check(directory: Path, tmp_path: Path) -> Discrepancy | None:
    return verify_log(DirectorySource(directory), SIGNER.verifier, state_path=tmp_path / "state.json").failure


def test_an_empty_log_verifies(tmp_path: Path) -> None:
    outcome = verify_log(
        DirectorySource(write_log(tmp_path / "log", [])), SIGNER.verifier, state_path=tmp_path / "s.json"
    )
    assert outcome.verified and (outcome.size, outcome.people, outcome.root) == (0, 0, EMPTY_ROOT)
    assert outcome.warnings == ["counts not compared: the source publishes no status."]


def test_a_non_canonical_entry_is_named(tmp_path: Path) -> None:
    leaves = [leaf.encode(registration(n)) for n in range(5)]
    leaves[3] = leaves[3].replace(b'{"authority_id"', b'{ "authority_id"')
    failure = check(write_log(tmp_path / "log", leaves), tmp_path)
    assert failure is not None and (failure.what, failure.index) == ("entry-not-canonical", 3)
    assert failure.message == ("log index 3: the entry is not a canonical custody event: leaf is not in canonical form")


def test_an_event_logged_twice_is_named(tmp_path: Path) -> None:
    leaves = [leaf.encode(registration(n)) for n in range(5)]
    leaves.append(leaves[2])
    failure = check(write_log(tmp_path / "log", leaves), tmp_path)
    assert failure is not None
    assert failure.message == "log index 5: event event-2 was already logged at index 2."


def test_an_event_for_nobody_registered_is_refused_by_the_machine(tmp_path: Path) -> None:
    leaves = [leaf.encode(registration(n)) for n in range(3)]
    stray = CustodyEvent("event-x", "person-x", EventType.NOTIFIED, T0, T0, details=details(channel="icrc"))
    leaves.append(leaf.encode(stray))
    failure = check(write_log(tmp_path / "log", leaves), tmp_path)
    assert failure is not None and (failure.what, failure.index, failure.person_id) == ("chain-refused", 3, "person-x")
    assert failure.message.startswith("log index 3 (notified): the custody machine refuses it: Person person-x")
    assert failure.message.endswith("[rule not-registered]")


def test_a_registration_lacking_its_estate_is_named(tmp_path: Path) -> None:
    broken = CustodyEvent("event-0", "person-0", EventType.REGISTERED, T0, T0, facility_id="ghweran")
    failure = check(write_log(tmp_path / "log", [leaf.encode(broken)]), tmp_path)
    assert failure is not None and (failure.what, failure.index) == ("chain-refused", 0)
    assert "person person-0's chain cannot be folded" in failure.message


def test_an_upper_tile_that_does_not_match_its_leaves_is_named(tmp_path: Path) -> None:
    directory = write_log(tmp_path / "log", [leaf.encode(registration(n)) for n in range(300)])
    (directory / "tile/1/000.p/1").write_bytes(bytes(32))
    failure = check(directory, tmp_path)
    assert failure is not None and (failure.what, failure.path) == ("tile-mismatch", "tile/1/000.p/1")
    assert failure.message == (
        "tile/1/000.p/1: hash 0 (over log indexes 0..255) is not the one the entries give, though every leaf hash "
        "matches: the published tiles are inconsistent."
    )


def test_a_missing_or_short_tile_is_named(tmp_path: Path) -> None:
    directory = write_log(tmp_path / "log", [leaf.encode(registration(n)) for n in range(260)])
    data = (directory / "tile/0/001.p/4").read_bytes()
    (directory / "tile/0/001.p/4").unlink()
    failure = check(directory, tmp_path)
    assert failure is not None and failure.message == "tile/0/001.p/4: not published, though the signed tree has it."
    (directory / "tile/0/001.p/4").write_bytes(data[:-1])
    failure = check(directory, tmp_path)
    assert failure is not None and failure.message == "tile/0/001.p/4: holds 127 bytes, not 128."


def test_a_truncated_bundle_is_named(tmp_path: Path) -> None:
    directory = write_log(tmp_path / "log", [leaf.encode(registration(n)) for n in range(4)])
    bundle = directory / "tile/entries/000.p/4"
    bundle.write_bytes(bundle.read_bytes()[:-3])
    failure = check(directory, tmp_path)
    assert failure is not None and (failure.what, failure.index) == ("bad-bundle", 0)
    assert failure.message.startswith("log index 0: tile/entries/000.p/4 is not an entry bundle:")


def test_an_entry_inserted_into_a_bundle_is_named(tmp_path: Path) -> None:
    leaves = [leaf.encode(registration(n)) for n in range(6)]
    directory = write_log(tmp_path / "log", leaves)
    forged = [*leaves[:2], leaf.encode(registration(99)), *leaves[2:5]]
    (directory / "tile/entries/000.p/6").write_bytes(encode_bundle([*forged, leaves[5]]))
    failure = check(directory, tmp_path)
    assert failure is not None and (failure.what, failure.index) == ("entry-inserted", 2)


def test_the_monitor_imports_nothing_of_the_server() -> None:
    """handover.monitor may use the core and httpx2, never the code it is checking (no services, store, api, web)."""
    graph = grimp.build_graph("handover")
    imported = graph.find_upstream_modules("handover.monitor", as_package=True)
    forbidden = ("handover.services", "handover.store", "handover.api", "handover.web", "handover.cli", "handover.app")
    assert not [m for m in imported if m.startswith(forbidden)], imported
