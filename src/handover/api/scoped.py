"""Lookups by id through the principal's scope, for the API routes (DESIGN.md, rule 8).

Something out of the principal's scope answers exactly as if it did not exist: the same `NotFoundError` (kind, id and
message) the services raise for a missing one, so asking by id never confirms that a movement, handover or person
exists. Lists keep only what is in scope. A principal whose grant covers every record (`all`) skips the per-record
checks, which read the store once per record.
"""

from __future__ import annotations

from collections.abc import Iterable

from handover.core.custody.movements import Movement
from handover.core.policy.access import (
    Action,
    Principal,
    Resource,
    Scope,
    facility_in_scope,
    in_scope,
    may,
    movement_in_scope,
    scopes,
)
from handover.gate import Denied
from handover.i18n import _
from handover.services import handovers, scope, transfers
from handover.services.errors import NotFoundError
from handover.services.ports import HandoverRecord, Incident, UnitOfWork


def everything(who: Principal, resource: Resource, action: Action) -> bool:
    """Whether the principal's grants cover every record of `resource` for `action` (no need to look at each)."""
    return Scope.ALL in scopes(who.grants, resource, action)


def no_movement(ref: str) -> NotFoundError:
    # The services' own answer for a missing movement, word for word.
    return NotFoundError("movement", ref, _("No movement {id}.").format(id=ref))


def sees_movement(
    uow: UnitOfWork, who: Principal, movement_id: str, action: Action, resource: Resource = Resource.MOVEMENT
) -> bool:
    if everything(who, resource, action):
        return True
    facts = scope.movement_facts(uow, movement_id)
    return facts is not None and movement_in_scope(who, facts, resource, action)


def movement(
    uow: UnitOfWork,
    who: Principal,
    ref: str,
    action: Action = Action.READ,
    resource: Resource = Resource.MOVEMENT,
) -> Movement:
    """The movement `ref` (id or code) if the principal may `action` its `resource`; 404 alike when absent."""
    found = transfers.movement(uow, ref)
    if not sees_movement(uow, who, found.id, action, resource):
        raise no_movement(ref)
    return found


def movements(
    uow: UnitOfWork, who: Principal, found: Iterable[Movement], resource: Resource = Resource.MOVEMENT
) -> list[Movement]:
    return [m for m in found if sees_movement(uow, who, m.id, Action.READ, resource)]


def handover(uow: UnitOfWork, who: Principal, handover_id: str, action: Action = Action.READ) -> HandoverRecord:
    """A handover, if the principal may `action` the movement it belongs to; 404 alike when absent."""
    found = handovers.handover(uow, handover_id)
    if not sees_movement(uow, who, found.movement_id, action):
        raise NotFoundError("handover", handover_id, _("No handover {id}.").format(id=handover_id))
    return found


def person(uow: UnitOfWork, who: Principal, person_id: str, resource: Resource, action: Action) -> None:
    """Raise the 404 of a missing person unless the principal may `action` this person's `resource`."""
    scope.visible_person(uow, who, person_id, resource, action)


def people(uow: UnitOfWork, who: Principal, person_ids: Iterable[str], resource: Resource, action: Action) -> None:
    """Raise a 404 for the first person the principal may not `action` (as for one not registered)."""
    if everything(who, resource, action):
        return
    for person_id in person_ids:
        person(uow, who, person_id, resource, action)


def facility(uow: UnitOfWork, who: Principal, facility_id: str, resource: Resource, action: Action) -> str:
    """The facility id if the principal may `action` its `resource`; 404 alike when absent and out of scope."""
    if everything(who, resource, action) and uow.reference.facility(facility_id) is not None:
        return facility_id
    return scope.visible_facility(uow, who, facility_id, resource, action)


def sees_person(uow: UnitOfWork, who: Principal, person_id: str, resource: Resource, action: Action) -> bool:
    facts = scope.person_facts(uow, person_id)
    return facts is not None and in_scope(who, facts, resource, action)


def sees_incident(uow: UnitOfWork, who: Principal, incident: Incident, action: Action = Action.READ) -> bool:
    """An incident is in scope by its movement, by its facility, or by any of its people."""
    resource = Resource.INCIDENT
    if everything(who, resource, action):
        return True
    if incident.movement_id is not None and sees_movement(uow, who, incident.movement_id, action, resource):
        return True
    if incident.facility_id is not None and facility_in_scope(who, incident.facility_id, resource, action):
        return True
    return any(sees_person(uow, who, p, resource, action) for p in incident.people)


def must(who: Principal, resource: Resource, action: Action) -> None:
    """A second permission a route needs for some requests only (its declaration is the first): 403 without it."""
    if not may(who.grants, resource, action):
        raise Denied(
            who,
            _("Your role ({role}) does not allow this ({permission}).").format(
                role=who.role.value, permission=f"{resource.value}:{action.value}"
            ),
            "permission-required",
        )
