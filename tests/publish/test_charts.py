"""The charts: SVG that parses, the same bytes for the same release, and suppressed cells never given a number."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from functools import cache
from typing import Any

import pytest

from handover.publish import cumulative_chart, nationality_chart, occupancy_chart
from handover.publish.charts import cumulative_points
from handover.publish.document import read
from tests.publish.conftest import HIDDEN, TUNISIA_SUPPRESSED_SUM, document, frozen_sample, table

SVG = "{http://www.w3.org/2000/svg}"
CHARTS = [cumulative_chart, occupancy_chart, nationality_chart]
Chart = Callable[..., bytes | None]


def texts(chart: Chart, doc: dict[str, Any]) -> list[str]:
    """Every piece of text in the chart, drawn as text (not paths) so that it can be read back."""
    svg = chart(doc, text_as_paths=False)
    assert svg is not None
    return ["".join(element.itertext()) for element in ET.fromstring(svg).iter(f"{SVG}text")]


@cache
def sample_texts(chart: Chart) -> list[str]:
    return texts(chart, frozen_sample())


def numbers(pieces: list[str]) -> set[int]:
    return {int(n.replace(",", "")) for piece in pieces for n in re.findall(r"(?<![\d-])\d[\d,]*(?![\d-])", piece)}


@pytest.mark.parametrize("chart", CHARTS)
def test_valid_svg_drawn_as_paths_and_the_same_bytes_every_time(chart: Chart, sample: dict[str, Any]) -> None:
    svg = chart(sample)
    assert svg is not None
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    # Glyphs are paths: the file needs no font where it is read, and has no date in it.
    assert not list(root.iter(f"{SVG}text"))
    assert b"<metadata" not in svg
    assert chart(sample) == svg


@pytest.mark.parametrize("chart", CHARTS)
def test_a_release_without_the_table_has_no_chart(chart: Chart, sample: dict[str, Any]) -> None:
    sample["tables"] = []
    assert chart(sample) is None


def test_nationality_bars_mark_rows_with_suppressed_cells_and_never_number_them() -> None:
    pieces = sample_texts(nationality_chart)
    marked = [p for p in pieces if "includes suppressed cells" in p]
    # Iraq, France, Russia, Tunisia and the merged row have suppressed cells; Germany, Türkiye... do not.
    assert sorted(marked) == sorted(f"{total} (includes suppressed cells)" for total in ("130", "41", "56", "77", "71"))
    assert "33" in pieces and "18" in pieces
    shown = numbers(pieces)
    hidden = {n for (name, _r, _c), n in HIDDEN.items() if name == "moved_by_nationality_and_group"}
    assert not shown & (hidden | {TUNISIA_SUPPRESSED_SUM})
    assert any(p.startswith("Suppressed cells: fewer than 10 people") for p in pieces)


def test_nationality_without_suppressed_cells_has_no_suppressed_legend() -> None:
    doc = document(table("moved_by_nationality_and_group", [[40, 12], [15, 30]], rows=["IQ", "FR"]))
    pieces = texts(nationality_chart, doc)
    assert not any("uppressed" in p for p in pieces)
    assert {"52", "45"} <= set(pieces)


def test_occupancy_shows_row_totals_and_capacity_only() -> None:
    pieces = sample_texts(occupancy_chart)
    for total in ("4,038", "1,200", "1,025", "144", "398", "118", "15"):
        assert total in pieces
    assert "Capacity, every estate together" in pieces
    # Cells are not drawn at all: neither the shown ones nor the true counts behind the suppressed ones.
    assert not numbers(pieces) & {3900, 138, 45, 120, 24, 112, 980}
    assert "People held, over capacity" not in pieces


def test_occupancy_over_capacity_and_facilities_without_capacity(sample: dict[str, Any]) -> None:
    sample["context"]["capacity"] = {"karkh": {"adult_men": 100, "adult_women": 0, "minors": 0}}
    pieces = texts(occupancy_chart, sample)
    assert "People held, over capacity" in pieces
    assert "Capacity, every estate together" in pieces
    assert "398" in pieces and "4,038" in pieces


def test_cumulative_against_plan_and_forecast() -> None:
    pieces = sample_texts(cumulative_chart)
    assert "524" in pieces  # people moved so far: the grand total, at the last point
    assert "Planned: 7,000 people" in pieces
    assert "Adopted plan: done by 2026-03-10" in pieces
    assert "Forecast: done between 2026-04-02 (50% likely) and 2026-05-04 (95% likely)" in pieces
    assert "Forecast: 85% likely by 2026-04-20" in pieces


def test_cumulative_without_plan_or_forecast(sample: dict[str, Any]) -> None:
    sample["context"] = {"planned_total": None, "plan_completion": None, "forecast": None, "capacity": {}}
    pieces = texts(cumulative_chart, sample)
    assert "524" in pieces
    assert not any(p.startswith(("Planned", "Forecast", "Adopted")) for p in pieces)


@pytest.mark.parametrize("chart", CHARTS)
def test_empty_tables_say_so(chart: Chart, sample: dict[str, Any]) -> None:
    for t in sample["tables"]:
        t.update(rows=[], cells=[], states=[], row_totals=[], column_totals=[0] * len(t["columns"]), grand_total=0)
    pieces = texts(chart, sample)
    assert any(p.startswith("No one") for p in pieces)


def test_cumulative_points_week_by_week(sample: dict[str, Any]) -> None:
    moved = read(sample).table("moved_by_week_and_destination")
    assert moved is not None
    # W03 ends on 18 January, W04 on the 25th; W05 is in progress on the 29th, the time of the figures.
    points, unplaced = cumulative_points(moved, date(2026, 1, 29))
    assert points == [
        (date(2026, 1, 12), 0),
        (date(2026, 1, 18), 48),
        (date(2026, 1, 25), 362),
        (date(2026, 1, 29), 524),
    ]
    assert unplaced == 0


def test_cumulative_points_merged_and_unplaced_rows() -> None:
    doc = document(
        table("moved_by_week_and_destination", [[5, 7], [30, 40], [3, 0]], rows=["2026-W02", "2026-W04", "elsewhere"])
    )
    doc["tables"][0]["rows"][0] = {"key": "other", "label": "Other (merged)", "members": ["2026-W01", "2026-W03"]}
    moved = read(doc).tables[0]
    points, unplaced = cumulative_points(moved, date(2026, 2, 28))
    # The merged row counts at the end of its latest week, the line starts on the Monday of its earliest.
    assert points == [(date(2025, 12, 29), 0), (date(2026, 1, 18), 12), (date(2026, 1, 25), 82)]
    assert unplaced == 3
    assert any("3 people in rows without a week are not shown." in p for p in texts(cumulative_chart, doc))


def test_charts_drawn_in_threads_at_once_are_the_charts_drawn_one_by_one(sample: dict[str, Any]) -> None:
    # Settings are global to matplotlib: one chart's (text as paths or not) must not leak into the other's.
    jobs = [(nationality_chart, True), (occupancy_chart, False)]
    alone = [chart(sample, text_as_paths=paths) for chart, paths in jobs]
    with ThreadPoolExecutor(max_workers=2) as pool:
        together = list(pool.map(lambda job: job[0](sample, text_as_paths=job[1]), jobs))
    assert together == alone
