"""The transparency log core: RFC 9162 Merkle trees over Go-style stored hashes, and the C2SP formats around them.

Pure functions and frozen values (the one mutable thing is `MemoryLog`), standard library plus `cryptography` for
Ed25519; storage sits behind a one-function `HashReader`. Modules:

- `hashing`: leaf and node hashes.
- `tree`: stored-hash layout, tree hashes, inclusion and consistency proofs (proving and checking).
- `memory`: a whole log in memory.
- `tiles`: C2SP tlog-tiles (hash tiles, entry bundles, their paths, checking tiles against a root).
- `note`: C2SP signed-note with Ed25519.
- `checkpoint`: C2SP tlog-checkpoint.
- `proof`: C2SP tlog-proof.
"""

from handover.core.tlog.checkpoint import Checkpoint, parse_checkpoint
from handover.core.tlog.hashing import EMPTY_ROOT, HASH_SIZE, leaf_hash, node_hash
from handover.core.tlog.memory import MemoryLog
from handover.core.tlog.note import (
    InvalidSignature,
    MalformedKey,
    MalformedNote,
    Note,
    NoteError,
    Signature,
    Signer,
    UnverifiedNote,
    Verifier,
    open_note,
    sign,
    split_note,
)
from handover.core.tlog.proof import TlogProof, parse_proof, verify_proof
from handover.core.tlog.tiles import (
    MAX_ENTRY_SIZE,
    TILE_HEIGHT,
    TILE_WIDTH,
    EntryBundle,
    Tile,
    TileError,
    bundles_for_size,
    decode_bundle,
    encode_bundle,
    hash_from_tile,
    leaf_tile_from_entries,
    parse_tile_path,
    tile_for_index,
    tile_hashes,
    tiles_for_size,
    tree_hash_from_tiles,
    verified_tile_reader,
)
from handover.core.tlog.tree import (
    HashReader,
    check_consistency,
    check_inclusion,
    prove_consistency,
    prove_inclusion,
    split_stored_hash_index,
    stored_hash_count,
    stored_hash_index,
    stored_hashes,
    tree_hash,
)

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MAX_ENTRY_SIZE",
    "TILE_HEIGHT",
    "TILE_WIDTH",
    "Checkpoint",
    "EntryBundle",
    "HashReader",
    "InvalidSignature",
    "MalformedKey",
    "MalformedNote",
    "MemoryLog",
    "Note",
    "NoteError",
    "Signature",
    "Signer",
    "Tile",
    "TileError",
    "TlogProof",
    "UnverifiedNote",
    "Verifier",
    "bundles_for_size",
    "check_consistency",
    "check_inclusion",
    "decode_bundle",
    "encode_bundle",
    "hash_from_tile",
    "leaf_hash",
    "leaf_tile_from_entries",
    "node_hash",
    "open_note",
    "parse_checkpoint",
    "parse_proof",
    "parse_tile_path",
    "prove_consistency",
    "prove_inclusion",
    "sign",
    "split_note",
    "split_stored_hash_index",
    "stored_hash_count",
    "stored_hash_index",
    "stored_hashes",
    "tile_for_index",
    "tile_hashes",
    "tiles_for_size",
    "tree_hash",
    "tree_hash_from_tiles",
    "verified_tile_reader",
    "verify_proof",
]
