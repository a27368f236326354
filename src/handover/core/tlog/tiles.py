"""The log as C2SP tlog-tiles: hash tiles, entry bundles, their paths, and checking tiles against a root.

A tile at level L holds up to 256 consecutive hashes from tree level 8*L: "the n-th tile at level l ... is the
sequence of the following Merkle Tree Hashes, with i from 0 to 255: MTH(D[(n * 256 + i) * 256**l :
(n * 256 + i + 1) * 256**l])". Level 0 tiles hold leaf hashes; each hash in a level 1 tile is the root of a full
level 0 tile, and so on. The tree levels between are recomputed by hashing.

Entry bundles (`tile/entries/...`) hold the entries themselves. They are a different kind of thing from hash tiles
(bytes of entries, not hashes), so they get their own type, `EntryBundle`, and `parse_tile_path` returns one or the
other: the type checker then stops a bundle being served as a hash tile.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from handover.core.tlog._codec import decode_decimal
from handover.core.tlog.hashing import HASH_SIZE, leaf_hash, node_hash
from handover.core.tlog.tree import (
    HashReader,
    read_stored_hashes,
    split_stored_hash_index,
    stored_hash_index,
    tree_hash,
)

TILE_HEIGHT = 8
"""Tree levels per tile: a full tile is the bottom row of a subtree 8 levels high."""
TILE_WIDTH = 1 << TILE_HEIGHT
"""Hashes in a full tile (256, i.e. 8,192 bytes); also entries in a full bundle."""
MAX_TILE_LEVEL = 63
"""'<L> ... MUST be a decimal ASCII integer between 0 and 63'."""
MAX_ENTRY_SIZE = 0xFFFF
"""Entry bundles prefix each entry with a big-endian uint16 length, so no entry can be longer."""

_PATH_GROUP = re.compile(r"x?[0-9]{3}")


class TileError(ValueError):
    """Tile data that is missing, the wrong size, or does not hash to what the tree says it must."""


@dataclass(frozen=True, slots=True)
class Tile:
    """The `index`-th hash tile at `level`, holding `width` hashes (256 for a full tile, 1..255 for a partial one)."""

    level: int
    index: int
    width: int

    def __post_init__(self) -> None:
        _check_int("tile level", self.level, 0, MAX_TILE_LEVEL)
        _check_int("tile index", self.index, 0, None)
        _check_int("tile width", self.width, 1, TILE_WIDTH)

    @property
    def is_partial(self) -> bool:
        return self.width < TILE_WIDTH

    @property
    def path(self) -> str:
        """`tile/<L>/<N>[.p/<W>]`, relative to the log's URL prefix."""
        return f"tile/{self.level}/{_encode_path_index(self.index, self.width)}"

    @property
    def start(self) -> int:
        """First log entry the tile's hashes span ('n * 256**(l+1)')."""
        return self.index << (TILE_HEIGHT * (self.level + 1))

    @property
    def end(self) -> int:
        """One past the last log entry the tile's hashes span ('(n + 1) * 256**(l+1)' for a full tile)."""
        return self.start + (self.width << (TILE_HEIGHT * self.level))


@dataclass(frozen=True, slots=True)
class EntryBundle:
    """The `index`-th entry bundle: entries [index * 256, index * 256 + width), as level 0 tile `index` spans."""

    index: int
    width: int

    def __post_init__(self) -> None:
        _check_int("bundle index", self.index, 0, None)
        _check_int("bundle width", self.width, 1, TILE_WIDTH)

    @property
    def is_partial(self) -> bool:
        return self.width < TILE_WIDTH

    @property
    def path(self) -> str:
        """`tile/entries/<N>[.p/<W>]`, relative to the log's URL prefix."""
        return f"tile/entries/{_encode_path_index(self.index, self.width)}"

    @property
    def start(self) -> int:
        return self.index * TILE_WIDTH

    @property
    def end(self) -> int:
        return self.start + self.width


# --- paths --------------------------------------------------------------------------------------------------------


def parse_tile_path(path: str) -> Tile | EntryBundle:
    """The tile or entry bundle at `path` (relative, `tile/...`); ValueError unless `path` is its canonical path.

    Only the spelling `Tile.path` / `EntryBundle.path` produces is accepted, so each resource has exactly one URL.
    """
    try:
        parsed = _parse_path(path)
    except ValueError as exc:
        raise ValueError(f"malformed tile path {path!r}") from exc
    if parsed.path != path:
        raise ValueError(f"malformed tile path {path!r}")
    return parsed


def _parse_path(path: str) -> Tile | EntryBundle:
    parts = path.split("/")
    if len(parts) < 3 or parts[0] != "tile":
        raise ValueError("not under tile/")
    kind, groups = parts[1], parts[2:]
    width = TILE_WIDTH
    if len(groups) >= 2 and groups[-2].endswith(".p"):
        width = decode_decimal(groups[-1], limit=TILE_WIDTH - 1)
        groups = [*groups[:-2], groups[-2].removesuffix(".p")]
    index = 0
    for group in groups:
        if not _PATH_GROUP.fullmatch(group):
            raise ValueError(f"bad index element {group!r}")
        index = index * 1000 + int(group.removeprefix("x"))
    if kind == "entries":
        return EntryBundle(index, width)
    return Tile(decode_decimal(kind, limit=MAX_TILE_LEVEL), index, width)


def _encode_path_index(index: int, width: int) -> str:
    """N in zero-padded 3-digit elements, all but the last prefixed `x` (1234067 -> x001/x234/067), then `.p/<W>`."""
    encoded = f"{index % 1000:03d}"
    while index >= 1000:
        index //= 1000
        encoded = f"x{index % 1000:03d}/{encoded}"
    return encoded if width == TILE_WIDTH else f"{encoded}.p/{width}"


# --- which tiles a tree has -----------------------------------------------------------------------------------------


def tiles_for_size(size: int) -> list[Tile]:
    """Every hash tile a log of `size` entries publishes, level by level: all full tiles, then the partial one.

    'The partial tile at level l for a tree of size s has floor(s / 256**l) mod 256 entries. Empty tiles MUST NOT
    be served.' So a tree of 256 has a full level 0 tile and a level 1 tile of width 1, and none for size 0.
    """
    _check_int("tree size", size, 0, None)
    tiles: list[Tile] = []
    level = 0
    while (row := size >> (TILE_HEIGHT * level)) > 0:  # hashes at tree level 8*level
        full, partial = divmod(row, TILE_WIDTH)
        tiles.extend(Tile(level, index, TILE_WIDTH) for index in range(full))
        if partial:
            tiles.append(Tile(level, full, partial))
        level += 1
    return tiles


def bundles_for_size(size: int) -> list[EntryBundle]:
    """Every entry bundle a log of `size` entries publishes: the full ones, then a partial one if any."""
    _check_int("tree size", size, 0, None)
    full, partial = divmod(size, TILE_WIDTH)
    bundles = [EntryBundle(index, TILE_WIDTH) for index in range(full)]
    if partial:
        bundles.append(EntryBundle(full, partial))
    return bundles


# --- tile contents ------------------------------------------------------------------------------------------------


def tile_hashes(tile: Tile, read: HashReader) -> bytes:
    """The tile's contents: its `width` hashes from tree level 8*level, concatenated (Go: ReadTileData)."""
    first = tile.index * TILE_WIDTH
    indexes = [stored_hash_index(TILE_HEIGHT * tile.level, first + i) for i in range(tile.width)]
    return b"".join(read_stored_hashes(read, indexes))


def tile_for_index(index: int) -> Tile:
    """The narrowest tile from which the hash stored at `index` can be recomputed (Go: TileForIndex)."""
    tile, _, _ = _locate(index)
    return tile


def hash_from_tile(tile: Tile, data: bytes, index: int) -> bytes:
    """Recompute the stored hash at `index` from the contents of `tile` (Go: HashFromTile).

    A hash from a tree level between two tile levels is the root of a run of the tile's hashes.
    """
    if len(data) != tile.width * HASH_SIZE:
        raise TileError(f"{tile.path} holds {tile.width * HASH_SIZE} bytes, not {len(data)}")
    narrowest, first, end = _locate(index)
    if (tile.level, tile.index) != (narrowest.level, narrowest.index) or tile.width < narrowest.width:
        raise ValueError(f"stored hash {index} is in {narrowest.path}, not in {tile.path}")
    return _root_of_hashes(data[first * HASH_SIZE : end * HASH_SIZE])


def tree_hash_from_tiles(size: int, tiles: Mapping[Tile, bytes]) -> bytes:
    """The root of the tree of `size` entries, recomputed from tile contents alone (as a verifier does).

    `tiles` maps each tile in `tiles_for_size(size)` (more do no harm) to its contents.
    """
    return tree_hash(size, _tile_reader(size, tiles))


def verified_tile_reader(size: int, root: bytes, tiles: Mapping[Tile, bytes]) -> HashReader:
    """A `HashReader` over the tree of `size` entries served from tiles, once every tile is proven to match `root`.

    Trusts nothing in the tiles: the root is recomputed from them and must equal `root` (that covers every
    partial tile, since partial tiles are never hashed into a parent), and every full tile must hash to its entry in
    the tile above. Raises TileError otherwise. Proofs computed through the reader are then as good as the root.
    """
    expected = tiles_for_size(size)
    for tile in expected:
        if tile not in tiles:
            raise TileError(f"missing {tile.path}")
        if len(tiles[tile]) != tile.width * HASH_SIZE:
            raise TileError(f"{tile.path} holds {tile.width * HASH_SIZE} bytes, not {len(tiles[tile])}")
    if tree_hash_from_tiles(size, tiles) != root:
        raise TileError(f"the tiles of a tree of size {size} do not hash to its root")
    for tile in expected:
        if tile.is_partial:
            continue
        parent = _tile_in_tree(size, tile.level + 1, tile.index >> TILE_HEIGHT)
        slot = (tile.index % TILE_WIDTH) * HASH_SIZE
        if _root_of_hashes(tiles[tile]) != tiles[parent][slot : slot + HASH_SIZE]:
            raise TileError(f"{tile.path} does not hash to its entry in {parent.path}")
    return _tile_reader(size, tiles)


def _tile_reader(size: int, tiles: Mapping[Tile, bytes]) -> HashReader:
    """Read stored hashes of the tree of `size` entries by recomputing them from the tiles that tree publishes."""

    def read(indexes: Sequence[int]) -> list[bytes]:
        hashes = []
        for index in indexes:
            narrowest = tile_for_index(index)
            tile = _tile_in_tree(size, narrowest.level, narrowest.index)
            if tile.width < narrowest.width:
                raise ValueError(f"stored hash {index} is not in a tree of size {size}")
            if tile not in tiles:
                raise TileError(f"missing {tile.path}")
            hashes.append(hash_from_tile(tile, tiles[tile], index))
        return hashes

    return read


def _tile_in_tree(size: int, level: int, index: int) -> Tile:
    """Tile `index` at `level` as a tree of `size` entries publishes it: full, or as wide as the tree reaches."""
    row = size >> (TILE_HEIGHT * level)
    width = min(TILE_WIDTH, row - index * TILE_WIDTH)
    if width < 1:
        raise ValueError(f"a tree of size {size} has no tile {index} at level {level}")
    return Tile(level, index, width)


def _locate(index: int) -> tuple[Tile, int, int]:
    """The narrowest tile holding stored hash `index`, and the run [first, end) of its hashes that hash to it."""
    level, n = split_stored_hash_index(index)
    tile_level, level_in_tile = divmod(level, TILE_HEIGHT)
    # Node n at tree level `level` covers 2**level_in_tile consecutive hashes of its tile's row.
    first = n << level_in_tile
    tile_index, first = divmod(first, TILE_WIDTH)
    end = first + (1 << level_in_tile)
    return Tile(tile_level, tile_index, end), first, end


def _root_of_hashes(data: bytes) -> bytes:
    """Root of the perfect subtree whose bottom row is `data`, a power-of-two count of concatenated hashes."""
    row = [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]
    if not row or len(row) & (len(row) - 1):
        raise ValueError(f"{len(row)} hashes do not form a perfect subtree")
    while len(row) > 1:
        row = [node_hash(row[i], row[i + 1]) for i in range(0, len(row), 2)]
    return row[0]


# --- entry bundles ------------------------------------------------------------------------------------------------


def encode_bundle(entries: Sequence[bytes]) -> bytes:
    """'Entry bundles are sequences of big-endian uint16 length-prefixed log entries.'"""
    parts = []
    for entry in entries:
        if len(entry) > MAX_ENTRY_SIZE:
            raise ValueError(f"an entry of {len(entry)} bytes does not fit a uint16 length prefix")
        parts.append(len(entry).to_bytes(2, "big") + entry)
    return b"".join(parts)


def decode_bundle(data: bytes) -> list[bytes]:
    """The entries of an entry bundle; ValueError if the data ends inside a length prefix or an entry."""
    data = bytes(data)
    entries = []
    offset, size = 0, len(data)
    while offset < size:
        if offset + 2 > size:
            raise ValueError(f"entry bundle ends inside a length prefix at byte {offset}")
        start = offset + 2
        # Indexing bytes gives ints: cheaper than int.from_bytes on a slice, and a monitor splits every bundle.
        offset = start + (data[offset] << 8 | data[offset + 1])
        if offset > size:
            raise ValueError(f"entry bundle ends inside an entry of {offset - start} bytes at byte {start}")
        entries.append(data[start:offset])
    return entries


def leaf_tile_from_entries(entries: Sequence[bytes]) -> bytes:
    """The level 0 tile contents the entries of a bundle must match: 'Each entry in a bundle hashes to the
    corresponding entry in the corresponding "level 0" Merkle Tree tile.'"""
    return b"".join(leaf_hash(entry) for entry in entries)


def _check_int(what: str, value: int, low: int, high: int | None) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < low or (high is not None and value > high):
        bounds = f"{low}..{high}" if high is not None else f">= {low}"
        raise ValueError(f"{what} must be an integer {bounds}, not {value!r}")
