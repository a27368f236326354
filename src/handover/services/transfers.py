"""Group transfers: movements and their legs, manifests under safeguards, boarding, departure, arrival, admission.

Handovers are in `handovers`, incidents in `incidents`, reconciliation and the roll in `reconciliation`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import pairwise

from handover.core.custody import Estate, PersonState, Status
from handover.core.custody import commands as c
from handover.core.custody.model import TransportMode
from handover.core.custody.movements import (
    MANIFEST_OPEN,
    Leg,
    Movement,
    MovementState,
    Vehicle,
    can_move,
    default_legs,
    seat_limit,
)
from handover.core.policy.permissions import Actor, Permission
from handover.core.policy.safeguards import ALL, Breach, Candidate, Safeguard, Trip, breaches
from handover.i18n import _
from handover.services import reference
from handover.services.access import OPERATOR, require
from handover.services.custody import decide_all, record, record_each, refuse_duplicates
from handover.services.errors import ConflictError, NotFoundError
from handover.services.ports import Override, StoredEvent, UnitOfWork
from handover.services.runtime import Runtime

SAFEGUARDS_KEY = "policy.safeguards"
# Movements that will bring people to their destination: their manifests count against its capacity.
_HEADING = frozenset({MovementState.DRAFT, MovementState.APPROVED, MovementState.IN_PROGRESS, MovementState.ARRIVED})


def create_movement(
    uow: UnitOfWork, rt: Runtime, code: str, route_id: str, scheduled_at: datetime, actor: Actor = OPERATOR
) -> Movement:
    """A draft movement on a route, with one planned leg per stretch of the route (planners may change them)."""
    require(actor, Permission.PLAN_MOVEMENTS)
    route = uow.reference.route(route_id)
    if route is None:
        raise NotFoundError("route", route_id, _("No route {id}.").format(id=route_id))
    if uow.movements.by_code(code) is not None:
        raise ConflictError(
            code, "movement-code-taken", "exists", _("A movement with code {code} already exists.").format(code=code)
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
    stretches = len(route.via) + 1
    uow.operations.add_legs(default_legs(route, movement.id, scheduled_at, [rt.new_id() for _ in range(stretches)]))
    return movement


def movement(uow: UnitOfWork, movement_id: str) -> Movement:
    found = uow.movements.get(movement_id) or uow.movements.by_code(movement_id)
    if found is None:
        raise NotFoundError("movement", movement_id, _("No movement {id}.").format(id=movement_id))
    return found


@dataclass(frozen=True, slots=True)
class LegPlan:
    """A leg as a planner describes it; ids and numbers are given by the service."""

    from_id: str
    to_id: str
    mode: TransportMode
    escort_id: str
    vehicles: tuple[Vehicle, ...]
    scheduled_departure: datetime
    scheduled_arrival: datetime
    lodging: bool = False


def plan_legs(
    uow: UnitOfWork, rt: Runtime, movement_id: str, plans: Sequence[LegPlan], actor: Actor = OPERATOR
) -> list[Leg]:
    """Replace a draft or approved movement's legs. They must join up from the origin to the destination."""
    require(actor, Permission.PLAN_MOVEMENTS)
    m = movement(uow, movement_id)
    if m.state not in MANIFEST_OPEN:
        raise _conflict(m, "legs-frozen", _("The legs of movement {code} are fixed: it is {state}."))
    if not plans:
        raise _conflict(m, "legs-required", _("Movement {code} needs at least one leg."))
    stops = [plans[0].from_id] + [p.to_id for p in plans]
    joined = all(a.to_id == b.from_id for a, b in pairwise(plans))
    if stops[0] != m.origin_id or stops[-1] != m.destination_id or not joined:
        raise _conflict(
            m,
            "legs-do-not-join",
            _(
                "The legs of movement {code} must run from its origin to its destination, each leg starting where "
                "the one before it ended."
            ),
        )
    for number, plan in enumerate(plans, 1):
        for place in (plan.from_id, plan.to_id):
            reference.facility(uow, place)
        reference.authority(uow, plan.escort_id)
        if plan.scheduled_arrival <= plan.scheduled_departure:
            raise _conflict(m, "leg-times", _("Leg {n} of movement {code} arrives before it departs."), n=number)
        if not plan.vehicles or any(v.seats <= 0 for v in plan.vehicles):
            raise _conflict(m, "leg-vehicles", _("Leg {n} of movement {code} needs vehicles with seats."), n=number)
    legs = [
        Leg(
            id=rt.new_id(),
            movement_id=m.id,
            number=number,
            from_id=p.from_id,
            to_id=p.to_id,
            mode=p.mode,
            escort_id=p.escort_id,
            vehicles=p.vehicles,
            scheduled_departure=p.scheduled_departure,
            scheduled_arrival=p.scheduled_arrival,
            lodging=p.lodging,
        )
        for number, p in enumerate(plans, 1)
    ]
    on_board = len(uow.custody.on_movement(m.id))
    seats = seat_limit(legs)
    if seats is not None and on_board > seats:
        raise _conflict(
            m,
            Safeguard.SEATS.value,
            _("Movement {code} has {count} people on its manifest; these legs seat {seats}."),
            count=on_board,
            seats=seats,
        )
    uow.operations.replace_legs(m.id, legs)
    return legs


def approve(uow: UnitOfWork, movement_id: str, actor: Actor = OPERATOR) -> None:
    require(actor, Permission.PLAN_MOVEMENTS)
    move_to(uow, movement(uow, movement_id), MovementState.APPROVED)


def cancel(
    uow: UnitOfWork, rt: Runtime, movement_id: str, reason: str, occurred_at: datetime, actor: Actor = OPERATOR
) -> list[StoredEvent]:
    """Cancel a movement that has not left: everyone on its manifest is taken off it, with the reason."""
    require(actor, Permission.PLAN_MOVEMENTS)
    m = movement(uow, movement_id)
    if not reason.strip():
        raise ValueError(_("Cancelling a movement needs a reason."))
    move_to(uow, m, MovementState.CANCELLED)
    people = [s.person_id for s in uow.custody.on_movement(m.id)]
    if not people:
        return []
    return unmanifest(uow, rt, m.id, people, reason, occurred_at, actor, frozen_ok=True)


# --- the manifest ---------------------------------------------------------------------------------------------


def safeguards_applying(uow: UnitOfWork) -> frozenset[Safeguard]:
    """The operation's policy: which safeguards apply (all of them unless configured otherwise)."""
    configured = uow.meta.get(SAFEGUARDS_KEY)
    if configured is None:
        return ALL
    return frozenset(Safeguard(code) for code in configured.split(",") if code)


def set_safeguards(uow: UnitOfWork, applying: Sequence[Safeguard], actor: Actor = OPERATOR) -> None:
    require(actor, Permission.OVERRIDE_SAFEGUARDS)
    uow.meta.put(SAFEGUARDS_KEY, ",".join(sorted(s.value for s in applying)))


def check_manifest(uow: UnitOfWork, movement_id: str, person_ids: Sequence[str]) -> list[Breach]:
    """The safeguards adding these people would break (a dry run planners see before they ask).

    The custody rules come first, as in `manifest`: someone not at the origin or already on another movement is
    refused (RefusedError) rather than listed, since no override can change that. People already on this manifest
    are judged by the safeguards only (the page shows where its manifest stands).
    """
    m = movement(uow, movement_id)
    unknown = sorted(set(person_ids) - uow.persons.existing(person_ids))
    if unknown:
        raise NotFoundError("person", unknown[0], _("No person {id} is registered.").format(id=unknown[0]))
    on_it = {s.person_id for s in uow.custody.on_movement(m.id)}
    _custody_allows_manifest(uow, _judged_manifests(m, [p for p in person_ids if p not in on_it]))
    return _breaches(uow, m, person_ids)


def _judged_manifests(m: Movement, person_ids: Sequence[str]) -> list[c.Command]:
    """Manifest commands to judge, not to record: their ids and times are placeholders."""
    return [
        c.Manifest(
            person_id=p,
            event_id=f"check-{n}",
            occurred_at=m.scheduled_at,
            recorded_at=m.scheduled_at,
            movement_id=m.id,
            origin_id=m.origin_id,
        )
        for n, p in enumerate(person_ids)
    ]


def _custody_allows_manifest(uow: UnitOfWork, commands: Sequence[c.Command]) -> None:
    decide_all(uow, commands)


def _breaches(uow: UnitOfWork, m: Movement, person_ids: Sequence[str]) -> list[Breach]:
    records = {p: uow.persons.get(p) for p in person_ids}
    unknown = next((p for p, r in records.items() if r is None), None)
    if unknown is not None:
        raise NotFoundError("person", unknown, _("No person {id} is registered.").format(id=unknown))
    assessments = uow.operations.assessments(person_ids)
    candidates = []
    for person_id in person_ids:
        found = records[person_id]
        assert found is not None
        candidates.append(
            Candidate(person_id, Estate(found.estate), found.identity.mother_id, assessments.get(person_id, {}))
        )
    origin = reference.facility(uow, m.origin_id)
    destination = reference.facility(uow, m.destination_id)
    trip = Trip(
        code=m.code,
        cross_border=origin.country != destination.country,
        manifest=frozenset(s.person_id for s in uow.custody.on_movement(m.id)),
        capacity={estate: destination.capacity.for_estate(estate) for estate in Estate},
        committed=_committed(uow, m.destination_id),
        seats=seat_limit(uow.operations.legs(m.id)),
    )
    return breaches(candidates, trip, safeguards_applying(uow))


def _committed(uow: UnitOfWork, destination_id: str) -> dict[Estate, int]:
    """Places at a facility taken or spoken for: people there, and people on movements heading there."""
    heading = {m.id for m in uow.movements.all() if m.destination_id == destination_id and m.state in _HEADING}
    taken: dict[Estate, int] = {}
    for count in uow.custody.place_counts():
        at_place = count.facility_id == destination_id and count.status in (Status.HELD.value, Status.ARRIVED.value)
        coming = count.movement_id in heading and count.facility_id != destination_id
        if at_place or coming:
            estate = Estate(count.estate)
            taken[estate] = taken.get(estate, 0) + count.count
    return taken


def manifest(
    uow: UnitOfWork,
    rt: Runtime,
    movement_id: str,
    person_ids: Sequence[str],
    occurred_at: datetime,
    actor: Actor = OPERATOR,
    overrides: Sequence[Safeguard] = (),
    reason: str = "",
) -> list[StoredEvent]:
    """Put people on a draft or approved movement; all of them, or on any refusal none.

    Safeguards that would break are refused unless the actor may override them and names them with a reason;
    each override is kept on the person's manifest event and in the overrides record with the actor's name.
    """
    require(actor, Permission.PLAN_MOVEMENTS)
    m = movement(uow, movement_id)
    _manifest_open(m)
    refuse_duplicates(person_ids, _("manifest"))
    overridden = frozenset(overrides)
    if overridden:
        require(actor, Permission.OVERRIDE_SAFEGUARDS)
        if not reason.strip():
            raise ConflictError(
                m.code,
                "reason-required",
                m.state.value,
                _("Overriding a safeguard on movement {code} needs a reason.").format(code=m.code),
            )
    # The custody rules (at the origin, not on another movement) come first: they are not overridable.
    now = rt.clock()
    commands = [
        c.Manifest(
            person_id=p,
            event_id=rt.new_id(),
            occurred_at=occurred_at,
            recorded_at=now,
            movement_id=m.id,
            origin_id=m.origin_id,
        )
        for p in person_ids
    ]
    decide_all(uow, commands)
    broken = _breaches(uow, m, person_ids)
    blocking = [b for b in broken if b.safeguard not in overridden]
    if blocking:
        first = blocking[0]
        raise ConflictError(
            first.person_id,
            first.safeguard.value,
            m.state.value,
            _("Person {person} cannot be put on movement {code}: {why} (safeguard {rule}).").format(
                person=first.person_id, code=m.code, why=first.message, rule=first.safeguard.value
            ),
        )
    used: dict[str, list[str]] = {}
    for b in broken:
        used.setdefault(b.person_id, []).append(b.safeguard.value)
    if used:
        commands = [
            replace(
                cmd,
                overrides=tuple(sorted(set(used[cmd.person_id]))),
                override_reason=reason,
                override_by=actor.id,
            )
            if cmd.person_id in used
            else cmd
            for cmd in commands
        ]
    stored = record(uow, commands)
    uow.operations.add_overrides(
        [
            Override(
                event_id=s.event.event_id,
                person_id=s.event.person_id,
                movement_id=m.id,
                safeguards=",".join(sorted(set(used[s.event.person_id]))),
                reason=reason,
                actor_id=actor.id,
                actor_name=actor.name,
                recorded_at=now,
            )
            for s in stored
            if s.event.person_id in used
        ]
    )
    return stored


def unmanifest(
    uow: UnitOfWork,
    rt: Runtime,
    movement_id: str,
    person_ids: Sequence[str],
    reason: str,
    occurred_at: datetime,
    actor: Actor = OPERATOR,
    frozen_ok: bool = False,
) -> list[StoredEvent]:
    """Take people off a movement's manifest, with the reason; all of them or, on a refusal, none."""
    require(actor, Permission.PLAN_MOVEMENTS)
    m = movement(uow, movement_id)
    if not frozen_ok:
        _manifest_open(m)
    # Who was taken off and why is what a monitor asks about, so an empty reason is not accepted.
    if not reason.strip():
        raise ValueError(_("Taking people off a manifest needs a reason."))
    refuse_duplicates(person_ids, _("manifest change"))
    return record_each(uow, rt, person_ids, occurred_at, c.Unmanifest, movement_id=m.id, reason=reason)


def _manifest_open(m: Movement) -> None:
    if m.state not in MANIFEST_OPEN:
        raise _conflict(m, "manifest-frozen", _("The manifest of movement {code} is frozen: it is {state}."))


# --- boarding, departure and arrival, leg by leg -----------------------------------------------------------------


def legs(uow: UnitOfWork, movement_id: str) -> list[Leg]:
    return uow.operations.legs(movement(uow, movement_id).id)


def on_movement(uow: UnitOfWork, movement_id: str) -> list[PersonState]:
    """Everyone on the movement now: on its manifest, in transit, or arrived and not yet admitted."""
    return uow.custody.on_movement(movement(uow, movement_id).id)


def _leg(uow: UnitOfWork, m: Movement, number: int | None, departing: bool) -> Leg | None:
    """The leg named, or the next one to depart (`departing`) or to arrive; None for a movement without legs."""
    all_legs = uow.operations.legs(m.id)
    if not all_legs:
        return None
    if number is not None:
        found = next((leg for leg in all_legs if leg.number == number), None)
        if found is None:
            raise NotFoundError("leg", str(number), _("Movement {code} has no leg {n}.").format(code=m.code, n=number))
        return found
    waiting = [leg for leg in all_legs if (leg.departed_at is None if departing else leg.arrived_at is None)]
    if not waiting:
        raise _conflict(m, "no-leg-left", _("Every leg of movement {code} has already gone."))
    return waiting[0]


def _aboard(uow: UnitOfWork, m: Movement, leg: Leg) -> list[str]:
    """Who should board `leg`: the manifest before the first departure, then whoever is in transit on the movement."""
    wanted = Status.HELD if leg.number == 1 else Status.IN_TRANSIT
    return [s.person_id for s in uow.custody.on_movement(m.id) if s.status is wanted]


def board(
    uow: UnitOfWork,
    rt: Runtime,
    movement_id: str,
    person_ids: Sequence[str],
    at: datetime,
    leg_number: int | None = None,
    actor: Actor = OPERATOR,
) -> Leg:
    """Count people aboard the next leg (or the one named). Refused for anyone not due on it or already counted."""
    require(actor, Permission.RUN_MOVEMENTS)
    m = movement(uow, movement_id)
    leg = _leg(uow, m, leg_number, departing=True)
    if leg is None:
        raise _conflict(m, "no-legs", _("Movement {code} has no legs to board."))
    if leg.departed_at is not None:
        raise _conflict(m, "leg-departed", _("Leg {n} of movement {code} has already departed."), n=leg.number)
    if m.state not in (MovementState.APPROVED, MovementState.IN_PROGRESS):
        raise _conflict(m, "movement-state", _("Nobody can board movement {code}: it is {state}."))
    refuse_duplicates(person_ids, _("boarding"))
    due = set(_aboard(uow, m, leg))
    already = uow.operations.boarded(leg.id)
    for person in person_ids:
        if person in already:
            raise ConflictError(
                person,
                "already-boarded",
                "boarded",
                _("Person {person} is already counted aboard leg {n} of movement {code}.").format(
                    person=person, n=leg.number, code=m.code
                ),
            )
        if person not in due:
            state = uow.custody.states([person]).get(person)
            raise ConflictError(
                person,
                "not-on-manifest",
                state.describe() if state else _("not registered"),
                _(
                    "Person {person} cannot board leg {n} of movement {code}: they are not on its manifest or not "
                    "travelling on it (the person is {state})."
                ).format(
                    person=person, n=leg.number, code=m.code, state=state.describe() if state else _("not registered")
                ),
            )
    if len(already) + len(person_ids) > leg.seats:
        raise _conflict(
            m,
            Safeguard.SEATS.value,
            _("Leg {n} of movement {code} has {seats} seats; {count} people would be aboard."),
            n=leg.number,
            seats=leg.seats,
            count=len(already) + len(person_ids),
        )
    uow.operations.board(leg.id, person_ids, at, actor.id)
    return leg


def unboard(
    uow: UnitOfWork,
    movement_id: str,
    person_ids: Sequence[str],
    leg_number: int | None = None,
    actor: Actor = OPERATOR,
) -> Leg:
    """Undo a count aboard (a wrong tap) while the leg has not left; the people are due on it again."""
    require(actor, Permission.RUN_MOVEMENTS)
    m = movement(uow, movement_id)
    leg = _leg(uow, m, leg_number, departing=True)
    if leg is None:
        raise _conflict(m, "no-legs", _("Movement {code} has no legs to board."))
    if leg.departed_at is not None:
        raise _conflict(m, "leg-departed", _("Leg {n} of movement {code} has already departed."), n=leg.number)
    aboard = uow.operations.boarded(leg.id)
    for person in person_ids:
        if person not in aboard:
            raise ConflictError(
                person,
                "not-boarded",
                m.state.value,
                _("Person {person} is not counted aboard leg {n} of movement {code}.").format(
                    person=person, n=leg.number, code=m.code
                ),
            )
    uow.operations.unboard(leg.id, person_ids)
    return leg


def depart(
    uow: UnitOfWork,
    rt: Runtime,
    movement_id: str,
    occurred_at: datetime,
    leg_number: int | None = None,
    actor: Actor = OPERATOR,
) -> list[StoredEvent]:
    """The next leg leaves. The first departure freezes the manifest and puts everyone on it in transit.

    Everyone due on the leg must have been counted aboard: someone left behind is taken off the manifest (before
    the first leg) or recorded by an incident (later), never silently dropped.
    """
    require(actor, Permission.RUN_MOVEMENTS)
    m = movement(uow, movement_id)
    leg = _leg(uow, m, leg_number, departing=True)
    first = leg is None or leg.number == 1
    if leg is not None and leg.departed_at is not None:
        raise _conflict(m, "leg-departed", _("Leg {n} of movement {code} has already departed."), n=leg.number)
    if first:
        move_to(uow, m, MovementState.IN_PROGRESS)
    elif m.state is not MovementState.IN_PROGRESS:
        raise _conflict(m, "movement-state", _("Movement {code} is {state}: no leg can depart."))
    if leg is not None and leg.number > 1:
        previous = uow.operations.legs(m.id)[leg.number - 2]
        if previous.arrived_at is None:
            raise _conflict(
                m,
                "previous-leg-en-route",
                _("Leg {n} of movement {code} cannot depart before the leg before it arrives."),
                n=leg.number,
            )
    due = (
        _aboard(uow, m, leg)
        if leg is not None
        else [s.person_id for s in uow.custody.on_movement(m.id) if s.status is Status.HELD]
    )
    people = _somebody(m, due, _("depart"))
    if leg is not None:
        boarded = uow.operations.boarded(leg.id)
        left = [p for p in people if p not in boarded]
        if left:
            raise ConflictError(
                left[0],
                "not-boarded",
                m.state.value,
                _(
                    "Leg {n} of movement {code} cannot depart: {count} people due on it are not counted aboard, "
                    "first {person}. Board them, or take them off the manifest (or record what happened to them)."
                ).format(n=leg.number, code=m.code, count=len(left), person=left[0]),
            )
        uow.operations.set_leg_times(leg.id, occurred_at, None)
    if not first:
        return []
    return record_each(uow, rt, people, occurred_at, c.Depart, movement_id=m.id)


def arrive(
    uow: UnitOfWork,
    rt: Runtime,
    movement_id: str,
    occurred_at: datetime,
    leg_number: int | None = None,
    actor: Actor = OPERATOR,
) -> list[StoredEvent]:
    """The leg under way arrives. At the last leg's end everyone in transit arrives at the destination."""
    require(actor, Permission.RUN_MOVEMENTS)
    m = movement(uow, movement_id)
    leg = _leg(uow, m, leg_number, departing=False)
    all_legs = uow.operations.legs(m.id)
    last = leg is None or leg.number == len(all_legs)
    if leg is not None:
        if leg.departed_at is None:
            raise _conflict(m, "leg-not-departed", _("Leg {n} of movement {code} has not departed."), n=leg.number)
        if leg.arrived_at is not None:
            raise _conflict(m, "leg-arrived", _("Leg {n} of movement {code} has already arrived."), n=leg.number)
    if m.state is not MovementState.IN_PROGRESS:
        raise _conflict(m, "movement-state", _("Movement {code} is {state}: nothing is under way."))
    if leg is not None:
        uow.operations.set_leg_times(leg.id, leg.departed_at, occurred_at)
    if not last:
        return []
    move_to(uow, m, MovementState.ARRIVED)
    destination = reference.facility(uow, m.destination_id)
    in_transit = [s.person_id for s in uow.custody.on_movement(m.id) if s.status is Status.IN_TRANSIT]
    if not in_transit:
        return []  # everyone left the movement on the way (hospital, escape, death): reconciliation accounts for them
    return record_each(uow, rt, in_transit, occurred_at, c.Arrive, facility=destination, movement_id=m.id)


def admit(
    uow: UnitOfWork,
    rt: Runtime,
    movement_id: str,
    occurred_at: datetime,
    person_ids: Sequence[str] | None = None,
    actor: Actor = OPERATOR,
) -> list[StoredEvent]:
    """The destination's intake admits arrived people (all of them unless named); only people the movement brought."""
    require(actor, Permission.ADMIT)
    m = movement(uow, movement_id)
    destination = reference.facility(uow, m.destination_id)
    arrived = [
        s.person_id
        for s in uow.custody.on_movement(m.id)
        if s.status is Status.ARRIVED and s.facility_id == m.destination_id
    ]
    if person_ids is None:
        person_ids = _somebody(m, arrived, _("be admitted"))
    refuse_duplicates(person_ids, _("admission"))
    expected = set(arrived)
    for person in person_ids:
        if person not in expected:
            state = uow.custody.states([person]).get(person)
            described = state.describe() if state else _("not registered")
            raise ConflictError(
                person,
                "not-on-arriving-manifest",
                described,
                _(
                    "Person {person} cannot be admitted from movement {code}: they are not among the people it brought "
                    "to {facility} (the person is {state})."
                ).format(person=person, code=m.code, facility=destination.id, state=described),
            )
    return record_each(
        uow, rt, person_ids, occurred_at, c.Admit, facility=destination, authority_id=destination.authority_id
    )


def return_to_origin(
    uow: UnitOfWork,
    rt: Runtime,
    movement_id: str,
    person_ids: Sequence[str],
    occurred_at: datetime,
    actor: Actor = OPERATOR,
) -> list[StoredEvent]:
    """People in transit brought back to where they left from: they arrive there and are admitted again."""
    require(actor, Permission.RUN_MOVEMENTS)
    m = movement(uow, movement_id)
    origin = reference.facility(uow, m.origin_id)
    refuse_duplicates(person_ids, _("return"))
    now = rt.clock()
    commands: list[c.Command] = []
    for p in person_ids:
        commands.append(
            c.Arrive(
                person_id=p,
                event_id=rt.new_id(),
                occurred_at=occurred_at,
                recorded_at=now,
                facility=origin,
                movement_id=m.id,
            )
        )
        commands.append(
            c.Admit(
                person_id=p,
                event_id=rt.new_id(),
                occurred_at=occurred_at,
                recorded_at=now,
                facility=origin,
                authority_id=origin.authority_id,
            )
        )
    return record(uow, commands)


# --- shared helpers ------------------------------------------------------------------------------------------------


def _conflict(m: Movement, rule: str, template: str, **values: object) -> ConflictError:
    return ConflictError(m.code, rule, m.state.value, template.format(code=m.code, state=m.state.value, **values))


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


def move_to(uow: UnitOfWork, m: Movement, target: MovementState) -> None:
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
