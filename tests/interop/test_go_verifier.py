"""Interoperability: what handover publishes verifies with Go's golang.org/x/mod/sumdb/note and sumdb/tlog.

The Go program (tests/interop/go/verifylog) shares no code with handover: it opens the checkpoint with note.Open,
recomputes the tree from the entry bundles with tlog.StoredHashes, checks the root and every published hash tile
byte for byte, and checks inclusion proofs. The demo's exported log must pass; a log with one byte changed in a hash
tile or an entry must not. Notes signed by our `Signer` must open with Go's note.Open, and the reverse.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from handover.core.tlog.checkpoint import Checkpoint
from handover.core.tlog.memory import MemoryLog
from handover.core.tlog.note import InvalidSignature, Signer, open_note, sign
from handover.core.tlog.tiles import (
    EntryBundle,
    Tile,
    bundles_for_size,
    decode_bundle,
    encode_bundle,
    parse_tile_path,
    tile_hashes,
    tiles_for_size,
)
from tests.interop import goverify

DEMO_PEOPLE = 2000


@dataclass(frozen=True, slots=True)
class Export:
    directory: Path
    vkey: str
    size: int


@pytest.fixture(scope="session")
def verifier(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return goverify.build_verifier(tmp_path_factory)


def _handover(cwd: Path, url: str, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "HANDOVER_SIGNING_KEY"}
    env["HANDOVER_DATABASE_URL"] = url
    result = subprocess.run(
        [sys.executable, "-m", "handover.cli.main", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, f"handover {' '.join(args)} failed:\n{result.stdout}{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Export:
    """`handover demo --people 2000` then `handover log export`, through the CLI as a user runs them."""
    work = tmp_path_factory.mktemp("demo")
    url = f"sqlite:///{work / 'handover.sqlite3'}"
    built = _handover(work, url, "demo", "--people", str(DEMO_PEOPLE))
    vkey = built.strip().splitlines()[-1]
    _handover(work, url, "log", "export", str(work / "log"))
    size = Checkpoint.parse((work / "log" / "checkpoint").read_text().split("\n\n")[0] + "\n").size
    return Export(work / "log", vkey, size)


def _tampered(export: Export, target: Path, path: str, change: bytes) -> Path:
    """A copy of the exported log with file `path` replaced by `change`."""
    shutil.copytree(export.directory, target)
    (target / path).write_bytes(change)
    return target


def _flip(data: bytes, offset: int) -> bytes:
    return data[:offset] + bytes([data[offset] ^ 0x01]) + data[offset + 1 :]


def _failure(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0, f"the Go verifier accepted a tampered log:\n{result.stdout}"
    assert "verifylog: FAIL:" in result.stderr, result.stderr
    return result.stderr


def test_go_verifies_the_exported_demo_log(verifier: Path, demo: Export) -> None:
    result = goverify.verify_log(verifier, demo.directory, demo.vkey)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK ") and f"size {demo.size}," in result.stdout
    assert demo.size > 2 * 256, "the demo log should span several tiles"


def test_go_refuses_a_changed_hash_tile(verifier: Path, demo: Export, tmp_path: Path) -> None:
    tiles = tiles_for_size(demo.size)
    level0 = [t for t in tiles if t.level == 0]
    # The first full tile, the last (partial, if any) level 0 tile, and every tile above level 0.
    chosen = [level0[0], level0[-1], *(t for t in tiles if t.level > 0)]
    assert len(chosen) >= 3
    for number, tile in enumerate(chosen):
        data = (demo.directory / tile.path).read_bytes()
        offset = (tile.width - 1) * 32 + 17  # inside the tile's last hash
        copy = _tampered(demo, tmp_path / f"tile-{number}", tile.path, _flip(data, offset))
        message = _failure(goverify.verify_log(verifier, copy, demo.vkey))
        assert f"{tile.path}: hash {tile.width - 1} differs" in message, message


def test_go_refuses_a_changed_entry(verifier: Path, demo: Export, tmp_path: Path) -> None:
    bundles = bundles_for_size(demo.size)
    first, last = bundles[0], bundles[-1]
    first_data = (demo.directory / first.path).read_bytes()
    last_data = (demo.directory / last.path).read_bytes()
    cases = {
        # One byte of the first entry's JSON (after its 2-byte length prefix).
        "first entry": (first.path, _flip(first_data, 2 + 10)),
        # The last byte of the newest entry.
        "newest entry": (last.path, _flip(last_data, len(last_data) - 1)),
    }
    for name, (path, changed) in cases.items():
        copy = _tampered(demo, tmp_path / name.replace(" ", "-"), path, changed)
        message = _failure(goverify.verify_log(verifier, copy, demo.vkey))
        assert "the entries hash to root" in message, f"{name}: {message}"


def test_go_refuses_reordered_missing_and_unsigned(verifier: Path, demo: Export, tmp_path: Path) -> None:
    bundles = bundles_for_size(demo.size)
    entries = decode_bundle((demo.directory / bundles[0].path).read_bytes())
    swapped = encode_bundle([entries[1], entries[0], *entries[2:]])
    copy = _tampered(demo, tmp_path / "swapped", bundles[0].path, swapped)
    assert "the entries hash to root" in _failure(goverify.verify_log(verifier, copy, demo.vkey))

    entries = decode_bundle((demo.directory / bundles[-1].path).read_bytes())
    copy = _tampered(demo, tmp_path / "truncated", bundles[-1].path, encode_bundle(entries[:-1]))
    assert f"holds {len(entries) - 1} entries, not {len(entries)}" in _failure(
        goverify.verify_log(verifier, copy, demo.vkey)
    )

    checkpoint = (demo.directory / "checkpoint").read_bytes()
    lines = checkpoint.split(b"\n")
    lines[1] = str(demo.size - 1).encode()  # claim a smaller tree under the same signature
    copy = _tampered(demo, tmp_path / "resized", "checkpoint", b"\n".join(lines))
    assert "invalid signature" in _failure(goverify.verify_log(verifier, copy, demo.vkey))

    other = Signer.generate(demo.vkey.split("+")[0])  # same name, another key
    assert "no verifiable signatures" in _failure(goverify.verify_log(verifier, demo.directory, other.verifier.vkey))


def _publish(entries: list[bytes], signer: Signer, directory: Path) -> None:
    """The C2SP tlog-tiles layout of a whole in-memory log, from the core's own tile functions."""
    memory = MemoryLog()
    for entry in entries:
        memory.append(entry)
    directory.mkdir()
    body = Checkpoint(signer.name, memory.size, memory.root()).body()
    (directory / "checkpoint").write_text(sign(body, [signer]))
    for tile in tiles_for_size(memory.size):
        (directory / tile.path).parent.mkdir(parents=True, exist_ok=True)
        (directory / tile.path).write_bytes(tile_hashes(tile, memory.read_hashes))
    for bundle in bundles_for_size(memory.size):
        (directory / bundle.path).parent.mkdir(parents=True, exist_ok=True)
        (directory / bundle.path).write_bytes(encode_bundle(entries[bundle.start : bundle.end]))


@pytest.mark.parametrize("size", [0, 1, 2, 255, 256, 257, 256 * 256, 256 * 256 + 257])
def test_go_verifies_core_tiles_at_every_tile_boundary(verifier: Path, tmp_path: Path, size: int) -> None:
    # Sizes where tiles appear, fill up and gain a level; 65,536 is the first with a level 2 tile.
    signer = Signer.generate("interop.handover.example/log")
    entries = [f"entry {i}".encode() * (1 + i % 5) for i in range(size)]
    _publish(entries, signer, tmp_path / "log")
    result = goverify.verify_log(verifier, tmp_path / "log", signer.verifier.vkey)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"size {size}," in result.stdout


def test_go_opens_checkpoints_our_signer_signs_with_extension_lines(verifier: Path, tmp_path: Path) -> None:
    signer = Signer.generate("interop.handover.example/log")
    witness = Signer.generate("witness.example/w1")
    root = hashlib.sha256(b"a tree").digest()
    extensions = ("c2sp.org/extension value", "ünïcödé — extension", "— looks like a signature line")
    body = Checkpoint(signer.name, 20852163, root, extensions).body()

    signed = tmp_path / "signed"
    signed.write_text(sign(body, [signer]))
    result = goverify.run(verifier, "note", signed, signer.verifier.vkey)
    assert result.returncode == 0, result.stderr
    assert result.stdout == body
    assert Checkpoint.parse(result.stdout).extensions == extensions

    # Cosigned: Go knows only our key and must ignore the witness's signature, which comes first.
    cosigned = tmp_path / "cosigned"
    cosigned.write_text(sign(body, [witness, signer]))
    result = goverify.run(verifier, "note", cosigned, signer.verifier.vkey)
    assert result.returncode == 0 and result.stdout == body, result.stderr

    tampered = tmp_path / "tampered"
    tampered.write_text(sign(body, [signer]).replace("20852163", "20852164"))
    assert "invalid signature" in _failure(goverify.run(verifier, "note", tampered, signer.verifier.vkey))

    unknown = goverify.run(verifier, "note", signed, witness.verifier.vkey)
    assert "no verifiable signatures" in _failure(unknown)


def test_we_open_notes_go_signs_with_our_key(verifier: Path, tmp_path: Path) -> None:
    # Our private key string is Go's format: Go signs with it, and our Verifier (same key ID) accepts the result.
    signer = Signer.generate("interop.handover.example/log")
    body = Checkpoint(signer.name, 7, hashlib.sha256(b"seven").digest(), ("extension",)).body()
    (tmp_path / "body").write_text(body)
    result = goverify.run(verifier, "sign", tmp_path / "body", signer.skey)
    assert result.returncode == 0, result.stderr
    assert result.stdout == sign(body, [signer])  # Ed25519 is deterministic: the same bytes as ours
    assert open_note(result.stdout, [signer.verifier]).text == body
    with pytest.raises(InvalidSignature):
        open_note(result.stdout.replace("\n7\n", "\n8\n"), [signer.verifier])


def test_tile_paths_agree_with_go(verifier: Path, tmp_path: Path) -> None:
    # Indexes past 1,000 (x-prefixed path elements) only appear in logs of 256,000 entries and more.
    indexes = [0, 1, 999, 1000, 1001, 123456, 999999, 1000000, 1234067, 123456789, 2**40 + 5]
    tiles = [Tile(level, n, width) for n in indexes for level in (0, 3) for width in (1, 255, 256)]
    bundles = [EntryBundle(n, width) for n in indexes for width in (1, 256)]
    lines = [f"{t.level} {t.index} {t.width}" for t in tiles] + [f"-1 {b.index} {b.width}" for b in bundles]
    (tmp_path / "tiles").write_text("\n".join(lines) + "\n")
    result = goverify.run(verifier, "paths", tmp_path / "tiles", "-")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [t.path for t in tiles] + [b.path for b in bundles]
    assert all(parse_tile_path(path) in (*tiles, *bundles) for path in result.stdout.splitlines())
