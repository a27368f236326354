"""Strict text codecs shared by the C2SP formats (checkpoints, signed notes, proofs, tile paths).

Every format here has exactly one valid spelling of a value, so parsing accepts only that spelling: whatever we
accept we can also re-emit byte for byte, and two parties can never disagree about what a signed text says.
"""

from __future__ import annotations

import base64
import binascii
import re

UINT64_MAX = 2**64 - 1
"""Largest size or index other implementations (Go's uint64) can represent; we refuse anything beyond it."""

_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")


def encode_base64(data: bytes) -> str:
    """Standard base64 with padding (RFC 4648 section 4), as every C2SP format uses."""
    return base64.b64encode(data).decode("ascii")


def decode_base64(text: str) -> bytes:
    """Decode standard padded base64, refusing anything but the canonical encoding of the result.

    Python's decoder tolerates non-zero padding bits; re-encoding and comparing closes that gap, so the decoded
    bytes have exactly one textual form.
    """
    if not _BASE64.fullmatch(text) or len(text) % 4 != 0:
        raise ValueError(f"not canonical base64: {text!r}")
    try:
        data = base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"not canonical base64: {text!r}") from exc
    if encode_base64(data) != text:
        raise ValueError(f"not canonical base64: {text!r}")
    return data


def decode_decimal(text: str, *, limit: int = UINT64_MAX) -> int:
    """ASCII decimal with no leading zeroes (unless the value is 0), at most `limit`.

    `int()` alone would also take '+1', ' 1', '1_0' and non-ASCII digits such as '١'.
    """
    if not _DECIMAL.fullmatch(text):
        raise ValueError(f"not a canonical decimal: {text!r}")
    value = int(text)
    if value > limit:
        raise ValueError(f"{value} is larger than {limit}")
    return value


def check_note_text(text: str, what: str) -> None:
    """Refuse text a signed note cannot carry: invalid UTF-8 or ASCII control characters other than newline.

    C2SP signed-note: "Signed notes MUST be valid UTF-8 and MUST NOT contain any ASCII control characters
    (those below U+0020) other than newline."
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates are the only str that is not valid UTF-8
        raise ValueError(f"{what} is not valid UTF-8") from exc
    for char in text:
        if char < " " and char != "\n":
            raise ValueError(f"{what} contains the control character {char!r}")
