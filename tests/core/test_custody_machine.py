"""The custody machine: one test per rule, each refusal naming the person, the rule and the state."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from handover.core.custody import EventType, PersonState, Refused, Rule, Status, apply, decide, fold
from handover.core.custody import commands as c
from handover.core.custody.model import Estate
from tests.factories import AL_HOL, GHWERAN, KARKH, T0

_counter = iter(range(10**9))


def meta(person: str = "p1") -> dict[str, object]:
    n = next(_counter)
    return {
        "person_id": person,
        "event_id": f"e{n}",
        "occurred_at": T0 + timedelta(minutes=n),
        "recorded_at": T0,
    }


def run(*commands: c.Command, state: PersonState | None = None) -> PersonState:
    for command in commands:
        decision = decide(state, command)
        assert not isinstance(decision, Refused), decision.message
        for event in decision:
            state = apply(state, event)
    assert state is not None
    return state


def register(person: str = "p1", facility=GHWERAN, estate: Estate = Estate.ADULT_MEN) -> c.Register:
    return c.Register(
        **meta(person), facility=facility, custodian_id="sy-moi", estate=estate, identity_commitment="ab" * 32
    )


def held() -> PersonState:
    return run(register())


def in_transit() -> PersonState:
    return run(
        c.Manifest(**meta(), movement_id="m1", origin_id="ghweran"),
        c.Depart(**meta(), movement_id="m1"),
        state=held(),
    )


def arrived() -> PersonState:
    return run(
        c.HandOver(**meta(), from_authority_id="sy-moi", to_authority_id="iq-moj"),
        c.Arrive(**meta(), facility=KARKH, movement_id="m1"),
        state=in_transit(),
    )


def refused(state: PersonState | None, command: c.Command, rule: Rule) -> Refused:
    decision = decide(state, command)
    assert isinstance(decision, Refused), f"expected {rule}, got {decision}"
    assert decision.rule is rule
    assert decision.person_id == command.person_id
    assert command.person_id in decision.message
    assert decision.state in decision.message
    return decision


def test_a_transfer_from_registration_to_admission() -> None:
    state = run(c.Admit(**meta(), facility=KARKH, authority_id="iq-moj"), state=arrived())
    assert (state.status, state.facility_id, state.custodian_id, state.movement_id) == (
        Status.HELD,
        "karkh",
        "iq-moj",
        None,
    )


def test_registration_twice_is_refused() -> None:
    refused(held(), register(), Rule.ALREADY_REGISTERED)


def test_nothing_happens_to_an_unregistered_person() -> None:
    r = refused(None, c.Escape(**meta()), Rule.NOT_REGISTERED)
    assert r.state == "not registered"


def test_registration_in_an_estate_the_facility_does_not_hold() -> None:
    refused(None, register(facility=AL_HOL, estate=Estate.ADULT_MEN), Rule.ESTATE_NOT_HELD)


def test_admission_without_arrival_is_refused() -> None:
    r = refused(held(), c.Admit(**meta(), facility=KARKH, authority_id="sy-moi"), Rule.ADMISSION_WITHOUT_ARRIVAL)
    assert "held at ghweran by sy-moi" in r.message


def test_admission_at_another_facility_than_the_arrival_is_refused() -> None:
    other = replace(KARKH, id="al-hout")
    refused(arrived(), c.Admit(**meta(), facility=other, authority_id="iq-moj"), Rule.ADMISSION_WITHOUT_ARRIVAL)


def test_admission_by_someone_other_than_the_custodian_is_refused() -> None:
    refused(arrived(), c.Admit(**meta(), facility=KARKH, authority_id="us-centcom"), Rule.CUSTODIAN_MISMATCH)


def test_admission_into_an_estate_the_facility_lacks_is_refused() -> None:
    women_only = replace(KARKH, capacity=replace(KARKH.capacity, adult_men=0, adult_women=10))
    refused(arrived(), c.Admit(**meta(), facility=women_only, authority_id="iq-moj"), Rule.ESTATE_NOT_HELD)


@pytest.mark.parametrize("terminal", ["die", "release", "repatriate"])
def test_nothing_after_death_release_or_repatriation(terminal: str) -> None:
    ending = {
        "die": c.Die(**meta()),
        "release": c.Release(**meta(), reason="court order"),
        "repatriate": c.Repatriate(**meta(), to_authority_id="fr-moj", country="FR"),
    }[terminal]
    state = run(ending, state=held())
    for command in (c.Escape(**meta()), c.Assess(**meta(), kind="medical", outcome="fit"), c.Die(**meta())):
        refused(state, command, Rule.TERMINAL)


def test_release_ends_custody_and_repatriation_passes_it() -> None:
    assert run(c.Release(**meta(), reason="court order"), state=held()).custodian_id is None
    repatriated = run(c.Repatriate(**meta(), to_authority_id="fr-moj", country="FR"), state=held())
    assert (repatriated.status, repatriated.custodian_id) == (Status.REPATRIATED, "fr-moj")


def test_recapture_only_after_escape() -> None:
    refused(
        held(),
        c.Recapture(**meta(), facility=GHWERAN, authority_id="sy-moi"),
        Rule.RECAPTURE_ONLY_AFTER_ESCAPE,
    )
    escaped = run(c.Escape(**meta()), state=held())
    assert (escaped.status, escaped.custodian_id, escaped.facility_id) == (Status.ESCAPED, "sy-moi", None)
    back = run(c.Recapture(**meta(), facility=GHWERAN, authority_id="sy-moi"), state=escaped)
    assert (back.status, back.facility_id) == (Status.HELD, "ghweran")


def test_an_escaped_person_can_only_be_recaptured_or_reported_dead() -> None:
    escaped = run(c.Escape(**meta()), state=held())
    refused(escaped, c.Manifest(**meta(), movement_id="m1", origin_id="ghweran"), Rule.ESCAPED)
    assert run(c.Die(**meta()), state=escaped).status is Status.DEAD


def test_manifest_rules() -> None:
    refused(held(), c.Manifest(**meta(), movement_id="m1", origin_id="al-hol"), Rule.NOT_AT_ORIGIN)
    on = run(c.Manifest(**meta(), movement_id="m1", origin_id="ghweran"), state=held())
    refused(on, c.Manifest(**meta(), movement_id="m2", origin_id="ghweran"), Rule.ALREADY_ON_MOVEMENT)
    refused(on, c.Depart(**meta(), movement_id="m2"), Rule.NOT_ON_MOVEMENT)
    refused(on, c.Release(**meta(), reason="x"), Rule.ON_MANIFEST)
    off = run(c.Unmanifest(**meta(), movement_id="m1", reason="unfit"), state=on)
    assert off.movement_id is None


def test_handover_only_by_the_current_custodian_and_to_someone_else() -> None:
    refused(
        in_transit(),
        c.HandOver(**meta(), from_authority_id="iq-moj", to_authority_id="us-centcom"),
        Rule.CUSTODIAN_MISMATCH,
    )
    refused(
        in_transit(),
        c.HandOver(**meta(), from_authority_id="sy-moi", to_authority_id="sy-moi"),
        Rule.HANDOVER_TO_SELF,
    )


def test_arrival_only_from_transit_or_hospital() -> None:
    refused(held(), c.Arrive(**meta(), facility=KARKH), Rule.NOT_IN_TRANSIT)
    refused(in_transit(), c.Arrive(**meta(), facility=KARKH, movement_id="m9"), Rule.NOT_ON_MOVEMENT)
    hospital = run(c.Hospitalise(**meta(), place="Hasakah hospital"), state=held())
    assert run(c.Arrive(**meta(), facility=GHWERAN), state=hospital).status is Status.ARRIVED


def test_a_correction_restores_custody_as_if_the_event_had_not_happened() -> None:
    history = []
    state = None
    for command in (register(), c.Die(**meta())):
        (event,) = decide(state, command)  # type: ignore[misc]
        state = apply(state, event)
        history.append(event)
    death = history[-1]
    correction = c.Correct(**meta(), target_event_id=death.event_id, reason="wrong person", history=tuple(history))
    (corrected,) = decide(state, correction)  # type: ignore[misc]
    assert corrected.type is EventType.CORRECTED and corrected.corrects == death.event_id
    state = apply(state, corrected)
    assert (state.status, state.facility_id, state.custodian_id) == (Status.HELD, "ghweran", "sy-moi")
    history.append(corrected)
    assert fold(history) == state
    again = c.Correct(**meta(), target_event_id=death.event_id, reason="again", history=tuple(history))
    refused(state, again, Rule.CORRECTION_ALREADY_CORRECTED)
    refused(state, replace(again, target_event_id="nope"), Rule.CORRECTION_TARGET_UNKNOWN)
    refused(state, replace(again, target_event_id=history[0].event_id), Rule.CORRECTION_NOT_CORRECTABLE)
    refused(state, replace(again, target_event_id=corrected.event_id), Rule.CORRECTION_NOT_CORRECTABLE)


def test_a_correction_that_would_break_later_events_is_refused() -> None:
    history = []
    state = None
    for command in (
        register(),
        c.Manifest(**meta(), movement_id="m1", origin_id="ghweran"),
        c.Depart(**meta(), movement_id="m1"),
    ):
        (event,) = decide(state, command)  # type: ignore[misc]
        state = apply(state, event)
        history.append(event)
    correction = c.Correct(**meta(), target_event_id=history[1].event_id, reason="x", history=tuple(history))
    refused(state, correction, Rule.CORRECTION_BREAKS_CHAIN)


def test_fold_rejects_a_forged_correction() -> None:
    history = []
    state = None
    for command in (register(), c.Escape(**meta())):
        (event,) = decide(state, command)  # type: ignore[misc]
        state = apply(state, event)
        history.append(event)
    correction = c.Correct(**meta(), target_event_id=history[1].event_id, reason="x", history=tuple(history))
    (event,) = decide(state, correction)  # type: ignore[misc]
    forged = replace(event, facility_id="karkh")
    result = fold([*history, forged])
    assert isinstance(result, Refused) and result.rule is Rule.CORRECTION_BREAKS_CHAIN


def test_a_correction_needs_a_reason() -> None:
    state = held()
    correction = c.Correct(**meta(), target_event_id=state.last_event_id, reason="  ", history=())
    refused(state, correction, Rule.REASON_REQUIRED)
