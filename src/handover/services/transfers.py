"""Group transfers: a movement's manifest, departure, handover, arrival and admission.

This is the first cut the demo needs; the transfer-operations issue grows it (legs, signed handovers, safeguards).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from handover.core.custody import Status
from handover.core.custody import commands as c
from handover.core.custody.movements import MANIFEST_OPEN, Movement, MovementState, can_move
from handover.i18n import _
from handover.services import reference
from handover.services.custody import record, refuse_duplicates
from handover.services.errors import ConflictError, NotFoundError
from handover.services.ports import StoredEvent, UnitOfWork
from handover.services.runtime import Runtime


def create_movement(uow: UnitOfWork, rt: Runtime, code: str, route_id: str, scheduled_at: datetime) -> Movement:
    route = uow.reference.route(route_id)
    if route is None:
        raise NotFoundError("route", route_id, _("No route {id}.").format(id=route_id))
    if uow.movements.by_code(code) is not None:
        raise ConflictError(
            code,
            "movement-code-taken",
            "exists",
            _("A movement with code {code} already exists.").format(code=code),
        )
    movement = Movement(
        id=rt.new_id(),
        code=code,
        route_id=route.id,
        origin_id=route.origin_id,
        destination_id=route.destination_id,
        mode=route.mode,
        escort_id=route.escort_id,
        state=MovementState.DRAFT,
        scheduled_at=scheduled_at,
    )
    uow.movements.add(movement)
    return movement


def movement(uow: UnitOfWork, movement_id: str) -> Movement:
    found = uow.movements.get(movement_id) or uow.movements.by_code(movement_id)
    if found is None:
        raise NotFoundError("movement", movement_id, _("No movement {id}.").format(id=movement_id))
    return found


def _record_each(
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


def _somebody(m: Movement, people: Sequence[str], what: str) -> Sequence[str]:
    """A group action on nobody is a mistake to report, not a silent no-op."""
    if not people:
        raise ConflictError(
            m.code,
            "nobody-eligible",
            m.state.value,
            _("Nobody on movement {code} can {what} now (the movement is {state}).").format(
                code=m.code, what=what, state=m.state.value
            ),
        )
    return people


def _move(uow: UnitOfWork, m: Movement, target: MovementState) -> None:
    if not can_move(m.state, target):
        raise ConflictError(
            m.code,
            "movement-state",
            m.state.value,
            _("Movement {code} cannot go from {current} to {target}.").format(
                code=m.code, current=m.state.value, target=target.value
            ),
        )
    uow.movements.set_state(m.id, target)


def approve(uow: UnitOfWork, movement_id: str) -> None:
    _move(uow, movement(uow, movement_id), MovementState.APPROVED)


def manifest(
    uow: UnitOfWork, rt: Runtime, movement_id: str, person_ids: Sequence[str], occurred_at: datetime
) -> list[StoredEvent]:
    m = movement(uow, movement_id)
    _manifest_open(m)
    refuse_duplicates(person_ids, _("manifest"))
    return _record_each(uow, rt, person_ids, occurred_at, c.Manifest, movement_id=m.id, origin_id=m.origin_id)


def unmanifest(
    uow: UnitOfWork, rt: Runtime, movement_id: str, person_ids: Sequence[str], reason: str, occurred_at: datetime
) -> list[StoredEvent]:
    """Take people off a movement's manifest, with the reason; all of them or, on a refusal, none."""
    m = movement(uow, movement_id)
    _manifest_open(m)
    # Who was taken off and why is what a monitor asks about, so an empty reason is not accepted.
    if not reason.strip():
        raise ValueError(_("Taking people off a manifest needs a reason."))
    refuse_duplicates(person_ids, _("manifest change"))
    return _record_each(uow, rt, person_ids, occurred_at, c.Unmanifest, movement_id=m.id, reason=reason)


def _manifest_open(m: Movement) -> None:
    if m.state not in MANIFEST_OPEN:
        raise ConflictError(
            m.code,
            "manifest-frozen",
            m.state.value,
            _("The manifest of movement {code} is frozen: it is {state}.").format(code=m.code, state=m.state.value),
        )


def depart(uow: UnitOfWork, rt: Runtime, movement_id: str, occurred_at: datetime) -> list[StoredEvent]:
    """Everyone on the manifest departs; the manifest is frozen from here on."""
    m = movement(uow, movement_id)
    _move(uow, m, MovementState.IN_PROGRESS)
    people = _somebody(m, [s.person_id for s in uow.custody.on_movement(m.id) if s.status is Status.HELD], _("depart"))
    return _record_each(uow, rt, people, occurred_at, c.Depart, movement_id=m.id)


def hand_over(
    uow: UnitOfWork,
    rt: Runtime,
    movement_id: str,
    from_authority: str,
    to_authority: str,
    place_id: str | None,
    occurred_at: datetime,
) -> list[StoredEvent]:
    """Custody of everyone on the movement passes from one authority to another."""
    m = movement(uow, movement_id)
    reference.authority(uow, to_authority)
    if place_id is not None:
        reference.facility(uow, place_id)
    people = _somebody(m, [s.person_id for s in uow.custody.on_movement(m.id)], _("be handed over"))
    handover_id = rt.new_id()
    return _record_each(
        uow,
        rt,
        people,
        occurred_at,
        c.HandOver,
        from_authority_id=from_authority,
        to_authority_id=to_authority,
        place_id=place_id,
        handover_id=handover_id,
    )


def arrive(uow: UnitOfWork, rt: Runtime, movement_id: str, occurred_at: datetime) -> list[StoredEvent]:
    m = movement(uow, movement_id)
    _move(uow, m, MovementState.ARRIVED)
    destination = reference.facility(uow, m.destination_id)
    in_transit = [s.person_id for s in uow.custody.on_movement(m.id) if s.status is Status.IN_TRANSIT]
    people = _somebody(m, in_transit, _("arrive"))
    return _record_each(uow, rt, people, occurred_at, c.Arrive, facility=destination, movement_id=m.id)


def admit(
    uow: UnitOfWork,
    rt: Runtime,
    movement_id: str,
    occurred_at: datetime,
    person_ids: Sequence[str] | None = None,
) -> list[StoredEvent]:
    """The destination's intake admits arrived people (all of them unless named)."""
    m = movement(uow, movement_id)
    destination = reference.facility(uow, m.destination_id)
    if person_ids is None:
        arrived = [s.person_id for s in uow.custody.on_movement(m.id) if s.status is Status.ARRIVED]
        person_ids = _somebody(m, arrived, _("be admitted"))
    refuse_duplicates(person_ids, _("admission"))
    return _record_each(
        uow, rt, person_ids, occurred_at, c.Admit, facility=destination, authority_id=destination.authority_id
    )
