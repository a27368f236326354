"""The public transparency report: each release as a page, its files (JSON, CSV with HXL, PDF, charts), its history.

Public (report:read, which the public holds): a release is counted at a signed checkpoint and protected before it
is stored (`services.report`), so these routes only show what is stored. A suppressed cell reaches the page as
`None` and is shown as "x", never as a number. Releases never change once made, so their files are cached for long
and tagged with the digest of the stored document.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from handover.core.policy.access import Action, Resource
from handover.core.tlog.note import NoteError, open_note
from handover.gate import needs
from handover.i18n import _, current_language
from handover.services import report
from handover.services.errors import NotFoundError
from handover.web.checkpoints import signer
from handover.web.common import Uow, render
from handover.web.templating import number

router = APIRouter(default_response_class=HTMLResponse)
PUBLIC = [needs(Resource.REPORT, Action.READ)]

IMMUTABLE = "public, max-age=31536000, immutable"
SUPPRESSED = "x"
CSV = "text/csv; charset=utf-8"

# Marked for extraction, translated when shown: the document keeps its English words, each reader gets theirs.
_TITLES = {
    "moved_by_week_and_destination": lambda: _("People moved, by week and destination"),
    "moved_by_nationality_and_group": lambda: _("People moved, by nationality, sex and age"),
    "held_by_facility_and_estate": lambda: _("People held, by facility and estate"),
    "repatriated_by_country_and_estate": lambda: _("People repatriated, by receiving country and estate"),
    "awaiting_safeguards_by_facility_and_estate": lambda: _(
        "People awaiting safeguards before a move, by facility and estate"
    ),
}
_DIMENSIONS = {
    "week": lambda: _("Week"),
    "destination": lambda: _("Destination"),
    "nationality": lambda: _("Nationality"),
    "group": lambda: _("Sex and age"),
    "facility": lambda: _("Facility"),
    "estate": lambda: _("Estate"),
    "authority": lambda: _("Receiving country"),
}
_COUNTS = {
    "registered": lambda: _("Registered"),
    "moved": lambda: _("Moved"),
    "held": lambda: _("Held"),
    "in_transit": lambda: _("In transit"),
    "repatriated": lambda: _("Repatriated"),
    "released": lambda: _("Released"),
    "escaped": lambda: _("Escaped"),
    "recaptured": lambda: _("Recaptured"),
    "died": lambda: _("Died"),
    "hospitalised": lambda: _("Taken to hospital"),
    "awaiting_safeguards": lambda: _("Awaiting safeguards"),
}


def _words(table: Mapping[str, Callable[[], str]], key: str) -> str:
    found = table.get(key)
    return found() if found is not None else key


# --- the files, rendered once per release and language ------------------------------------------------------------

# The chart functions of `handover.publish.charts` by name. Rendering (matplotlib, fpdf2) is imported when a file is
# first asked for, not when the app starts: it costs seconds, and most processes never render.
CHARTS = {"cumulative": "cumulative_chart", "occupancy": "occupancy_chart", "nationality": "nationality_chart"}

CHART_TABLES = {
    "cumulative": "moved_by_week_and_destination",
    "occupancy": "held_by_facility_and_estate",
    "nationality": "moved_by_nationality_and_group",
}


@lru_cache(maxsize=64)
def _rendered(kind: str, digest: str, language: str, document: bytes) -> bytes | None:
    """A file of a release; `digest` and `language` key the cache (charts and the PDF are worded per language)."""
    from handover.publish import charts, csv_hxl, pdf

    doc = json.loads(document)
    if kind in CHARTS:
        chart: Callable[[Mapping[str, Any]], bytes | None] = getattr(charts, CHARTS[kind])
        return chart(doc)
    if kind == "pdf":
        return pdf.report_pdf(doc)
    if kind == "csv":
        return csv_hxl.tables_csv(doc).encode()
    if kind == "counts":
        return csv_hxl.counts_csv(doc).encode()
    raise KeyError(kind)


@dataclass(frozen=True, slots=True)
class Stored:
    number: int
    document: bytes

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.document).hexdigest()

    def etag(self, kind: str) -> str:
        return f'"{self.digest[:32]}-{kind}"'

    def rendered(self, kind: str) -> bytes | None:
        return _rendered(kind, self.digest, current_language(), self.document)


def _stored(uow: Uow, number: int) -> Stored:
    return Stored(number, report.document(uow, number))


def _file(request: Request, stored: Stored, kind: str, body: bytes, media_type: str, filename: str = "") -> Response:
    etag = stored.etag(kind)
    headers = {"Cache-Control": IMMUTABLE, "ETag": etag}
    if filename:
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    if etag in {tag.strip() for tag in request.headers.get("if-none-match", "").split(",")}:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


# --- the page -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CellView:
    text: str
    suppressed: bool


@dataclass(frozen=True, slots=True)
class RowView:
    label: str
    merged: bool
    cells: list[CellView]
    total: CellView


@dataclass(frozen=True, slots=True)
class TableView:
    name: str
    title: str
    rows_are: str
    columns_are: str
    cumulative: bool
    needs_identities: bool
    columns: list[tuple[str, bool]]  # label (short for a merged one), merged
    rows: list[RowView]
    column_totals: list[CellView]
    grand_total: CellView
    suppressed: int
    merged: list[str]  # the labels of merged categories, which name what each holds


def _cell(value: Any, number: Callable[[int], str]) -> CellView:
    if value is None:
        return CellView(SUPPRESSED, True)
    return CellView(number(int(value)), False)


def _merged(category: Mapping[str, Any]) -> bool:
    return list(category["members"]) != [category["key"]]


def _label(category: Mapping[str, Any]) -> str:
    """A category's name in a table's header: a merged one by its key (the note under the table lists what it
    holds, which can be dozens of names)."""
    if not _merged(category):
        return str(category["label"])
    return _("Other") if category["key"] == "other" else str(category["key"])


def _table_view(table: Mapping[str, Any], number: Callable[[int], str]) -> TableView:
    cells: Sequence[Sequence[Any]] = table["cells"]
    rows = [
        RowView(_label(row), _merged(row), [_cell(v, number) for v in cells[i]], _cell(table["row_totals"][i], number))
        for i, row in enumerate(table["rows"])
    ]
    categories = [*table["rows"], *table["columns"]]
    return TableView(
        name=table["name"],
        title=_words(_TITLES, table["name"]),
        rows_are=_words(_DIMENSIONS, table["rows_are"]),
        columns_are=_words(_DIMENSIONS, table["columns_are"]),
        cumulative=bool(table["cumulative"]),
        needs_identities=bool(table["needs_identities"]),
        columns=[(_label(column), _merged(column)) for column in table["columns"]],
        rows=rows,
        column_totals=[_cell(v, number) for v in table["column_totals"]],
        grand_total=_cell(table["grand_total"], number),
        suppressed=sum(1 for line in cells for value in line if value is None),
        merged=[c["label"] for c in categories if _merged(c)],
    )


def _rules(rules: Mapping[str, Any]) -> list[str]:
    said = [
        _(
            "A count of fewer than {threshold} people in a table's cell is not published: it is shown as x. So is a "
            "zero in a row or column of fewer than {threshold} people, where it tells something of each of them."
        ).format(threshold=rules["threshold"])
        if rules.get("zeros_disclosive")
        else _("A count of fewer than {threshold} people in a table's cell is not published: it is shown as x.").format(
            threshold=rules["threshold"]
        ),
        _(
            "Further cells are hidden as well (also shown as x) so that no hidden count can be worked out from the "
            "totals and the other cells to within {width} people."
        ).format(width=rules["protection"]),
        _(
            "Small categories are merged before counting (labelled as merged), and each release is checked against "
            "the previous one so that their difference singles out nobody."
        ),
    ]
    if rules.get("rounding"):
        said.append(_("Every published figure is rounded to a multiple of {base}.").format(base=rules["rounding"]))
    else:
        said.append(_("Figures are not rounded; totals are exact."))
    return said


def _vkey(request: Request, note: str) -> str:
    """The server's verifier key, when it is the key that signed this checkpoint; else empty."""
    ours = signer(request)
    if ours is None:
        return ""
    try:
        open_note(note, [ours.verifier])
    except NoteError:
        return ""
    return ours.verifier.vkey


def _page(request: Request, uow: Uow, stored: Stored, latest: int) -> HTMLResponse:
    doc = json.loads(stored.document)
    base = str(request.base_url).rstrip("/")
    links = {
        "json": request.url_for("web_report_json", number=stored.number).path,
        "csv": request.url_for("web_report_csv", number=stored.number).path,
        "counts": request.url_for("web_report_counts", number=stored.number).path,
        "pdf": request.url_for("web_report_pdf", number=stored.number).path,
    }
    shown_charts = [
        (kind, request.url_for("web_report_chart", number=stored.number, chart=kind).path, alt)
        for kind, alt in (
            ("cumulative", _("People moved over time, week by week, with the plan and the forecast")),
            ("occupancy", _("People held at each facility by estate, against its places")),
            ("nationality", _("People moved, by nationality, sex and age")),
        )
        # A chart is drawn from its table: a release without the table has no chart (and its route answers 404).
        if CHART_TABLES[kind] in {table["name"] for table in doc["tables"]}
    ]
    context = {
        "doc": doc,
        "number": stored.number,
        "latest": latest,
        "checkpoint": doc["checkpoint"],
        "last_entry": doc["checkpoint"]["size"] - 1,
        "vkey": _vkey(request, doc["checkpoint"]["note"]),
        "base_url": base,
        "rules": _rules(doc["rules"]),
        "threshold": doc["rules"]["threshold"],
        "counts": [(_words(_COUNTS, c["name"]), number(c["value"]), c["name"]) for c in doc["counts"]],
        "tables": [_table_view(t, number) for t in doc["tables"]],
        "context": doc["context"],
        "links": links,
        "charts": shown_charts,
        "history": [
            (r.number, r.published_at, r.checkpoint_size, request.url_for("web_report_release", number=r.number).path)
            for r in reversed(report.history(uow))
        ],
    }
    return render(request, "report.html", context)


def _none(request: Request, detail: str, status_code: int) -> HTMLResponse:
    return render(request, "report_none.html", {"detail": detail}, status_code=status_code)


@router.get("/report", name="web_report", dependencies=PUBLIC)
def latest_report(request: Request, uow: Uow) -> HTMLResponse:
    history = report.history(uow)
    if not history:
        return _none(
            request,
            _("No report has been released yet. The first release is made once the log has a signed checkpoint."),
            200,
        )
    newest = history[-1]
    return _page(request, uow, Stored(newest.number, newest.document), newest.number)


@router.get("/report/{number}", name="web_report_release", dependencies=PUBLIC)
def report_release(request: Request, number: int, uow: Uow) -> HTMLResponse:
    try:
        stored = _stored(uow, number)
    except NotFoundError as missing:
        return _none(request, missing.message, 404)
    latest = report.history(uow)[-1].number
    return _page(request, uow, stored, latest)


@router.get("/report/{number}/report.json", name="web_report_json", dependencies=PUBLIC)
def report_json(request: Request, number: int, uow: Uow) -> Response:
    # The stored bytes themselves: `handover verify --report` checks exactly what was published.
    stored = _stored(uow, number)
    return _file(request, stored, "json", stored.document, "application/json", f"report-{number}.json")


@router.get("/report/{number}/report.csv", name="web_report_csv", dependencies=PUBLIC)
def report_csv(request: Request, number: int, uow: Uow) -> Response:
    stored = _stored(uow, number)
    return _file(request, stored, "csv", stored.rendered("csv") or b"", CSV, f"report-{number}.csv")


@router.get("/report/{number}/counts.csv", name="web_report_counts", dependencies=PUBLIC)
def counts_csv(request: Request, number: int, uow: Uow) -> Response:
    stored = _stored(uow, number)
    return _file(request, stored, "counts", stored.rendered("counts") or b"", CSV, f"counts-{number}.csv")


@router.get("/report/{number}/report.pdf", name="web_report_pdf", dependencies=PUBLIC)
def report_pdf(request: Request, number: int, uow: Uow) -> Response:
    stored = _stored(uow, number)
    return _file(request, stored, "pdf", stored.rendered("pdf") or b"", "application/pdf", f"report-{number}.pdf")


@router.get("/report/{number}/{chart}.svg", name="web_report_chart", dependencies=PUBLIC)
def report_chart(request: Request, number: int, chart: str, uow: Uow) -> Response:
    if chart not in CHARTS:
        raise NotFoundError("chart", chart, _("No chart {chart}.").format(chart=chart))
    stored = _stored(uow, number)
    svg = stored.rendered(chart)
    if svg is None:
        raise NotFoundError("chart", chart, _("Release {number} has no data for this chart.").format(number=number))
    return _file(request, stored, chart, svg, "image/svg+xml")
