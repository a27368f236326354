"""Planning from the live database: cohorts from custody, a checked plan, named drafts adopted as real movements,
binding constraints named, and the forecast from the log."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest

from handover.services import planning, transfers
from handover.services.errors import ConflictError
from handover.services.registry import NewPerson, register_people
from handover.services.runtime import SimulatedClock, seeded_runtime
from handover.store.uow import Database
from tests.factories import T0, child, man, woman
from tests.journeys import clear
from tests.scenarios import transfer_scenario

START = date(2026, 1, 22)


@pytest.fixture
def rt():  # type: ignore[no-untyped-def]
    return seeded_runtime(51, SimulatedClock(T0))


@pytest.fixture
def populated(world: Database, rt) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """30 men at Ghweran (20 cleared), 4 mothers with 6 children and 2 women alone at al-Hol (all cleared)."""
    with world.unit_of_work() as uow:
        men = [
            s.event.person_id for s in register_people(uow, rt, [NewPerson(man(n), "ghweran") for n in range(30)], T0)
        ]
        mothers = [rt.new_id() for _ in range(6)]
        families = [NewPerson(woman(n), "al-hol", person_id=mothers[n]) for n in range(6)]
        families += [NewPerson(child(mothers[n % 4], n), "al-hol") for n in range(6)]
        camp = [s.event.person_id for s in register_people(uow, rt, families, T0)]
        clear(uow, rt, men[:20] + camp, T0)
        uow.commit()
    return {"men": men, "camp": camp, "mothers": mothers}


def test_cohorts_come_from_custody_and_families_stay_whole(world: Database, populated) -> None:  # type: ignore[no-untyped-def]
    with world.unit_of_work(read_only=True) as uow:
        inputs = planning.build_inputs(uow, START, planning.Parameters(pending_clearance_day=None))
    cohorts = {c.id: c for c in inputs.model.cohorts}
    assert inputs.model.people == 42
    sizes = Counter((c.origin, c.unit_size, c.cleared) for c in cohorts.values() for _ in range(c.units))
    # 4 families: two mothers with two children, two with one; two women alone; 20 cleared men, 10 pending.
    assert sizes == {
        ("al-hol", 3, True): 2,
        ("al-hol", 2, True): 2,
        ("al-hol", 1, True): 2,
        ("ghweran", 1, True): 20,
        ("ghweran", 1, False): 10,
    }
    units = Counter(m.unit_id for m in inputs.members)
    assert all(units[mother] in (2, 3) for mother in populated["mothers"][:4])


def test_a_plan_is_checked_named_and_adopted_through_the_safeguards(world: Database, rt, populated) -> None:  # type: ignore[no-untyped-def]
    with world.unit_of_work(read_only=True) as uow:
        result = planning.make_plan(uow, START, time_limit=5, values=planning.Parameters(pending_clearance_day=None))
    assert result.violations == []
    planned = [p for d in result.drafts for p in d.people]
    assert len(planned) == len(set(planned)) == 32  # the 10 men pending clearance are never scheduled
    assert set(planned) == set(populated["men"][:20]) | set(populated["camp"])
    # Families travel on one draft.
    by_person = {p: d for d in result.drafts for p in d.people}
    for n, kid in enumerate(populated["camp"][6:]):
        assert by_person[kid] is by_person[populated["mothers"][n % 4]]
    # Why not everyone: the pending men are named as waiting for clearance.
    assert any("clearance" in b.message for b in result.plan.bottlenecks)
    first_day = min(d.day for d in result.drafts)
    with world.unit_of_work() as uow:
        codes = planning.adopt(uow, rt, result, first_day)
        uow.commit()
    with world.unit_of_work(read_only=True) as uow:
        manifested = {s.person_id for code in codes for s in uow.custody.on_movement(transfers.movement(uow, code).id)}
    assert manifested == {p for d in result.drafts if d.day == first_day for p in d.people}


def test_people_never_cleared_make_adoption_refuse_by_name(world: Database, rt, populated) -> None:  # type: ignore[no-untyped-def]
    with world.unit_of_work(read_only=True) as uow:
        result = planning.make_plan(uow, START, time_limit=5, values=planning.Parameters(pending_clearance_day=0))
    pending = set(populated["men"][20:])
    day = next(d.day for d in result.drafts if pending & set(d.people))
    with world.unit_of_work() as uow, pytest.raises(ConflictError) as caught:
        planning.adopt(uow, rt, result, day)
    assert caught.value.rule == "fit-to-travel" and caught.value.subject in pending


def test_the_binding_constraint_is_named(world: Database, populated) -> None:  # type: ignore[no-untyped-def]
    # Karkh holds 60 men; with an intake cap of 5 a day and a 3-day horizon, the cap binds.
    values = planning.Parameters(horizon_days=3, daily_intake_cap={"karkh": 5}, pending_clearance_day=None)
    with world.unit_of_work(read_only=True) as uow:
        result = planning.make_plan(uow, START, time_limit=5, values=values)
    assert result.violations == [] and result.plan.completion_day is None
    assert any(b.kind.value == "intake_cap" and b.subject == "karkh" for b in result.plan.bottlenecks)


def test_the_forecast_rests_on_the_days_moved_in_the_log(world: Database) -> None:
    scenario = transfer_scenario(world)  # 12 men admitted at Karkh on the first day
    as_of = T0.date() + timedelta(days=3)
    with world.unit_of_work(read_only=True) as uow:
        band = planning.make_forecast(uow, as_of, remaining=scenario.held_at_origin)
    assert (band.moved, band.history_days, band.moving_days) == (len(scenario.moved), 4, 1)
    assert band.baseline.p50_date is not None and band.baseline.p50_date > as_of
    assert band.baseline.p50 <= band.baseline.p85 <= band.baseline.p95  # type: ignore[operator]
    assert "4 days of history" in band.basis


def test_movements_already_planned_take_their_sorties_and_intake(world: Database, rt, populated) -> None:  # type: ignore[no-untyped-def]
    values = planning.Parameters(
        sorties_per_day={"helicopter": 1, "road_convoy": 1}, daily_intake_cap={"karkh": 40}, pending_clearance_day=None
    )
    with world.unit_of_work() as uow:
        first = planning.make_plan(uow, START, time_limit=5, values=values)
        day = min(d.day for d in first.drafts if d.route_id == "ghweran-karkh")
        planning.adopt(uow, rt, first, day)
        clear(uow, rt, populated["men"][20:], T0)
        uow.commit()
    with world.unit_of_work(read_only=True) as uow:
        again = planning.make_plan(uow, START, time_limit=5, values=values)
        assert planning.default_start(uow, START) == T0.date() + timedelta(days=1)
    assert again.violations == []
    # The adopted sortie used that day's only helicopter: the newly cleared men go on another day.
    assert [d for d in again.drafts if d.route_id == "ghweran-karkh" and d.day == day] == []
    assert {p for d in again.drafts for p in d.people} >= set(populated["men"][20:])


def test_people_a_country_has_accepted_are_leaving_and_the_planner_plans_nothing_else_for_them(world: Database) -> None:
    from handover.core.repatriation.cases import CaseAction
    from handover.services import repatriation
    from tests.support.accounts import cheap_hashing
    from tests.support.repatriation import repatriation_world

    with cheap_hashing():
        kz = repatriation_world(world)
    accepted, talking = kz.kazakhs[0], kz.kazakhs[1]
    with world.unit_of_work() as uow:
        clear(uow, kz.rt, kz.kazakhs, T0)
        cases = [repatriation.open_case(uow, kz.rt, kz.planner.principal, p, "KZ") for p in (accepted, talking)]
        repatriation.send_request(uow, kz.rt, kz.planner.principal, "KZ", [c.id for c in cases], START)
        for case in cases:
            repatriation.act(uow, kz.rt, kz.diplomat_kz.principal, case.id, CaseAction.OPEN_TALKS)
        repatriation.act(uow, kz.rt, kz.diplomat_kz.principal, cases[0].id, CaseAction.ACCEPT)
        uow.commit()
    with world.unit_of_work(read_only=True) as uow:
        planned = {m.person_id for m in planning.build_inputs(uow, START).members}
    assert accepted not in planned  # leaving by repatriation
    assert talking in planned and kz.kazakhs[2] in planned  # still in talks, or no case: planned as anyone else
