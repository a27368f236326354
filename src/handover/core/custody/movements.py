"""Routes and movements: a movement is one group transfer from an origin to a destination."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from handover.core.custody.model import TransportMode


class MovementState(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    IN_PROGRESS = "in_progress"
    ARRIVED = "arrived"
    RECONCILED = "reconciled"
    CANCELLED = "cancelled"


# Which states a movement may go to from each state.
TRANSITIONS: dict[MovementState, frozenset[MovementState]] = {
    MovementState.DRAFT: frozenset({MovementState.APPROVED, MovementState.CANCELLED}),
    MovementState.APPROVED: frozenset({MovementState.IN_PROGRESS, MovementState.DRAFT, MovementState.CANCELLED}),
    MovementState.IN_PROGRESS: frozenset({MovementState.ARRIVED}),
    MovementState.ARRIVED: frozenset({MovementState.RECONCILED}),
    MovementState.RECONCILED: frozenset(),
    MovementState.CANCELLED: frozenset(),
}

# While a movement is in these states its manifest may change; the first departure freezes it.
MANIFEST_OPEN = frozenset({MovementState.DRAFT, MovementState.APPROVED})


def can_move(current: MovementState, target: MovementState) -> bool:
    return target in TRANSITIONS[current]


@dataclass(frozen=True, slots=True)
class Route:
    id: str
    origin_id: str
    destination_id: str
    via: tuple[str, ...]
    mode: TransportMode
    escort_id: str
    distance_km: int
    seats: int


@dataclass(frozen=True, slots=True)
class Movement:
    id: str
    code: str
    route_id: str | None
    origin_id: str
    destination_id: str
    mode: TransportMode
    escort_id: str
    state: MovementState
    scheduled_at: datetime


@dataclass(frozen=True, slots=True)
class Vehicle:
    """One helicopter, aircraft or bus of a leg; its seats bound how many people the leg can carry."""

    call_sign: str
    seats: int


class LegState(StrEnum):
    PLANNED = "planned"
    DEPARTED = "departed"
    ARRIVED = "arrived"


@dataclass(frozen=True, slots=True)
class Leg:
    """One stretch of a movement by one mode under one escorting authority.

    `lodging` marks an overnight stop at the leg's end: the group stays there, still on the movement, until the
    next leg departs.
    """

    id: str
    movement_id: str
    number: int
    from_id: str
    to_id: str
    mode: TransportMode
    escort_id: str
    vehicles: tuple[Vehicle, ...]
    scheduled_departure: datetime
    scheduled_arrival: datetime
    lodging: bool = False
    departed_at: datetime | None = None
    arrived_at: datetime | None = None

    @property
    def seats(self) -> int:
        return sum(vehicle.seats for vehicle in self.vehicles)

    @property
    def state(self) -> LegState:
        if self.arrived_at is not None:
            return LegState.ARRIVED
        return LegState.DEPARTED if self.departed_at is not None else LegState.PLANNED


def seat_limit(legs: tuple[Leg, ...] | list[Leg]) -> int | None:
    """How many people the movement can carry: the smallest leg's seats (None without legs)."""
    return min((leg.seats for leg in legs), default=None)


# Average speeds for scheduling default legs; planners edit the times.
_KM_PER_HOUR = {TransportMode.HELICOPTER: 220, TransportMode.AIRCRAFT: 600, TransportMode.ROAD_CONVOY: 45}


def default_legs(route: Route, movement_id: str, departs: datetime, leg_ids: list[str]) -> list[Leg]:
    """A route's stops as legs: one per stretch, all by the route's mode and escort, each with the route's seats.

    The route's distance is shared evenly between its stretches, which is only a first guess for the schedule.
    """
    stops = [route.origin_id, *route.via, route.destination_id]
    stretches = len(stops) - 1
    if len(leg_ids) != stretches:
        raise ValueError(f"route {route.id} has {stretches} stretches, not {len(leg_ids)}")
    hours = route.distance_km / stretches / _KM_PER_HOUR[route.mode]
    legs = []
    start = departs
    for number, (leg_id, here, there) in enumerate(zip(leg_ids, stops, stops[1:], strict=False), 1):
        end = start + timedelta(hours=hours)
        legs.append(
            Leg(
                id=leg_id,
                movement_id=movement_id,
                number=number,
                from_id=here,
                to_id=there,
                mode=route.mode,
                escort_id=route.escort_id,
                vehicles=(Vehicle(call_sign=f"{route.mode.value}-1", seats=route.seats),),
                scheduled_departure=start,
                scheduled_arrival=end,
            )
        )
        start = end + timedelta(hours=1)
    return legs
