"""Reading a release document: what the renderers are given, and what they refuse to render."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from handover.core.report.tables import CellState
from handover.publish import counts_csv, cumulative_chart, report_pdf, tables_csv
from handover.publish.document import read, week_end
from tests.publish.conftest import table


def test_the_sample_reads_with_suppressed_cells_as_none(sample: dict[str, Any]) -> None:
    release = read(sample)
    assert release.release == 3
    assert release.checkpoint.size == 12588
    assert [t.name for t in release.tables] == [
        "moved_by_week_and_destination",
        "moved_by_nationality_and_group",
        "held_by_facility_and_estate",
        "repatriated_by_country_and_estate",
        "awaiting_safeguards_by_facility_and_estate",
    ]
    moved = release.table("moved_by_week_and_destination")
    assert moved is not None
    assert moved.values[1] == (212, None, None)
    assert moved.states[1] == (CellState.SHOWN, CellState.SECONDARY, CellState.PRIMARY)
    assert moved.columns[2].members == ("nasiriyah-central", "rusafa")
    assert release.context.capacity_of(moved.columns[2].members) == 700
    assert release.context.capacity_of(["nowhere"]) is None


@pytest.mark.parametrize("render", [tables_csv, counts_csv, report_pdf, cumulative_chart])
def test_a_count_in_a_suppressed_cell_is_refused_by_every_renderer(sample: dict[str, Any], render: Any) -> None:
    # A builder's bug that left the true count beside a suppressed state: nothing may be rendered from it.
    sample["tables"][0]["cells"][1][2] = 4321
    with pytest.raises(ValueError, match=r"tables\[0\]\.cells\[1\]\[2\]: a primary cell must be null, not 4321"):
        render(sample)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(format="handover-transparency-report/2"), "format"),
        (lambda d: d["tables"][0]["cells"][0].append(1), r"tables\[0\]\.cells\[0\]: expected 3 cells"),
        (lambda d: d["tables"][0]["states"][0].__setitem__(0, "hidden"), "unknown state 'hidden'"),
        (lambda d: d["tables"][0]["cells"][0].__setitem__(0, None), "a shown cell needs a count"),
        (lambda d: d["tables"][0]["row_totals"].pop(), r"row_totals: expected 3 totals"),
        (lambda d: d["tables"][0].__setitem__("grand_total", -1), "grand_total: expected a whole number"),
        (lambda d: d.update(published_at="2026-01-31T12:00:00"), "offset from UTC"),
        (lambda d: d["context"].__setitem__("plan_completion", "soon"), "plan_completion: not an ISO 8601 date"),
    ],
)
def test_malformed_documents_are_refused_naming_the_place(sample: dict[str, Any], change: Any, message: str) -> None:
    change(sample)
    with pytest.raises(ValueError, match=message):
        read(sample)


def test_an_empty_table_and_a_bare_context_read() -> None:
    doc = {
        "format": "handover-transparency-report/1",
        "release": 1,
        "published_at": "2026-01-02T00:00:00+00:00",
        "operation": "Test",
        "checkpoint": {"origin": "o", "size": 0, "root": "r", "note": "n"},
        "rules": {"threshold": 10, "protection": None, "zeros_disclosive": True, "rounding": None},
        "tables": [table("empty", [])],
    }
    release = read(doc)
    assert release.rules.protection == 10
    assert release.as_of is None
    assert release.context.forecast is None and release.context.planned_total is None
    assert release.tables[0].rows == () and release.tables[0].grand_total == 0


def test_iso_weeks_end_on_sunday() -> None:
    assert week_end("2026-W05") == date(2026, 2, 1)
    assert week_end("2026-W01") == date(2026, 1, 4)
    assert week_end("2026-W54") is None
    assert week_end("other") is None
