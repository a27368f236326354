"""Steps of a transfer as tests take them: clear people for travel, board and depart, hand over by signatures.

Signing uses the demo's officers (keys derived from a seed), as both officers would sign on their own devices.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from handover.core.policy.safeguards import FIT_TO_TRAVEL, LEGAL_REVIEW
from handover.demo.officers import DemoOfficers
from handover.services import assessments, transfers
from handover.services.ports import StoredEvent, UnitOfWork
from handover.services.runtime import Runtime

OFFICERS = DemoOfficers(seed=0)


def clear(uow: UnitOfWork, rt: Runtime, people: Sequence[str], at: datetime) -> None:
    """Fit to travel and legally cleared: what every safeguard-checked manifest needs."""
    assessments.assess(uow, rt, people, FIT_TO_TRAVEL, "fit", at)
    assessments.assess(uow, rt, people, LEGAL_REVIEW, "cleared", at)


def board_and_depart(uow: UnitOfWork, rt: Runtime, movement: str, at: datetime) -> list[StoredEvent]:
    """Everyone due on the next leg is counted aboard, and the leg departs."""
    m = transfers.movement(uow, movement)
    leg = next(leg for leg in transfers.legs(uow, m.id) if leg.departed_at is None)
    due = [
        s.person_id
        for s in uow.custody.on_movement(m.id)
        if s.status.value == ("held" if leg.number == 1 else "in_transit")
    ]
    transfers.board(uow, rt, m.id, due, at)
    return transfers.depart(uow, rt, m.id, at)


def travel_to_destination(uow: UnitOfWork, rt: Runtime, movement: str, at: datetime) -> list[StoredEvent]:
    """Every remaining leg, from the one under way or about to leave, to the arrival at the destination."""
    m = transfers.movement(uow, movement)
    events: list[StoredEvent] = []
    for leg in transfers.legs(uow, m.id):
        if leg.departed_at is None:
            events += board_and_depart(uow, rt, m.id, at)
        if leg.arrived_at is None:
            events += transfers.arrive(uow, rt, m.id, at)
    return events


def hand_over(
    uow: UnitOfWork,
    rt: Runtime,
    movement: str,
    from_authority: str,
    to_authority: str,
    place: str,
    at: datetime,
    present: Sequence[str] | None = None,
) -> list[StoredEvent]:
    m = transfers.movement(uow, movement)
    return OFFICERS.hand_over(uow, rt, m.id, from_authority, to_authority, place, at, present=present)
