"""The CSV with HXL hashtags: every published figure once, suppressed cells empty with their state."""

from __future__ import annotations

import csv
import io
from typing import Any

from handover.publish import counts_csv, tables_csv
from handover.publish.csv_hxl import TABLE_COLUMNS
from tests.publish.conftest import HIDDEN, document, table


def parse(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def figures(text: str) -> dict[tuple[str, str, str], tuple[str, str]]:
    """(table, row key, column key) -> (value, state), checking that no figure is there twice."""
    lines = parse(text)[2:]
    found = {(line[0], line[2], line[4]): (line[6], line[7]) for line in lines}
    assert len(found) == len(lines)
    return found


def test_header_then_a_hashtag_for_every_column(sample: dict[str, Any]) -> None:
    text = tables_csv(sample)
    header, tags, *lines = parse(text)
    assert header == ["table", "table title", "row key", "row label", "column key", "column label", "value", "state"]
    assert len(tags) == len(header)
    assert all(tag.startswith("#") and len(tag) > 1 for tag in tags)
    assert tags == [tag for _name, tag in TABLE_COLUMNS]
    assert all(len(line) == len(header) for line in lines)
    # RFC 4180: CRLF after every record, the plain header first (no comment, no byte-order mark).
    assert text.startswith("table,table title,")
    assert text.endswith("\r\n") and text.count("\r\n") == len(lines) + 2


def test_every_shown_cell_and_total_is_there_with_its_value(sample: dict[str, Any]) -> None:
    found = figures(tables_csv(sample))
    expected: dict[tuple[str, str, str], tuple[str, str]] = {}
    for t in sample["tables"]:
        rows = [r["key"] for r in t["rows"]]
        columns = [c["key"] for c in t["columns"]]
        for i, r in enumerate(rows):
            for j, c in enumerate(columns):
                value = t["cells"][i][j]
                expected[t["name"], r, c] = ("" if value is None else str(value), t["states"][i][j])
            expected[t["name"], r, "*"] = (str(t["row_totals"][i]), "total")
        for j, c in enumerate(columns):
            expected[t["name"], "*", c] = (str(t["column_totals"][j]), "total")
        expected[t["name"], "*", "*"] = (str(t["grand_total"]), "total")
    assert found == expected
    # A few by hand, so that the expectation above is not only the code again.
    assert found["moved_by_week_and_destination", "2026-W04", "karkh"] == ("212", "shown")
    assert found["moved_by_week_and_destination", "2026-W04", "other"] == ("", "primary")
    assert found["moved_by_week_and_destination", "2026-W04", "hout"] == ("", "secondary")
    assert found["moved_by_week_and_destination", "2026-W04", "*"] == ("314", "total")
    assert found["moved_by_week_and_destination", "*", "other"] == ("14", "total")
    assert found["held_by_facility_and_estate", "*", "*"] == ("6938", "total")


def test_suppressed_cells_have_no_value_and_name_their_state(sample: dict[str, Any]) -> None:
    found = figures(tables_csv(sample))
    suppressed = {key: state for key, (value, state) in found.items() if state in ("primary", "secondary")}
    assert len(suppressed) == sum(state != "shown" for t in sample["tables"] for line in t["states"] for state in line)
    assert all(found[key][0] == "" for key in suppressed)
    assert {found[key][1] for key in HIDDEN} <= {"primary", "secondary"}
    assert all(found[key][0] == "" for key in HIDDEN)
    assert found["repatriated_by_country_and_estate", "other", "minors"] == ("", "primary")


def test_labels_titles_and_merged_categories(sample: dict[str, Any]) -> None:
    lines = parse(tables_csv(sample))[2:]
    by_key = {(line[0], line[2], line[4]): line for line in lines}
    line = by_key["moved_by_week_and_destination", "2026-W05", "other"]
    assert line[1] == "People moved, by week and destination"
    assert line[3] == "2026-W05" and line[5] == "Other (merged)"
    grand = by_key["moved_by_nationality_and_group", "*", "*"]
    assert grand[3] == grand[5] == "Total" and grand[7] == "total"
    assert by_key["moved_by_nationality_and_group", "TR", "men"][3] == "Türkiye"


def test_text_that_a_spreadsheet_would_run_is_quoted_and_commas_survive() -> None:
    t = table("t", [[12]], rows=["=HYPERLINK(1)"], columns=["a, b"], title="-1+1")
    lines = parse(tables_csv(document(t)))[2:]
    assert lines[0][:6] == ["t", "'-1+1", "'=HYPERLINK(1)", "'=HYPERLINK(1)", "a, b", "a, b"]
    assert lines[0][6:] == ["12", "shown"]


def test_an_empty_table_still_publishes_its_grand_total() -> None:
    assert figures(tables_csv(document(table("empty", [])))) == {("empty", "*", "*"): ("0", "total")}


def test_counts_in_the_documents_order(sample: dict[str, Any]) -> None:
    header, tags, *lines = parse(counts_csv(sample))
    assert header == ["count", "value"]
    assert tags == ["#indicator+code", "#affected+num"]
    assert lines == [[c["name"], str(c["value"])] for c in sample["counts"]]
    assert lines[0] == ["registered", "7052"]
