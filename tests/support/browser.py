"""Headless Chromium for browser tests: Debian's chromium, driven by Playwright.

We never run `playwright install`; the browser comes from `make system-deps`.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright

CHROMIUM_ARGS = [
    "--no-sandbox",  # the sandbox cannot start as root, nor in most containers
    "--disable-gpu",
    "--no-first-run",
    # No traffic of its own: CI has no general internet access, and it keeps runs quiet.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]


def chromium_path() -> str:
    path = os.environ.get("HANDOVER_CHROMIUM", "/usr/bin/chromium")
    if not os.access(path, os.X_OK):
        raise RuntimeError(
            f"Chromium not found at {path}. Install it with `make system-deps` (Debian package "
            "`chromium`) or point HANDOVER_CHROMIUM at a Chromium binary."
        )
    return path


def launch(playwright: Playwright) -> Browser:
    """Start headless Chromium; the caller closes it (`with launch(p) as browser:` works)."""
    return playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
