"""The custody machine's dispatch tables decide exactly as the rules read when stated plainly.

The machine finds each event type's ordering rule and state change in tables (a monitor folds every event of the
log through them); here the rules are restated as one `match` over the event types, as they were written before the
tables, and the two are held equal for every event type in every state.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from handover.core.custody import CustodyEvent, EventType, PersonState, Refused, Rule, Status, apply, check
from handover.core.custody.machine import _CHANGES, _ORDERING_RULES
from handover.core.custody.model import Estate
from handover.core.custody.state import TERMINAL
from tests.factories import T0

# --- the rules, restated plainly -----------------------------------------------------------------------------------


def plain_ordering_rule(state: PersonState, event: CustodyEvent) -> Rule | None:
    status = state.status
    match event.type:
        case EventType.ASSESSED | EventType.NOTIFIED | EventType.DIED:
            return None
        case EventType.MANIFESTED:
            if status is not Status.HELD:
                return Rule.NOT_HELD
            if state.movement_id is not None:
                return Rule.ALREADY_ON_MOVEMENT
            return Rule.NOT_AT_ORIGIN if state.facility_id != event.facility_id else None
        case EventType.UNMANIFESTED | EventType.DEPARTED:
            if status is not Status.HELD:
                return Rule.NOT_HELD
            return Rule.NOT_ON_MOVEMENT if state.movement_id != event.movement_id else None
        case EventType.HANDED_OVER:
            if state.custodian_id != event.detail("from_authority"):
                return Rule.CUSTODIAN_MISMATCH
            return Rule.HANDOVER_TO_SELF if event.authority_id == state.custodian_id else None
        case EventType.ARRIVED:
            if status is Status.IN_TRANSIT:
                moving_on = event.movement_id is None or event.movement_id == state.movement_id
                return None if moving_on else Rule.NOT_ON_MOVEMENT
            return None if status is Status.HOSPITALISED else Rule.NOT_IN_TRANSIT
        case EventType.ADMITTED:
            if status is not Status.ARRIVED or state.facility_id != event.facility_id:
                return Rule.ADMISSION_WITHOUT_ARRIVAL
            return Rule.CUSTODIAN_MISMATCH if state.custodian_id != event.authority_id else None
        case EventType.HOSPITALISED | EventType.ESCAPED:
            if state.on_manifest and event.type is EventType.HOSPITALISED:
                return Rule.ON_MANIFEST
            at_a_place_or_moving = {Status.HELD, Status.IN_TRANSIT, Status.ARRIVED, Status.HOSPITALISED}
            return None if status in at_a_place_or_moving else Rule.NOT_HELD
        case EventType.RECAPTURED:
            return None if status is Status.ESCAPED else Rule.RECAPTURE_ONLY_AFTER_ESCAPE
        case EventType.RELEASED | EventType.REPATRIATED:
            if status is not Status.HELD:
                return Rule.NOT_HELD
            return Rule.ON_MANIFEST if state.on_manifest else None
    raise AssertionError(f"no rule for {event.type}")


def plain_changes(event: CustodyEvent) -> dict[str, Any]:
    match event.type:
        case EventType.ASSESSED | EventType.NOTIFIED:
            return {}
        case EventType.MANIFESTED:
            return {"movement_id": event.movement_id}
        case EventType.UNMANIFESTED:
            return {"movement_id": None}
        case EventType.DEPARTED:
            return {"status": Status.IN_TRANSIT, "facility_id": None}
        case EventType.HANDED_OVER:
            return {"custodian_id": event.authority_id}
        case EventType.ARRIVED:
            return {"status": Status.ARRIVED, "facility_id": event.facility_id}
        case EventType.ADMITTED | EventType.RECAPTURED:
            return {
                "status": Status.HELD,
                "facility_id": event.facility_id,
                "movement_id": None,
                "custodian_id": event.authority_id,
            }
        case EventType.HOSPITALISED:
            return {"status": Status.HOSPITALISED, "facility_id": None, "movement_id": None}
        case EventType.ESCAPED:
            return {"status": Status.ESCAPED, "facility_id": None, "movement_id": None}
        case EventType.DIED:
            return {"status": Status.DEAD, "facility_id": None, "movement_id": None}
        case EventType.RELEASED:
            return {"status": Status.RELEASED, "custodian_id": None, "facility_id": None}
        case EventType.REPATRIATED:
            return {"status": Status.REPATRIATED, "custodian_id": event.authority_id, "facility_id": None}
        case EventType.CORRECTED:
            return {
                "status": Status(event.required("status")),
                "custodian_id": event.authority_id,
                "facility_id": event.facility_id,
                "movement_id": event.movement_id,
            }
    raise AssertionError(f"no change for {event.type}")


def plain_rule(state: PersonState | None, event: CustodyEvent) -> Rule | None:
    """The rule `check` refuses the event by, or None."""
    if event.type is EventType.REGISTERED:
        return Rule.ALREADY_REGISTERED if state is not None else None
    if state is None:
        return Rule.NOT_REGISTERED
    if event.type is EventType.CORRECTED:
        return None
    if state.status in TERMINAL:
        return Rule.TERMINAL
    if state.status is Status.ESCAPED and event.type not in (EventType.RECAPTURED, EventType.DIED):
        return Rule.ESCAPED
    return plain_ordering_rule(state, event)


def plain_apply(state: PersonState, event: CustodyEvent) -> PersonState:
    """`apply` for a registered person: the state with the event's changes, its last event and one more event."""
    return replace(state, **plain_changes(event), last_event_id=event.event_id, event_count=state.event_count + 1)


# --- every event type in every state -------------------------------------------------------------------------------

PLACES = st.none() | st.sampled_from(["ghweran", "karkh"])
AUTHORITIES = st.none() | st.sampled_from(["sy-moi", "iq-moj"])
MOVEMENTS = st.none() | st.sampled_from(["m1", "m2"])

states = st.builds(
    PersonState,
    person_id=st.just("p1"),
    status=st.sampled_from(Status),
    estate=st.sampled_from(Estate),
    custodian_id=AUTHORITIES,
    facility_id=PLACES,
    movement_id=MOVEMENTS,
    last_event_id=st.just("e0"),
    event_count=st.integers(1, 5),
)
events = st.builds(
    CustodyEvent,
    event_id=st.just("e1"),
    person_id=st.just("p1"),
    type=st.sampled_from(EventType),
    occurred_at=st.just(T0),
    recorded_at=st.just(T0 + timedelta(minutes=1)),
    facility_id=PLACES,
    authority_id=AUTHORITIES,
    movement_id=MOVEMENTS,
    # What some types carry: the authority handing over, the status a correction restores, a registration's estate.
    details=st.fixed_dictionaries(
        {},
        optional={
            "from_authority": st.sampled_from(["sy-moi", "iq-moj"]),
            "status": st.sampled_from([s.value for s in Status]),
            "estate": st.sampled_from([e.value for e in Estate]),
        },
    ).map(lambda d: tuple(sorted(d.items()))),
)


def test_the_tables_have_every_event_type_they_judge() -> None:
    assert set(_ORDERING_RULES) == set(EventType) - {EventType.REGISTERED, EventType.CORRECTED}
    assert set(_CHANGES) == set(EventType) - {EventType.REGISTERED}


@settings(max_examples=3000, deadline=None)
@given(st.none() | states, events)
def test_the_tables_decide_as_the_plain_rules(state: PersonState | None, event: CustodyEvent) -> None:
    refused = check(state, event)
    assert (refused.rule if isinstance(refused, Refused) else None) == plain_rule(state, event)
    if state is None or event.type is EventType.REGISTERED:
        return  # a registration builds the state; nothing else applies to an unregistered person
    try:
        expected: PersonState | str = plain_apply(state, event)
    except ValueError:  # a correction without the status it restores
        expected = "refused"
    try:
        folded: PersonState | str = apply(state, event)
    except ValueError:
        folded = "refused"
    assert folded == expected
