"""Where the monitor reads a log from: a server over HTTP, or a directory `handover log export` wrote.

Both lay the log out as C2SP tlog-tiles (`checkpoint`, `tile/<L>/<N>[.p/<W>]`, `tile/entries/<N>[.p/<W>]`) plus two
handover extras: `status` (the server's current counts, JSON) and `identities` (identity records with their salts,
JSON lines; for a monitor's account only). A source only fetches bytes: it checks nothing and is trusted for nothing.

Two kinds of trouble are told apart, because they mean different things:

- `SourceError`: the source cannot be read at all (unreachable, token refused, not a log). Nothing was verified.
- `NotPublished`: the source answers, but a file the log must publish is not there. That is a finding about the log.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from handover.core.tlog.tiles import MAX_ENTRY_SIZE, TILE_WIDTH, EntryBundle, Tile
from handover.i18n import _

CHECKPOINT_LIMIT = 1 << 20
"""Bytes we read of a checkpoint at most: a signed note with many cosignatures is still a few kilobytes."""
TILE_LIMIT = TILE_WIDTH * 32
BUNDLE_LIMIT = TILE_WIDTH * (2 + MAX_ENTRY_SIZE)
STATUS_LIMIT = 64 << 20
IDENTITIES_LIMIT = 1 << 30

if TYPE_CHECKING:
    import httpx2


class SourceError(Exception):
    """The source cannot be read: nothing can be verified (a usage problem, not a finding about the log)."""


class NotPublished(Exception):
    """A file the log must publish is not there (HTTP 404, or no such file in the directory)."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


class LogSource(Protocol):
    """What the monitor needs from a log: raw bytes, each at most its limit plus one byte (so oversize shows)."""

    @property
    def description(self) -> str: ...
    def checkpoint(self) -> bytes: ...
    def tile(self, tile: Tile) -> bytes: ...
    def bundle(self, bundle: EntryBundle) -> bytes: ...
    def status(self) -> bytes | None:
        """The server's current counts (JSON), or None if this source publishes none."""
        ...

    def identities(self) -> bytes | None:
        """Identity records (JSON lines), or None if this source publishes none."""
        ...

    def close(self) -> None: ...


class HttpSource:
    """A log served over HTTP under `<base URL>/log/`. The token (an API token of a monitor's account) goes only to the
    routes that need it."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        transport: httpx2.BaseTransport | None = None,
        timeout: float = 30.0,
    ) -> None:
        try:
            # Imported here so that the rest of the command line works where httpx2 is not installed.
            import httpx2
        except ImportError:  # pragma: no cover - httpx2 is installed wherever the tests run
            raise SourceError(_("Verifying a log over HTTP needs the httpx2 package.")) from None
        self._httpx = httpx2
        self.base = base_url.rstrip("/") + "/log/"
        self._token = token or None
        self._client = httpx2.Client(
            transport=transport,
            timeout=timeout,
            follow_redirects=False,
            headers={"User-Agent": "handover-verify"},
        )

    @property
    def description(self) -> str:
        return self.base

    def checkpoint(self) -> bytes:
        return self._get("checkpoint", CHECKPOINT_LIMIT)

    def tile(self, tile: Tile) -> bytes:
        return self._get(tile.path, TILE_LIMIT)

    def bundle(self, bundle: EntryBundle) -> bytes:
        return self._get(bundle.path, BUNDLE_LIMIT, private=True)

    def status(self) -> bytes | None:
        try:
            return self._get("status", STATUS_LIMIT)
        except NotPublished:
            return None

    def identities(self) -> bytes | None:
        try:
            return self._get("identities", IDENTITIES_LIMIT, private=True)
        except NotPublished:
            return None

    def close(self) -> None:
        self._client.close()

    def _get(self, path: str, limit: int, *, private: bool = False) -> bytes:
        url = self.base + path
        headers = {}
        if private:
            if self._token is None:
                raise SourceError(
                    _(
                        "{url} needs an API token of a monitor's account: pass --token or set HANDOVER_MONITOR_TOKEN."
                    ).format(url=url)
                )
            headers["Authorization"] = f"Bearer {self._token}"
        try:
            with self._client.stream("GET", url, headers=headers) as response:
                if response.status_code == 404:
                    raise NotPublished(path)
                if response.status_code == 401:
                    raise SourceError(
                        _(
                            "{url} refused access (HTTP 401): the token is not valid (unknown, revoked or expired)."
                        ).format(url=url)
                    )
                if response.status_code == 403:
                    raise SourceError(
                        _(
                            "{url} refused access (HTTP 403): the token does not allow reading the log's entries "
                            "(log:read, which a monitor's account holds)."
                        ).format(url=url)
                    )
                if response.status_code != 200:
                    raise SourceError(_("{url} answered HTTP {status}.").format(url=url, status=response.status_code))
                data = bytearray()
                for chunk in response.iter_bytes():
                    data += chunk
                    if len(data) > limit:
                        break
                return bytes(data[: limit + 1])
        except (self._httpx.HTTPError, self._httpx.InvalidURL, self._httpx.StreamError) as error:
            raise SourceError(
                _("{url} is out of reach: {error}").format(url=url, error=str(error) or type(error).__name__)
            ) from None


class DirectorySource:
    """A log exported to a directory by `handover log export` (or mirrored there by anyone)."""

    def __init__(self, root: Path) -> None:
        if not root.is_dir():
            raise SourceError(_("{path} is not a directory.").format(path=root))
        self.root = root

    @property
    def description(self) -> str:
        return str(self.root)

    def checkpoint(self) -> bytes:
        return self._read("checkpoint", CHECKPOINT_LIMIT)

    def tile(self, tile: Tile) -> bytes:
        return self._read(tile.path, TILE_LIMIT)

    def bundle(self, bundle: EntryBundle) -> bytes:
        return self._read(bundle.path, BUNDLE_LIMIT)

    def status(self) -> bytes | None:
        try:
            return self._read("status", STATUS_LIMIT)
        except NotPublished:
            return None

    def identities(self) -> bytes | None:
        try:
            return self._read("identities", IDENTITIES_LIMIT)
        except NotPublished:
            return None

    def close(self) -> None:
        pass

    def _read(self, relative: str, limit: int) -> bytes:
        path = self.root / relative
        try:
            with path.open("rb") as handle:
                # No more than the file holds: read(limit + 1) would allocate the whole limit (megabytes for a
                # bundle) every time, and a monitor reads thousands of files.
                size = os.fstat(handle.fileno()).st_size
                return handle.read(min(size, limit) + 1)
        except FileNotFoundError:
            raise NotPublished(relative) from None
        except OSError as error:
            raise SourceError(_("Cannot read {path}: {error}").format(path=path, error=error)) from None


def open_source(
    source: str, token: str | None = None, *, transport: httpx2.BaseTransport | None = None
) -> HttpSource | DirectorySource:
    """An `HttpSource` for an http(s) URL, else a `DirectorySource` for an existing directory."""
    if source.startswith(("http://", "https://")):
        return HttpSource(source, token, transport=transport)
    path = Path(source)
    if path.is_dir():
        return DirectorySource(path)
    raise SourceError(
        _("{source} is neither an http(s) URL nor a directory written by `handover log export`.").format(source=source)
    )
