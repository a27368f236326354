"""Recording custody commands: decide each against the person's state, then append all events or none."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from handover.core.custody import CustodyEvent, PersonState, Refused, RefusedError, apply, decide, leaf
from handover.core.custody import commands as c
from handover.core.custody.refusals import Rule
from handover.i18n import _
from handover.services import log
from handover.services.errors import NotFoundError
from handover.services.ports import StoredEvent, UnitOfWork
from handover.services.runtime import Runtime


def record(uow: UnitOfWork, commands: Sequence[c.Command]) -> list[StoredEvent]:
    """Apply `commands` in order; the first refusal raises RefusedError and nothing is written.

    The events, the custody projection and the log's new stored hashes are written in this one transaction.
    """
    events, touched = decide_all(uow, commands)
    seqs = uow.custody.append(events, touched)
    if seqs:
        log.append_leaves(uow, seqs[0], [leaf.encode(e) for e in events])
    return [StoredEvent(seq=s, event=e) for s, e in zip(seqs, events, strict=True)]


def record_each(
    uow: UnitOfWork,
    rt: Runtime,
    people: Sequence[str],
    occurred_at: datetime,
    command: Callable[..., c.Command],
    **fields: object,
) -> list[StoredEvent]:
    """One command of one kind per person, each with a fresh event id, all recorded at one time, all or none."""
    now = rt.clock()
    return record(
        uow,
        [
            command(person_id=p, event_id=rt.new_id(), occurred_at=occurred_at, recorded_at=now, **fields)
            for p in people
        ],
    )


def decide_all(uow: UnitOfWork, commands: Sequence[c.Command]) -> tuple[list[CustodyEvent], dict[str, PersonState]]:
    """Decide every command against the state the previous ones left; the events and each touched person's state.

    Several commands may concern one person. Raises RefusedError at the first refusal; writes nothing.
    """
    states: dict[str, PersonState] = uow.custody.states({cmd.person_id for cmd in commands})
    touched: dict[str, PersonState] = {}
    events: list[CustodyEvent] = []
    for command in commands:
        decision = decide(states.get(command.person_id), command)
        if isinstance(decision, Refused):
            raise RefusedError(decision)
        state = states.get(command.person_id)
        for event in decision:
            state = apply(state, event)
            events.append(event)
        assert state is not None
        states[command.person_id] = touched[command.person_id] = state
    return events, touched


def correct(uow: UnitOfWork, rt: Runtime, person_id: str, target_event_id: str, reason: str) -> StoredEvent:
    """Void one earlier event of a person by a correction event that points at it."""
    history = tuple(stored.event for stored in uow.custody.chain(person_id))
    if not history:
        raise NotFoundError("person", person_id, _("No person {id} is registered.").format(id=person_id))
    now = rt.clock()
    command = c.Correct(
        person_id=person_id,
        event_id=rt.new_id(),
        occurred_at=now,
        recorded_at=now,
        target_event_id=target_event_id,
        reason=reason,
        history=history,
    )
    (stored,) = record(uow, [command])
    return stored


def refuse_duplicates(person_ids: Sequence[str], request: str) -> None:
    """One request may name a person once: a second line for them is almost always a data-entry error."""
    seen: set[str] = set()
    for person_id in person_ids:
        if person_id in seen:
            message = _("Person {person} appears more than once in this {request}; nothing was recorded.")
            raise RefusedError(
                Refused(
                    person_id,
                    Rule.DUPLICATE_PERSON,
                    request,
                    message.format(person=person_id, request=request),
                )
            )
        seen.add(person_id)
