"""The report's figures, counted from custody events: by hand for one small operation, and as properties."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from handover.core.custody import CustodyEvent, Refused, Status, apply, decide
from handover.core.custody import commands as c
from handover.core.custody.model import Estate, Sex
from handover.core.report import figures
from handover.core.report.figures import Attributes
from tests.core.test_custody_properties import World, build, steps
from tests.factories import AL_HOL, GHWERAN, KARKH, T0


class Operation:
    """Commands through the custody machine, so every chain counted is one the machine accepts."""

    def __init__(self) -> None:
        self.world = World()
        self.events: list[CustodyEvent] = []

    def do(self, command: c.Command) -> None:
        state = self.world.states.get(command.person_id)
        decision = decide(state, command)
        assert not isinstance(decision, Refused), decision.message
        for event in decision:
            state = apply(state, event)
            self.world.states[command.person_id] = state
            self.world.chains.setdefault(command.person_id, []).append(event)
            self.events.append(event)

    def at(self, person: str, days: float) -> dict[str, object]:
        meta = self.world.meta(person)
        moment = T0 + timedelta(days=days, minutes=self.world.n)
        return {**meta, "occurred_at": moment, "recorded_at": moment}

    def register(self, person: str, facility=GHWERAN, estate: Estate = Estate.ADULT_MEN) -> None:  # type: ignore[no-untyped-def]
        self.do(
            c.Register(
                **self.at(person, 0), facility=facility, custodian_id="sy-moi", estate=estate, identity_commitment="00"
            )
        )

    def move(self, person: str, movement: str, days: float, to=KARKH) -> None:  # type: ignore[no-untyped-def]
        origin = self.world.states[person].facility_id
        self.do(c.Manifest(**self.at(person, days), movement_id=movement, origin_id=origin or ""))
        self.do(c.Depart(**self.at(person, days), movement_id=movement))
        self.do(
            c.HandOver(**self.at(person, days), from_authority_id="sy-moi", to_authority_id="iq-moj", place_id=to.id)
        )
        self.do(c.Arrive(**self.at(person, days), facility=to, movement_id=movement))
        self.do(c.Admit(**self.at(person, days), facility=to, authority_id="iq-moj"))


def test_a_small_operation_counted_by_hand() -> None:
    op = Operation()
    for person in ("a", "b", "c"):
        op.register(person)
    op.register("w", AL_HOL, Estate.ADULT_WOMEN)
    op.register("k", AL_HOL, Estate.MINORS)
    # T0 is Wednesday 21 January 2026, ISO week 4; nine days later (Friday 30 January) is week 5.
    op.move("a", "m1", 0.1)
    op.move("b", "m2", 9)
    op.do(c.Assess(**op.at("c", 1), kind="fit_to_travel", outcome="fit"))
    op.do(c.Assess(**op.at("c", 1), kind="legal_review", outcome="cleared"))
    op.do(c.Assess(**op.at("w", 1), kind="fit_to_travel", outcome="fit"))
    op.do(c.Hospitalise(**op.at("k", 2), place="hospital"))
    op.do(c.Repatriate(**op.at("w", 3), to_authority_id="us-centcom", country="FR"))
    op.do(c.Escape(**op.at("b", 10)))
    identities = {
        "a": Attributes("FR", Sex.MALE, date(1990, 1, 1)),
        "b": Attributes("", Sex.MALE, date(2010, 1, 1)),  # 16 when moved: a boy, whatever the estate says
    }

    counted = figures.count(op.events, identities)

    assert counted.counts == {
        "registered": 5,
        "moved": 2,
        "held": 2,  # a at Karkh, c at Ghweran
        "in_transit": 0,
        "repatriated": 1,
        "released": 0,
        "escaped": 1,
        "recaptured": 0,
        "died": 0,
        "hospitalised": 1,
        "awaiting_safeguards": 0,  # c passed both; a is no longer where registered
    }
    by_week = counted.table(figures.MOVED_BY_WEEK)
    assert by_week.rows == ("2026-W04", "2026-W05")
    assert by_week.counts == {("2026-W04", "karkh"): 1, ("2026-W05", "karkh"): 1}
    nationality = counted.table(figures.MOVED_BY_NATIONALITY)
    assert nationality.counts == {("FR", "men"): 1, ("unknown", "boys"): 1}
    assert nationality.needs_identities and nationality.columns == figures.GROUPS
    assert counted.table(figures.HELD).counts == {("karkh", "adult_men"): 1, ("ghweran", "adult_men"): 1}
    assert counted.table(figures.REPATRIATED).counts == {("us-centcom", "adult_women"): 1}
    assert counted.as_of == max(event.occurred_at for event in op.events)


def test_awaiting_safeguards_needs_every_passing_outcome_and_the_latest_counts() -> None:
    op = Operation()
    for person in ("none", "fit-only", "both", "revoked"):
        op.register(person)
    op.do(c.Assess(**op.at("fit-only", 1), kind="fit_to_travel", outcome="fit"))
    for person in ("both", "revoked"):
        op.do(c.Assess(**op.at(person, 1), kind="fit_to_travel", outcome="fit"))
        op.do(c.Assess(**op.at(person, 1), kind="legal_review", outcome="cleared"))
    op.do(c.Assess(**op.at("revoked", 2), kind="fit_to_travel", outcome="unfit"))

    counted = figures.count(op.events)

    assert counted.table(figures.AWAITING).counts == {("ghweran", "adult_men"): 3}
    assert counted.counts["awaiting_safeguards"] == 3


def test_a_corrected_admission_is_not_a_move() -> None:
    op = Operation()
    op.register("a")
    op.move("a", "m1", 1)
    admission = op.world.chains["a"][-1]
    op.do(
        c.Correct(
            **op.at("a", 2),
            target_event_id=admission.event_id,
            reason="wrong prison",
            history=tuple(op.world.chains["a"]),
        )
    )

    counted = figures.count(op.events)

    assert counted.counts["moved"] == 0
    assert counted.table(figures.MOVED_BY_WEEK).counts == {}
    assert counted.counts["in_transit"] == 1  # arrived, no longer admitted


def test_without_identity_records_there_is_no_nationality_table() -> None:
    op = Operation()
    op.register("a")
    op.move("a", "m1", 1)
    names = [table.name for table in figures.count(op.events).tables]
    assert figures.MOVED_BY_NATIONALITY not in names
    assert figures.MOVED_BY_WEEK in names


@settings(max_examples=150, deadline=None)
@given(st.lists(steps, min_size=10, max_size=80))
def test_figures_agree_with_each_other_and_with_the_custody_states(sequence: list[tuple]) -> None:  # type: ignore[type-arg]
    world = World()
    events: list[CustodyEvent] = []
    for step in sequence:
        command = build(world, step)
        before = world.states.get(command.person_id)
        decision = decide(before, command)
        if isinstance(decision, Refused):
            continue
        for event in decision:
            world.states[command.person_id] = before = apply(before, event)
            world.chains.setdefault(command.person_id, []).append(event)
            events.append(event)
    attributes = {person: Attributes("IQ", Sex.MALE, None) for person in world.states}

    counted = figures.count(events, attributes)

    statuses = Counter(state.status for state in world.states.values())
    assert counted.counts["registered"] == len(world.states)
    assert counted.counts["held"] == statuses[Status.HELD] == counted.table(figures.HELD).total
    assert counted.counts["repatriated"] == statuses[Status.REPATRIATED]
    moved = counted.counts["moved"]
    assert moved == counted.table(figures.MOVED_BY_WEEK).total == counted.table(figures.MOVED_BY_NATIONALITY).total
    assert counted.table(figures.AWAITING).total == counted.counts["awaiting_safeguards"] <= counted.counts["held"]
    held = counted.table(figures.HELD)
    for person, state in world.states.items():
        if state.status is Status.HELD:
            assert held.count(state.facility_id or "", state.estate.value) >= 1, person
