"""The log's signing key on disk: written once with owner-only permissions, never printed or logged."""

from __future__ import annotations

import os
from pathlib import Path

from handover.core.tlog.note import Signer
from handover.settings import DEMO_SIGNING_KEY, Settings


def write_key(signer: Signer, path: Path) -> None:
    """Create `path` holding the private key, mode 0600; refuses to overwrite an existing key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(signer.skey + "\n")


def read_key(path: Path) -> Signer:
    return Signer.from_skey(path.read_text(encoding="utf-8").strip())


def configured_signer(settings: Settings, demo: bool = False) -> Signer | None:
    """The configured key; for a demo database without one, the key `handover demo` made; else None."""
    if settings.signing_key is not None:
        return read_key(settings.signing_key)
    if demo and DEMO_SIGNING_KEY.exists():
        return read_key(DEMO_SIGNING_KEY)
    return None
