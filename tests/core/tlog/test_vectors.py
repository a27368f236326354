"""The shared RFC 6962 / RFC 9162 reference vectors (from transparency-dev/merkle), every case its own test.

Vector fields are named as transparency-dev names them (`size1`, `root1`, then `size2`, `root2`); our checks take
Go sumdb/tlog's order, newer tree first: `check_consistency(proof, size2, root2, size1, root1)`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from handover.core.tlog import MemoryLog, check_consistency, check_inclusion, prove_consistency, prove_inclusion
from tests.core.tlog.support import VECTORS, Rfc9162Tree, b64, load_vector

INCLUSION = sorted((VECTORS / "rfc6962" / "inclusion").glob("*.json"))
CONSISTENCY = sorted((VECTORS / "rfc6962" / "consistency").glob("*.json"))
ROOTS = json.loads((VECTORS / "rfc6962" / "roots.json").read_text()) if VECTORS.is_dir() else {}


def test_all_196_vector_files_are_found() -> None:
    # Without this an unreachable vectors directory would parametrize to nothing and pass silently.
    assert (len(INCLUSION), len(CONSISTENCY)) == (98, 98), f"vectors not found under {VECTORS}"


@pytest.mark.parametrize("path", INCLUSION, ids=lambda path: path.stem)
def test_inclusion_vector(path: Path) -> None:
    v = load_vector(path)
    proof = [b64(h) for h in v["proof"] or []]
    verified = check_inclusion(proof, v["treeSize"], b64(v["root"]), v["leafIdx"], b64(v["leafHash"]))
    assert verified is (not v["wantErr"]), v["desc"]


@pytest.mark.parametrize("path", CONSISTENCY, ids=lambda path: path.stem)
def test_consistency_vector(path: Path) -> None:
    v = load_vector(path)
    proof = [b64(h) for h in v["proof"] or []]
    verified = check_consistency(proof, v["size2"], b64(v["root2"]), v["size1"], b64(v["root1"]))
    assert verified is (not v["wantErr"]), v["desc"]


def _standard_log() -> MemoryLog:
    log = MemoryLog()
    for leaf in ROOTS["leaf_inputs_hex"]:
        log.append(bytes.fromhex(leaf))
    return log


@pytest.mark.parametrize("size", range(9))
def test_roots_table(size: int) -> None:
    log = _standard_log()
    expected = ROOTS["roots_by_size_hex"][size]
    assert log.root(size).hex() == expected
    entries = [bytes.fromhex(leaf) for leaf in ROOTS["leaf_inputs_hex"][:size]]
    assert Rfc9162Tree(entries).mth(0, size).hex() == expected


@pytest.mark.parametrize("path", [p for p in INCLUSION if p.stem.endswith("happy-path")], ids=lambda path: path.stem)
def test_we_prove_exactly_the_vector_inclusion_proofs(path: Path) -> None:
    # The happy paths are proofs over the eight standard leaves: ours must be byte-identical, not just valid.
    v, log = load_vector(path), _standard_log()
    assert log.root(v["treeSize"]) == b64(v["root"])
    assert prove_inclusion(v["treeSize"], v["leafIdx"], log.read_hashes) == [b64(h) for h in v["proof"] or []]


@pytest.mark.parametrize("path", [p for p in CONSISTENCY if p.stem.endswith("happy-path")], ids=lambda path: path.stem)
def test_we_prove_exactly_the_vector_consistency_proofs(path: Path) -> None:
    v, log = load_vector(path), _standard_log()
    assert (log.root(v["size1"]), log.root(v["size2"])) == (b64(v["root1"]), b64(v["root2"]))
    assert prove_consistency(v["size2"], v["size1"], log.read_hashes) == [b64(h) for h in v["proof"] or []]
