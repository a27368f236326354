"""C2SP tlog-checkpoint bodies: exact formatting and strict parsing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handover.core.tlog import Checkpoint, MemoryLog, Signer, open_note, parse_checkpoint, sign

SPEC_BODY = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
SPEC_ROOT = bytes.fromhex("0ac5186a91863e8e1d90c808014aa89bf5da8e3ee1d9f07630f0378f68f1ab62")


def test_the_spec_example_parses_and_formats_back() -> None:
    checkpoint = Checkpoint.parse(SPEC_BODY)
    assert checkpoint == Checkpoint("example.com/behind-the-sofa", 20852163, SPEC_ROOT)
    assert checkpoint.body() == SPEC_BODY
    assert parse_checkpoint(SPEC_BODY) == checkpoint


def test_extension_lines_follow_the_root() -> None:
    checkpoint = Checkpoint("log.example", 0, b"\x00" * 32, ("ext one", "ext two"))
    assert checkpoint.body() == "log.example\n0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\next one\next two\n"
    assert Checkpoint.parse(checkpoint.body()) == checkpoint


_lines = st.text(alphabet=st.characters(min_codepoint=0x20, codec="utf-8"), min_size=1, max_size=20)


@given(_lines, st.integers(min_value=0, max_value=2**64 - 1), st.binary(min_size=32, max_size=32), st.lists(_lines))
def test_every_checkpoint_round_trips(origin: str, size: int, root: bytes, extensions: list[str]) -> None:
    checkpoint = Checkpoint(origin, size, root, tuple(extensions))
    assert Checkpoint.parse(checkpoint.body()) == checkpoint


_ROOT_LINE = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="


@pytest.mark.parametrize(
    "body",
    [
        SPEC_BODY.rstrip("\n"),  # missing final newline
        "example.com/behind-the-sofa\n20852163\n",  # no root line
        f"\n20852163\n{_ROOT_LINE}\n",  # empty origin
        f"o\n020852163\n{_ROOT_LINE}\n",  # leading zero
        f"o\n00\n{_ROOT_LINE}\n",
        f"o\n-1\n{_ROOT_LINE}\n",
        f"o\n+5\n{_ROOT_LINE}\n",
        f"o\n 5\n{_ROOT_LINE}\n",
        f"o\n5 \n{_ROOT_LINE}\n",
        f"o\n1_000\n{_ROOT_LINE}\n",
        f"o\n\u0661\u0662\n{_ROOT_LINE}\n",  # Arabic-Indic digits
        f"o\n0x10\n{_ROOT_LINE}\n",
        f"o\n{2**64}\n{_ROOT_LINE}\n",  # beyond uint64
        "o\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n",  # unpadded
        "o\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n",  # non-zero padding bits
        "o\n5\nCsUYapGGPo4dkMgIAUqom_Xajj7h2fB2MPA3j2jxq2I=\n",  # URL-safe alphabet
        "o\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jx\n",  # 30 bytes
        "o\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n",  # 33 bytes
        "o\n5\n CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        SPEC_BODY + "\n",  # an empty extension line
        SPEC_BODY + "\nafter a gap\n",
        SPEC_BODY.replace("\n", "\r\n"),
        "o\tx\n5\n" + _ROOT_LINE + "\n",  # control character in the origin
    ],
)
def test_anything_off_is_refused(body: str) -> None:
    with pytest.raises(ValueError):
        Checkpoint.parse(body)


@pytest.mark.parametrize(
    "arguments",
    [
        ("", 1, SPEC_ROOT),
        ("two\nlines", 1, SPEC_ROOT),
        ("o", -1, SPEC_ROOT),
        ("o", 2**64, SPEC_ROOT),
        ("o", True, SPEC_ROOT),
        ("o", 1, SPEC_ROOT[:31]),
        ("o", 1, SPEC_ROOT.hex()),
    ],
)
def test_impossible_checkpoints_cannot_be_made(arguments: tuple[str, int, bytes]) -> None:
    with pytest.raises(ValueError):
        Checkpoint(*arguments)


def test_an_empty_extension_line_cannot_be_made() -> None:
    with pytest.raises(ValueError):
        Checkpoint("o", 1, SPEC_ROOT, ("",))


def test_a_signed_checkpoint_opens_and_parses() -> None:
    log = MemoryLog()
    for i in range(5):
        log.append(bytes([i]))
    signer = Signer.generate("handover.example/log")
    checkpoint = Checkpoint("handover.example/log", log.size, log.root())
    note = open_note(sign(checkpoint.body(), [signer]), [signer.verifier])
    assert Checkpoint.parse(note.text) == checkpoint
