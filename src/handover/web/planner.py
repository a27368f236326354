"""What the Plan page shows: the plan and forecast for a start date, computed once per state of the database and kept
in memory, and the page's, the CSV's and the JSON's view of them.

A plan takes seconds, so the last few results are kept per app, keyed by everything they depend on: the database,
the start date, the planning parameters, the log's size (every custody change, assessments and manifests included,
grows it) and the reference data (routes and facilities). Reloading the page is instant; any change recomputes.
One plan is computed at a time: a second request waits for the first and then finds it in memory.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import threading
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from babel.dates import format_date
from fastapi import Request

from handover.core.custody import Estate
from handover.core.custody.model import TransportMode
from handover.core.custody.movements import Route
from handover.core.planning.forecast import Band, Forecast
from handover.core.planning.plan import Bottleneck, DraftMovement, PlanStatus
from handover.i18n import _, current_language
from handover.services import planning
from handover.services.ports import UnitOfWork
from handover.web import charts
from handover.web.common import Database, Names
from handover.web.labels import estate_label, mode_label
from handover.web.templating import babel_locale, number, percent

PLAN_TIME_LIMIT = 10.0
"""Seconds the solver may take (it stops earlier when it proves the plan within its gap)."""
CACHE_SIZE = 4


# --- computing, once per state ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlanKey:
    """Everything a plan depends on. `token` (without the database) is what the adopt form sends back, so that a
    day is adopted only from the plan the planner was looking at."""

    database: str
    start: date
    parameters: str
    log_size: int
    reference: str
    time_limit: float

    @property
    def token(self) -> str:
        what = (self.start.isoformat(), self.parameters, self.log_size, self.reference, self.time_limit)
        return hashlib.sha256(json.dumps(what).encode()).hexdigest()[:20]


@dataclass(frozen=True, slots=True)
class Computed:
    key: PlanKey
    values: planning.Parameters
    result: planning.PlanResult
    forecast: Forecast
    seconds: float
    """Wall time to plan, fill, check and forecast."""
    at: datetime


class PlanCache:
    """The last few plans of one app, and the default start date per log size."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._plans: OrderedDict[PlanKey, Computed] = OrderedDict()
        self._starts: dict[tuple[str, int], date] = {}
        self._lock = threading.Lock()

    def plan(self, key: PlanKey, compute: Callable[[], Computed]) -> tuple[Computed, bool]:
        """The plan for `key` and whether it came from memory."""
        with self._lock:
            found = self._plans.get(key)
            if found is not None:
                self._plans.move_to_end(key)
                return found, True
            made = compute()
            self._plans[key] = made
            while len(self._plans) > self.size:
                self._plans.popitem(last=False)
            return made, False

    def start(self, database: str, log_size: int, find: Callable[[], date]) -> date:
        key = (database, log_size)
        with self._lock:
            if key not in self._starts:
                self._starts = {key: find()}  # only the latest log size is worth keeping
            return self._starts[key]


_cache_lock = threading.Lock()


def cache_of(request: Request) -> PlanCache:
    state = request.app.state
    with _cache_lock:
        cache = getattr(state, "plan_cache", None)
        if not isinstance(cache, PlanCache):
            cache = PlanCache()
            state.plan_cache = cache
        return cache


def database_name(request: Request) -> str:
    database: Database = request.app.state.database
    return str(getattr(database, "url", id(database)))


def key_for(uow: UnitOfWork, database: str, start: date, values: planning.Parameters, log_size: int) -> PlanKey:
    reference = repr((uow.reference.routes(), uow.reference.facilities()))
    return PlanKey(
        database=database,
        start=start,
        parameters=json.dumps(values.as_dict(), sort_keys=True),
        log_size=log_size,
        reference=hashlib.sha256(reference.encode()).hexdigest(),
        time_limit=PLAN_TIME_LIMIT,
    )


def compute(uow: UnitOfWork, key: PlanKey, values: planning.Parameters) -> Computed:
    began = time.perf_counter()
    result = planning.make_plan(uow, key.start, key.time_limit, values)
    # The forecast's history ends the day before the plan starts, so its day 1 is the plan's day 0.
    forecast = planning.make_forecast(uow, key.start - timedelta(days=1), result.people, result.plan.completion_date)
    return Computed(key, values, result, forecast, time.perf_counter() - began, datetime.now(UTC))


@dataclass(frozen=True, slots=True)
class Current:
    start: date
    default_start: date
    values: planning.Parameters
    key: PlanKey
    computed: Computed | None
    cached: bool


def parameters_and_key(request: Request, uow: UnitOfWork, start: date | None, today: date) -> Current:
    """The start date (the default when None), the parameters and the cache key, without planning."""
    database = database_name(request)
    size = uow.custody.last_custody_index()
    default = cache_of(request).start(database, size, lambda: planning.default_start(uow, today))
    chosen = start or default
    values = planning.parameters(uow)
    return Current(chosen, default, values, key_for(uow, database, chosen, values, size), None, False)


def current(request: Request, uow: UnitOfWork, start: date | None, today: date) -> Current:
    """The plan and forecast for `start` on the database as it is now, from memory when nothing changed.

    Raises ValueError (the planning model's InvalidPlanningInput, the fill's FillError) when no plan can be made."""
    found = parameters_and_key(request, uow, start, today)
    computed, cached = cache_of(request).plan(found.key, lambda: compute(uow, found.key, found.values))
    return Current(found.start, found.default_start, found.values, found.key, computed, cached)


# --- what the page shows ---------------------------------------------------------------------------------------------


def short_date(day: date) -> str:
    return format_date(day, format="d MMM", locale=babel_locale(current_language()))


@dataclass(frozen=True, slots=True)
class ParameterRow:
    name: str
    label: str
    values: list[str]


@dataclass(frozen=True, slots=True)
class Places:
    """Reference names: facilities, and routes as `origin → destination`."""

    names: Names
    routes: dict[str, Route]

    def route(self, route_id: str) -> str:
        r = self.routes.get(route_id)
        if r is None:
            return route_id
        return f"{self.names.facility(r.origin_id)} → {self.names.facility(r.destination_id)}"

    def mode(self, route_id: str) -> str:
        r = self.routes.get(route_id)
        return mode_label(r.mode) if r is not None else ""

    def destination(self, route_id: str) -> str:
        r = self.routes.get(route_id)
        return r.destination_id if r is not None else ""

    def origin(self, route_id: str) -> str:
        r = self.routes.get(route_id)
        return r.origin_id if r is not None else ""


def places_of(uow: UnitOfWork) -> Places:
    return Places(Names(uow), {r.id: r for r in uow.reference.routes()})


def _on(start: date, day: int) -> str:
    return _("day {day} ({date})").format(day=day, date=(start + timedelta(days=day)).isoformat())


def _days(start: date, first: int, last: int) -> str:
    if first == last:
        return _on(start, first)
    return _("days {first}–{last} ({since} to {until})").format(
        first=first,
        last=last,
        since=(start + timedelta(days=first)).isoformat(),
        until=(start + timedelta(days=last)).isoformat(),
    )


def parameter_rows(values: planning.Parameters, start: date, places: Places) -> list[ParameterRow]:
    """The parameters in effect, in words: what the plan had to respect."""
    modes = {m.value: m for m in TransportMode}
    end = start + timedelta(days=values.horizon_days - 1)
    sorties = [
        _("{what}: {n} a day").format(what=mode_label(modes[k]) if k in modes else places.route(k), n=number(n))
        for k, n in sorted(values.sorties_per_day.items())
    ]
    caps = [
        _("{place}: {n} a day").format(place=places.names.facility(k), n=number(n))
        for k, n in sorted(values.daily_intake_cap.items())
    ]
    closures = [
        _("{place}: closed {days}").format(place=places.names.facility(k), days=_days(start, int(a), int(b)))
        for k, ranges in sorted(values.closed_crossings.items())
        for a, b in ranges
    ]
    freed = []
    for k, items in sorted(values.freed.items()):
        for day, estate, n in items:
            try:
                which = estate_label(Estate(estate))
            except ValueError:
                which = str(estate)
            freed.append(
                _("{place}: {n} places ({estate}) from {when}").format(
                    place=places.names.facility(k), n=number(int(n)), estate=which, when=_on(start, int(day))
                )
            )
    priorities = [
        _("{place}: weight {weight}").format(place=places.names.facility(k), weight=number(w))
        for k, w in sorted(values.priorities.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    none = _("none")
    hold = values.repatriation_hold_until
    clearance = values.pending_clearance_day
    return [
        ParameterRow(
            "horizon",
            _("Horizon"),
            [
                _("{days} days, {since} to {until}").format(
                    days=number(values.horizon_days), since=start.isoformat(), until=end.isoformat()
                )
            ],
        ),
        ParameterRow("sorties", _("Sorties per day"), sorties or [none]),
        ParameterRow("intake-caps", _("Intake caps"), caps or [none]),
        ParameterRow(
            "overall-cap",
            _("Overall cap"),
            [
                _("{n} a day across all destinations").format(n=number(values.overall_daily_cap))
                if values.overall_daily_cap is not None
                else none
            ],
        ),
        ParameterRow("closures", _("Crossing closures"), closures or [none]),
        ParameterRow("freed", _("Places freed by onward transfers"), freed or [none]),
        ParameterRow(
            "priorities", _("Priorities"), [*priorities, _("every other origin: weight 1")] if priorities else [none]
        ),
        ParameterRow(
            "repatriation-hold",
            _("Foreign nationals with an open repatriation case"),
            [_("held back until {when}").format(when=_on(start, hold)) if hold is not None else _("not held back")],
        ),
        ParameterRow(
            "pending-clearance",
            _("People not yet cleared"),
            [
                _("expected to be cleared by {when}").format(when=_on(start, clearance))
                if clearance is not None
                else _("not planned until they are cleared")
            ],
        ),
    ]


def status_label(status: PlanStatus) -> str:
    labels = {
        PlanStatus.OPTIMAL: _("optimal (proved within the solver's gap)"),
        PlanStatus.TIME_LIMIT: _("the best found when time ran out"),
        PlanStatus.HEURISTIC: _("heuristic (no bound on how good it is)"),
    }
    return labels[status]


@dataclass(frozen=True, slots=True)
class BottleneckRow:
    kind: str
    subject: str
    message: str
    people: int


def bottleneck_rows(bottlenecks: Sequence[Bottleneck]) -> list[BottleneckRow]:
    return [BottleneckRow(b.kind.value, b.subject, b.message, b.people) for b in bottlenecks]


@dataclass(frozen=True, slots=True)
class CohortCount:
    cohort: str
    people: int


@dataclass(frozen=True, slots=True)
class DraftRow:
    route_id: str
    route: str
    mode: str
    sortie: int
    seats: int
    people: int
    cohorts: list[CohortCount]


@dataclass(frozen=True, slots=True)
class DraftDay:
    day: int
    date: date
    rows: list[DraftRow]
    token: str

    @property
    def people(self) -> int:
        return sum(r.people for r in self.rows)


def day_token(key: PlanKey, drafts: Sequence[DraftMovement], day: int) -> str:
    """What the adopt form sends back: this plan's key and exactly the day's drafts (routes, sorties, people), so
    that a day is adopted only as the planner saw it, even were the plan made again for the same key."""
    digest = hashlib.sha256(key.token.encode())
    for d in sorted((d for d in drafts if d.day == day), key=lambda d: (d.route_id, d.sortie)):
        digest.update(f"{d.route_id}|{d.sortie}|{','.join(d.people)}\n".encode())
    return digest.hexdigest()[:24]


def draft_days(key: PlanKey, drafts: Sequence[DraftMovement], start: date, places: Places) -> list[DraftDay]:
    by_day: dict[int, list[DraftRow]] = defaultdict(list)
    for d in sorted(drafts, key=lambda d: (d.day, d.route_id, d.sortie)):
        by_day[d.day].append(
            DraftRow(
                route_id=d.route_id,
                route=places.route(d.route_id),
                mode=places.mode(d.route_id),
                sortie=d.sortie,
                seats=d.seats,
                people=len(d.people),
                cohorts=[CohortCount(load.cohort_id, load.people) for load in d.loads],
            )
        )
    return [
        DraftDay(day, start + timedelta(days=day), rows, day_token(key, drafts, day))
        for day, rows in sorted(by_day.items())
    ]


@dataclass(frozen=True, slots=True)
class UtilisationRow:
    destination_id: str
    name: str
    colour: str
    places_first: int
    places_last: int
    occupied: int
    share: float
    peak: float
    intake_cap: int | None
    days_at_cap: int


def _share(occupied: int, places: int) -> float:
    return occupied / places if places > 0 else (1.0 if occupied else 0.0)


def _destination_keys(computed: Computed, places: Places) -> list[charts.Key]:
    ids = sorted({u.destination_id for u in computed.result.plan.utilisation})
    ids += sorted({places.destination(r.route_id) for r in computed.result.plan.schedule} - set(ids))
    return [charts.Key(d, places.names.facility(d), charts.colour(n)) for n, d in enumerate(ids)]


def utilisation(computed: Computed, places: Places) -> tuple[charts.LineChart, list[UtilisationRow]]:
    plan = computed.result.plan
    start = computed.key.start
    days: dict[str, list[Any]] = defaultdict(list)
    for u in sorted(plan.utilisation, key=lambda u: u.day):
        days[u.destination_id].append(u)
    keys = _destination_keys(computed, places)
    series = []
    rows = []
    for key in keys:
        found = days.get(key.id, [])
        if not found:
            continue
        shares = [_share(u.occupancy.total, u.places.total) for u in found]
        series.append((key, shares))
        last = found[-1]
        cap = last.intake_cap
        rows.append(
            UtilisationRow(
                destination_id=key.id,
                name=key.label,
                colour=key.colour,
                places_first=found[0].places.total,
                places_last=last.places.total,
                occupied=last.occupancy.total,
                share=shares[-1],
                peak=max(shares),
                intake_cap=cap,
                days_at_cap=sum(1 for u in found if cap is not None and cap > 0 and u.arrivals.total >= cap),
            )
        )
    chart = charts.share_lines(
        plan.horizon_days,
        series,
        lambda d: short_date(start + timedelta(days=d)),
        percent,
        _("Share of each destination's places taken by this operation, day by day."),
    )
    return chart, rows


def timeline(computed: Computed, places: Places) -> charts.BarChart:
    """People moved per day, stacked by destination; each piece names its routes."""
    plan = computed.result.plan
    start = computed.key.start
    keys = _destination_keys(computed, places)
    per: dict[int, dict[str, list[tuple[str, int]]]] = defaultdict(lambda: defaultdict(list))
    for r in plan.schedule:
        if r.people:
            per[r.day][places.destination(r.route_id)].append((r.route_id, r.people))
    names = {k.id: k.label for k in keys}
    by_day = {}
    for day, destinations in per.items():
        when = (start + timedelta(days=day)).isoformat()
        segments = []
        for destination, routes in destinations.items():
            total = sum(n for _r, n in routes)
            detail = ", ".join(
                _("{route}: {n}").format(route=places.route(route), n=number(n)) for route, n in sorted(routes)
            )
            segments.append(
                charts.Segment(
                    destination,
                    total,
                    _("{date}, {place}: {n} people ({routes})").format(
                        date=when, place=names.get(destination, destination), n=number(total), routes=detail
                    ),
                )
            )
        by_day[day] = segments
    cap = computed.values.overall_daily_cap
    marker = None
    if plan.completion_day is not None:
        marker = (
            plan.completion_day,
            _("Everyone moved: {date}").format(date=short_date(plan.completion_date or start)),
        )
    return charts.stacked_bars(
        plan.horizon_days,
        by_day,
        keys,
        lambda d: short_date(start + timedelta(days=d)),
        number,
        _("People moved per day by destination: {moved} of {people} over {days} days.").format(
            moved=number(plan.moved), people=number(plan.people), days=number(plan.horizon_days)
        ),
        marker,
        (cap, _("overall cap: {n} a day").format(n=number(cap))) if cap is not None else None,
    )


@dataclass(frozen=True, slots=True)
class BandRow:
    scenario: str
    baseline: bool
    p50: date | None
    p85: date | None
    p95: date | None
    finished_share: float


def _band_title(band: Band) -> str:
    def when(day: date | None) -> str:
        return day.isoformat() if day is not None else _("later")

    return _("{scenario}: P50 {p50}, P85 {p85}, P95 {p95}").format(
        scenario=band.scenario, p50=when(band.p50_date), p85=when(band.p85_date), p95=when(band.p95_date)
    )


def forecast_view(computed: Computed) -> tuple[charts.BandChart, list[BandRow], str]:
    """The band chart, its numbers as a table, and the plan's date in words."""
    f = computed.forecast
    plan = computed.result.plan
    start = computed.key.start
    all_bands = [f.baseline, *f.scenarios]
    rows = [
        BandRow(b.scenario, n == 0, b.p50_date, b.p85_date, b.p95_date, b.finished_share)
        for n, b in enumerate(all_bands)
    ]
    completion = plan.completion_date
    if completion is not None:
        plan_day = (completion - f.as_of).days
        said = _("Plan: {date}").format(date=short_date(completion))
    else:
        # Not within the horizon: mark its end, the earliest the plan could finish.
        plan_day = (start + timedelta(days=plan.horizon_days) - f.as_of).days
        said = _("Plan: after {date}").format(date=short_date(start + timedelta(days=plan.horizon_days - 1)))
    if completion is not None:
        plan_text = completion.isoformat()
    else:
        plan_text = _("not within the {days}-day horizon: {people} still waiting on {date}").format(
            days=plan.horizon_days,
            people=number(plan.remaining),
            date=(start + timedelta(days=plan.horizon_days - 1)).isoformat(),
        )
    chart = charts.bands(
        [charts.BandInput(b.scenario, b.p50, b.p85, b.p95, _band_title(b)) for b in all_bands],
        lambda d: short_date(f.as_of + timedelta(days=d)),
        _("When everyone will have moved at the pace observed, and under each what-if: P50 to P95."),
        (plan_day, said),
    )
    return chart, rows, plan_text


def page_context(uow: UnitOfWork, found: Current) -> dict[str, Any]:
    places = places_of(uow)
    context: dict[str, Any] = {
        "start": found.start,
        "default_start": found.default_start,
        "parameters": parameter_rows(found.values, found.start, places),
        "computed": found.computed,
        "cached": found.cached,
    }
    computed = found.computed
    if computed is None:
        return context
    plan = computed.result.plan
    utilisation_chart, utilisation_rows = utilisation(computed, places)
    band_chart, band_rows, plan_date = forecast_view(computed)
    context.update(
        {
            "plan": plan,
            "result": computed.result,
            "status_label": status_label(plan.status),
            "bottlenecks": bottleneck_rows(plan.bottlenecks),
            "days": draft_days(found.key, computed.result.drafts, found.start, places),
            "timeline": timeline(computed, places),
            "utilisation_chart": utilisation_chart,
            "utilisation": utilisation_rows,
            "forecast": computed.forecast,
            "band_chart": band_chart,
            "bands": band_rows,
            "plan_date": plan_date,
        }
    )
    return context


# --- exports -------------------------------------------------------------------------------------------------------


def as_json(found: Current) -> dict[str, Any]:
    """PlanResult.as_dict() with the forecast, the parameters and how it was computed."""
    computed = found.computed
    assert computed is not None
    return {
        **computed.result.as_dict(),
        "forecast": computed.forecast.as_dict(),
        "parameters": computed.values.as_dict(),
        "computed": {
            "seconds": round(computed.seconds, 3),
            "at": computed.at.isoformat(),
            "from_memory": found.cached,
            "log_size": computed.key.log_size,
        },
    }


CSV_COLUMNS = (
    ("date", "#date"),
    ("day", ""),
    ("route", ""),
    ("origin", "#loc+name+origin"),
    ("destination", "#loc+name+destination"),
    ("mode", ""),
    ("sortie", ""),
    ("seats", ""),
    ("people", "#population+num"),
    ("cohorts", ""),
)


def _cell(value: object) -> str:
    """A spreadsheet must not take a cell for a formula."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def as_csv(uow: UnitOfWork, found: Current) -> str:
    """One row per draft movement, with an HXL hashtag row under the header."""
    computed = found.computed
    assert computed is not None
    places = places_of(uow)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([name for name, _tag in CSV_COLUMNS])
    writer.writerow([tag for _name, tag in CSV_COLUMNS])
    for d in sorted(computed.result.drafts, key=lambda d: (d.day, d.route_id, d.sortie)):
        writer.writerow(
            _cell(v)
            for v in (
                (found.start + timedelta(days=d.day)).isoformat(),
                d.day,
                d.route_id,
                places.names.facility(places.origin(d.route_id)),
                places.names.facility(places.destination(d.route_id)),
                places.routes[d.route_id].mode.value if d.route_id in places.routes else "",
                d.sortie,
                d.seats,
                len(d.people),
                "; ".join(f"{load.cohort_id}: {load.people}" for load in d.loads),
            )
        )
    return out.getvalue()
