"""The planner and the forecast through the API: a checked day-by-day plan with its forecast, its CSV export, the
planning parameters, and adopting one day of the plan as real draft movements.

A plan takes seconds, so the last few are kept in the app's memory, keyed by everything they depend on: the start
date, the parameters (as JSON), the log's size (every custody change grows it), the reference data and the time
limit. Adopting a day uses the plan the planner saw: the one in memory for the same key, and only while the log and
the parameters are still what it was made from (else 409 `plan-changed`).

Reading the parameters, plans and the forecast needs plan:read (plans name people by random id and cost solver
time); changing the parameters and adopting a day need plan:write.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, StrictFloat, StrictInt, field_validator

from handover.api.deps import Rt, Uow, Who, WriteUow
from handover.api.schema import READ_RESPONSES, WRITE_RESPONSES, Id, StrictModel
from handover.core.custody import Estate
from handover.core.custody.model import TransportMode
from handover.core.planning.forecast import Forecast
from handover.core.policy.access import Action, Resource
from handover.gate import needs
from handover.i18n import _
from handover.services import planning
from handover.services.errors import ConflictError
from handover.services.ports import UnitOfWork
from handover.store.uow import Database

router = APIRouter()
READS: dict[str, Any] = {"dependencies": [needs(Resource.PLAN, Action.READ)], "responses": READ_RESPONSES}
WRITES: dict[str, Any] = {"dependencies": [needs(Resource.PLAN, Action.WRITE)], "responses": WRITE_RESPONSES}

DEFAULT_TIME_LIMIT = 10.0
"""Seconds the solver may take by default (it stops earlier when it proves the plan within its gap)."""
MAX_TIME_LIMIT = 120.0
MAX_HORIZON = 730
CACHE_SIZE = 4

Day = Annotated[StrictInt, Field(ge=0, le=MAX_HORIZON)]
# Dates a plan or a forecast can start from (and count MAX_HORIZON days on from) without leaving the calendar.
PlanDate = Annotated[date, Field(ge=date(1900, 1, 1), le=date(2200, 1, 1))]
Count = Annotated[StrictInt, Field(ge=0, le=1_000_000)]
Horizon = Annotated[StrictInt, Field(ge=1, le=MAX_HORIZON)]
TimeLimit = Annotated[float, Field(gt=0, le=MAX_TIME_LIMIT, allow_inf_nan=False)]


# --- the parameters -------------------------------------------------------------------------------------------------


class PlanParameters(StrictModel):
    """The operation's planning policy (mirrors `services.planning.Parameters`). Days count from the plan's start."""

    horizon_days: Horizon = 60
    sorties_per_day: dict[Id, Annotated[StrictInt, Field(ge=0, le=10_000)]] = Field(
        default_factory=lambda: planning.Parameters().sorties_per_day,
        description="Per transport mode (helicopter, aircraft, road_convoy) or per route id; a route's own entry wins.",
    )
    daily_intake_cap: dict[Id, Count] = Field(
        default_factory=dict, description="Per destination facility id: people it admits a day at most."
    )
    overall_daily_cap: Count | None = Field(
        None, description="The receiving government's pace: people a day across all destinations."
    )
    closed_crossings: dict[Id, list[tuple[Day, Day]]] = Field(
        default_factory=dict, description="Per border-crossing facility id: inclusive [first, last] days it is closed."
    )
    freed: dict[Id, list[tuple[Day, Estate, Count]]] = Field(
        default_factory=dict,
        description="Per destination facility id: [day, estate, places] freed by onward transfers.",
    )
    priorities: dict[Id, Annotated[StrictFloat | StrictInt, Field(gt=0, le=1000, allow_inf_nan=False)]] = Field(
        default_factory=dict, description="Per origin facility id: the weight of a person-day waiting there."
    )
    repatriation_hold_until: Day | None = Field(
        None, description="Foreign nationals with an open repatriation case wait until this day."
    )
    pending_clearance_day: Day | None = Field(
        3, description="When people not yet cleared by the safeguard review are expected to be (null: never)."
    )

    @field_validator("closed_crossings")
    @classmethod
    def _ranges_in_order(cls, value: dict[str, list[tuple[int, int]]]) -> dict[str, list[tuple[int, int]]]:
        for place, ranges in value.items():
            for first, last in ranges:
                if first > last:
                    raise ValueError(f"{place}: the range [{first}, {last}] ends before it starts")
        return value

    def values(self) -> planning.Parameters:
        return planning.Parameters.from_dict(self.model_dump(mode="json"))


def unknown_ids(uow: UnitOfWork, body: PlanParameters) -> list[dict[str, Any]]:
    """Errors, in the shape of a validation error, for every key that names no route, mode or facility it should."""
    facilities = {f.id: f for f in uow.reference.facilities()}
    routes = uow.reference.routes()
    destinations = {r.destination_id for r in routes}
    origins = {r.origin_id for r in routes}
    crossings = {place for r in routes for place in r.via}
    allowed: dict[str, tuple[set[str], str]] = {
        "sorties_per_day": ({m.value for m in TransportMode} | {r.id for r in routes}, _("a transport mode or route")),
        "daily_intake_cap": (destinations, _("a destination")),
        "closed_crossings": (crossings & set(facilities), _("a place on a route")),
        "freed": (destinations, _("a destination")),
        "priorities": (origins, _("an origin")),
    }
    errors = []
    for name, (known, what) in allowed.items():
        for key in sorted(set(getattr(body, name)) - known):
            errors.append(
                {
                    "loc": ["body", name, key],
                    "msg": _("{key} is not {what}").format(key=key, what=what),
                    "type": "unknown_id",
                }
            )
    return errors


@router.get(
    "/plan/parameters",
    response_model=PlanParameters,
    summary="The planning parameters: sorties, intake caps, closures, freed places, priorities, holds",
    **READS,
)
def get_parameters(uow: Uow) -> dict[str, Any]:
    return planning.parameters(uow).as_dict()


@router.put(
    "/plan/parameters",
    response_model=PlanParameters,
    summary="Replace the planning parameters (fields left out take their defaults)",
    **WRITES,
)
def put_parameters(body: PlanParameters, uow: WriteUow, actor: Who) -> dict[str, Any]:
    errors = unknown_ids(uow, body)
    if errors:
        raise RequestValidationError(errors)
    values = body.values()
    planning.set_parameters(uow, values, actor)
    uow.commit()
    return values.as_dict()


# --- plans, computed once per state ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlanKey:
    """Everything a plan depends on."""

    start: date
    parameters: str
    log_size: int
    reference: str
    time_limit: float


@dataclass(frozen=True, slots=True)
class Computed:
    key: PlanKey
    values: planning.Parameters
    result: planning.PlanResult
    forecast: Forecast


class PlanCache:
    """The last few plans of one app. One plan is computed at a time: a second request for the same key waits for
    the first and then finds it in memory."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._plans: OrderedDict[PlanKey, Computed] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: PlanKey, compute: Callable[[], Computed]) -> tuple[Computed, bool]:
        """The plan for `key`, and whether it came from memory."""
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


_cache_lock = threading.Lock()


def cache_of(request: Request) -> PlanCache:
    state = request.app.state
    with _cache_lock:
        cache = getattr(state, "api_plan_cache", None)
        if not isinstance(cache, PlanCache):
            cache = PlanCache()
            state.api_plan_cache = cache
        return cache


def key_for(uow: UnitOfWork, start: date, values: planning.Parameters, time_limit: float) -> PlanKey:
    reference = repr((uow.reference.routes(), uow.reference.facilities()))
    return PlanKey(
        start=start,
        parameters=json.dumps(values.as_dict(), sort_keys=True),
        log_size=uow.custody.last_custody_index(),
        reference=hashlib.sha256(reference.encode()).hexdigest(),
        time_limit=time_limit,
    )


def chosen_values(uow: UnitOfWork, horizon: int | None) -> planning.Parameters:
    """The stored parameters, with the horizon given for this plan if any."""
    values = planning.parameters(uow)
    return replace(values, horizon_days=horizon) if horizon is not None else values


def compute(uow: UnitOfWork, key: PlanKey, values: planning.Parameters) -> Computed:
    """Plan, fill, check, and forecast from the log up to the day before the plan starts (its day 1 is day 0)."""
    result = planning.make_plan(uow, key.start, key.time_limit, values)
    band = planning.make_forecast(uow, key.start - timedelta(days=1), result.people, result.plan.completion_date)
    return Computed(key, values, result, band)


def document(computed: Computed) -> dict[str, Any]:
    """The plan as JSON: PlanResult.as_dict() with the forecast and the parameters it was made with."""
    return {
        **computed.result.as_dict(),
        "forecast": computed.forecast.as_dict(),
        "parameters": computed.values.as_dict(),
    }


def start_or_default(uow: UnitOfWork, start: date | None, today: date) -> date:
    return start if start is not None else planning.default_start(uow, today)


def _plan(
    request: Request, uow: UnitOfWork, start: date | None, horizon: int | None, time_limit: float, today: date
) -> tuple[Computed, bool]:
    chosen = start_or_default(uow, start, today)
    values = chosen_values(uow, horizon)
    key = key_for(uow, chosen, values, time_limit)
    return cache_of(request).get(key, lambda: compute(uow, key, values))


# --- the CSV --------------------------------------------------------------------------------------------------------

CSV_COLUMNS = (
    ("date", "#date"),
    ("route", "#loc+route"),
    ("mode", "#meta+mode"),
    ("sortie", "#meta+sortie"),
    ("seats", "#capacity+seats+num"),
    ("people", "#affected+num"),
)


def _cell(value: object) -> str:
    """A spreadsheet must not take a cell for a formula."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def as_csv(result: planning.PlanResult, modes: dict[str, str]) -> str:
    """One row per draft movement, the people per cohort in one column each; an HXL hashtag row under the header."""
    drafts = sorted(result.drafts, key=lambda d: (d.day, d.route_id, d.sortie))
    cohorts = sorted({load.cohort_id for d in drafts for load in d.loads})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_cell(name) for name, _tag in CSV_COLUMNS] + [_cell(c) for c in cohorts])
    writer.writerow([tag for _name, tag in CSV_COLUMNS] + ["#affected+num+cohort"] * len(cohorts))
    for d in drafts:
        loads = {load.cohort_id: load.people for load in d.loads}
        row = [
            (result.start + timedelta(days=d.day)).isoformat(),
            d.route_id,
            modes.get(d.route_id, ""),
            d.sortie,
            d.seats,
            len(d.people),
            *(loads.get(c, 0) for c in cohorts),
        ]
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()


def route_modes(uow: UnitOfWork) -> dict[str, str]:
    return {r.id: r.mode.value for r in uow.reference.routes()}


# --- answers --------------------------------------------------------------------------------------------------------


class Load(BaseModel):
    cohort: str
    units: int
    people: int


class Draft(BaseModel):
    day: int
    date: str
    route: str
    sortie: int
    seats: int
    people: list[str]
    loads: list[Load]


class Band(BaseModel):
    scenario: str
    p50_days: int | None
    p85_days: int | None
    p95_days: int | None
    p50_date: str | None
    p85_date: str | None
    p95_date: str | None
    finished_share: float


class ForecastAnswer(BaseModel):
    as_of: str
    remaining: int
    history_days: int
    moving_days: int
    moved: int
    mean_per_day: float
    basis: str
    runs: int
    seed: int
    max_days: int
    plan_completion: str | None
    baseline: Band
    scenarios: list[Band]


class PlanAnswer(BaseModel):
    start: str
    people: int
    plan: dict[str, Any] = Field(
        description="The cohort-level schedule: headline, status, gap, completion, schedule, utilisation, bottlenecks."
    )
    drafts: list[Draft]
    checked: bool = Field(description="The independent checker found nothing wrong.")
    violations: list[str]
    forecast: ForecastAnswer
    parameters: PlanParameters


class Adoption(StrictModel):
    start: PlanDate
    day: Day
    horizon: Horizon | None = None
    time_limit: TimeLimit = DEFAULT_TIME_LIMIT


class Adopted(BaseModel):
    start: str
    day: int
    date: str
    codes: list[str]


StartQuery = Annotated[
    PlanDate | None, Query(description="The plan's day 0 (default: the day after the latest event).")
]
HorizonQuery = Annotated[int | None, Query(ge=1, le=MAX_HORIZON, description="Days (default: the parameters').")]
TimeLimitQuery = Annotated[
    float, Query(gt=0, le=MAX_TIME_LIMIT, allow_inf_nan=False, description="Seconds the solver may take.")
]


# --- routes ---------------------------------------------------------------------------------------------------------


# Plans name people (by random id) on draft movements, and each one costs seconds of solver time: plan:read.
@router.get(
    "/plan",
    response_model=PlanAnswer,
    summary="A checked day-by-day plan to move everyone still waiting, with named draft movements and the forecast",
    **READS,
)
def get_plan(
    request: Request,
    response: Response,
    uow: Uow,
    rt: Rt,
    start: StartQuery = None,
    horizon: HorizonQuery = None,
    time_limit: TimeLimitQuery = DEFAULT_TIME_LIMIT,
) -> dict[str, Any]:
    computed, cached = _plan(request, uow, start, horizon, time_limit, rt.clock().date())
    response.headers["x-handover-plan"] = "cached" if cached else "computed"
    return document(computed)


@router.get(
    "/plan.csv",
    response_class=Response,
    summary="The plan's draft movements as CSV, one row per movement, with HXL hashtags",
    dependencies=[needs(Resource.PLAN, Action.READ)],
    responses={200: {"content": {"text/csv": {}}, "description": "CSV"}, **READ_RESPONSES},
)
def get_plan_csv(
    request: Request,
    uow: Uow,
    rt: Rt,
    start: StartQuery = None,
    horizon: HorizonQuery = None,
    time_limit: TimeLimitQuery = DEFAULT_TIME_LIMIT,
) -> Response:
    computed, cached = _plan(request, uow, start, horizon, time_limit, rt.clock().date())
    name = f"plan-{computed.result.start.isoformat()}.csv"
    return Response(
        as_csv(computed.result, route_modes(uow)),
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="{name}"',
            "x-handover-plan": "cached" if cached else "computed",
        },
    )


@router.get(
    "/forecast",
    response_model=ForecastAnswer,
    summary="When the people still to move will have moved at the pace logged so far: P50, P85, P95 and what-ifs",
    **READS,
)
def get_forecast(
    uow: Uow,
    rt: Rt,
    as_of: Annotated[
        PlanDate | None, Query(description="The last day of history (default: the day of the latest event).")
    ] = None,
    seed: Annotated[int, Query(ge=0, le=2**32 - 1)] = 0,
) -> dict[str, Any]:
    day = as_of if as_of is not None else planning.default_start(uow, rt.clock().date()) - timedelta(days=1)
    remaining = planning.build_inputs(uow, day + timedelta(days=1)).model.people
    return planning.make_forecast(uow, day, remaining, seed=seed).as_dict()


@router.post(
    "/plan/adopt",
    status_code=201,
    response_model=Adopted,
    summary="Adopt one day of the plan: its draft movements become real draft movements with their manifests",
    **WRITES,
)
def adopt(request: Request, body: Adoption, rt: Rt, actor: Who) -> dict[str, Any]:
    database: Database = request.app.state.database
    # Plan outside the write transaction: a plan takes seconds and a SQLite writer would hold its lock meanwhile.
    with database.unit_of_work(read_only=True) as uow:
        computed, _cached = _plan(request, uow, body.start, body.horizon, body.time_limit, body.start)
    if not any(d.day == body.day for d in computed.result.drafts):
        raise ConflictError(
            "plan",
            "no-drafts-on-day",
            _("day {day}").format(day=body.day),
            _("Day {day} of this plan has no draft movements.").format(day=body.day),
        )
    with database.unit_of_work() as uow:
        now = key_for(uow, body.start, chosen_values(uow, body.horizon), body.time_limit)
        if now != computed.key:
            raise ConflictError(
                "plan",
                "plan-changed",
                _("out of date"),
                _("The log or the parameters changed while the plan was made; ask for the plan again, then adopt."),
            )
        codes = planning.adopt(uow, rt, computed.result, body.day, actor)
        uow.commit()
    return {
        "start": body.start.isoformat(),
        "day": body.day,
        "date": (body.start + timedelta(days=body.day)).isoformat(),
        "codes": codes,
    }
