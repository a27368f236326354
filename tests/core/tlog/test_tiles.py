"""C2SP tlog-tiles: paths, which tiles a tree publishes, tile contents at every level, entry bundles."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handover.core.tlog import (
    MAX_ENTRY_SIZE,
    TILE_WIDTH,
    EntryBundle,
    MemoryLog,
    Tile,
    TileError,
    bundles_for_size,
    decode_bundle,
    encode_bundle,
    hash_from_tile,
    parse_tile_path,
    prove_consistency,
    prove_inclusion,
    tile_hashes,
    tiles_for_size,
    tree_hash,
    tree_hash_from_tiles,
    verified_tile_reader,
)
from handover.core.tlog.hashing import HASH_SIZE
from handover.core.tlog.tiles import leaf_tile_from_entries, tile_for_index
from tests.core.tlog.support import Rfc9162Tree, leaves_for

# --- paths --------------------------------------------------------------------------------------------------------

PATHS = [
    (
        Tile(0, 1234067, 256),
        "tile/0/x001/x234/067",
    ),  # the spec's example: 'index 1234067 will be encoded as x001/x234/067'
    (Tile(0, 1234067, 1), "tile/0/x001/x234/067.p/1"),
    (Tile(3, 0, 256), "tile/3/000"),
    (Tile(1, 999, 255), "tile/1/999.p/255"),
    (Tile(1, 1000, 256), "tile/1/x001/000"),
    (Tile(63, 123456789, 17), "tile/63/x123/x456/789.p/17"),
    (EntryBundle(1234067, 256), "tile/entries/x001/x234/067"),
    (EntryBundle(273, 112), "tile/entries/273.p/112"),
    (EntryBundle(0, 1), "tile/entries/000.p/1"),
]


@pytest.mark.parametrize(("resource", "path"), PATHS, ids=[path for _, path in PATHS])
def test_paths_follow_the_spec(resource: Tile | EntryBundle, path: str) -> None:
    assert resource.path == path
    assert parse_tile_path(path) == resource


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/1234067",  # not split into 3-digit elements
        "tile/0/x001/x234/67",  # last element not zero-padded
        "tile/0/001/234",  # missing x prefix
        "tile/0/x001/x234/x067",  # x on the last element
        "tile/0/x000/001",  # a leading zero group is not how 1 is written
        "tile/00/000",  # leading zero in the level
        "tile/64/000",  # 'between 0 and 63'
        "tile/-1/000",
        "tile/data/000",  # Go sumdb's record tiles are not part of tlog-tiles
        "tile/0/000.p/256",  # a full tile has no .p suffix
        "tile/0/000.p/0",  # 'between 1 and 255'
        "tile/0/000.p/012",
        "tile/0/000.p/",
        "tile/0/000.p",
        "tile/entries/000.p/256",
        "tile/entries",
        "tile/0",
        "/tile/0/000",
        "tile/0/000/",
        "tiles/0/000",
        "tile/0/\u0660\u0660\u0660",  # Arabic-Indic digits are digits to int(), not to the spec
        "tile/0/+01",
        "tile/0/000.p/1\n",
        "tile/+0/000",
    ],
)
def test_non_canonical_paths_are_refused(path: str) -> None:
    with pytest.raises(ValueError):
        parse_tile_path(path)


@given(
    st.integers(min_value=0, max_value=63),
    st.integers(min_value=0, max_value=10**15),
    st.integers(min_value=1, max_value=256),
    st.booleans(),
)
def test_every_tile_path_parses_back(level: int, index: int, width: int, entries: bool) -> None:
    resource = EntryBundle(index, width) if entries else Tile(level, index, width)
    assert parse_tile_path(resource.path) == resource


@pytest.mark.parametrize(
    "arguments", [(-1, 0, 256), (64, 0, 256), (0, -1, 256), (0, 0, 0), (0, 0, 257), (0, 0, True)], ids=str
)
def test_impossible_tiles_are_refused(arguments: tuple[int, int, int]) -> None:
    with pytest.raises(ValueError):
        Tile(*arguments)


def test_tile_span_follows_the_spec() -> None:
    # 'The tile's start index is defined to be n * 256**(l+1). Its end index is defined to be (n + 1) * 256**(l+1).'
    assert (Tile(0, 3, 256).start, Tile(0, 3, 256).end) == (768, 1024)
    assert (Tile(1, 2, 256).start, Tile(1, 2, 256).end) == (2 * 65536, 3 * 65536)
    assert (Tile(1, 1, 17).start, Tile(1, 1, 17).end) == (65536, 65536 + 17 * 256)
    assert (EntryBundle(273, 112).start, EntryBundle(273, 112).end) == (69888, 70000)


# --- which tiles a tree publishes -----------------------------------------------------------------------------------


def _full(level: int, count: int) -> list[Tile]:
    return [Tile(level, index, TILE_WIDTH) for index in range(count)]


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (0, []),
        (1, [Tile(0, 0, 1)]),
        (255, [Tile(0, 0, 255)]),
        # 'a tree of size 256 will be represented by a full level 0 tile and a partial level 1 tile of width 1'
        (256, [Tile(0, 0, 256), Tile(1, 0, 1)]),
        (257, [Tile(0, 0, 256), Tile(0, 1, 1), Tile(1, 0, 1)]),
        (65536, [*_full(0, 256), Tile(1, 0, 256), Tile(2, 0, 1)]),
        # 'a tree of size 70,000 will be represented by 273 full level 0 tiles, one partial level 0 tile of width 112,
        # one full level 1 tile, one partial level 1 tile of width 17, and one partial level 2 tile of width 1'
        (70000, [*_full(0, 273), Tile(0, 273, 112), Tile(1, 0, 256), Tile(1, 1, 17), Tile(2, 0, 1)]),
    ],
)
def test_tiles_for_size(size: int, expected: list[Tile]) -> None:
    assert tiles_for_size(size) == expected


def test_bundles_for_size() -> None:
    assert bundles_for_size(0) == []
    assert bundles_for_size(256) == [EntryBundle(0, 256)]
    assert bundles_for_size(70000) == [*(EntryBundle(i, 256) for i in range(273)), EntryBundle(273, 112)]


# --- tile contents, one level --------------------------------------------------------------------------------------


def test_level_0_tile_holds_leaf_hashes_and_matches_its_bundle() -> None:
    log = _log(300)
    data = tile_hashes(Tile(0, 1, 44), log.read_hashes)
    assert data == leaf_tile_from_entries(log.entries[256:300])
    assert decode_bundle(encode_bundle(log.entries[256:300])) == log.entries[256:300]


def test_tile_for_index_and_hash_from_tile_recompute_every_stored_hash() -> None:
    log = _log(700)
    for index in range(len(log.hashes)):
        narrowest = tile_for_index(index)
        assert hash_from_tile(narrowest, tile_hashes(narrowest, log.read_hashes), index) == log.hashes[index]


def test_hash_from_the_wrong_tile_is_refused() -> None:
    log = _log(300)
    data = tile_hashes(Tile(0, 0, 256), log.read_hashes)
    with pytest.raises(ValueError):
        hash_from_tile(Tile(0, 0, 256), data, len(log.hashes) - 1)  # a hash of leaf 299, in tile 1
    with pytest.raises(TileError):
        hash_from_tile(Tile(0, 0, 256), data[:-1], 0)


# --- entry bundles --------------------------------------------------------------------------------------------------


def test_entry_bundle_encoding_is_uint16_length_prefixed() -> None:
    assert encode_bundle([b"a", b"", b"xyz"]) == b"\x00\x01a\x00\x00\x00\x03xyz"
    assert decode_bundle(b"\x00\x01a\x00\x00\x00\x03xyz") == [b"a", b"", b"xyz"]
    assert decode_bundle(b"") == []


@given(st.lists(st.binary(max_size=300), max_size=40))
def test_entry_bundles_round_trip(entries: list[bytes]) -> None:
    assert decode_bundle(encode_bundle(entries)) == entries


def test_entries_up_to_65535_bytes_fit_and_no_more() -> None:
    biggest = b"\xff" * MAX_ENTRY_SIZE
    assert decode_bundle(encode_bundle([biggest])) == [biggest]
    with pytest.raises(ValueError):
        encode_bundle([b"", biggest + b"!"])


@pytest.mark.parametrize("data", [b"\x00", b"\x00\x02a", b"\x00\x01a\x00"], ids=["half prefix", "short", "trailing"])
def test_truncated_bundles_are_refused(data: bytes) -> None:
    with pytest.raises(ValueError):
        decode_bundle(data)


# --- a tree with three levels of tiles ------------------------------------------------------------------------------

BIG = 66_000


@pytest.fixture(scope="module")
def big_log() -> MemoryLog:
    return _log(BIG)


def _tiles(log: MemoryLog, size: int) -> dict[Tile, bytes]:
    return {tile: tile_hashes(tile, log.read_hashes) for tile in tiles_for_size(size)}


def test_big_tree_publishes_three_levels(big_log: MemoryLog) -> None:
    # 66,000 = 257 * 256 + 208: level 1 has 257 hashes, level 2 has one.
    assert tiles_for_size(BIG) == [*_full(0, 257), Tile(0, 257, 208), Tile(1, 0, 256), Tile(1, 1, 1), Tile(2, 0, 1)]


def test_higher_level_tiles_hold_the_spec_hashes(big_log: MemoryLog) -> None:
    # 'the n-th tile at level l ... MTH(D[(n * 256 + i) * 256**l : (n * 256 + i + 1) * 256**l])'
    reference = Rfc9162Tree(big_log.entries)
    level1 = tile_hashes(Tile(1, 0, 256), big_log.read_hashes)
    for i in (0, 1, 128, 255):
        assert level1[i * HASH_SIZE : (i + 1) * HASH_SIZE] == reference.mth(i * 256, (i + 1) * 256)
    assert tile_hashes(Tile(1, 1, 1), big_log.read_hashes) == reference.mth(65536, 65792)
    assert tile_hashes(Tile(2, 0, 1), big_log.read_hashes) == reference.mth(0, 65536)
    assert tile_hashes(Tile(2, 0, 1), big_log.read_hashes) == tree_hash(65536, big_log.read_hashes)


@pytest.mark.parametrize("size", [65535, 65536, 65537, 65792, 65793, BIG])
def test_big_tree_root_from_tiles(big_log: MemoryLog, size: int) -> None:
    tiles = _tiles(big_log, size)
    root = tree_hash(size, big_log.read_hashes)
    assert tree_hash_from_tiles(size, tiles) == root
    reader = verified_tile_reader(size, root, tiles)
    for index in (0, 255, 256, 65534, size - 1):
        assert prove_inclusion(size, index, reader) == prove_inclusion(size, index, big_log.read_hashes)
    assert prove_consistency(size, 70, reader) == prove_consistency(size, 70, big_log.read_hashes)
    assert prove_consistency(size, 65000, reader) == prove_consistency(size, 65000, big_log.read_hashes)


def test_stored_hashes_of_the_big_tree_from_its_tiles(big_log: MemoryLog) -> None:
    tiles = _tiles(big_log, BIG)
    reader = verified_tile_reader(BIG, big_log.root(), tiles)
    sample = random.Random(7).sample(range(len(big_log.hashes)), 2000)
    assert list(reader(sample)) == big_log.read_hashes(sample)


@pytest.mark.parametrize("victim", [Tile(0, 3, 256), Tile(0, 257, 208), Tile(1, 0, 256), Tile(1, 1, 1), Tile(2, 0, 1)])
def test_a_tampered_tile_is_caught(big_log: MemoryLog, victim: Tile) -> None:
    tiles = _tiles(big_log, BIG)
    data = tiles[victim]
    tiles[victim] = data[:20] + bytes([data[20] ^ 1]) + data[21:]
    with pytest.raises(TileError):
        verified_tile_reader(BIG, big_log.root(), tiles)


def test_missing_short_or_foreign_tiles_are_caught(big_log: MemoryLog) -> None:
    root = big_log.root()
    tiles = _tiles(big_log, BIG)
    del tiles[Tile(1, 0, 256)]
    with pytest.raises(TileError, match="missing"):
        verified_tile_reader(BIG, root, tiles)
    tiles = _tiles(big_log, BIG)
    tiles[Tile(0, 9, 256)] = tiles[Tile(0, 9, 256)][:-32]
    with pytest.raises(TileError):
        verified_tile_reader(BIG, root, tiles)
    with pytest.raises(TileError, match="root"):
        verified_tile_reader(BIG, big_log.root(BIG - 1), _tiles(big_log, BIG))


def _log(size: int) -> MemoryLog:
    log = MemoryLog()
    for entry in leaves_for(size):
        log.append(entry)
    return log
