"""Rebuilding the custody projection from the events, and checking the live one against it."""

from __future__ import annotations

from dataclasses import dataclass

from handover.core.custody import EventType, PersonState, Refused, apply, check
from handover.services.ports import CurrentCustody, UnitOfWork


@dataclass(frozen=True, slots=True)
class RebuildReport:
    events: int
    persons: int
    differences: list[str]
    broken: list[Refused]


def derive(uow: UnitOfWork) -> tuple[list[CurrentCustody], list[Refused], int]:
    """Fold every event, in log order, into each person's custody."""
    states: dict[str, PersonState] = {}
    origins: dict[str, str] = {}
    broken: list[Refused] = []
    count = 0
    for stored in uow.custody.all_events():
        count += 1
        event = stored.event
        state = states.get(event.person_id)
        refused = check(state, event)
        if refused is not None:
            broken.append(refused)
            continue
        if event.type is EventType.REGISTERED:
            origins[event.person_id] = event.facility_id or ""
        states[event.person_id] = apply(state, event)
    rows = [CurrentCustody(state=states[pid], origin_id=origins[pid]) for pid in sorted(states)]
    return rows, broken, count


def compare(uow: UnitOfWork) -> RebuildReport:
    return _compare(uow)[0]


def _compare(uow: UnitOfWork) -> tuple[RebuildReport, list[CurrentCustody]]:
    rows, broken, count = derive(uow)
    live = {r.state.person_id: r for r in uow.custody.projection()}
    derived = {r.state.person_id: r for r in rows}
    differences = [
        f"{pid}: live {live.get(pid)} != derived {derived.get(pid)}"
        for pid in sorted(live.keys() | derived.keys())
        if live.get(pid) != derived.get(pid)
    ]
    return RebuildReport(count, len(rows), differences, broken), rows


def rebuild(uow: UnitOfWork) -> RebuildReport:
    """Replace the projection with the one derived from events; report what differed before."""
    report, rows = _compare(uow)
    uow.custody.replace_projection(rows)
    return report
