"""Planning from the live database: who is still to move, where they can go, the transport and the pace, then the
solver's schedule, the independent checker's verdict, named draft movements, and the forecast from the log.

The operation's planning parameters (sorties per day, intake caps, crossing closures, priorities, holds) are policy,
kept in the meta table as JSON (`handover demo` writes the scenario's); everything else comes from the custody state.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from handover.core.custody import Estate, EventType, Status
from handover.core.custody.model import FacilityKind, TransportMode
from handover.core.planning import checker, fill, forecast, model, solver
from handover.core.planning.plan import DraftMovement, Plan
from handover.core.policy.permissions import Actor, Permission
from handover.core.policy.safeguards import FIT_TO_TRAVEL, LEGAL_REVIEW, PASSING
from handover.i18n import _
from handover.services import repatriation, transfers
from handover.services.access import OPERATOR, require
from handover.services.errors import ConflictError
from handover.services.ports import AccountsUnitOfWork, StoredEvent, UnitOfWork
from handover.services.runtime import Runtime

PARAMETERS_KEY = "planning.parameters"


@dataclass(frozen=True)
class Parameters:
    """The operation's planning policy. Days count from the plan's start (day 0)."""

    horizon_days: int = 60
    sorties_per_day: dict[str, int] = field(
        default_factory=lambda: {TransportMode.HELICOPTER.value: 2, TransportMode.ROAD_CONVOY.value: 1}
    )
    """Per transport mode, or per route id (a route's own entry wins)."""
    daily_intake_cap: dict[str, int] = field(default_factory=dict)
    """Per destination facility id: people it admits a day at most."""
    overall_daily_cap: int | None = None
    """The receiving government's pace: people a day across all destinations."""
    closed_crossings: dict[str, list[list[int]]] = field(default_factory=dict)
    """Per border-crossing facility id: inclusive [first, last] day ranges it is closed."""
    freed: dict[str, list[list[Any]]] = field(default_factory=dict)
    """Per destination: [day, estate, places] freed by onward transfers."""
    priorities: dict[str, float] = field(default_factory=dict)
    """Per origin facility id: weight of each person-day waiting there (origins at risk higher)."""
    repatriation_hold_until: int | None = None
    pending_clearance_day: int | None = 3
    """When people not yet assessed fit and cleared are expected to be (None: never, until they are)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "horizon_days": self.horizon_days,
            "sorties_per_day": self.sorties_per_day,
            "daily_intake_cap": self.daily_intake_cap,
            "overall_daily_cap": self.overall_daily_cap,
            "closed_crossings": self.closed_crossings,
            "freed": self.freed,
            "priorities": self.priorities,
            "repatriation_hold_until": self.repatriation_hold_until,
            "pending_clearance_day": self.pending_clearance_day,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Parameters:
        known = set(cls().as_dict())
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(_("Unknown planning parameters: {names}.").format(names=", ".join(unknown)))
        return cls(**data)


def parameters(uow: UnitOfWork) -> Parameters:
    stored = uow.meta.get(PARAMETERS_KEY)
    return Parameters.from_dict(json.loads(stored)) if stored else Parameters()


def set_parameters(uow: UnitOfWork, values: Parameters, actor: Actor = OPERATOR) -> None:
    require(actor, Permission.PLAN_MOVEMENTS)
    uow.meta.put(PARAMETERS_KEY, json.dumps(values.as_dict(), sort_keys=True))


_PLACES_FOR = {FacilityKind.PRISON, FacilityKind.FAMILY_CENTRE, FacilityKind.CAMP}


@dataclass(frozen=True)
class Inputs:
    """The solver's inputs and the named people behind its cohorts."""

    model: model.PlanningInput
    members: tuple[model.Member, ...]


def build_inputs(uow: UnitOfWork, start: date, values: Parameters | None = None) -> Inputs:
    """Everyone held at a route's origin and not on a movement, in cohorts; destinations with the places left."""
    values = values or parameters(uow)
    facilities = {f.id: f for f in uow.reference.facilities()}
    routes = uow.reference.routes()
    origins = {r.origin_id for r in routes}
    destinations = {r.destination_id for r in routes}
    projection = uow.custody.projection()
    # People a country of origin has accepted are leaving by repatriation: the planner plans nothing else for them.
    leaving = repatriation.accepted_person_ids(cast(AccountsUnitOfWork, uow))
    waiting = [
        row.state
        for row in projection
        if row.state.status is Status.HELD
        and row.state.movement_id is None
        and row.state.facility_id in origins
        and row.state.person_id not in leaving
    ]
    records = {p.id: p for p in uow.persons.all()}
    assessed = uow.operations.assessments(s.person_id for s in waiting)

    def cleared(person_id: str) -> bool:
        found = assessed.get(person_id, {})
        return all(found.get(kind) in PASSING[kind] for kind in (FIT_TO_TRAVEL, LEGAL_REVIEW))

    # Families: each waiting mother with her waiting children at the same place is one unit.
    by_id = {s.person_id: s for s in waiting}
    children: dict[str, list[str]] = defaultdict(list)
    for state in waiting:
        mother = records[state.person_id].identity.mother_id
        if state.estate is Estate.MINORS and mother in by_id and by_id[mother].facility_id == state.facility_id:
            children[mother].append(state.person_id)
    in_family = {child for kids in children.values() for child in kids}
    groups: dict[tuple[Any, ...], list[list[str]]] = defaultdict(list)
    for state in waiting:
        if state.person_id in in_family:
            continue
        record = records[state.person_id]
        kids = sorted(children.get(state.person_id, []))
        unit = [state.person_id, *kids]
        everyone_cleared = all(cleared(p) for p in unit)
        origin = facilities[state.facility_id or ""]
        security = origin.security_level if state.estate is Estate.ADULT_MEN else 0
        nationality = model.Nationality.IRAQI if record.identity.nationality == "IQ" else model.Nationality.FOREIGN
        key = (state.facility_id, state.estate.value, len(kids), security, nationality.value, everyone_cleared)
        groups[key].append(unit)
    cohorts, members = [], []
    for (origin_id, estate, kids, security, nationality, is_cleared), units in sorted(groups.items()):
        cohort_id = f"{origin_id}/{estate}{'+' + str(kids) if kids else ''}/{nationality}/s{security}" + (
            "" if is_cleared else "/pending"
        )
        composition = model.family(1, kids) if kids else model.one(Estate(estate))
        cohorts.append(
            model.Cohort(
                id=cohort_id,
                origin=origin_id,
                units=len(units),
                composition=composition,
                security_level=security,
                nationality=model.Nationality(nationality),
                cleared=is_cleared,
                clearance_day=None if is_cleared else values.pending_clearance_day,
                priority=values.priorities.get(origin_id, 1.0),
            )
        )
        members += [model.Member(p, cohort_id, unit[0]) for unit in units for p in unit]
    places = _places_left(uow, destinations, facilities)
    booked = _booked(uow, start, values.horizon_days)
    crossings = {place for r in routes for place in r.via if facilities[place].kind is FacilityKind.BORDER_CROSSING}
    built = model.PlanningInput(
        horizon_days=values.horizon_days,
        start=start,
        origins=tuple(model.Origin(o, facilities[o].name) for o in sorted(origins)),
        destinations=tuple(
            model.Destination(
                id=d,
                name=facilities[d].name,
                kind=facilities[d].kind,
                security_level=facilities[d].security_level,
                places=places[d],
                freed=tuple(
                    model.Freed(int(day), Estate(estate), int(n)) for day, estate, n in values.freed.get(d, [])
                ),
                daily_intake_cap=_less(values.daily_intake_cap[d], booked.intake[d])
                if d in values.daily_intake_cap
                else None,
            )
            for d in sorted(destinations)
            if facilities[d].kind in _PLACES_FOR
        ),
        routes=tuple(
            model.Route(
                id=r.id,
                origin=r.origin_id,
                destination=r.destination_id,
                mode=r.mode,
                seats=r.seats,
                sorties_per_day=_less(
                    values.sorties_per_day.get(r.id, values.sorties_per_day.get(r.mode.value, 1)), booked.sorties[r.id]
                ),
                crossings=tuple(p for p in r.via if p in crossings),
                via=r.via,
            )
            for r in routes
            if facilities[r.destination_id].kind in _PLACES_FOR
        ),
        cohorts=tuple(cohorts),
        crossings=tuple(
            model.Crossing(
                c, facilities[c].name, tuple((int(a), int(b)) for a, b in values.closed_crossings.get(c, []))
            )
            for c in sorted(crossings)
        ),
        overall_daily_cap=_less(values.overall_daily_cap, booked.overall)
        if values.overall_daily_cap is not None
        else None,
        repatriation_hold_until=values.repatriation_hold_until,
    )
    return Inputs(built, tuple(members))


@dataclass
class _Booked:
    """What movements already planned but not yet gone take of each day's transport and intake."""

    sorties: dict[str, dict[int, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    intake: dict[str, dict[int, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    overall: dict[int, int] = field(default_factory=lambda: defaultdict(int))


def _booked(uow: UnitOfWork, start: date, horizon: int) -> _Booked:
    booked = _Booked()
    for m in uow.movements.all():
        day = (m.scheduled_at.astimezone(UTC).date() - start).days
        if m.state.value not in ("draft", "approved") or m.route_id is None or not 0 <= day < horizon:
            continue
        people = len(uow.custody.on_movement(m.id))
        booked.sorties[m.route_id][day] += 1
        booked.intake[m.destination_id][day] += people
        booked.overall[day] += people
    return booked


def _less(per_day: int, used: dict[int, int]) -> model.Steps:
    """`per_day` every day, less what is already used on the days it is."""
    days = sorted(set(used) | {d + 1 for d in used})
    return model.Steps(per_day, tuple((d, max(0, per_day - used.get(d, 0))) for d in days))


def _places_left(uow: UnitOfWork, destinations: set[str], facilities: dict[str, Any]) -> dict[str, Any]:
    """Each destination's places per estate less those taken: people held or arrived there, or heading there."""
    from handover.core.custody import Capacity

    heading = {
        m.id: m.destination_id
        for m in uow.movements.all()
        if m.destination_id in destinations and m.state.value in ("draft", "approved", "in_progress", "arrived")
    }
    taken: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for count in uow.custody.place_counts():
        if count.facility_id in destinations and count.status in (Status.HELD.value, Status.ARRIVED.value):
            taken[count.facility_id][count.estate] += count.count
        elif count.movement_id in heading:
            taken[heading[count.movement_id]][count.estate] += count.count
    left = {}
    for d in destinations:
        capacity = facilities[d].capacity
        left[d] = Capacity(
            *(
                max(0, capacity.for_estate(e) - taken[d][e.value])
                for e in (Estate.ADULT_MEN, Estate.ADULT_WOMEN, Estate.MINORS)
            )
        )
    return left


@dataclass
class PlanResult:
    """A checked plan: the schedule, its named draft movements, and what the checker found (nothing, normally)."""

    start: date
    plan: Plan
    drafts: tuple[DraftMovement, ...]
    violations: list[str]
    people: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "people": self.people,
            "plan": self.plan.as_dict(),
            "drafts": [d.as_dict(self.start) for d in self.drafts],
            "checked": not self.violations,
            "violations": self.violations,
        }


def make_plan(uow: UnitOfWork, start: date, time_limit: float = 10.0, values: Parameters | None = None) -> PlanResult:
    inputs = build_inputs(uow, start, values)
    plan = solver.solve(inputs.model, solver.SolverOptions(time_limit=time_limit))
    drafts = fill.fill(inputs.model, plan, inputs.members)
    violations = [str(v) for v in checker.check(inputs.model, plan, drafts, inputs.members)]
    return PlanResult(start, plan, tuple(drafts), violations, inputs.model.people)


def adopt(
    uow: UnitOfWork,
    rt: Runtime,
    result: PlanResult,
    day: int,
    actor: Actor = OPERATOR,
) -> list[str]:
    """Turn one day of a checked plan into draft movements with their named manifests; returns the movement codes.

    The manifests go through the same safeguards as any other: people not yet cleared are refused, by name.
    """
    require(actor, Permission.PLAN_MOVEMENTS)
    if result.violations:
        raise ConflictError(
            "plan",
            "plan-not-checked",
            "violations",
            _("This plan breaks {count} rules; it cannot be adopted.").format(count=len(result.violations)),
        )
    chosen = [d for d in result.drafts if d.day == day]
    when = datetime.combine(result.start + timedelta(days=day), datetime.min.time()).replace(tzinfo=rt.clock().tzinfo)
    codes = []
    for number, draft in enumerate(chosen, 1):
        code = _free_code(uow, f"PLAN-{when:%Y%m%d}-{draft.route_id}", number)
        movement = transfers.create_movement(uow, rt, code, draft.route_id, when + timedelta(hours=6), actor)
        transfers.manifest(uow, rt, movement.id, list(draft.people), rt.clock(), actor)
        codes.append(code)
    return codes


def _free_code(uow: UnitOfWork, prefix: str, number: int) -> str:
    """`prefix-NN`, numbered on past codes already taken (a day adopted again after re-planning)."""
    while uow.movements.by_code(f"{prefix}-{number:02d}") is not None:
        number += 1
    return f"{prefix}-{number:02d}"


def default_start(uow: UnitOfWork, today: date) -> date:
    """The day a plan starts by default: the day after the latest custody event by when it happened (UTC), or
    `today` on an empty log."""
    latest = uow.operations.latest_occurred_at()
    return latest.astimezone(UTC).date() + timedelta(days=1) if latest is not None else today


def daily_moved(events: Sequence[StoredEvent], origins: dict[str, str | None]) -> list[tuple[date, int]]:
    """(day, people admitted somewhere other than where they were registered): the pace the forecast rests on."""
    moved: dict[date, int] = defaultdict(int)
    for stored in events:
        e = stored.event
        if e.type is EventType.ADMITTED and e.facility_id != origins.get(e.person_id):
            moved[e.occurred_at.date()] += 1
    return sorted(moved.items())


def make_forecast(
    uow: UnitOfWork,
    as_of: date,
    remaining: int,
    plan_completion: date | None = None,
    seed: int = 0,
) -> forecast.Forecast:
    origins = {row.state.person_id: row.origin_id for row in uow.custody.projection()}
    history = daily_moved(list(uow.custody.all_events()), origins)
    values = parameters(uow)
    return forecast.forecast(
        history,
        remaining,
        as_of=as_of,
        since=history[0][0] if history else None,
        plan_completion=plan_completion,
        daily_cap=values.overall_daily_cap,
        seed=seed,
        scenarios=[
            forecast.double_the_sorties(),
            forecast.raise_intake_cap(2 * values.overall_daily_cap if values.overall_daily_cap else 500),
            forecast.crossing_closed(14, share=0.2),
            forecast.random_halts(0.1, 3),
        ],
    )
