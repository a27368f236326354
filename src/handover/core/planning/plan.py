"""What a planner returns: the schedule per day and route, utilisation, completion, and why it is not faster.

Plain data with `as_dict()` for JSON. Days are counted from the plan's start (day 0); when the start date is known,
`as_dict()` gives each day's date too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from handover.core.planning.model import Headcount
from handover.i18n import _


class PlanStatus(StrEnum):
    OPTIMAL = "optimal"
    """Proved within the requested gap of the best possible plan."""
    TIME_LIMIT = "time_limit"
    """The best plan found when time ran out; `gap` says how far from the bound it may be."""
    HEURISTIC = "heuristic"
    """Made by the greedy baseline, or the solver found nothing better than it; no bound."""


class BottleneckKind(StrEnum):
    NO_ROUTE = "no_route"
    ROUTE_CLOSED = "route_closed"
    HELD_FOR_REPATRIATION = "held_for_repatriation"
    NOT_CLEARED = "not_cleared"
    CAPACITY = "capacity"
    INTAKE_CAP = "intake_cap"
    OVERALL_CAP = "overall_cap"
    TRANSPORT = "transport"
    CROSSING_CLOSED = "crossing_closed"


@dataclass(frozen=True, slots=True)
class Bottleneck:
    """A constraint that keeps people waiting, named in words. `days` are inclusive ranges; `people` are those still
    waiting that it holds back (at the end of its last day, or at the end of the horizon)."""

    kind: BottleneckKind
    subject: str
    days: tuple[tuple[int, int], ...]
    people: int
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "subject": self.subject,
            "days": [list(r) for r in self.days],
            "people": self.people,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class CohortLoad:
    cohort_id: str
    units: int
    people: int

    def as_dict(self) -> dict[str, Any]:
        return {"cohort": self.cohort_id, "units": self.units, "people": self.people}


@dataclass(frozen=True, slots=True)
class RouteDay:
    """What one route carries on one day: `sorties` sorties (or convoys), each one draft movement."""

    day: int
    route_id: str
    sorties: int
    loads: tuple[CohortLoad, ...]

    @property
    def people(self) -> int:
        return sum(load.people for load in self.loads)

    def as_dict(self, start: date | None = None) -> dict[str, Any]:
        return {
            **_day(self.day, start),
            "route": self.route_id,
            "sorties": self.sorties,
            "people": self.people,
            "loads": [load.as_dict() for load in self.loads],
        }


@dataclass(frozen=True, slots=True)
class DestinationDay:
    """A destination at the end of one day: arrivals that day, occupancy by this operation so far, places it has."""

    day: int
    destination_id: str
    arrivals: Headcount
    occupancy: Headcount
    places: Headcount
    intake_cap: int | None

    def as_dict(self, start: date | None = None) -> dict[str, Any]:
        return {
            **_day(self.day, start),
            "destination": self.destination_id,
            "arrivals": self.arrivals.as_dict(),
            "occupancy": self.occupancy.as_dict(),
            "places": self.places.as_dict(),
            "intake_cap": self.intake_cap,
        }


@dataclass(frozen=True, slots=True)
class DraftMovement:
    """One sortie or convoy of the filled plan: named people a planner can approve into a real movement."""

    day: int
    route_id: str
    sortie: int
    seats: int
    people: tuple[str, ...]
    loads: tuple[CohortLoad, ...]

    def as_dict(self, start: date | None = None) -> dict[str, Any]:
        return {
            **_day(self.day, start),
            "route": self.route_id,
            "sortie": self.sortie,
            "seats": self.seats,
            "people": list(self.people),
            "loads": [load.as_dict() for load in self.loads],
        }


@dataclass(frozen=True, slots=True)
class Plan:
    """A cohort-level schedule.

    `weighted_waiting` is person-days at origin times each cohort's priority, counting everyone left at the end as
    waiting the whole horizon; `objective` adds a small cost per movement (see `solver`). `bound` is the solver's
    proved lower bound on `objective` and `gap` is (objective - bound) / objective.
    """

    method: str
    status: PlanStatus
    horizon_days: int
    start: date | None
    schedule: tuple[RouteDay, ...]
    utilisation: tuple[DestinationDay, ...]
    people: int
    moved: int
    remaining: int
    left_behind: tuple[CohortLoad, ...]
    completion_day: int | None
    waiting_person_days: int
    weighted_waiting: float
    movements: int
    objective: float
    bound: float | None
    gap: float | None
    bottlenecks: tuple[Bottleneck, ...]
    seconds: float

    @property
    def complete(self) -> bool:
        return self.remaining == 0

    @property
    def completion_date(self) -> date | None:
        if self.completion_day is None or self.start is None:
            return None
        return self.start + timedelta(days=self.completion_day)

    @property
    def headline(self) -> str:
        """The plan in one sentence: when everyone has moved, or how many are still waiting at the end."""
        if self.people == 0:
            return _("Nobody is waiting to move.")
        if self.complete:
            when = self.completion_date
            if when is None:
                return _("Everyone has moved by day {day}.").format(day=self.completion_day)
            return _("Everyone has moved by day {day} ({date}).").format(day=self.completion_day, date=when.isoformat())
        return _("Not within the {days}-day horizon: {people} of {total} people are still waiting.").format(
            days=self.horizon_days, people=f"{self.remaining:,}", total=f"{self.people:,}"
        )

    def as_dict(self) -> dict[str, Any]:
        completion = self.completion_date
        return {
            "headline": self.headline,
            "method": self.method,
            "status": self.status.value,
            "horizon_days": self.horizon_days,
            "start": self.start.isoformat() if self.start else None,
            "people": self.people,
            "moved": self.moved,
            "remaining": self.remaining,
            "complete": self.complete,
            "completion_day": self.completion_day,
            "completion_date": completion.isoformat() if completion else None,
            "waiting_person_days": self.waiting_person_days,
            "weighted_waiting": self.weighted_waiting,
            "movements": self.movements,
            "objective": self.objective,
            "bound": self.bound,
            "gap": self.gap,
            "seconds": self.seconds,
            "schedule": [r.as_dict(self.start) for r in self.schedule],
            "utilisation": [u.as_dict(self.start) for u in self.utilisation],
            "left_behind": [load.as_dict() for load in self.left_behind],
            "bottlenecks": [b.as_dict() for b in self.bottlenecks],
        }


def _day(day: int, start: date | None) -> dict[str, Any]:
    if start is None:
        return {"day": day}
    return {"day": day, "date": (start + timedelta(days=day)).isoformat()}
