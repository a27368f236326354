"""Need to know, against the store: the facts the pure scope checks need, and lookups that hide what is out of scope.

A person, movement or case out of the principal's scope is reported exactly as one that does not exist
(`NotFoundError`, a 404), so asking by id never confirms that someone is held.
"""

from __future__ import annotations

from handover.core.policy.access import (
    Action,
    MovementFacts,
    PersonFacts,
    Principal,
    Resource,
    country_in_scope,
    facility_in_scope,
    in_scope,
    movement_in_scope,
    person_filter,
)
from handover.core.policy.safeguards import LEGAL_REVIEW, PASSING
from handover.i18n import _
from handover.services.errors import NotFoundError
from handover.services.ports import PersonRecord, UnitOfWork


def person_facts(uow: UnitOfWork, person_id: str) -> PersonFacts | None:
    """What scope depends on for one person, or None when no such person is registered."""
    record = uow.persons.get(person_id)
    if record is None:
        return None
    current = uow.custody.current(person_id)
    state = current.state if current is not None else None
    escorts: frozenset[str] = frozenset()
    if state is not None and state.movement_id is not None:
        escorts = frozenset(leg.escort_id for leg in uow.operations.legs(state.movement_id))
        movement = uow.movements.get(state.movement_id)
        if movement is not None:
            escorts |= {movement.escort_id}
    outcome = uow.operations.assessments([person_id]).get(person_id, {}).get(LEGAL_REVIEW)
    return PersonFacts(
        person_id=person_id,
        facility_id=state.facility_id if state is not None else None,
        nationalities=record.identity.nationalities,
        escort_ids=escorts,
        awaiting_review=outcome not in PASSING[LEGAL_REVIEW],
    )


def _not_found(kind: str, identifier: str) -> NotFoundError:
    return NotFoundError(kind, identifier, _("No {kind} {id}.").format(kind=kind, id=identifier))


def visible_person(
    uow: UnitOfWork,
    principal: Principal,
    person_id: str,
    resource: Resource = Resource.PERSON,
    action: Action = Action.READ,
) -> PersonRecord:
    """The person's record if the principal may see it; NotFoundError alike when absent and when out of scope."""
    facts = person_facts(uow, person_id)
    record = uow.persons.get(person_id) if facts is not None else None
    if facts is None or record is None or not in_scope(principal, facts, resource, action):
        raise _not_found("person", person_id)
    return record


def movement_facts(uow: UnitOfWork, movement_id: str) -> MovementFacts | None:
    movement = uow.movements.get(movement_id)
    if movement is None:
        return None
    escorts = frozenset(leg.escort_id for leg in uow.operations.legs(movement.id)) | {movement.escort_id}
    return MovementFacts(movement.id, movement.origin_id, movement.destination_id, escorts)


def visible_movement(
    uow: UnitOfWork, principal: Principal, movement_id: str, action: Action = Action.READ
) -> MovementFacts:
    facts = movement_facts(uow, movement_id)
    if facts is None or not movement_in_scope(principal, facts, Resource.MOVEMENT, action):
        raise _not_found("movement", movement_id)
    return facts


def sees_country(principal: Principal, country: str, action: Action = Action.READ) -> bool:
    return country_in_scope(principal, country, Resource.REPATRIATION, action)


def visible_facility(
    uow: UnitOfWork, principal: Principal, facility_id: str, resource: Resource, action: Action = Action.READ
) -> str:
    """The facility id if the principal may `action` its `resource`; NotFoundError alike if absent or out of scope."""
    if uow.reference.facility(facility_id) is None or not facility_in_scope(principal, facility_id, resource, action):
        raise _not_found("facility", facility_id)
    return facility_id


def visible_people(uow: UnitOfWork, principal: Principal, person_ids: list[str]) -> list[str]:
    """Of these people, those whose record the principal may read, in the order given."""
    if not person_filter(principal):
        return list(person_ids)
    kept = []
    for person_id in person_ids:
        facts = person_facts(uow, person_id)
        if facts is not None and in_scope(principal, facts):
            kept.append(person_id)
    return kept
