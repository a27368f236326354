"""Routes and movements: a movement is one group transfer from an origin to a destination."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
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
