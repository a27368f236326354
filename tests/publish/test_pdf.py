"""The PDF: bound to its checkpoint, rules in words, suppressed cells as "x", and wide tables kept on the page."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from functools import cache

import pypdf

from handover.publish import report_pdf
from tests.publish.conftest import HIDDEN, TUNISIA_SUPPRESSED_SUM, document, frozen_sample, table

PAGE_WIDTH = 595.28  # A4, in points
MARGIN = 15 / 25.4 * 72


def pages(pdf: bytes) -> list[pypdf.PageObject]:
    assert pdf.startswith(b"%PDF-")
    return list(pypdf.PdfReader(io.BytesIO(pdf)).pages)


def text(pdf: bytes) -> str:
    """The document's text with runs of white space made single spaces, so that wrapped lines read on."""
    return " ".join(" ".join(page.extract_text() for page in pages(pdf)).split())


@cache
def sample_pdf() -> bytes:
    return report_pdf(frozen_sample())


@cache
def sample_text() -> str:
    return text(sample_pdf())


def test_bound_to_the_checkpoint_it_was_computed_from() -> None:
    doc, words = frozen_sample(), sample_text()
    checkpoint = doc["checkpoint"]
    assert "Computed from log entries 0 to 12587." in words
    assert "Figures as of 2026-01-29 17:40 UTC" in words
    assert f"Log: {checkpoint['origin']}" in words
    assert "Size (entries): 12588" in words
    assert f"Root hash: {checkpoint['root']}" in words
    # The signed note as published, every line of it, the signature line whole.
    for line in checkpoint["note"].strip().split("\n"):
        assert line in words


def test_rules_in_words_and_the_legend_of_x() -> None:
    words = sample_text()
    assert "A cell counting 1 to 9 people is not published." in words
    assert "holds fewer than 10 people" in words
    assert "to within fewer than 10 people" in words
    assert "Figures are exact: they are not rounded." in words
    assert "Checked against release 2" in words
    assert "x: suppressed: fewer than 10 people, or hidden so the others cannot be worked out" in words


def test_counts_and_tables_with_their_totals() -> None:
    words = sample_text()
    assert "Registered 7,052" in words and "Awaiting safeguards 396" in words
    assert "Release 3, published 2026-01-31 12:00 UTC." in words
    for title in ("People moved, by week and destination", "People held now, by facility and estate"):
        assert title in words
    # A row with a shown cell, two suppressed ones and its total; then the column totals and the grand total.
    assert "2026-W04 212 x x 314" in words
    assert "Total 361 149 14 524" in words
    assert "Other (merged) x x x 5" in words  # repatriated: a row entirely suppressed


def test_no_true_count_of_a_suppressed_cell_is_printed() -> None:
    printed = set(re.findall(r"\d[\d,]*", sample_text()))
    hidden = {f"{n:,}" for n in HIDDEN.values()} | {str(TUNISIA_SUPPRESSED_SUM)}
    assert not printed & hidden


def test_metadata_and_the_same_bytes_for_the_same_release() -> None:
    reader = pypdf.PdfReader(io.BytesIO(sample_pdf()))
    assert reader.metadata is not None
    assert reader.metadata.creation_date == datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
    assert reader.metadata.title == "Public transparency report: North-east Syria to Iraq, January 2026, release 3"
    small = document(table("t", [[30, 4], [12, 0]], suppressed=[(0, 1), (1, 1)]))
    assert report_pdf(small) == report_pdf(small)


def test_a_table_of_thirty_columns_stays_on_the_page() -> None:
    counts = [[1000 * i + j for j in range(30)] for i in range(1, 6)]
    wide = table("moved_by_week_and_destination_wide", counts, columns=[f"2026-W{j + 1:02d}" for j in range(30)])
    pdf = report_pdf(document(wide))
    fragments: list[tuple[float, str, float]] = []
    for page in pages(pdf):
        page.extract_text(
            visitor_text=lambda s, cm, tm, _font, size: fragments.append((tm[4] * cm[0] + cm[4], s, size * cm[0]))
        )
    # The table's text (8 pt); the prose around it is wrapped to the margins by construction.
    drawn = [(x, s.strip(), size) for x, s, size in fragments if s.strip() and abs(size - 8) < 0.01]
    assert len(drawn) > 6 * 31
    for x, s, size in drawn:
        # DejaVu Sans is at most 0.64 em a digit or letter of these labels: a generous estimate of the width.
        assert MARGIN - 1 <= x <= PAGE_WIDTH - MARGIN + 1 - 0.64 * size * len(s), (x, s)
    words = text(pdf)
    assert "(continued)" in words
    for j in range(30):
        assert f"2026-W{j + 1:02d}" in words
    assert f"{sum(map(sum, counts)):,}" in words  # the grand total, in the last block


def test_empty_tables_and_an_empty_log() -> None:
    doc = document(table("empty", [], title="Nobody yet"))
    doc["checkpoint"]["size"] = 0
    words = text(report_pdf(doc))
    assert "Computed from no log entries: the log was empty." in words
    assert "No one is counted in this table yet. Total: 0." in words
