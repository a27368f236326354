"""The public report's pages and files: no sign-in, suppressed cells shown as x and never as their values, every
download in its format, the history, 404 for what does not exist, and a clear page before the first release."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from handover.app import create_app
from handover.core.tlog.note import Signer
from handover.services import log
from handover.store.uow import Database
from tests.factories import T0
from tests.scenarios import transfer_scenario
from tests.support.report import HIDDEN, store_release
from tests.web.live import world_database

SIGNER = Signer.generate("test.example/report")


@dataclass
class Site:
    client: TestClient
    db: Database
    document: bytes
    size: int


def _signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Database, int]:
    db = world_database(tmp_path_factory)
    transfer_scenario(db)
    with db.unit_of_work() as uow:
        size = log.sign_checkpoint(uow, SIGNER, T0 + timedelta(days=1)).size
        uow.commit()
    return db, size


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    db, size = _signed(tmp_path_factory)
    store_release(db, 1)
    document = store_release(db, 2, published_at=T0 + timedelta(days=9))
    try:
        with TestClient(create_app(db, signer=SIGNER, checkpoint_interval=0)) as client:
            yield Site(client, db, document, size)
    finally:
        db.dispose()


class Tables(HTMLParser):
    """The report's tables as text: {data-testid of the table: rows of cells (th and td), each cell's text}."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None
        self.titles: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        name = found.get("data-testid") or ""
        if tag == "table" and name.startswith("table-"):
            self._table = name
            self.tables[name] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table:
            self._cell = []
        elif tag == "abbr" and self._cell is not None and found.get("title"):
            self.titles.append(found["title"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._table and self._cell is not None:
            self.tables[self._table][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _tables(html: str) -> Tables:
    parser = Tables()
    parser.feed(html)
    return parser


def test_the_latest_release_is_public_and_shows_the_checkpoint_it_stands_on(site: Site) -> None:
    page = site.client.get("/report")  # no sign-in, no token
    assert page.status_code == 200
    html = page.text
    doc = json.loads(site.document)
    assert "Release 2" in html and "North-east Syria to Iraq, January 2026" in html
    assert f"Computed from log entries 0 to {site.size - 1}" in html
    assert doc["checkpoint"]["root"] in html and "test.example/report" in html
    assert re.search(r'data-testid="report-note">[^<]*test\.example/report', html)
    # The server signed this checkpoint, so the page gives its verifier key in the command to check it.
    assert f"handover verify http://testserver --vkey {SIGNER.verifier.vkey} --report report.json" in html
    assert 'data-testid="count-registered"' in html and "7,000" in html
    for rule in ("fewer than 10 people", "not rounded"):
        assert rule in html
    for n in (1, 2):
        assert f'href="/report/{n}"' in html
    assert 'href="/report/2/report.json"' in html and 'href="/report/2/report.pdf"' in html
    assert 'src="/report/2/cumulative.svg"' in html
    assert 'data-testid="nav-report"' in html


def test_suppressed_cells_are_x_with_a_legend_and_never_their_values(site: Site) -> None:
    html = site.client.get("/report/1").text
    parsed = _tables(html)
    doc = json.loads(site.document)
    for (name, row, column), value in HIDDEN.items():
        table = next(t for t in doc["tables"] if t["name"] == name)
        assert table["cells"][row][column] is None
        lines = parsed.tables[f"table-{name}"]
        cell = lines[1 + row][1 + column]  # the header line, then each row after its label
        assert cell == "x" and str(value) not in cell
    held = parsed.tables["table-held_by_facility_and_estate"]
    assert held[0] == ["Facility \\ Estate", "adult_men", "adult_women", "minors", "Total"]
    assert held[-1][0] == "Total" and held[-1][-1] == "1,564"  # totals are published
    assert "suppressed: not published, to protect the people counted" in parsed.titles
    assert 'aria-describedby="suppressed-legend"' in html and "The number is not published." in html
    # Every x in a body cell is a suppressed one, and every suppressed cell of the document is an x.
    shown = sum(cell == "x" for lines in parsed.tables.values() for line in lines for cell in line[1:-1])
    suppressed = sum(value is None for t in doc["tables"] for line in t["cells"] for value in line)
    assert shown == suppressed > 0


def test_merged_categories_are_labelled_with_what_they_hold(site: Site) -> None:
    html = site.client.get("/report/1").text
    nationality = _tables(html).tables["table-moved_by_nationality_and_group"]
    assert [line[0] for line in nationality[1:]] == ["IQ", "SY", "Other merged", "Total"]
    assert "Merged categories (too small to show alone): other: FR, BE, DE." in html


def test_an_older_release_says_it_is_superseded(site: Site) -> None:
    html = site.client.get("/report/1").text
    assert "Release 1" in html and "superseded by release 2" in html


@pytest.mark.parametrize(
    ("path", "media_type", "start"),
    [
        ("report.json", "application/json", b"{"),
        ("report.csv", "text/csv; charset=utf-8", None),
        ("counts.csv", "text/csv; charset=utf-8", None),
        ("report.pdf", "application/pdf", b"%PDF"),
        ("cumulative.svg", "image/svg+xml", None),
        ("occupancy.svg", "image/svg+xml", None),
        ("nationality.svg", "image/svg+xml", None),
    ],
)
def test_each_download_in_its_format_cached_as_immutable(
    site: Site, path: str, media_type: str, start: bytes | None
) -> None:
    response = site.client.get(f"/report/2/{path}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == media_type
    assert "immutable" in response.headers["cache-control"] and response.headers["cache-control"].startswith("public")
    if start is not None:
        assert response.content.startswith(start)
    if path.endswith(".csv"):
        assert response.headers["content-disposition"].startswith("attachment")
        assert "#" in response.text  # HXL hashtags
    if path.endswith(".svg"):
        assert b"<svg" in response.content
    again = site.client.get(f"/report/2/{path}", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304


def test_the_json_download_is_the_stored_document_byte_for_byte(site: Site) -> None:
    assert site.client.get("/report/2/report.json").content == site.document


def test_the_csv_never_holds_a_suppressed_value(site: Site) -> None:
    text = site.client.get("/report/1/report.csv").text
    lines = [line for line in text.splitlines() if "held_by_facility_and_estate" in line and "karkh" in line]
    assert lines and all(",4," not in line and ",30," not in line for line in lines)


@pytest.mark.parametrize(
    "path", ["/report/9", "/report/9/report.json", "/report/9/report.pdf", "/report/1/weather.svg"]
)
def test_unknown_releases_and_charts_are_404(site: Site, path: str) -> None:
    assert site.client.get(path).status_code == 404


def test_before_the_first_release_the_page_says_none_is_published(tmp_path_factory: pytest.TempPathFactory) -> None:
    db = world_database(tmp_path_factory)
    try:
        with TestClient(create_app(db, checkpoint_interval=0)) as client:
            page = client.get("/report")
            assert page.status_code == 200
            assert "No report has been released yet" in page.text
            assert client.get("/report/1").status_code == 404
    finally:
        db.dispose()
