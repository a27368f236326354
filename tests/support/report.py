"""Report releases with known suppressed cells and a merged category, stored as the service stores them, for tests
of what shows them.

A small test world counts too few people for suppression to be certain, so `store_release` builds a release from
made-up figures through the real protection (`core.report.release.build`) and stores it at a real signed
checkpoint of the database. `HIDDEN` names cells the rules suppress and their true values, which must never show.
"""

from __future__ import annotations

from datetime import UTC, datetime

from handover.core.report import figures as report_figures
from handover.core.report import release as report_release
from handover.core.report.figures import Figures, RawTable
from handover.core.tlog.checkpoint import parse_checkpoint
from handover.services import log
from handover.services.ports import StoredRelease
from handover.store.uow import Database

ESTATES = ("adult_men", "adult_women", "minors")
PUBLISHED_AT = datetime(2026, 1, 31, 12, tzinfo=UTC)
AS_OF = datetime(2026, 1, 30, 17, 40, tzinfo=UTC)
COUNTS = {name: 0 for name in report_figures.COUNTS} | {"registered": 7000, "moved": 363, "held": 6600}


def _raw(
    name: str,
    dims: tuple[str, str],
    rows: list[str],
    columns: list[str],
    grid: list[list[int]],
    cumulative: bool,
    identities: bool = False,
) -> RawTable:
    counts = {(r, c): grid[i][j] for i, r in enumerate(rows) for j, c in enumerate(columns) if grid[i][j]}
    return RawTable(name, dims[0], dims[1], tuple(rows), tuple(columns), counts, cumulative, identities)


FIGURES = Figures(
    COUNTS,
    (
        _raw(
            report_figures.MOVED_BY_WEEK,
            ("week", "destination"),
            ["2026-W04", "2026-W05"],
            ["karkh", "al-hout"],
            [[120, 40], [200, 3]],
            cumulative=True,
        ),
        _raw(
            report_figures.MOVED_BY_NATIONALITY,
            ("nationality", "group"),
            ["IQ", "SY", "FR", "BE", "DE"],
            list(report_figures.GROUPS),
            [[150, 40, 30, 25], [60, 20, 15, 12], [14, 11, 13, 3], [2, 1, 0, 0], [3, 0, 1, 0]],
            cumulative=True,
            identities=True,
        ),
        _raw(
            report_figures.HELD,
            ("facility", "estate"),
            ["ghweran", "karkh", "al-hol"],
            list(ESTATES),
            [[300, 20, 40], [250, 30, 4], [20, 400, 500]],
            cumulative=False,
        ),
        _raw(report_figures.REPATRIATED, ("authority", "estate"), ["kz-gov"], list(ESTATES), [[12, 0, 0]], True),
        _raw(
            report_figures.AWAITING,
            ("facility", "estate"),
            ["ghweran", "al-hol"],
            list(ESTATES),
            [[100, 15, 20], [12, 200, 300]],
            cumulative=False,
        ),
    ),
    AS_OF,
)

# (table, row index, column index) -> true value, for cells the rules suppress in FIGURES.
HIDDEN = {
    (report_figures.HELD, 1, 2): 4,  # karkh minors: under the threshold
    (report_figures.HELD, 1, 1): 30,  # karkh women: hidden with it
    (report_figures.MOVED_BY_NATIONALITY, 2, 3): 3,  # girls of the small nationalities, merged as "other"
}


def store_release(db: Database, number: int = 1, published_at: datetime = PUBLISHED_AT) -> bytes:
    """Release `number` of FIGURES at the database's latest checkpoint (which must exist); its document."""
    with db.unit_of_work() as uow:
        checkpoint = log.latest_checkpoint(uow)
        origin = parse_checkpoint(checkpoint.note.split("\n\n")[0] + "\n").origin
        made = report_release.build(
            FIGURES,
            number=number,
            published_at=published_at,
            operation="North-east Syria to Iraq, January 2026",
            checkpoint=report_release.CheckpointRef(origin, checkpoint.size, checkpoint.root, checkpoint.note),
            labels={"facility": {"karkh": "Karkh prison", "ghweran": "Ghweran prison", "al-hol": "al-Hol camp"}},
        )
        document = report_release.to_json(made)
        uow.reports.add(StoredRelease(number, checkpoint.size, published_at, document))
        uow.commit()
    return document
