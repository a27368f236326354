"""Documents attached to repatriation cases: which files are accepted, judged by their bytes, never by their name.

Only PDF, PNG and JPEG, up to `MAX_BYTES`. The type is sniffed from the file's magic bytes; a declared type (the
browser's Content-Type, a script's flag) is only compared with it, never trusted. Files are stored by the SHA-256
of their content, so a user-given name never becomes a path.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum

from handover.i18n import _

MAX_BYTES = 5 * 1024 * 1024


class MediaType(StrEnum):
    PDF = "application/pdf"
    PNG = "image/png"
    JPEG = "image/jpeg"


_MAGIC: tuple[tuple[bytes, MediaType], ...] = (
    (b"%PDF-", MediaType.PDF),
    (b"\x89PNG\r\n\x1a\n", MediaType.PNG),
    (b"\xff\xd8\xff", MediaType.JPEG),
)
# What browsers and tools also send for these types.
_ALIASES = {"image/jpg": MediaType.JPEG, "image/pjpeg": MediaType.JPEG, "application/x-pdf": MediaType.PDF}


class DocumentRule(StrEnum):
    EMPTY = "document-empty"
    TOO_LARGE = "document-too-large"
    TYPE_NOT_ALLOWED = "document-type-not-allowed"
    TYPE_MISMATCH = "document-type-mismatch"


@dataclass(frozen=True, slots=True)
class DocumentRefused:
    rule: DocumentRule
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True, slots=True)
class CheckedDocument:
    media_type: MediaType
    size: int
    sha256: str


def sniff(data: bytes) -> MediaType | None:
    """The type the bytes say they are (PDF, PNG or JPEG), or None."""
    for magic, media_type in _MAGIC:
        if data.startswith(magic):
            return media_type
    return None


def declared(text: str | None) -> MediaType | None:
    """A declared type, parameters dropped (`application/pdf; charset=...`); None when absent or not one of ours."""
    if not text:
        return None
    base = text.split(";", 1)[0].strip().lower()
    if base in _ALIASES:
        return _ALIASES[base]
    try:
        return MediaType(base)
    except ValueError:
        return None


def check(data: bytes, declared_type: str | None = None, limit: int = MAX_BYTES) -> CheckedDocument | DocumentRefused:
    """Accept the file as what its bytes say it is, or say why not."""
    if not data:
        return DocumentRefused(DocumentRule.EMPTY, _("The file is empty."))
    if len(data) > limit:
        return DocumentRefused(
            DocumentRule.TOO_LARGE,
            _("The file is {size:,} bytes; at most {limit:,} are accepted.").format(size=len(data), limit=limit),
        )
    found = sniff(data)
    if found is None:
        return DocumentRefused(
            DocumentRule.TYPE_NOT_ALLOWED, _("Only PDF, PNG and JPEG files are accepted; this file is none of them.")
        )
    if declared_type and declared(declared_type) is not found:
        return DocumentRefused(
            DocumentRule.TYPE_MISMATCH,
            _("The file was sent as {declared} but its content is {found}: not accepted.").format(
                declared=declared_type, found=found.value
            ),
        )
    return CheckedDocument(found, len(data), hashlib.sha256(data).hexdigest())
