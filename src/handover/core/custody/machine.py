"""The custody state machine.

`decide(state, command)` returns the events a command causes, or a refusal; `apply(state, event)` folds one event
into the state. `check(state, event)` holds every ordering rule, so the same rules judge a new command and a
chain read back from the log (`fold`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from handover.core.custody import commands as c
from handover.core.custody.events import CustodyEvent, EventType, details
from handover.core.custody.model import Estate, Facility
from handover.core.custody.refusals import Refused, Rule
from handover.core.custody.state import TERMINAL, PersonState, Status, describe
from handover.core.frozen import fast_constructor
from handover.i18n import _

Decision = tuple[CustodyEvent, ...] | Refused

# Where a person can be for each kind of event (after the terminal and escaped rules have been applied).
_AT_A_PLACE_OR_MOVING = frozenset({Status.HELD, Status.IN_TRANSIT, Status.ARRIVED, Status.HOSPITALISED})
_NOT_CORRECTABLE = frozenset({EventType.REGISTERED, EventType.CORRECTED})
# The members every event is compared with, as plain names: on Python 3.11 reading a member off its enum class goes
# through EnumType.__getattr__ (five times a plain attribute), and a monitor folds every event of the log.
_REGISTERED, _CORRECTED, _ESCAPED = EventType.REGISTERED, EventType.CORRECTED, Status.ESCAPED
_HELD, _IN_TRANSIT, _ARRIVED, _HOSPITALISED = Status.HELD, Status.IN_TRANSIT, Status.ARRIVED, Status.HOSPITALISED


def _rule_text(rule: Rule) -> str:
    texts = {
        Rule.NOT_REGISTERED: _("the person is not registered"),
        Rule.ALREADY_REGISTERED: _("the person is already registered"),
        Rule.TERMINAL: _("nothing may follow death, release or repatriation except a correction"),
        Rule.ESCAPED: _("an escaped person can only be recaptured or reported dead"),
        Rule.RECAPTURE_ONLY_AFTER_ESCAPE: _("recapture only after an escape"),
        Rule.NOT_HELD: _("the person must be held at a facility"),
        Rule.NOT_AT_ORIGIN: _("the person is not at the movement's origin"),
        Rule.ALREADY_ON_MOVEMENT: _("the person is already on another movement"),
        Rule.NOT_ON_MOVEMENT: _("the person is not on this movement"),
        Rule.ON_MANIFEST: _("the person is on a movement's manifest; remove them from it first"),
        Rule.NOT_IN_TRANSIT: _("arrival only from a movement in transit or from hospital"),
        Rule.ADMISSION_WITHOUT_ARRIVAL: _("no admission without arrival at that facility"),
        Rule.CUSTODIAN_MISMATCH: _("only the current custodian can do this"),
        Rule.HANDOVER_TO_SELF: _("a handover must pass custody to another authority"),
        Rule.ESTATE_NOT_HELD: _("the facility has no places for the person's estate"),
        Rule.UNKNOWN_REFERENCE: _("a facility, authority or movement named does not exist"),
        Rule.CORRECTION_TARGET_UNKNOWN: _("a correction must name an event of this person"),
        Rule.CORRECTION_NOT_CORRECTABLE: _("registrations and corrections cannot be corrected"),
        Rule.CORRECTION_ALREADY_CORRECTED: _("that event has already been corrected"),
        Rule.CORRECTION_BREAKS_CHAIN: _("without that event a later event would break the custody rules"),
        Rule.DUPLICATE_PERSON: _("the same person appears twice in one request"),
        Rule.REASON_REQUIRED: _("a correction must give its reason"),
    }
    return texts[rule]


def _action_text(event: CustodyEvent) -> str:
    where = event.facility_id or ""
    texts = {
        EventType.REGISTERED: _("be registered at {facility}"),
        EventType.ASSESSED: _("be assessed"),
        EventType.MANIFESTED: _("be put on movement {movement}"),
        EventType.UNMANIFESTED: _("be taken off movement {movement}"),
        EventType.DEPARTED: _("depart on movement {movement}"),
        EventType.HANDED_OVER: _("be handed over to {authority}"),
        EventType.ARRIVED: _("arrive at {facility}"),
        EventType.ADMITTED: _("be admitted at {facility}"),
        EventType.NOTIFIED: _("have a notification recorded"),
        EventType.HOSPITALISED: _("be hospitalised"),
        EventType.ESCAPED: _("be recorded as escaped"),
        EventType.RECAPTURED: _("be recorded as recaptured at {facility}"),
        EventType.DIED: _("be recorded as dead"),
        EventType.RELEASED: _("be released"),
        EventType.REPATRIATED: _("be repatriated to {authority}"),
        EventType.CORRECTED: _("have event {target} corrected"),
    }
    return texts[event.type].format(
        facility=where, movement=event.movement_id, authority=event.authority_id, target=event.corrects
    )


def refuse(state: PersonState | None, event: CustodyEvent, rule: Rule) -> Refused:
    now = describe(state)
    message = _("Person {person} cannot {action}: {rule} (the person is {state}).").format(
        person=event.person_id, action=_action_text(event), rule=_rule_text(rule), state=now
    )
    return Refused(person_id=event.person_id, rule=rule, state=now, message=message)


def check(state: PersonState | None, event: CustodyEvent) -> Refused | None:
    """Whether `event` may happen to a person in `state`; None when it may."""
    kind = event.type
    if kind is _REGISTERED:
        return refuse(state, event, Rule.ALREADY_REGISTERED) if state is not None else None
    if state is None:
        return refuse(state, event, Rule.NOT_REGISTERED)
    if kind is _CORRECTED:
        return None  # judged against the whole chain in decide() and fold()
    status = state.status
    if status in TERMINAL:
        return refuse(state, event, Rule.TERMINAL)
    if status is _ESCAPED and kind not in (EventType.RECAPTURED, EventType.DIED):
        return refuse(state, event, Rule.ESCAPED)
    rule = _ORDERING_RULES[kind](state, event)
    return refuse(state, event, rule) if rule is not None else None


# The ordering rules, one function per event type (registrations and corrections are judged apart), found by `check`
# in a table keyed by the event's type: a `match` over the types would compare the type with each case's members in
# turn, each read off its enum class, and a monitor checks every event of the log. (tests/core/test_custody_machine.py
# holds the tables to a plain restatement of the rules.)


def _no_ordering_rule(state: PersonState, event: CustodyEvent) -> Rule | None:
    return None


def _manifest_rule(state: PersonState, event: CustodyEvent) -> Rule | None:
    if state.status is not _HELD:
        return Rule.NOT_HELD
    if state.movement_id is not None:
        return Rule.ALREADY_ON_MOVEMENT
    return Rule.NOT_AT_ORIGIN if state.facility_id != event.facility_id else None


def _on_this_movement_rule(state: PersonState, event: CustodyEvent) -> Rule | None:
    """Taken off the manifest, or departing: held, and on this movement's manifest."""
    if state.status is not _HELD:
        return Rule.NOT_HELD
    return Rule.NOT_ON_MOVEMENT if state.movement_id != event.movement_id else None


def _handover_rule(state: PersonState, event: CustodyEvent) -> Rule | None:
    if state.custodian_id != event.detail("from_authority"):
        return Rule.CUSTODIAN_MISMATCH
    return Rule.HANDOVER_TO_SELF if event.authority_id == state.custodian_id else None


def _arrival_rule(state: PersonState, event: CustodyEvent) -> Rule | None:
    status = state.status
    if status is _IN_TRANSIT:
        moving_on = event.movement_id is None or event.movement_id == state.movement_id
        return None if moving_on else Rule.NOT_ON_MOVEMENT
    return None if status is _HOSPITALISED else Rule.NOT_IN_TRANSIT


def _admission_rule(state: PersonState, event: CustodyEvent) -> Rule | None:
    if state.status is not _ARRIVED or state.facility_id != event.facility_id:
        return Rule.ADMISSION_WITHOUT_ARRIVAL
    return Rule.CUSTODIAN_MISMATCH if state.custodian_id != event.authority_id else None


def _hospital_rule(state: PersonState, event: CustodyEvent) -> Rule | None:
    if state.on_manifest:
        return Rule.ON_MANIFEST
    return _escape_rule(state, event)


def _escape_rule(state: PersonState, event: CustodyEvent) -> Rule | None:
    return None if state.status in _AT_A_PLACE_OR_MOVING else Rule.NOT_HELD


def _recapture_rule(state: PersonState, event: CustodyEvent) -> Rule | None:
    return None if state.status is _ESCAPED else Rule.RECAPTURE_ONLY_AFTER_ESCAPE


def _leaving_custody_rule(state: PersonState, event: CustodyEvent) -> Rule | None:
    """Released or repatriated: held, and on no manifest."""
    if state.status is not _HELD:
        return Rule.NOT_HELD
    return Rule.ON_MANIFEST if state.on_manifest else None


_ORDERING_RULES: dict[EventType, Callable[[PersonState, CustodyEvent], Rule | None]] = {
    EventType.ASSESSED: _no_ordering_rule,
    EventType.NOTIFIED: _no_ordering_rule,
    EventType.DIED: _no_ordering_rule,
    EventType.MANIFESTED: _manifest_rule,
    EventType.UNMANIFESTED: _on_this_movement_rule,
    EventType.DEPARTED: _on_this_movement_rule,
    EventType.HANDED_OVER: _handover_rule,
    EventType.ARRIVED: _arrival_rule,
    EventType.ADMITTED: _admission_rule,
    EventType.HOSPITALISED: _hospital_rule,
    EventType.ESCAPED: _escape_rule,
    EventType.RECAPTURED: _recapture_rule,
    EventType.RELEASED: _leaving_custody_rule,
    EventType.REPATRIATED: _leaving_custody_rule,
}


def apply(state: PersonState | None, event: CustodyEvent) -> PersonState:
    """Fold one event that `check` accepted into the state."""
    # Built with _state (fields in order: person, status, estate, custodian, facility, movement, last event, count)
    # rather than PersonState(...) or dataclasses.replace: a monitor folds every event of the log through here.
    if event.type is _REGISTERED:
        estate = event.required("estate")
        return _state(
            event.person_id,
            _HELD,
            _ESTATES.get(estate) or Estate(estate),  # Estate() only to refuse an unknown estate as it always has
            event.authority_id,
            event.facility_id,
            None,
            event.event_id,
            1,
        )
    assert state is not None, "apply() needs a registered person; check() first"
    changes = _CHANGES[event.type](event)
    return _state(
        state.person_id,
        changes.get("status", state.status),
        state.estate,
        changes.get("custodian_id", state.custodian_id),
        changes.get("facility_id", state.facility_id),
        changes.get("movement_id", state.movement_id),
        event.event_id,
        state.event_count + 1,
    )


_state = fast_constructor(PersonState)
_ESTATES = {estate.value: estate for estate in Estate}


# What each kind of event changes in a person's state (beyond the last event and the count), by event type: a table
# rather than a `match`, for the reason the ordering rules are one. A registration builds the state (see `apply`).
_CHANGES: dict[EventType, Callable[[CustodyEvent], dict[str, Any]]] = {
    EventType.ASSESSED: lambda event: {},
    EventType.NOTIFIED: lambda event: {},
    EventType.MANIFESTED: lambda event: {"movement_id": event.movement_id},
    EventType.UNMANIFESTED: lambda event: {"movement_id": None},
    EventType.DEPARTED: lambda event: {"status": _IN_TRANSIT, "facility_id": None},
    EventType.HANDED_OVER: lambda event: {"custodian_id": event.authority_id},
    EventType.ARRIVED: lambda event: {"status": _ARRIVED, "facility_id": event.facility_id},
    EventType.ADMITTED: lambda event: _held_at(event),
    EventType.RECAPTURED: lambda event: _held_at(event),
    EventType.HOSPITALISED: lambda event: {"status": _HOSPITALISED, "facility_id": None, "movement_id": None},
    EventType.ESCAPED: lambda event: {"status": _ESCAPED, "facility_id": None, "movement_id": None},
    EventType.DIED: lambda event: {"status": Status.DEAD, "facility_id": None, "movement_id": None},
    EventType.RELEASED: lambda event: {"status": Status.RELEASED, "custodian_id": None, "facility_id": None},
    EventType.REPATRIATED: lambda event: {
        "status": Status.REPATRIATED,
        "custodian_id": event.authority_id,
        "facility_id": None,
    },
    # A correction carries the custody it restores, so the fold stays one step per event.
    EventType.CORRECTED: lambda event: {
        "status": Status(event.required("status")),
        "custodian_id": event.authority_id,
        "facility_id": event.facility_id,
        "movement_id": event.movement_id,
    },
}


def _held_at(event: CustodyEvent) -> dict[str, Any]:
    """Admitted or recaptured: held where the event happened, by its authority, on no movement."""
    return {"status": _HELD, "facility_id": event.facility_id, "movement_id": None, "custodian_id": event.authority_id}


def decide(state: PersonState | None, command: c.Command) -> Decision:
    """The events `command` causes for a person in `state`, or why it is refused."""
    if isinstance(command, c.Correct):
        return _decide_correction(state, command)
    event = _event_for(command)
    refused = check(state, event)
    if refused is not None:
        return refused
    facility = _facility_to_hold(command)
    if facility is not None:
        estate = state.estate if state is not None else Estate(event.required("estate"))
        if not facility.holds(estate):
            return refuse(state, event, Rule.ESTATE_NOT_HELD)
    return (event,)


def _facility_to_hold(command: c.Command) -> Facility | None:
    if isinstance(command, c.Register | c.Admit | c.Recapture):
        return command.facility
    return None


def _event_for(command: c.Command) -> CustodyEvent:
    def event(kind: EventType, **fields: object) -> CustodyEvent:
        return CustodyEvent(
            event_id=command.event_id,
            person_id=command.person_id,
            type=kind,
            occurred_at=command.occurred_at,
            recorded_at=command.recorded_at,
            **fields,  # type: ignore[arg-type]
        )

    match command:
        case c.Register():
            return event(
                EventType.REGISTERED,
                facility_id=command.facility.id,
                authority_id=command.custodian_id,
                details=details(estate=command.estate.value, identity=command.identity_commitment),
            )
        case c.Assess():
            return event(EventType.ASSESSED, details=details(kind=command.kind, outcome=command.outcome))
        case c.Manifest():
            return event(
                EventType.MANIFESTED,
                movement_id=command.movement_id,
                facility_id=command.origin_id,
                details=details(
                    override=",".join(command.overrides) or None,
                    override_reason=command.override_reason if command.overrides else None,
                    override_by=command.override_by if command.overrides else None,
                ),
            )
        case c.Unmanifest():
            return event(
                EventType.UNMANIFESTED,
                movement_id=command.movement_id,
                details=details(reason=command.reason),
            )
        case c.Depart():
            return event(EventType.DEPARTED, movement_id=command.movement_id)
        case c.HandOver():
            return event(
                EventType.HANDED_OVER,
                authority_id=command.to_authority_id,
                facility_id=command.place_id,
                details=details(
                    from_authority=command.from_authority_id,
                    handover=command.handover_id,
                    document=command.document,
                ),
            )
        case c.Arrive():
            return event(EventType.ARRIVED, facility_id=command.facility.id, movement_id=command.movement_id)
        case c.Admit():
            return event(EventType.ADMITTED, facility_id=command.facility.id, authority_id=command.authority_id)
        case c.Notify():
            return event(EventType.NOTIFIED, details=details(channel=command.channel))
        case c.Hospitalise():
            return event(EventType.HOSPITALISED, details=details(place=command.place))
        case c.Escape():
            return event(EventType.ESCAPED)
        case c.Recapture():
            return event(EventType.RECAPTURED, facility_id=command.facility.id, authority_id=command.authority_id)
        case c.Die():
            return event(EventType.DIED)
        case c.Release():
            return event(EventType.RELEASED, details=details(reason=command.reason))
        case c.Repatriate():
            return event(
                EventType.REPATRIATED,
                authority_id=command.to_authority_id,
                details=details(country=command.country),
            )
    raise TypeError(f"unknown command {type(command).__name__}")


def _decide_correction(state: PersonState | None, command: c.Correct) -> Decision:
    draft = CustodyEvent(
        event_id=command.event_id,
        person_id=command.person_id,
        type=EventType.CORRECTED,
        occurred_at=command.occurred_at,
        recorded_at=command.recorded_at,
        corrects=command.target_event_id,
    )
    if state is None:
        return refuse(state, draft, Rule.NOT_REGISTERED)
    if not command.reason.strip():
        return refuse(state, draft, Rule.REASON_REQUIRED)
    restored = restore_without(state, command.history, command.target_event_id, draft)
    if isinstance(restored, Refused):
        return restored
    return (
        replace(
            draft,
            facility_id=restored.facility_id,
            authority_id=restored.custodian_id,
            movement_id=restored.movement_id,
            details=details(reason=command.reason, status=restored.status.value),
        ),
    )


def restore_without(
    state: PersonState | None, history: Iterable[CustodyEvent], target_id: str, correction: CustodyEvent
) -> PersonState | Refused:
    """The custody a person would be in had event `target_id` never happened (the effect of a correction)."""
    chain = list(history)
    target = next((e for e in chain if e.event_id == target_id and e.person_id == correction.person_id), None)
    if target is None:
        return refuse(state, correction, Rule.CORRECTION_TARGET_UNKNOWN)
    if target.type in _NOT_CORRECTABLE:
        return refuse(state, correction, Rule.CORRECTION_NOT_CORRECTABLE)
    voided = {e.corrects for e in chain if e.type is EventType.CORRECTED}
    if target_id in voided:
        return refuse(state, correction, Rule.CORRECTION_ALREADY_CORRECTED)
    voided.add(target_id)
    replayed: PersonState | None = None
    for event in chain:
        if event.type is EventType.CORRECTED or event.event_id in voided:
            continue
        if check(replayed, event) is not None:
            return refuse(state, correction, Rule.CORRECTION_BREAKS_CHAIN)
        replayed = apply(replayed, event)
    assert replayed is not None, "a registration is never voided"
    return replayed


def fold(events: Iterable[CustodyEvent]) -> PersonState | Refused:
    """Re-derive one person's custody from their chain, judging every event (corrections included) by the rules.

    This is what a monitor runs over a chain read back from the log.
    """
    state: PersonState | None = None
    seen: list[CustodyEvent] = []
    for event in events:
        if event.type is _CORRECTED:
            restored = restore_without(state, seen, event.corrects or "", event)
            if isinstance(restored, Refused):
                return restored
            claimed = (event.detail("status"), event.authority_id, event.facility_id, event.movement_id)
            derived = (
                restored.status.value,
                restored.custodian_id,
                restored.facility_id,
                restored.movement_id,
            )
            if claimed != derived:
                return refuse(state, event, Rule.CORRECTION_BREAKS_CHAIN)
        else:
            refused = check(state, event)
            if refused is not None:
                return refused
        state = apply(state, event)
        seen.append(event)
    if state is None:
        raise ValueError("an empty chain has no state")
    return state
