"""The independent Go verifier (tests/interop/go/verifylog): finding Go, building it offline once, running it.

Go and golang.org/x/mod come from Debian's `golang-go` and `golang-golang-x-mod-dev` (scripts/system-deps.sh
installs them). The program is built in GOPATH mode against /usr/share/gocode, so no module proxy is needed.
Without them the tests skip locally, and fail on CI (CI=true), where system-deps must have installed them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parent / "go" / "verifylog"
GOPATH = Path("/usr/share/gocode")
NOTE_SOURCE = GOPATH / "src/golang.org/x/mod/sumdb/note/note.go"
TLOG_SOURCE = GOPATH / "src/golang.org/x/mod/sumdb/tlog/tlog.go"
DEBIAN_GO = Path("/usr/lib/go/bin/go")
BUILD_TIMEOUT = 300
RUN_TIMEOUT = 120


def find_go() -> str | None:
    found = shutil.which("go")
    if found:
        return found
    return str(DEBIAN_GO) if DEBIAN_GO.is_file() and os.access(DEBIAN_GO, os.X_OK) else None


def missing() -> str | None:
    """Why the Go verifier cannot be built here, or None if it can."""
    if find_go() is None:
        return "no Go toolchain (`go` on PATH or /usr/lib/go/bin/go): install Debian's golang-go (make system-deps)"
    for source in (NOTE_SOURCE, TLOG_SOURCE):
        if not source.is_file():
            return f"{source} is missing: install Debian's golang-golang-x-mod-dev (make system-deps)"
    return None


def on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def require_go() -> str:
    """The `go` binary; skips the test locally when Go is missing, fails it on CI."""
    reason = missing()
    if reason is not None:
        if on_ci():
            pytest.fail(f"CI must run the Go interoperability tests, but {reason}")
        pytest.skip(reason)
    go = find_go()
    assert go is not None
    return go


def build_verifier(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build verifylog once per test session (offline, GOPATH mode) and return the binary's path."""
    go = require_go()
    root = tmp_path_factory.getbasetemp() / "go-verifylog"
    binary = root / "verifylog"
    if binary.is_file():
        return binary
    root.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "GO111MODULE": "off",
        "GOPATH": str(GOPATH),
        "GOFLAGS": "",
        "GOPROXY": "off",
        "GOTOOLCHAIN": "local",
        "CGO_ENABLED": "0",
        "GOCACHE": str(root / "cache"),
    }
    partial = root / "verifylog.tmp"
    result = subprocess.run(
        [go, "build", "-o", str(partial), "."],
        cwd=SOURCE,
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"building the Go verifier failed:\n{result.stdout}{result.stderr}")
    partial.rename(binary)
    return binary


def run(binary: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(binary), *(str(a) for a in args)], capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False
    )


def verify_log(binary: Path, directory: Path, vkey: str) -> subprocess.CompletedProcess[str]:
    """`verifylog log DIR VKEY`: exit 0 and an `OK ...` line when the exported log checks out."""
    return run(binary, "log", directory, vkey)
