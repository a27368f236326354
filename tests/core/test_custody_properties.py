"""Property tests: random command sequences never break the custody invariants."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from hypothesis import event as hypothesis_event
from hypothesis import given, settings
from hypothesis import strategies as st

from handover.core.custody import CustodyEvent, EventType, PersonState, Refused, Status, apply, decide, fold
from handover.core.custody import commands as c
from handover.core.custody.model import Estate
from handover.core.custody.state import TERMINAL, describe
from tests.factories import AL_HOL, FACILITIES, GHWERAN, KARKH, T0

PEOPLE = ("p0", "p1", "p2")
AUTHORITIES = ("sy-moi", "us-centcom", "iq-moj")
MOVEMENTS = ("m1", "m2")
PLACES = {f.id: f for f in FACILITIES}


@dataclass
class World:
    states: dict[str, PersonState] = field(default_factory=dict)
    chains: dict[str, list[CustodyEvent]] = field(default_factory=dict)
    n: int = 0

    def meta(self, person: str) -> dict[str, object]:
        self.n += 1
        return {
            "person_id": person,
            "event_id": f"e{self.n}",
            "occurred_at": T0 + timedelta(minutes=self.n),
            "recorded_at": T0 + timedelta(minutes=self.n),
        }


# A step is a command kind plus raw choices; the world turns it into a command (some valid, many not).
steps = st.tuples(
    # The steps of a transfer come more often than incidents, so long chains are common.
    st.sampled_from(
        [
            "register",
            "assess",
            "manifest",
            "unmanifest",
            "depart",
            "handover",
            "arrive",
            "admit",
            "notify",
            "hospitalise",
            "escape",
            "recapture",
            "die",
            "release",
            "repatriate",
            "correct",
            *(["register", "manifest", "depart", "handover", "arrive", "admit"] * 3),
        ]
    ),
    st.sampled_from(PEOPLE),
    st.sampled_from(sorted(PLACES)),
    st.sampled_from(AUTHORITIES),
    st.sampled_from(AUTHORITIES),
    st.sampled_from(MOVEMENTS),
    st.integers(min_value=0, max_value=30),
    st.sampled_from(list(Estate)),
)


def build(world: World, step: tuple) -> c.Command:  # type: ignore[type-arg]
    kind, person, place, auth_a, auth_b, movement, pick, estate = step
    m = world.meta(person)
    facility = PLACES[place]
    state = world.states.get(person)
    # Mostly pick what fits the person's state (pick % 4 != 0), sometimes anything, so both paths are explored.
    plausible = state is not None and pick % 4 != 0
    if plausible and state is not None and state.movement_id:
        movement = state.movement_id
    here = PLACES.get(state.facility_id or "") if plausible and state is not None else None
    match kind:
        case "register":
            if pick % 4:
                estate = next(e for e in Estate if facility.holds(e))
            return c.Register(**m, facility=facility, custodian_id=auth_a, estate=estate, identity_commitment="00")
        case "assess":
            return c.Assess(**m, kind="medical", outcome="fit")
        case "manifest":
            return c.Manifest(**m, movement_id=movement, origin_id=here.id if here else place)
        case "unmanifest":
            return c.Unmanifest(**m, movement_id=movement, reason="r")
        case "depart":
            return c.Depart(**m, movement_id=movement)
        case "handover":
            # Mostly hand over from the real custodian, so deep chains happen often.
            source = state.custodian_id if state is not None and pick % 4 else auth_a
            return c.HandOver(**m, from_authority_id=source or auth_a, to_authority_id=auth_b, place_id=place)
        case "arrive":
            return c.Arrive(**m, facility=facility, movement_id=movement if pick % 3 else None)
        case "admit":
            custodian = state.custodian_id if state is not None and pick % 4 else auth_a
            return c.Admit(**m, facility=here or facility, authority_id=custodian or auth_a)
        case "notify":
            return c.Notify(**m, channel="phone")
        case "hospitalise":
            return c.Hospitalise(**m, place="hospital")
        case "escape":
            return c.Escape(**m)
        case "recapture":
            return c.Recapture(**m, facility=facility, authority_id=auth_a)
        case "die":
            return c.Die(**m)
        case "release":
            return c.Release(**m, reason="r")
        case "repatriate":
            return c.Repatriate(**m, to_authority_id=auth_b, country="FR")
    chain = world.chains.get(person, [])
    target = chain[pick % len(chain)].event_id if chain and pick else "unknown"
    return c.Correct(**m, target_event_id=target, reason="r", history=tuple(chain))


def check_invariants(world: World) -> None:
    for person, state in world.states.items():
        # Exactly one custodian, always, until custody ends with release.
        if state.status is Status.RELEASED:
            assert state.custodian_id is None
        else:
            assert state.custodian_id in AUTHORITIES
        # Exactly one place: a facility, a movement, or (escaped, dead, gone) neither.
        if state.status in (Status.HELD, Status.ARRIVED):
            assert state.facility_id in PLACES
        if state.status is Status.IN_TRANSIT:
            assert state.facility_id is None and state.movement_id in MOVEMENTS
        if state.status in (Status.ESCAPED, Status.HOSPITALISED, *TERMINAL):
            assert state.facility_id is None
        if state.movement_id is not None:
            assert state.status in (Status.HELD, Status.IN_TRANSIT, Status.ARRIVED)
        # The live state is what the chain folds to, judged by the same rules (what a monitor re-derives).
        assert fold(world.chains[person]) == state


@settings(max_examples=300, deadline=None)
@given(st.lists(steps, min_size=10, max_size=80))
def test_random_command_sequences_keep_every_invariant(sequence: list[tuple]) -> None:  # type: ignore[type-arg]
    world = World()
    for step in sequence:
        command = build(world, step)
        before = world.states.get(command.person_id)
        decision = decide(before, command)
        if isinstance(decision, Refused):
            assert decision.person_id == command.person_id
            assert decision.state == describe(before)
            assert command.person_id in decision.message
            continue
        for event in decision:
            after = apply(before, event)
            # Ordering rules, stated independently of the machine's own code:
            if before is not None and before.status in TERMINAL:
                assert event.type is EventType.CORRECTED
            if event.type is EventType.ADMITTED:
                assert before is not None and before.status is Status.ARRIVED
                assert before.facility_id == event.facility_id
            if event.type is EventType.RECAPTURED:
                assert before is not None and before.status is Status.ESCAPED
            if event.type is EventType.CORRECTED:
                assert event.corrects in {e.event_id for e in world.chains[command.person_id]}
            world.states[command.person_id] = before = after
            hypothesis_event(f"accepted {event.type.value}")
            world.chains.setdefault(command.person_id, []).append(event)
        check_invariants(world)


def test_the_generator_reaches_deep_states() -> None:
    """Guards the property test above against only ever exploring refusals."""
    world = World()
    path = [
        ("register", "p0", "ghweran", "sy-moi", "sy-moi", "m1", 0, Estate.ADULT_MEN),
        ("manifest", "p0", "ghweran", "sy-moi", "sy-moi", "m1", 0, Estate.ADULT_MEN),
        ("depart", "p0", "ghweran", "sy-moi", "sy-moi", "m1", 0, Estate.ADULT_MEN),
        ("handover", "p0", "ghweran", "sy-moi", "iq-moj", "m1", 1, Estate.ADULT_MEN),
        ("arrive", "p0", "karkh", "sy-moi", "sy-moi", "m1", 1, Estate.ADULT_MEN),
        ("admit", "p0", "karkh", "sy-moi", "sy-moi", "m1", 1, Estate.ADULT_MEN),
    ]
    for step in path:
        command = build(world, step)
        decision = decide(world.states.get(command.person_id), command)
        assert not isinstance(decision, Refused), decision.message
        for event in decision:
            world.states["p0"] = apply(world.states.get("p0"), event)
            world.chains.setdefault("p0", []).append(event)
    assert world.states["p0"].status is Status.HELD and world.states["p0"].facility_id == KARKH.id
    assert GHWERAN.id != AL_HOL.id
