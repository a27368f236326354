"""C2SP tlog-proof: the offline proof format and checking a leaf against it."""

from __future__ import annotations

import pytest

from handover.core.tlog import (
    Checkpoint,
    MemoryLog,
    Signer,
    TlogProof,
    leaf_hash,
    open_note,
    parse_proof,
    prove_inclusion,
    sign,
    verify_proof,
)
from handover.core.tlog.proof import HEADER

ORIGIN = "handover.example/log"
SIGNER = Signer(ORIGIN, bytes(range(32)))


def _setting(size: int = 20) -> tuple[MemoryLog, Checkpoint, str]:
    log = MemoryLog()
    for i in range(size):
        log.append(f"event {i}".encode())
    checkpoint = Checkpoint(ORIGIN, size, log.root())
    return log, checkpoint, sign(checkpoint.body(), [SIGNER])


def _proof(index: int = 13, extra: bytes | None = None) -> tuple[TlogProof, MemoryLog, Checkpoint]:
    log, checkpoint, note = _setting()
    hashes = tuple(prove_inclusion(checkpoint.size, index, log.read_hashes))
    return TlogProof(index, hashes, note, extra), log, checkpoint


def test_encoding_is_exactly_the_spec_layout() -> None:
    proof, _, _ = _proof(extra=b"context")
    lines = proof.encode().split("\n")
    assert lines[0] == "c2sp.org/tlog-proof@v1" == HEADER
    assert lines[1] == "extra Y29udGV4dA=="
    assert lines[2] == "index 13"
    assert len(lines[3:8]) == len(proof.hashes) == 5  # a tree of 20: four levels plus the border
    assert lines[8] == ""
    assert "\n".join(lines[9:]) == proof.checkpoint
    assert proof.encode() == (
        "c2sp.org/tlog-proof@v1\nextra Y29udGV4dA==\nindex 13\n"
        + "".join(f"{line}\n" for line in lines[3:8])
        + "\n"
        + proof.checkpoint
    )


@pytest.mark.parametrize("extra", [None, b"", b"\x00vrf proof"])
def test_proofs_round_trip(extra: bytes | None) -> None:
    proof, _, _ = _proof(extra=extra)
    assert TlogProof.parse(proof.encode()) == proof
    assert parse_proof(proof.encode()) == proof


def test_a_proof_with_no_hashes_for_a_tree_of_one() -> None:
    _, checkpoint, note = _setting(1)
    proof = TlogProof(0, (), note)
    assert proof.encode() == f"{HEADER}\nindex 0\n\n{note}"
    assert TlogProof.parse(proof.encode()) == proof
    assert verify_proof(proof, leaf_hash(b"event 0"), checkpoint)


def test_checking_a_proof_the_way_a_monitor_does() -> None:
    proof, log, _ = _proof()
    received = TlogProof.parse(proof.encode())
    note = open_note(received.checkpoint, [SIGNER.verifier])
    checkpoint = Checkpoint.parse(note.text)
    assert checkpoint.origin == ORIGIN
    assert verify_proof(received, leaf_hash(log.entries[13]), checkpoint)
    assert not verify_proof(received, leaf_hash(log.entries[12]), checkpoint)
    assert not verify_proof(received, leaf_hash(b"event 13 "), checkpoint)


def test_a_checkpoint_other_than_the_one_carried_is_refused() -> None:
    proof, log, checkpoint = _proof()
    bigger = MemoryLog()
    for entry in [*log.entries, b"one more"]:
        bigger.append(entry)
    other = Checkpoint(ORIGIN, bigger.size, bigger.root())
    assert verify_proof(proof, leaf_hash(log.entries[13]), checkpoint)
    assert not verify_proof(proof, leaf_hash(log.entries[13]), other)


def test_tampered_proofs_fail() -> None:
    proof, log, checkpoint = _proof()
    leaf = leaf_hash(log.entries[13])
    flipped = bytes([proof.hashes[2][0] ^ 1]) + proof.hashes[2][1:]
    hashes = (*proof.hashes[:2], flipped, *proof.hashes[3:])
    assert not verify_proof(TlogProof(13, hashes, proof.checkpoint), leaf, checkpoint)
    assert not verify_proof(TlogProof(12, proof.hashes, proof.checkpoint), leaf, checkpoint)
    assert not verify_proof(TlogProof(13, proof.hashes[:-1], proof.checkpoint), leaf, checkpoint)


def _encoded() -> str:
    proof, _, _ = _proof()
    return proof.encode()


@pytest.mark.parametrize(
    "mangle",
    [
        lambda text: text.replace(HEADER, "c2sp.org/tlog-proof@v2"),
        lambda text: text.replace("index 13", "index 013"),
        lambda text: text.replace("index 13", "index -13"),
        lambda text: text.replace("index 13", "index  13"),
        lambda text: text.replace("index 13", "idx 13"),
        lambda text: text.replace("index 13\n", ""),
        lambda text: text.replace("index 13", "index 13\nextra AAAA"),  # extra after the index
        lambda text: text.replace("index 13", "extra !!\nindex 13"),
        lambda text: text.replace("=\n", "\n", 1),  # unpadded hash
        lambda text: text.replace("=\n\n", "\n\n", 1),
        lambda text: text.split("\n\n", 1)[0] + "\n",  # no checkpoint
        lambda text: text.replace("\n\n", "\n", 1),  # no empty line
        lambda text: text.rsplit("\n\n", 1)[0] + "\n",  # checkpoint without its signatures
        lambda text: text.replace("\n", "\r\n"),
    ],
)
def test_malformed_proofs_are_refused(mangle: object) -> None:
    assert callable(mangle)
    with pytest.raises(ValueError):
        TlogProof.parse(mangle(_encoded()))


def test_short_hash_is_refused() -> None:
    proof, _, _ = _proof()
    with pytest.raises(ValueError):
        TlogProof(13, (b"\x00" * 31,), proof.checkpoint)
