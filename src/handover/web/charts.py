"""Charts drawn on the server as inline SVG: the geometry here, the markup in templates/_charts.html.

Pure: plain numbers and labels in, frozen dataclasses of coordinates out (in the SVG's own units; the SVG scales to
its box with a viewBox). No script and nothing fetched: a page shows its charts as it shows its text.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

# Okabe and Ito's colour-blind-safe palette (yellow left out: too light on white).
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#000000", "#999999")

WIDTH = 760.0
MAX_X_TICKS = 8


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten at or above `value` (1 for nothing)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for m in (1, 2, 2.5, 5, 10):
        if m * power >= value - 1e-9:
            return float(m * power)
    return float(10 * power)


def day_step(days: int, most: int = MAX_X_TICKS) -> int:
    """Days between labelled ticks so that at most `most` fit: 1, 2, 7, 14, 28, ... days."""
    for step in (1, 2, 7, 14, 28, 56, 91, 182, 364):
        if math.ceil(days / step) <= most:
            return step
    return max(1, math.ceil(days / most))


@dataclass(frozen=True, slots=True)
class Box:
    """The plot area inside the chart: the axes' labels sit in the margins around it."""

    left: float
    top: float
    right: float
    bottom: float

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.bottom - self.top


@dataclass(frozen=True, slots=True)
class Tick:
    at: float
    label: str


@dataclass(frozen=True, slots=True)
class Key:
    """One series: its id, its label in the legend, its colour."""

    id: str
    label: str
    colour: str


@dataclass(frozen=True, slots=True)
class Marker:
    """A vertical line across the plot (the plan's completion day), labelled at its top."""

    x: float
    label: str
    anchor: str  # "start" or "end": which side of the line the label is on


# --- stacked bars: people moved per day ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Segment:
    series: str
    value: int
    title: str


@dataclass(frozen=True, slots=True)
class BarRect:
    x: float
    y: float
    width: float
    height: float
    day: int
    series: str
    value: int
    colour: str
    title: str


@dataclass(frozen=True, slots=True)
class BarChart:
    width: float
    height: float
    box: Box
    bars: tuple[BarRect, ...]
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    keys: tuple[Key, ...]
    marker: Marker | None
    limit: Tick | None  # a horizontal line (a daily cap), labelled
    label: str


def stacked_bars(
    days: int,
    by_day: Mapping[int, Sequence[Segment]],
    keys: Sequence[Key],
    day_label: Callable[[int], str],
    number: Callable[[float], str],
    label: str,
    marker: tuple[int, str] | None = None,
    limit: tuple[float, str] | None = None,
    height: float = 240.0,
) -> BarChart:
    """One bar per day (0 .. days-1), stacked in the order of `keys`; `marker` is (day, label), drawn at that day's
    end; `limit` is (value, label), a horizontal line across the plot."""
    box = Box(52.0, 22.0, WIDTH - 12.0, height - 30.0)
    days = max(days, 1)
    slot = box.width / days
    highest = max((sum(s.value for s in segs) for segs in by_day.values()), default=0)
    top = max(5.0, nice_ceiling(max(highest, limit[0] if limit is not None else 0)))
    colours = {k.id: k.colour for k in keys}
    order = {k.id: n for n, k in enumerate(keys)}
    bars = []
    for day in sorted(by_day):
        if not 0 <= day < days:
            continue
        base = box.bottom
        for segment in sorted(by_day[day], key=lambda s: order.get(s.series, len(order))):
            if segment.value <= 0:
                continue
            h = box.height * segment.value / top
            bars.append(
                BarRect(
                    x=box.left + day * slot + slot * 0.1,
                    y=base - h,
                    width=max(slot * 0.8, 0.5),
                    height=h,
                    day=day,
                    series=segment.series,
                    value=segment.value,
                    colour=colours.get(segment.series, colour(len(order))),
                    title=segment.title,
                )
            )
            base -= h
    step = day_step(days)
    x_ticks = tuple(Tick(box.left + (d + 0.5) * slot, day_label(d)) for d in range(0, days, step))
    y_ticks = tuple(Tick(box.bottom - box.height * n / 5, number(top * n / 5)) for n in range(6))
    drawn = None
    if marker is not None and 0 <= marker[0] < days:
        x = box.left + (marker[0] + 1) * slot
        drawn = Marker(x, marker[1], "end" if x > box.left + box.width * 0.6 else "start")
    line = Tick(box.bottom - box.height * limit[0] / top, limit[1]) if limit is not None else None
    return BarChart(WIDTH, height, box, tuple(bars), x_ticks, y_ticks, tuple(keys), drawn, line, label)


# --- lines: utilisation per destination per day ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Line:
    series: str
    label: str
    colour: str
    points: str  # "x,y x,y ..." for <polyline points>
    last_x: float
    last_y: float
    last_value: float


@dataclass(frozen=True, slots=True)
class LineChart:
    width: float
    height: float
    box: Box
    lines: tuple[Line, ...]
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    label: str


def share_lines(
    days: int,
    series: Sequence[tuple[Key, Sequence[float]]],
    day_label: Callable[[int], str],
    percent: Callable[[float], str],
    label: str,
    height: float = 220.0,
) -> LineChart:
    """One line per series of shares (0..1, one per day), on a 0-100% scale."""
    box = Box(52.0, 14.0, WIDTH - 60.0, height - 30.0)
    days = max(days, 1)
    slot = box.width / days
    lines = []
    for key, values in series:
        if not values:
            continue
        coords = [
            (box.left + (d + 0.5) * slot, box.bottom - box.height * min(max(v, 0.0), 1.0))
            for d, v in enumerate(values[:days])
        ]
        lines.append(
            Line(
                key.id,
                key.label,
                key.colour,
                " ".join(f"{x:.1f},{y:.1f}" for x, y in coords),
                coords[-1][0],
                coords[-1][1],
                values[min(len(values), days) - 1],
            )
        )
    step = day_step(days)
    x_ticks = tuple(Tick(box.left + (d + 0.5) * slot, day_label(d)) for d in range(0, days, step))
    y_ticks = tuple(Tick(box.bottom - box.height * f, percent(f)) for f in (0, 0.25, 0.5, 0.75, 1.0))
    return LineChart(WIDTH, height, box, tuple(lines), x_ticks, y_ticks, label)


# --- bands: the forecast's P50-P85-P95 per scenario ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BandInput:
    label: str
    p50: int | None  # days after as-of; None: later than the chart's last day
    p85: int | None
    p95: int | None
    title: str


@dataclass(frozen=True, slots=True)
class BandRow:
    label: str
    title: str
    y: float  # centre line of the row
    x50: float
    x85: float
    x95: float
    open_ended: bool  # P95 (or more) beyond the last day: the band runs off the edge
    baseline: bool


@dataclass(frozen=True, slots=True)
class BandChart:
    width: float
    height: float
    box: Box
    rows: tuple[BandRow, ...]
    row_height: float
    x_ticks: tuple[Tick, ...]
    marker: Marker | None
    label: str


def bands(
    rows: Sequence[BandInput],
    day_label: Callable[[int], str],
    label: str,
    marker: tuple[int, str] | None = None,
    row_height: float = 34.0,
) -> BandChart:
    """One row per band (the first is the baseline): a bar from P50 to P95, darker to P85, a dot at P50; days count
    from as-of (0). `marker` is (day, label), drawn across every row."""
    box = Box(250.0, 30.0, WIDTH - 28.0, 30.0 + row_height * max(len(rows), 1))
    known = [d for r in rows for d in (r.p50, r.p85, r.p95) if d is not None]
    if marker is not None:
        known.append(marker[0])
    last = max(known, default=7)
    step = day_step(last + 1)
    span = max(step * math.ceil((last + 1) / step), 1)

    def x(day: int | None) -> float:
        return box.right if day is None else box.left + box.width * min(day, span) / span

    drawn = []
    for n, r in enumerate(rows):
        drawn.append(
            BandRow(
                label=r.label,
                title=r.title,
                y=box.top + row_height * (n + 0.5),
                x50=x(r.p50),
                x85=x(r.p85),
                x95=x(r.p95),
                open_ended=r.p95 is None,
                baseline=n == 0,
            )
        )
    x_ticks = tuple(Tick(x(d), day_label(d)) for d in range(0, span + 1, step))
    line = None
    if marker is not None:
        at = x(marker[0])
        line = Marker(at, marker[1], "end" if at > box.left + box.width * 0.6 else "start")
    return BandChart(WIDTH, box.bottom + 26.0, box, tuple(drawn), row_height, x_ticks, line, label)
