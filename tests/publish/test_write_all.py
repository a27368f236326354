"""Writing a release's public files: everything rendered first, then written; charts only for tables it has."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from handover.publish import counts_csv, occupancy_chart, tables_csv, write_all
from tests.publish.conftest import document, table


def test_writes_the_files_of_the_tables_it_has(tmp_path: Path) -> None:
    doc = document(table("held_by_facility_and_estate", [[30, 4], [12, 0]], suppressed=[(0, 1), (1, 1)]))
    target = tmp_path / "releases" / "3"
    written = write_all(doc, target)
    # No moves or nationalities in this release: no cumulative or nationality chart, rather than an empty file.
    assert [p.name for p in written] == ["report.csv", "counts.csv", "report.pdf", "occupancy.svg"]
    assert sorted(p.name for p in target.iterdir()) == sorted(p.name for p in written)
    assert (target / "report.csv").read_bytes() == tables_csv(doc).encode("utf-8")
    assert (target / "counts.csv").read_bytes() == counts_csv(doc).encode("utf-8")
    assert (target / "occupancy.svg").read_bytes() == occupancy_chart(doc)
    assert (target / "report.pdf").read_bytes().startswith(b"%PDF-")


def test_a_document_that_cannot_be_rendered_leaves_no_files(tmp_path: Path) -> None:
    doc = document(table("t", [[30, 4]], suppressed=[(0, 1)]))
    broken = copy.deepcopy(doc)
    broken["tables"][0]["cells"][0][1] = 4
    with pytest.raises(ValueError, match="must be null"):
        write_all(broken, tmp_path / "out")
    assert not (tmp_path / "out").exists()
