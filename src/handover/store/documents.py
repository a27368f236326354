"""Document bytes on disk, by the SHA-256 of their content: `ROOT/ab/abcdef...` (never a name a user gave).

Written once (same content, same file), atomically (a temporary file renamed into place), readable by the owner
only. The database row that points at a file is written after it, in the caller's transaction; a rolled-back
upload leaves an unreferenced file behind, which is harmless and can be swept.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

DEFAULT_ROOT = Path("var") / "documents"
_DIGEST = re.compile(r"[0-9a-f]{64}")


class FileBlobs:
    def __init__(self, root: Path = DEFAULT_ROOT) -> None:
        self.root = root

    def _path(self, sha256: str) -> Path:
        if not _DIGEST.fullmatch(sha256):
            raise ValueError(f"{sha256!r} is not a SHA-256 in lower-case hex")
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        path = self._path(digest)
        if path.exists():
            return digest
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, 0o600)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return digest

    def get(self, sha256: str) -> bytes:
        data = self._path(sha256).read_bytes()
        if hashlib.sha256(data).hexdigest() != sha256:
            raise ValueError(f"document {sha256} on disk does not match its hash")
        return data
