"""The report's charts, drawn with matplotlib into SVG bytes.

No pyplot and no global backend: each chart is a `Figure` saved as SVG, and matplotlib's settings are put back as
they were after each chart. Every chart is drawn under matplotlib's default style, reset for the call, with
DejaVu Sans (shipped with matplotlib), a fixed SVG hash salt and no date in the metadata: the same document gives the
same bytes with the same matplotlib version. matplotlib's settings (rcParams) are global to the process, so charts are
drawn one at a time, under a lock: a server rendering in several threads gets each chart with its own settings.

Charts show published figures only. Row and column totals are never suppressed and are what the bars show; a
suppressed cell is drawn as a grey "suppressed" segment (the row total less its shown cells, which anyone can work out
from the published figures) and labelled as suppressed, never with a number.

Each function returns None when the release has no such table, and a chart that says so when the table is empty.
With `text_as_paths` (the default) the glyphs are drawn as outlines, so a browser shows the file without DejaVu Sans;
without it, text stays text in that font (the PDF embeds the font itself, and tests read the words back).
"""

from __future__ import annotations

import io
import textwrap
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, timedelta
from typing import Any

import matplotlib as mpl
import matplotlib.dates as mdates
import matplotlib.style
import numpy as np
import numpy.typing as npt
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from handover.i18n import _
from handover.publish.document import Release, Table, read, week_end
from handover.publish.wording import number

MOVED_BY_WEEK = "moved_by_week_and_destination"
HELD_BY_FACILITY = "held_by_facility_and_estate"
MOVED_BY_NATIONALITY = "moved_by_nationality_and_group"

WIDTH = 7.0  # inches: the text width of an A4 page with 15 mm margins, so the PDF embeds the charts at scale 1.

# Okabe and Ito's palette, told apart with every common colour blindness; grey is kept for suppressed cells.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#1A1A1A")
SUPPRESSED_FILL = "#C8C8C8"
SUPPRESSED_EDGE = "#707070"
OVER_CAPACITY = "#D55E00"
INK = "#1A1A1A"
LABEL_LENGTH = 32  # characters of a bar's label

_RENDERING = threading.RLock()

# No <metadata>: no date (determinism), and nothing the PDF's SVG reader would warn about.
_NO_METADATA: dict[str, Any] = {"Date": None, "Creator": None, "Format": None, "Type": None}


def cumulative_chart(doc: Mapping[str, Any], *, text_as_paths: bool = True) -> bytes | None:
    """People moved so far, week by week, against the plan and the forecast of its completion.

    Each week's point is the cumulative row total at the end of that ISO week (or at `as_of`, for the week in
    progress). A merged row counts at the end of the latest week it holds; rows that name no week are left out, and
    the chart says how many people that leaves out.
    """
    release = read(doc)
    table = release.table(MOVED_BY_WEEK)
    if table is None:
        return None
    as_of = release.as_of.date() if release.as_of is not None else release.published_at.date()
    points, unplaced = cumulative_points(table, as_of)
    context = release.context
    planned = context.planned_total or None

    with _style(text_as_paths):
        fig, ax = _figure(3.8)
        xs = _days([when for when, _n in points])
        ys = [n for _when, n in points]
        ax.plot(xs, ys, color=PALETTE[0], linewidth=2, marker="o", markersize=3.5, label=_("People moved"))
        last_x, last_y = points[-1]
        ax.annotate(
            number(last_y),
            (last_x, last_y),
            xytext=(-4, 6),
            textcoords="offset points",
            ha="right",
            fontsize=8,
            color=PALETTE[0],
        )
        if planned is not None:
            ax.axhline(
                planned,
                color="#555555",
                linewidth=1,
                linestyle=":",
                label=_("Planned: {n} people").format(n=number(planned)),
            )
            if context.forecast is not None:
                f = context.forecast
                ax.fill(
                    _days([last_x, f.p50, f.p95]),
                    [last_y, planned, planned],
                    color=PALETTE[1],
                    alpha=0.25,
                    linewidth=0,
                    label=_("Forecast: done between {p50} (50% likely) and {p95} (95% likely)").format(
                        p50=f.p50.isoformat(), p95=f.p95.isoformat()
                    ),
                )
                ax.plot(
                    _days([last_x, f.p85]),
                    [last_y, planned],
                    color=PALETTE[1],
                    linewidth=1,
                    linestyle="-.",
                    label=_("Forecast: 85% likely by {p85}").format(p85=f.p85.isoformat()),
                )
            if context.plan_completion is not None:
                ax.plot(
                    _days([last_x, context.plan_completion]),
                    [last_y, planned],
                    color="#555555",
                    linewidth=1.2,
                    linestyle="--",
                    label=_("Adopted plan: done by {day}").format(day=context.plan_completion.isoformat()),
                )
        top = max([*ys, planned or 0, 1])
        ax.set_ylim(0, top * 1.1)
        ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=8))  # type: ignore[no-untyped-call]
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))  # type: ignore[no-untyped-call]
        for label in ax.get_xticklabels():
            label.set_rotation(30)
            label.set_horizontalalignment("right")
        ax.yaxis.set_major_formatter(lambda value, _pos: number(int(value)))
        ax.set_ylabel(_("People moved (cumulative)"))
        ax.set_xlabel(_("Date (each point: the end of an ISO week, or the time of the figures)"))
        _titles(fig, _("People moved so far, against the plan"), release)
        notes = []
        if table.grand_total == 0:
            notes.append(_("No one has been moved yet."))
        if unplaced:
            notes.append(_("{n} people in rows without a week are not shown.").format(n=number(unplaced)))
        if notes:
            ax.text(0.02, 0.95, "\n".join(notes), transform=ax.transAxes, va="top", fontsize=8)
        fig.legend(loc="outside lower center", fontsize=7.5, frameon=False, ncols=2)
        return _svg(fig)


def occupancy_chart(doc: Mapping[str, Any], *, text_as_paths: bool = True) -> bytes | None:
    """People held now at each facility (the row totals) against its capacity over every estate."""
    release = read(doc)
    table = release.table(HELD_BY_FACILITY)
    if table is None:
        return None
    with _style(text_as_paths):
        fig, ax = _figure(_height(len(table.rows)))
        if not table.rows or table.grand_total == 0:
            _empty(ax, _("No one is held at any facility in this release."))
        capacities = [release.context.capacity_of(row.members) for row in table.rows]
        ys = range(len(table.rows))
        colours = [
            OVER_CAPACITY if cap is not None and total > cap else PALETTE[0]
            for total, cap in zip(table.row_totals, capacities, strict=True)
        ]
        ax.barh(ys, table.row_totals, color=colours, height=0.6)
        marked = [(y, cap) for y, cap in zip(ys, capacities, strict=True) if cap is not None]
        for y, cap in marked:
            ax.plot([cap, cap], [y - 0.4, y + 0.4], color=INK, linewidth=2.2, solid_capstyle="butt")
        top = max([*table.row_totals, *(cap for _y, cap in marked), 1])
        for y, total in zip(ys, table.row_totals, strict=True):
            # Inside a long bar, so that the number does not run into the capacity marker just past its end.
            inside = total > 0.2 * top
            ax.annotate(
                number(total),
                (total, y),
                xytext=(-3 if inside else 3, 0),
                textcoords="offset points",
                va="center",
                ha="right" if inside else "left",
                fontsize=8,
                color="white" if inside else INK,
            )
        _category_axis(ax, table)
        ax.set_xlim(0, top * 1.1)
        ax.xaxis.set_major_formatter(lambda value, _pos: number(int(value)))
        ax.set_xlabel(_("People held"))
        _titles(fig, _("People held now, by facility, against capacity"), release)
        handles: list[Artist] = [Patch(color=PALETTE[0], label=_("People held"))]
        if any(c == OVER_CAPACITY for c in colours):
            handles.append(Patch(color=OVER_CAPACITY, label=_("People held, over capacity")))
        if marked:
            handles.append(Line2D([], [], color=INK, linewidth=2.2, label=_("Capacity, every estate together")))
        fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=7.5, frameon=False)
        return _svg(fig)


def nationality_chart(doc: Mapping[str, Any], *, text_as_paths: bool = True) -> bytes | None:
    """People moved by nationality: each bar is the row total, split by group where the cells are shown.

    A row with suppressed cells gets one grey segment for all of them together (its total less its shown cells: the
    published figures already tell anyone that much) and the words "includes suppressed cells"; no number is ever
    put on a suppressed cell.
    """
    release = read(doc)
    table = release.table(MOVED_BY_NATIONALITY)
    if table is None:
        return None
    with _style(text_as_paths):
        fig, ax = _figure(_height(len(table.rows)))
        if not table.rows or table.grand_total == 0:
            _empty(ax, _("No one has been moved yet."))
        ys = list(range(len(table.rows)))
        left = [0] * len(table.rows)
        handles: list[Patch] = []
        for j, column in enumerate(table.columns):
            colour = PALETTE[j % len(PALETTE)]
            widths = [row[j] or 0 for row in table.values]
            ax.barh(ys, widths, left=left, color=colour, height=0.6)
            left = [a + b for a, b in zip(left, widths, strict=True)]
            handles.append(Patch(color=colour, label=column.label))
        hidden = [max(0, total - shown) for total, shown in zip(table.row_totals, left, strict=True)]
        if table.has_suppressed:
            ax.barh(ys, hidden, left=left, color=SUPPRESSED_FILL, edgecolor=SUPPRESSED_EDGE, linewidth=0.6, height=0.6)
            handles.append(
                Patch(
                    facecolor=SUPPRESSED_FILL,
                    edgecolor=SUPPRESSED_EDGE,
                    label=_("Suppressed cells: fewer than {threshold} people, or hidden to protect others").format(
                        threshold=release.rules.threshold
                    ),
                )
            )
        for i, total in enumerate(table.row_totals):
            text = number(total)
            if table.row_has_suppressed(i):
                text = _("{total} (includes suppressed cells)").format(total=text)
            ax.annotate(
                text, (max(total, left[i]), i), xytext=(3, 0), textcoords="offset points", va="center", fontsize=7.5
            )
        _category_axis(ax, table)
        ax.set_xlim(0, max([*table.row_totals, *left, 1]) * 1.45)
        ax.xaxis.set_major_formatter(lambda value, _pos: number(int(value)))
        ax.set_xlabel(_("People moved"))
        _titles(fig, _("People moved, by nationality"), release)
        # Two rows, filled column by column: the groups in pairs, and the long "suppressed" entry in a column alone.
        fig.legend(
            handles=handles, loc="outside lower center", ncols=(len(handles) + 1) // 2, fontsize=7.5, frameon=False
        )
        return _svg(fig)


def cumulative_points(table: Table, as_of: date) -> tuple[list[tuple[date, int]], int]:
    """The cumulative line of a by-week table, and the people in rows that name no ISO week (left off the line).

    The line starts from 0 on the Monday of the first week any row holds, then adds each row's total at the end of
    its week, or at `as_of` for the week in progress. A merged row counts at the end of the latest week it holds.
    With no row in any week, the line is the single point (as_of, 0).
    """
    placed: list[tuple[date, int]] = []
    unplaced = 0
    first: date | None = None
    for row, total in zip(table.rows, table.row_totals, strict=True):
        ends = [end for end in map(week_end, row.members) if end is not None]
        if not ends:
            unplaced += total
            continue
        placed.append((min(max(ends), as_of), total))
        first = min(ends) if first is None else min(first, *ends)
    if first is None:
        return [(as_of, 0)], unplaced
    points = [(min(first - timedelta(days=6), as_of), 0)]
    for when, total in sorted(placed, key=lambda point: point[0]):
        points.append((when, points[-1][1] + total))
    return points, unplaced


@contextmanager
def _style(text_as_paths: bool) -> Iterator[None]:
    with (
        _RENDERING,
        matplotlib.style.context("default", after_reset=True),
        mpl.rc_context(
            {
                "font.family": "DejaVu Sans",
                "font.size": 9,
                "axes.spines.top": False,
                "axes.spines.right": False,
                # Never pure black: matplotlib writes black text with no fill (SVG's default is black), and fpdf2's
                # SVG reader then fills it with whatever colour it drew last, often the white background.
                "text.color": INK,
                "axes.labelcolor": INK,
                "axes.edgecolor": INK,
                "xtick.color": INK,
                "ytick.color": INK,
                # Paths need no font on the reader's machine; text is kept only where a test must read it.
                "svg.fonttype": "path" if text_as_paths else "none",
                "svg.hashsalt": "handover-transparency-report",
            }
        ),
    ):
        yield


def _figure(height: float) -> tuple[Figure, Axes]:
    fig = Figure(figsize=(WIDTH, height), layout="constrained")
    return fig, fig.add_subplot()


def _height(rows: int) -> float:
    return max(2.8, 1.6 + 0.3 * rows)


def _titles(fig: Figure, title: str, release: Release) -> None:
    when = release.as_of or release.published_at
    fig.suptitle(title, fontsize=11, fontweight="bold")
    subtitle = _("{operation}, release {release}, as of {as_of}").format(
        operation=release.operation, release=release.release, as_of=when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    )
    fig.axes[0].set_title(subtitle, fontsize=8, color="#444444")


def _category_axis(ax: Axes, table: Table) -> None:
    # A merged category's label may list every member: shortened, it leaves the bars their width (tables list all).
    labels = [textwrap.shorten(_(row.label), LABEL_LENGTH, placeholder=" …") for row in table.rows]
    ax.set_yticks(range(len(table.rows)), labels)
    ax.tick_params(axis="y", labelsize=8, length=0)
    ax.invert_yaxis()  # the document's first row on top


def _empty(ax: Axes, message: str) -> None:
    ax.text(0.5, 0.5, message, transform=ax.transAxes, ha="center", va="center", fontsize=10, color="#444444")


def _days(days: list[date]) -> npt.NDArray[np.datetime64]:
    return np.array(days, dtype="datetime64[D]")


def _svg(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg", metadata=_NO_METADATA)
    return buffer.getvalue()
