"""Releases of the public transparency report, as published (append-only)."""

from __future__ import annotations

from sqlalchemy import Connection, insert, select

from handover.services.ports import StoredRelease
from handover.store.tables import ReportReleaseRow

releases_t = ReportReleaseRow.__table__


class SqlReports:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add(self, release: StoredRelease) -> None:
        self._c.execute(
            insert(releases_t).values(
                number=release.number,
                checkpoint_size=release.checkpoint_size,
                published_at=release.published_at,
                document=release.document,
            )
        )

    def get(self, number: int) -> StoredRelease | None:
        row = self._c.execute(select(releases_t).where(releases_t.c.number == number)).one_or_none()
        return _release(row) if row is not None else None

    def latest(self) -> StoredRelease | None:
        row = self._c.execute(select(releases_t).order_by(releases_t.c.number.desc()).limit(1)).one_or_none()
        return _release(row) if row is not None else None

    def all(self) -> list[StoredRelease]:
        """Every release, oldest first, without their documents' bytes read twice."""
        return [_release(row) for row in self._c.execute(select(releases_t).order_by(releases_t.c.number))]


def _release(row: object) -> StoredRelease:
    return StoredRelease(row.number, row.checkpoint_size, row.published_at, bytes(row.document))  # type: ignore[attr-defined]
