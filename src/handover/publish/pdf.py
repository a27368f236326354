"""The release as a PDF for reading and printing, made with fpdf2.

What it holds, in order: the title; what the figures are computed from (the log entries, the checkpoint that binds
them, with its signed note as published); the disclosure rules in words; the operation-wide counts; the plan, stated
as the operator's and not computed from the log, with the cumulative chart; every table, rows by columns with their
totals, suppressed cells printed as "x"; and the occupancy and nationality charts beside their tables.

Fonts are the DejaVu fonts that matplotlib ships, embedded as subsets: the PDF needs no font on the machine that
makes it or reads it. The charts are embedded as vector SVG with their text kept as text in those same fonts: it can
be selected and read aloud, and fpdf2 draws it several times faster than glyph outlines. The creation date is the
release's `published_at`, so the same document gives the same bytes with the same fpdf2 and matplotlib. Text is laid
out left to right: a right-to-left language (Arabic) would need fpdf2's text shaping (uharfbuzz), not set up here.

A table wider than the page is split into several blocks of columns, each repeating the row labels; the last block
holds the row totals. A long table breaks across pages with its header repeated.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib
from fpdf import FPDF, FontFace
from fpdf.enums import TableBordersLayout, WrapMode, XPos, YPos

from handover.i18n import _, current_language
from handover.publish import charts
from handover.publish.document import Release, Table, read
from handover.publish.wording import SUPPRESSED_MARK, count_label, number, suppressed_legend

FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
# The family names matplotlib writes into the charts' SVG text, so the embedded charts use these same fonts.
SANS = "DejaVu Sans"
MONO = "DejaVu Sans Mono"

MARGIN = 15.0  # mm; the charts are drawn for the text width this leaves on A4
BODY = 9.5  # pt
TABLE_FONT = 8.0  # pt
TABLE_LINE = 4.2  # mm
CELL_PADDING = 1.2  # mm, left and right of a table cell's text
MIN_VALUE_COLUMN = 13.0  # mm
MAX_HEADER_WIDTH = 30.0  # mm: a longer column header wraps
MONO_MAX, MONO_MIN = 8.0, 5.0  # pt

_TOTAL_STYLE = FontFace(emphasis="BOLD")
_HEADINGS_STYLE = FontFace(emphasis="BOLD", fill_color=(232, 232, 232))


class _ReportPDF(FPDF):
    def __init__(self, footer: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self._footer = footer

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font(SANS, size=7)
        self.set_text_color(100)
        page = _("Page {page} of {pages}").format(page=self.page_no(), pages=self.str_alias_nb_pages)
        self.cell(0, 4, f"{self._footer}  ·  {page}", align="C")
        self.set_text_color(0)


def report_pdf(doc: Mapping[str, Any]) -> bytes:
    """The release as a PDF document."""
    release = read(doc)
    title = _("Public transparency report")
    pdf = _ReportPDF(
        footer=_("{operation}, release {release}").format(operation=release.operation, release=release.release)
    )
    pdf.set_creation_date(release.published_at)
    pdf.set_title(f"{title}: {release.operation}, {_('release {n}').format(n=release.release)}")
    pdf.set_subject(_("Aggregate figures computed from the custody log, with small groups protected"))
    pdf.set_creator("handover")
    pdf.set_lang(current_language())
    pdf.add_font(SANS, "", FONTS / "DejaVuSans.ttf")
    pdf.add_font(SANS, "B", FONTS / "DejaVuSans-Bold.ttf")
    pdf.add_font(SANS, "I", FONTS / "DejaVuSans-Oblique.ttf")
    pdf.add_font(MONO, "", FONTS / "DejaVuSansMono.ttf")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=MARGIN)
    pdf.add_page()

    pdf.set_font(SANS, "B", 16)
    pdf.multi_cell(0, 8, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(SANS, "", 12)
    pdf.multi_cell(0, 6, release.operation, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    _paragraph(
        pdf,
        _("Release {release}, published {published_at}.").format(
            release=release.release, published_at=_utc(release.published_at)
        ),
    )

    _binding(pdf, release)
    _rules(pdf, release)
    _counts(pdf, release)
    _plan(pdf, release, doc)

    drawn_after: dict[str, Callable[..., bytes | None]] = {
        charts.HELD_BY_FACILITY: charts.occupancy_chart,
        charts.MOVED_BY_NATIONALITY: charts.nationality_chart,
    }
    for table in release.tables:
        _table(pdf, table, release)
        chart = drawn_after.get(table.name)
        if chart is not None:
            _chart(pdf, chart(doc, text_as_paths=False), _(table.title))
    return bytes(pdf.output())


def _binding(pdf: FPDF, release: Release) -> None:
    checkpoint = release.checkpoint
    _heading(pdf, _("What these figures are computed from"))
    if checkpoint.size:
        entries = _("Computed from log entries 0 to {last}.").format(last=checkpoint.size - 1)
    else:
        entries = _("Computed from no log entries: the log was empty.")
    if release.as_of is not None:
        entries += " " + _("Figures as of {as_of}: the time of the newest custody event among those entries.").format(
            as_of=_utc(release.as_of)
        )
    _paragraph(pdf, entries)
    _field(pdf, _("Log"), checkpoint.origin)
    _field(pdf, _("Size (entries)"), str(checkpoint.size))
    _field(pdf, _("Root hash"), checkpoint.root)
    pdf.ln(1.5)
    _paragraph(
        pdf,
        _(
            "The checkpoint below is the log's signed statement of its size and root hash. Anyone holding the log's "
            "public key can check the signature, fetch the entries it covers and recompute every figure in this "
            "report."
        ),
    )
    _monospace(pdf, checkpoint.note.rstrip("\n"))


def _rules(pdf: FPDF, release: Release) -> None:
    rules = release.rules
    _heading(pdf, _("How small groups are protected"))
    sentences = []
    if rules.threshold > 1:
        sentences.append(_("A cell counting 1 to {below} people is not published.").format(below=rules.threshold - 1))
    if rules.zeros_disclosive:
        sentences.append(
            _(
                "A zero is not published either when its row and its column are not empty and one of them holds "
                "fewer than {threshold} people: in a small group, a zero tells something about each of its members."
            ).format(threshold=rules.threshold)
        )
    else:
        sentences.append(_("Zeros are always published."))
    sentences.append(
        _(
            "Further cells are hidden where needed, so that no hidden cell can be worked out from the totals and the "
            "other cells to within fewer than {protection} people."
        ).format(protection=rules.protection)
    )
    sentences.append(_("Row, column and grand totals are always published."))
    if rules.rounding is None:
        sentences.append(_("Figures are exact: they are not rounded."))
    else:
        sentences.append(
            _(
                "Every published cell and total is rounded to the nearest multiple of {base}, each on its own, so "
                "cells need not add up to their totals."
            ).format(base=rules.rounding)
        )
    if release.previous_release is not None:
        if release.findings:
            sentences.append(
                _("Checked against release {previous}: {n} findings.").format(
                    previous=release.previous_release, n=len(release.findings)
                )
            )
        else:
            sentences.append(
                _(
                    "Checked against release {previous}: comparing the two releases reveals no hidden cell and no "
                    "small group."
                ).format(previous=release.previous_release)
            )
    _paragraph(pdf, " ".join(sentences))
    _paragraph(pdf, _("In the tables:") + " " + suppressed_legend(rules.threshold) + ".")


def _counts(pdf: FPDF, release: Release) -> None:
    _heading(pdf, _("The operation in numbers"))
    if not release.counts:
        _paragraph(pdf, _("This release publishes no counts."))
        return
    _paragraph(pdf, _("Counts over the whole operation, published exactly: they are not broken down."))
    pdf.set_font(SANS, "", TABLE_FONT)
    label_width = max(pdf.get_string_width(count_label(name)) for name, _value in release.counts) + 2 * CELL_PADDING
    value_width = max(MIN_VALUE_COLUMN, *(_text_width(pdf, number(v)) for _name, v in release.counts))
    with pdf.table(
        col_widths=(label_width, value_width),
        width=label_width + value_width,
        align="LEFT",
        text_align=("LEFT", "RIGHT"),
        line_height=TABLE_LINE,
        first_row_as_headings=False,
        borders_layout=TableBordersLayout.HORIZONTAL_LINES,
        padding=(0.6, CELL_PADDING),
    ) as table:
        for name, value in release.counts:
            table.row((count_label(name), number(value)))
    pdf.ln(2)


def _plan(pdf: FPDF, release: Release, doc: Mapping[str, Any]) -> None:
    context = release.context
    _heading(pdf, _("The plan"))
    _paragraph(pdf, _("Stated by the operator, not computed from the log."))
    if context.planned_total is not None:
        _field(pdf, _("People to move"), number(context.planned_total))
    _field(
        pdf,
        _("Completion of the adopted plan"),
        context.plan_completion.isoformat() if context.plan_completion else _("no plan adopted"),
    )
    if context.forecast is not None:
        f = context.forecast
        _field(
            pdf,
            _("Forecast completion"),
            _("{p50} (50% likely), {p85} (85%), {p95} (95%); forecast of {as_of}").format(
                p50=f.p50.isoformat(), p85=f.p85.isoformat(), p95=f.p95.isoformat(), as_of=f.as_of.isoformat()
            ),
        )
    else:
        _field(pdf, _("Forecast completion"), _("no forecast"))
    pdf.ln(2)
    _chart(pdf, charts.cumulative_chart(doc, text_as_paths=False), _("People moved so far, against the plan"))


def _table(pdf: FPDF, table: Table, release: Release) -> None:
    title = _(table.title)
    _heading(pdf, title)
    if not table.rows or not table.columns:
        _paragraph(
            pdf, _("No one is counted in this table yet. Total: {total}.").format(total=number(table.grand_total))
        )
        return
    pdf.set_font(SANS, "", TABLE_FONT)
    row_labels = [_(row.label) for row in table.rows]
    total = _("Total")
    label_width = max(_text_width(pdf, text) for text in row_labels)
    pdf.set_font(SANS, "B", TABLE_FONT)  # the headers and the totals are bold, and wider
    label_width = min(max(label_width, _text_width(pdf, total)), 0.35 * pdf.epw)
    headers = [_(column.label) for column in table.columns] + [total]
    figures = [
        [_figure(table, i, j) for i in range(len(table.rows))] + [number(table.column_totals[j])]
        for j in range(len(table.columns))
    ]
    figures.append([number(n) for n in table.row_totals] + [number(table.grand_total)])
    widths = [
        max(MIN_VALUE_COLUMN, _longest_word(pdf, header), *(_text_width(pdf, f) for f in column))
        for header, column in zip(headers, figures, strict=True)
    ]
    # Headers on one line where the whole table then still fits the page; otherwise wrapped at their words.
    roomy = [max(w, min(_text_width(pdf, h), MAX_HEADER_WIDTH)) for w, h in zip(widths, headers, strict=True)]
    if sum(roomy) <= pdf.epw - label_width:
        widths = roomy
    pdf.set_font(SANS, "", TABLE_FONT)
    blocks = _blocks(widths, pdf.epw - label_width)
    for n, block in enumerate(blocks):
        if n:
            pdf.set_font(SANS, "I", BODY)
            pdf.multi_cell(0, 5, _("{title} (continued)").format(title=title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.set_font(SANS, "", TABLE_FONT)
        col_widths = [label_width, *(widths[j] for j in block)]
        with pdf.table(
            col_widths=col_widths,
            width=sum(col_widths),
            align="LEFT",
            text_align=("LEFT", *("RIGHT" for _j in block)),
            line_height=TABLE_LINE,
            headings_style=_HEADINGS_STYLE,
            borders_layout=TableBordersLayout.HORIZONTAL_LINES,
            padding=(0.6, CELL_PADDING),
        ) as out:
            out.row(["", *(headers[j] for j in block)])
            for i, label in enumerate(row_labels):
                row = out.row()
                row.cell(label)
                for j in block:
                    row.cell(figures[j][i], style=_TOTAL_STYLE if j == len(table.columns) else None)
            last = out.row(style=_TOTAL_STYLE)
            last.cell(total)
            for j in block:
                last.cell(figures[j][-1])
        pdf.ln(1.5)
    if table.has_suppressed:
        pdf.set_font(SANS, "I", TABLE_FONT)
        pdf.multi_cell(0, TABLE_LINE, suppressed_legend(release.rules.threshold), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)


def _figure(table: Table, row: int, column: int) -> str:
    value = table.values[row][column]
    return SUPPRESSED_MARK if value is None else number(value)


def _blocks(widths: Sequence[float], available: float) -> list[list[int]]:
    """The columns, in order, packed into blocks no wider than `available`; at least one column a block."""
    blocks: list[list[int]] = [[]]
    used = 0.0
    for j, width in enumerate(widths):
        if blocks[-1] and used + width > available:
            blocks.append([])
            used = 0.0
        blocks[-1].append(j)
        used += width
    return blocks


def _chart(pdf: FPDF, svg: bytes | None, alt: str) -> None:
    if svg is None:
        return
    width, height = _svg_size(svg)
    w = pdf.epw
    h = w * height / width
    if pdf.y + h > pdf.page_break_trigger:
        pdf.add_page()
    pdf.image(io.BytesIO(svg), x=pdf.l_margin, w=w, h=h, alt_text=alt)
    pdf.ln(3)


def _svg_size(svg: bytes) -> tuple[float, float]:
    match = re.search(rb'<svg[^>]*?width="([\d.]+)pt"[^>]*?height="([\d.]+)pt"', svg)
    if match is None:
        raise ValueError("a chart's SVG has no width and height in points")
    return float(match[1]), float(match[2])


def _heading(pdf: FPDF, text: str) -> None:
    pdf.ln(2)
    if pdf.y + 20 > pdf.page_break_trigger:
        # Keep a heading with the first lines it introduces.
        pdf.add_page()
    pdf.set_font(SANS, "B", 12)
    pdf.multi_cell(0, 6.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(0.5)


def _paragraph(pdf: FPDF, text: str) -> None:
    pdf.set_font(SANS, "", BODY)
    pdf.multi_cell(0, 4.8, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1.2)


def _field(pdf: FPDF, name: str, value: str) -> None:
    pdf.set_font(SANS, "B", BODY)
    pdf.cell(h=4.8, text=f"{name}: ")
    pdf.set_font(SANS, "", BODY)
    pdf.multi_cell(0, 4.8, value, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _monospace(pdf: FPDF, text: str) -> None:
    """A block of text kept line for line: the font shrinks so the longest line fits, down to a floor, then wraps."""
    lines = text.split("\n")
    width = pdf.epw - 4
    pdf.set_font(MONO, "", 10)
    longest = max((pdf.get_string_width(line) for line in lines), default=0.0)
    size = MONO_MAX if longest == 0 else max(MONO_MIN, min(MONO_MAX, 10 * width / longest))
    pdf.set_font(MONO, "", size)
    pdf.set_fill_color(243, 243, 243)
    pdf.multi_cell(
        0,
        size * 0.45,
        text,
        fill=True,
        padding=2,
        align="L",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
        wrapmode=WrapMode.CHAR,
    )
    pdf.set_fill_color(255)
    pdf.ln(2)


def _text_width(pdf: FPDF, text: str) -> float:
    return float(pdf.get_string_width(text)) + 2 * CELL_PADDING + 0.5


def _longest_word(pdf: FPDF, text: str) -> float:
    return max((_text_width(pdf, word) for word in text.split()), default=0.0)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
