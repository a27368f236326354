"""What the planner plans over: cohorts still to move, destinations, routes, crossings, caps and holds.

Days are whole numbers counted from the start of the plan: day 0 is `PlanningInput.start`, the last day is
`horizon_days - 1`. The planner works on cohorts (people alike in every way a rule looks at), never on named people;
`Member` ties named people to their cohort for the fill.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from handover.core.custody.model import Capacity, Estate, FacilityKind, TransportMode
from handover.i18n import _

ESTATES: tuple[Estate, ...] = (Estate.ADULT_MEN, Estate.ADULT_WOMEN, Estate.MINORS)


class InvalidPlanningInput(ValueError):
    """The inputs contradict themselves (an unknown id, a negative count); nothing was planned."""


class Nationality(StrEnum):
    """Only the receiving state's own nationals and everyone else are told apart: holds apply to foreigners."""

    IRAQI = "iraqi"
    FOREIGN = "foreign"


@dataclass(frozen=True, slots=True)
class Headcount:
    """People per estate: the make-up of one cohort unit, or arrivals, occupancy and places at a destination."""

    adult_men: int = 0
    adult_women: int = 0
    minors: int = 0

    def of(self, estate: Estate) -> int:
        return int(getattr(self, estate.value))

    @property
    def total(self) -> int:
        return self.adult_men + self.adult_women + self.minors

    def estates(self) -> tuple[Estate, ...]:
        return tuple(e for e in ESTATES if self.of(e) > 0)

    def as_dict(self) -> dict[str, int]:
        return {e.value: self.of(e) for e in ESTATES}

    @staticmethod
    def from_counts(counts: dict[Estate, int]) -> Headcount:
        return Headcount(**{e.value: int(counts.get(e, 0)) for e in ESTATES})


def one(estate: Estate) -> Headcount:
    """The make-up of a cohort of single people of one estate."""
    return Headcount.from_counts({estate: 1})


def family(mothers: int = 1, children: int = 1) -> Headcount:
    """The make-up of one family that must travel together: mothers (or guardians) and their children."""
    return Headcount(adult_women=mothers, minors=children)


@dataclass(frozen=True, slots=True)
class Steps:
    """A whole number per day that changes on given days: `initial` from day 0, then each (day, value) from then on."""

    initial: int
    changes: tuple[tuple[int, int], ...] = ()

    def at(self, day: int) -> int:
        value = self.initial
        for since, changed in sorted(self.changes):
            if since <= day:
                value = changed
        return value


@dataclass(frozen=True, slots=True)
class Origin:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Freed:
    """Places that onward transfers free at a destination from `day` on (as at Karkh, whose inmates were moved out)."""

    day: int
    estate: Estate
    places: int


@dataclass(frozen=True, slots=True)
class Destination:
    """A receiving facility. `places` are free for this operation on day 0; `freed` adds more on later days."""

    id: str
    name: str
    kind: FacilityKind
    security_level: int
    places: Capacity
    freed: tuple[Freed, ...] = ()
    daily_intake_cap: Steps | None = None


@dataclass(frozen=True, slots=True)
class Crossing:
    """A border crossing; `closed` lists inclusive day ranges on which no route through it runs."""

    id: str
    name: str
    closed: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class Route:
    """One way from an origin to a destination by one mode; a sortie (or convoy) carries `seats` people."""

    id: str
    origin: str
    destination: str
    mode: TransportMode
    seats: int
    sorties_per_day: Steps
    crossings: tuple[str, ...] = ()
    via: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Cohort:
    """`units` alike units still at `origin`. A unit is one person, or one family that must travel together.

    `composition` is the make-up of one unit. `security_level` is the least a destination must have.
    A foreign cohort with an open repatriation case waits for `PlanningInput.repatriation_hold_until`.
    An uncleared cohort (safeguards pending) waits for `clearance_day`, or for ever when there is none.
    `priority` weighs each person-day of waiting: origins at risk get more.
    """

    id: str
    origin: str
    units: int
    composition: Headcount
    security_level: int = 0
    nationality: Nationality = Nationality.IRAQI
    repatriation_case_open: bool = False
    cleared: bool = True
    clearance_day: int | None = None
    priority: float = 1.0

    @property
    def unit_size(self) -> int:
        return self.composition.total

    @property
    def people(self) -> int:
        return self.units * self.unit_size

    @property
    def is_family(self) -> bool:
        return self.unit_size > 1


@dataclass(frozen=True, slots=True)
class Member:
    """A named person in a cohort. People sharing a `unit_id` are one family and are never split."""

    person_id: str
    cohort_id: str
    unit_id: str


@dataclass(frozen=True, slots=True)
class PlanningInput:
    horizon_days: int
    origins: tuple[Origin, ...]
    destinations: tuple[Destination, ...]
    routes: tuple[Route, ...]
    cohorts: tuple[Cohort, ...]
    crossings: tuple[Crossing, ...] = ()
    overall_daily_cap: Steps | None = None
    repatriation_hold_until: int | None = None
    start: date | None = None

    def __post_init__(self) -> None:
        _validate(self)

    def origin(self, origin_id: str) -> Origin:
        return next(o for o in self.origins if o.id == origin_id)

    def destination(self, destination_id: str) -> Destination:
        return next(d for d in self.destinations if d.id == destination_id)

    def route(self, route_id: str) -> Route:
        return next(r for r in self.routes if r.id == route_id)

    def cohort(self, cohort_id: str) -> Cohort:
        return next(c for c in self.cohorts if c.id == cohort_id)

    def crossing(self, crossing_id: str) -> Crossing:
        return next(c for c in self.crossings if c.id == crossing_id)

    @property
    def people(self) -> int:
        return sum(c.people for c in self.cohorts)


def _validate(inputs: PlanningInput) -> None:
    problems: list[str] = []
    if inputs.horizon_days < 1:
        problems.append(_("The horizon must be at least one day."))
    for kind, items in (
        ("origin", inputs.origins),
        ("destination", inputs.destinations),
        ("route", inputs.routes),
        ("cohort", inputs.cohorts),
        ("crossing", inputs.crossings),
    ):
        for item_id, count in Counter(i.id for i in items).items():
            if count > 1:
                problems.append(_("The {kind} id {id} is used more than once.").format(kind=kind, id=item_id))
    origins = {o.id for o in inputs.origins}
    destinations = {d.id for d in inputs.destinations}
    crossings = {c.id for c in inputs.crossings}
    for route in inputs.routes:
        if route.origin not in origins:
            problems.append(_("Route {route} starts at unknown origin {id}.").format(route=route.id, id=route.origin))
        if route.destination not in destinations:
            problems.append(
                _("Route {route} ends at unknown destination {id}.").format(route=route.id, id=route.destination)
            )
        for crossing in route.crossings:
            if crossing not in crossings:
                problems.append(_("Route {route} uses unknown crossing {id}.").format(route=route.id, id=crossing))
        if route.seats < 1:
            problems.append(_("Route {route} must have at least one seat.").format(route=route.id))
        if _negative(route.sorties_per_day):
            problems.append(_("Route {route} has a negative number of sorties.").format(route=route.id))
    for destination in inputs.destinations:
        if min(destination.places.adult_men, destination.places.adult_women, destination.places.minors) < 0:
            problems.append(_("Destination {id} has negative places.").format(id=destination.id))
        if any(f.places < 0 or f.day < 0 for f in destination.freed):
            problems.append(_("Destination {id} frees a negative number of places.").format(id=destination.id))
        if destination.daily_intake_cap is not None and _negative(destination.daily_intake_cap):
            problems.append(_("Destination {id} has a negative intake cap.").format(id=destination.id))
    if inputs.overall_daily_cap is not None and _negative(inputs.overall_daily_cap):
        problems.append(_("The overall intake cap is negative."))
    for cohort in inputs.cohorts:
        if cohort.origin not in origins:
            problems.append(_("Cohort {cohort} is at unknown origin {id}.").format(cohort=cohort.id, id=cohort.origin))
        if cohort.units < 0:
            problems.append(_("Cohort {cohort} has a negative size.").format(cohort=cohort.id))
        if cohort.unit_size < 1 or min(cohort.composition.as_dict().values()) < 0:
            problems.append(_("Cohort {cohort} has no people in a unit.").format(cohort=cohort.id))
        if not cohort.priority > 0:
            # A weight of zero would make waiting free, and the solver would leave that cohort behind for ever.
            problems.append(_("Cohort {cohort} must have a positive priority.").format(cohort=cohort.id))
    if problems:
        raise InvalidPlanningInput(" ".join(problems))


def _negative(steps: Steps) -> bool:
    return steps.initial < 0 or any(value < 0 for _day, value in steps.changes)
