"""C2SP signed notes: the shared example, Go's documented example, and every way a note can be wrong."""

from __future__ import annotations

import hashlib

import pytest

from handover.core.tlog import (
    InvalidSignature,
    MalformedKey,
    MalformedNote,
    NoteError,
    Signer,
    UnverifiedNote,
    Verifier,
    open_note,
    sign,
)
from handover.core.tlog.note import MAX_SIGNATURES, key_id, split_note
from tests.core.tlog.support import VECTORS

NOTES = VECTORS / "signed-note"

# From the documentation of Go's golang.org/x/mod/sumdb/note: an independent implementation's keys and output.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_NOTE = (
    GO_TEXT + "\n"
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


@pytest.fixture
def example_verifier() -> Verifier:
    return Verifier.from_vkey((NOTES / "example.vkey").read_text().strip())


def test_the_example_note_is_accepted(example_verifier: Verifier) -> None:
    note = open_note((NOTES / "example-note.txt").read_text(), [example_verifier])
    assert note.text == "This is an example message.\n"
    assert [(s.name, s.key_id) for s in note.signatures] == [("example.com/foo", 0x530D903A)]


def test_the_tampered_example_note_is_refused(example_verifier: Verifier) -> None:
    with pytest.raises(InvalidSignature):
        open_note((NOTES / "example-note-tampered.txt").read_text(), [example_verifier])


def test_key_id_of_the_example_key(example_verifier: Verifier) -> None:
    # key ID = SHA-256(key name || 0x0A || 0x01 || 32-byte Ed25519 public key)[:4], big-endian
    digest = hashlib.sha256(b"example.com/foo\n\x01" + example_verifier.public_key).digest()
    assert example_verifier.key_id == int.from_bytes(digest[:4], "big") == 0x530D903A
    assert key_id("example.com/foo", example_verifier.public_key) == 0x530D903A
    assert example_verifier.vkey == (NOTES / "example.vkey").read_text().strip()


def test_go_documentation_example_byte_for_byte() -> None:
    signer = Signer.from_skey(GO_SKEY)
    assert signer.skey == GO_SKEY
    assert signer.verifier.vkey == GO_VKEY
    assert sign(GO_TEXT, [signer]) == GO_NOTE  # Ed25519 is deterministic
    assert open_note(GO_NOTE, [Verifier.from_vkey(GO_VKEY)]).text == GO_TEXT


def test_skey_and_vkey_round_trip() -> None:
    signer = Signer.generate("handover.example/log")
    assert Signer.from_skey(signer.skey) == signer
    assert Verifier.from_vkey(signer.verifier.vkey) == signer.verifier
    assert signer.skey.startswith(f"PRIVATE+KEY+handover.example/log+{signer.key_id:08x}+")
    assert signer.seed.hex() not in repr(signer)


def test_uppercase_key_id_is_read_as_go_reads_it() -> None:
    name, key, data = GO_VKEY.split("+", 2)
    assert Verifier.from_vkey(f"{name}+{key.upper()}+{data}") == Verifier.from_vkey(GO_VKEY)


def test_sign_and_open_round_trip_with_several_signers() -> None:
    log, witness = Signer.generate("handover.example/log"), Signer.generate("witness.example/w1")
    text = "first line\n\nafter an empty line\n"
    message = sign(text, [log, witness])
    note = open_note(message, [log.verifier, witness.verifier])
    assert note.text == text
    assert [s.name for s in note.signatures] == ["handover.example/log", "witness.example/w1"]
    assert open_note(message.encode(), [witness.verifier]).signatures[0].name == "witness.example/w1"
    assert split_note(message) == (text, [s.line.rstrip("\n") for s in note.signatures])


def test_signatures_from_unknown_keys_are_ignored() -> None:
    log, stranger = Signer.generate("handover.example/log"), Signer.generate("stranger.example")
    note = open_note(sign("hello\n", [stranger, log]), [log.verifier])
    assert [s.name for s in note.signatures] == ["handover.example/log"]
    assert [s.name for s in note.unverified] == ["stranger.example"]


def test_a_note_signed_only_by_an_unknown_key_is_refused() -> None:
    log, stranger = Signer.generate("handover.example/log"), Signer.generate("handover.example/log")
    # Same name, different key (so a different key ID): 'Verifiers MUST ignore signatures from unknown keys, even if
    # they share a name or ID (but not both) with a known key.'
    with pytest.raises(UnverifiedNote) as refused:
        open_note(sign("hello\n", [stranger]), [log.verifier])
    assert refused.value.text == "hello\n"


def test_a_bad_signature_from_a_known_key_spoils_the_note() -> None:
    log, other = Signer.generate("handover.example/log"), Signer.generate("other.example")
    good = sign("hello\n", [log, other])
    forged = good.replace("hello", "hullo")
    with pytest.raises(InvalidSignature):
        open_note(forged, [log.verifier])
    # A good signature plus a repeated bad one from the same key is still refused: every known signature is checked.
    bad_line = sign("hullo\n", [log]).split("\n\n")[1]
    with pytest.raises(InvalidSignature):
        open_note(good + bad_line, [log.verifier])


def test_repeated_signatures_are_kept_once() -> None:
    log = Signer.generate("handover.example/log")
    message = sign("hello\n", [log])
    line = message.split("\n\n")[1]
    assert len(open_note(message + line, [log.verifier]).signatures) == 1


_SIGNER = Signer.from_skey(GO_SKEY)
_GOOD_LINE = GO_NOTE.split("\n\n")[1]


@pytest.mark.parametrize(
    "message",
    [
        GO_TEXT + _GOOD_LINE,  # no blank line
        GO_NOTE.rstrip("\n"),  # last signature line without its newline
        GO_TEXT + "\n",  # no signature lines
        GO_NOTE.replace("— ", "-- "),
        GO_NOTE.replace("— ", "–  "),  # en dash
        GO_NOTE.replace("— ", "—"),
        GO_NOTE.replace("PeterNeumann x08", "PeterNeumann  x08"),
        GO_NOTE.replace("AM=\n", "AM\n"),  # unpadded base64
        GO_NOTE.replace(
            "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=", "x08g"
        ),
        GO_NOTE.replace("\n", "\r\n"),
        GO_NOTE.replace("your problem,", "your\tproblem,"),
        GO_NOTE.replace("problem,", "problem\x00"),
        GO_NOTE + "\n",
        GO_TEXT + "\n" + _GOOD_LINE * (MAX_SIGNATURES + 1),
        "\ud800" + GO_NOTE,
    ],
    ids=[
        "no-blank-line",
        "no-final-newline",
        "no-signatures",
        "ascii-dashes",
        "en-dash",
        "no-space-after-dash",
        "two-spaces",
        "unpadded-base64",
        "short-signature",
        "crlf",
        "tab",
        "nul",
        "trailing-blank-line",
        "too-many-signatures",
        "lone-surrogate",
    ],
)
def test_malformed_notes_are_refused(message: str) -> None:
    with pytest.raises(MalformedNote):
        open_note(message, [_SIGNER.verifier])


def test_invalid_utf8_is_refused() -> None:
    with pytest.raises(MalformedNote):
        open_note(b"\xff\xfe\n\n" + _GOOD_LINE.encode(), [_SIGNER.verifier])


@pytest.mark.parametrize("text", ["no newline", "", "tab\there\n", "cr\r\n"])
def test_texts_that_cannot_be_signed_are_refused(text: str) -> None:
    with pytest.raises(MalformedNote):
        sign(text, [_SIGNER])


def test_signing_needs_a_signer() -> None:
    with pytest.raises(MalformedNote):
        sign("hello\n", [])


@pytest.mark.parametrize("name", ["", "has space", "has+plus", "tab\tname", "nbsp\u00a0name", "ideographic\u3000space"])
def test_invalid_key_names_are_refused(name: str) -> None:
    with pytest.raises(MalformedKey):
        Signer.generate(name)


@pytest.mark.parametrize(
    "vkey",
    [
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # key ID of another key
        "PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # seven hex digits
        "PeterNeumann+0xc74f20+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+AhpcZ2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",  # type byte 0x02
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy1w==",  # 31-byte key
        "PeterNeumann+c74f20a3",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        GO_SKEY,
    ],
)
def test_malformed_verifier_keys_are_refused(vkey: str) -> None:
    with pytest.raises(MalformedKey):
        Verifier.from_vkey(vkey)


@pytest.mark.parametrize(
    "skey",
    [
        GO_SKEY.replace("c74f20a3", "c74f20a4"),
        GO_SKEY.replace("PRIVATE+KEY", "PUBLIC+KEY"),
        GO_SKEY.removeprefix("PRIVATE+KEY+"),
        GO_SKEY.replace("+AYEK", "+AoEK"),
    ],
)
def test_malformed_signer_keys_are_refused(skey: str) -> None:
    with pytest.raises(MalformedKey):
        Signer.from_skey(skey)


def test_two_different_keys_under_one_name_and_id_are_refused() -> None:
    real = Verifier.from_vkey(GO_VKEY)

    class Colliding(Verifier):
        """Another key whose ID collides with the real one (32 bits are easy to collide, says the spec)."""

        __slots__ = ()

        @property
        def key_id(self) -> int:
            return real.key_id

    impostor = Colliding(real.name, Signer.generate("x").public_key)
    with pytest.raises(NoteError, match="ambiguous"):
        open_note(GO_NOTE, [real, impostor])
    assert open_note(GO_NOTE, [real, real]).text == GO_TEXT  # the same key twice is no ambiguity


def test_every_note_error_is_a_value_error() -> None:
    for error in (MalformedNote, MalformedKey, InvalidSignature, UnverifiedNote):
        assert issubclass(error, NoteError)
    assert issubclass(NoteError, ValueError)
