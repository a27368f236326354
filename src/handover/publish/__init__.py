"""Renders a public report release into the formats it is published in: CSV with HXL hashtags, SVG charts, PDF.

Input is the release document exactly as `handover.core.report.release.to_json` writes it, parsed (a mapping; see
`document`). The JSON itself is written by the caller. Imports the core and rendering libraries only (an
import-linter contract keeps it so): no database, web or CLI.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from handover.publish.charts import cumulative_chart, nationality_chart, occupancy_chart
from handover.publish.csv_hxl import counts_csv, tables_csv
from handover.publish.pdf import report_pdf

__all__ = [
    "counts_csv",
    "cumulative_chart",
    "nationality_chart",
    "occupancy_chart",
    "report_pdf",
    "tables_csv",
    "write_all",
]


def write_all(doc: Mapping[str, Any], directory: Path) -> list[Path]:
    """Writes report.csv, counts.csv, report.pdf and the charts into `directory` (made if missing); returns the
    paths written, in that order. A chart whose table the release does not have is not written.

    Everything is rendered before anything is written, so a document that cannot be rendered leaves no files.
    """
    files: dict[str, bytes | None] = {
        "report.csv": tables_csv(doc).encode("utf-8"),
        "counts.csv": counts_csv(doc).encode("utf-8"),
        "report.pdf": report_pdf(doc),
        "cumulative.svg": cumulative_chart(doc),
        "occupancy.svg": occupancy_chart(doc),
        "nationality.svg": nationality_chart(doc),
    }
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in files.items():
        if content is None:
            continue
        path = directory / name
        path.write_bytes(content)
        written.append(path)
    return written
