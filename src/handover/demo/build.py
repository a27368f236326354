"""Build the demo: reference data, the registered people, and the first week as history.

Everything goes through the same services a user's command would call, one transaction per step, with a simulated
clock and seeded ids so two builds with the same seed give identical databases.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

from handover.core.custody import Facility
from handover.core.custody.model import TransportMode
from handover.core.custody.movements import Route, Vehicle
from handover.core.policy.safeguards import FIT_TO_TRAVEL, LEGAL_REVIEW
from handover.demo.officers import DemoOfficers
from handover.demo.people import SyntheticPerson, generate
from handover.demo.scenario import Group, Scenario, load
from handover.services import assessments, planning, reconciliation, reference, transfers
from handover.services.errors import ConflictError
from handover.services.ports import UnitOfWork
from handover.services.registry import NewPerson, register_people
from handover.services.runtime import Runtime, SimulatedClock, seeded_runtime

DEMO_KEY = "demo"
REGISTRATION_BATCH = 1000
# Reports reach the system a little after the fact; recorded_at trails occurred_at by this much.
REPORTING_DELAY = timedelta(minutes=7)

UnitOfWorkFactory = Callable[[], UnitOfWork]
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class DemoSummary:
    seed: int
    people: int
    groups: int
    moved: int


def build_demo(
    factory: UnitOfWorkFactory,
    seed: int = 2026,
    people: int | None = None,
    scenario: Scenario | None = None,
    progress: Progress | None = None,
) -> DemoSummary:
    scenario = scenario or load()
    total = people if people is not None else scenario.people
    report = progress or (lambda stage, done, of: None)
    clock = SimulatedClock(scenario.registered_at)
    rt = seeded_runtime(seed, clock)
    rng = random.Random(f"handover-demo-{seed}")

    with factory() as uow:
        if uow.custody.size() or uow.reference.facilities():
            raise ConflictError(
                "database",
                "demo-needs-empty-database",
                "not empty",
                "The database already holds data; the demo builds only into an empty one.",
            )
        reference.add_reference_data(uow, scenario.authorities, scenario.facilities, scenario.routes)
        reference.set_planned_total(uow, min(scenario.planned, total))
        reference.set_operation_name(uow, scenario.name)
        uow.meta.put(DEMO_KEY, json.dumps({"scenario": scenario.id, "seed": seed, "people": total}))
        planning.set_parameters(uow, planning.Parameters.from_dict(scenario.planning))
        uow.commit()

    population = generate(scenario, total, rng, rt.new_id)
    steps = len(population) + sum(g.iraqis + g.foreigners for g in scenario.history)
    done = 0
    for start in range(0, len(population), REGISTRATION_BATCH):
        batch = population[start : start + REGISTRATION_BATCH]
        clock.set(scenario.registered_at + REPORTING_DELAY)
        with factory() as uow:
            register_people(
                uow,
                rt,
                [NewPerson(p.identity, p.facility_id, person_id=p.person_id) for p in batch],
                scenario.registered_at,
            )
            uow.commit()
        done += len(batch)
        report("register", done, steps)

    waiting = _waiting_men(population)
    officers = DemoOfficers(seed)
    moved = 0
    for number, group in enumerate(scenario.history, start=1):
        chosen = _choose(group, scenario, waiting, rng)
        if not chosen:
            continue
        admitted_at = _move_group(factory, rt, clock, scenario, officers, group, number, chosen)
        if number < len(scenario.history):
            # Families of every group but the last were told within hours; the last group's notifications are still
            # open, so the intake queue and its alert have something to show.
            told = admitted_at + NOTIFIED_AFTER
            clock.set(told + REPORTING_DELAY)
            with factory() as uow:
                reconciliation.record_notifications(uow, rt, chosen, "icrc", told)
                uow.commit()
        moved += len(chosen)
        done += group.iraqis + group.foreigners
        report("move", done, steps)
    _plan_next(factory, rt, clock, scenario, waiting, rng, len(scenario.history) + 1)
    return DemoSummary(seed, total, len(scenario.history), moved)


NOTIFIED_AFTER = timedelta(hours=6)
NEXT_GROUP = 60
CLEARED_AHEAD = 300


def _plan_next(
    factory: UnitOfWorkFactory,
    rt: Runtime,
    clock: SimulatedClock,
    scenario: Scenario,
    waiting: dict[tuple[str, bool], list[str]],
    rng: random.Random,
    number: int,
) -> None:
    """The next group, cleared, approved and manifested but not yet boarded: where a user of the demo takes over."""
    last = scenario.history[-1]
    route = next(r for r in scenario.routes if r.id == last.route)
    pool = waiting.get((route.origin_id, False), [])
    people = [pool.pop(i) for i in sorted(rng.sample(range(len(pool)), min(NEXT_GROUP, len(pool))), reverse=True)]
    if not people:
        return
    departs = last.departs + timedelta(days=2)
    reviewed = departs - timedelta(days=1)
    clock.set(reviewed + REPORTING_DELAY)
    with factory() as uow:
        assessments.assess(uow, rt, people, FIT_TO_TRAVEL, "fit", reviewed)
        assessments.assess(uow, rt, people, LEGAL_REVIEW, "cleared", reviewed)
        code = f"{scenario.id.upper()}-{departs:%m%d}-{number:02d}"
        movement = transfers.create_movement(uow, rt, code, route.id, departs)
        transfers.approve(uow, movement.id)
        transfers.manifest(uow, rt, movement.id, people, reviewed)
        # Reviews went on through the week for more of the men waiting at the same prison: a planner can adopt the
        # plan's first days for them (the rest wait for their reviews, as the plan says).
        more = [pool.pop(i) for i in sorted(rng.sample(range(len(pool)), min(CLEARED_AHEAD, len(pool))), reverse=True)]
        if more:
            assessments.assess(uow, rt, more, FIT_TO_TRAVEL, "fit", reviewed)
            assessments.assess(uow, rt, more, LEGAL_REVIEW, "cleared", reviewed)
        uow.commit()


def _waiting_men(population: Sequence[SyntheticPerson]) -> dict[tuple[str, bool], list[str]]:
    """Adult men still at each origin, split Iraqi / foreign, in registration order."""
    waiting: dict[tuple[str, bool], list[str]] = {}
    for p in population:
        if p.identity.mother_id is None and p.identity.sex.value == "male":
            waiting.setdefault((p.facility_id, p.iraqi), []).append(p.person_id)
    return waiting


def _choose(
    group: Group, scenario: Scenario, waiting: dict[tuple[str, bool], list[str]], rng: random.Random
) -> list[str]:
    origin = next(r.origin_id for r in scenario.routes if r.id == group.route)
    chosen: list[str] = []
    for iraqi, wanted in ((True, group.iraqis), (False, group.foreigners)):
        pool = waiting.get((origin, iraqi), [])
        picked = sorted(rng.sample(range(len(pool)), min(wanted, len(pool))), reverse=True)
        chosen.extend(pool.pop(i) for i in picked)
    return chosen


def _move_group(
    factory: UnitOfWorkFactory,
    rt: Runtime,
    clock: SimulatedClock,
    scenario: Scenario,
    officers: DemoOfficers,
    group: Group,
    number: int,
    people: list[str],
) -> datetime:
    """One group's week-one journey, each step its own transaction as the officers would record it.

    The legal reviewer and the medical officer clear the group, the planner sets the legs and the manifest, the
    escort counts people aboard each leg, custody passes by signed handovers (at the origin, at the border for a
    road convoy, at the destination), and the intake officer admits them; the movement is then reconciled.
    """
    route = next(r for r in scenario.routes if r.id == group.route)
    facilities = {f.id: f for f in scenario.facilities}
    code = f"{scenario.id.upper()}-{group.departs:%m%d}-{number:02d}"
    reviewed = group.departs - timedelta(days=1)
    boarding = group.departs - timedelta(hours=2)
    handover_at_origin = group.departs - timedelta(minutes=30)
    admitted_at = group.arrives + timedelta(hours=1)

    def step(moment: datetime, action: Callable[[UnitOfWork], object]) -> None:
        clock.set(moment + REPORTING_DELAY)
        with factory() as uow:
            action(uow)
            uow.commit()

    def review(uow: UnitOfWork) -> None:
        assessments.assess(uow, rt, people, FIT_TO_TRAVEL, "fit", reviewed)
        assessments.assess(uow, rt, people, LEGAL_REVIEW, "cleared", reviewed)

    step(reviewed, review)
    plans = _leg_plans(route, facilities, group)
    with factory() as uow:
        clock.set(boarding + REPORTING_DELAY)
        movement = transfers.create_movement(uow, rt, code, route.id, group.departs)
        transfers.plan_legs(uow, rt, movement.id, plans)
        transfers.approve(uow, movement.id)
        transfers.manifest(uow, rt, movement.id, people, boarding)
        uow.commit()
    mid = movement.id
    step(
        handover_at_origin,
        lambda uow: officers.hand_over(
            uow, rt, mid, group.handover_from, route.escort_id, route.origin_id, handover_at_origin
        ),
    )
    escort = route.escort_id
    for number_, plan in enumerate(plans, 1):
        if plan.escort_id != escort:
            # The escort changes at a border point: custody passes there by a signed handover.
            handed_from, at = escort, plan.scheduled_departure - timedelta(minutes=20)
            step(
                at,
                lambda uow, a=handed_from, b=plan.escort_id, place=plan.from_id, t=at, n=number_ - 1: (
                    officers.hand_over(uow, rt, mid, a, b, place, t, leg=n)
                ),
            )
            escort = plan.escort_id
        aboard = plan.scheduled_departure - timedelta(minutes=10)
        step(aboard, lambda uow, t=aboard: transfers.board(uow, rt, mid, people, t))
        step(plan.scheduled_departure, lambda uow, t=plan.scheduled_departure: transfers.depart(uow, rt, mid, t))
        step(plan.scheduled_arrival, lambda uow, t=plan.scheduled_arrival: transfers.arrive(uow, rt, mid, t))
    destination = facilities[route.destination_id]
    step(
        group.arrives,
        lambda uow: officers.hand_over(uow, rt, mid, escort, group.handover_to, destination.id, group.arrives),
    )
    step(admitted_at, lambda uow: transfers.admit(uow, rt, mid, admitted_at))
    step(admitted_at + timedelta(hours=2), lambda uow: reconciliation.reconcile(uow, mid))
    return admitted_at


# Crossing into another country's territory by road, the escort becomes that country's (assumption: Iraqi CTS).
ROAD_ESCORT_BY_COUNTRY = {"IQ": "iq-cts"}
STOP_TIME = timedelta(minutes=30)


def _leg_plans(route: Route, facilities: dict[str, Facility], group: Group) -> list[transfers.LegPlan]:
    """The group's legs: the route's stops, its time shared evenly between the stretches, with stops between them."""
    stops = [route.origin_id, *route.via, route.destination_id]
    stretches = len(stops) - 1
    moving = (group.arrives - group.departs - STOP_TIME * (stretches - 1)) / stretches
    vehicles = (
        tuple(Vehicle(f"Bus {i}", 45) for i in range(1, route.seats // 45 + 1))
        if route.mode is TransportMode.ROAD_CONVOY
        else tuple(Vehicle(f"Sortie {i}", route.seats) for i in range(1, group.sorties + 1))
    )
    plans = []
    start = group.departs
    for here, there in pairwise(stops):
        escort = route.escort_id
        if route.mode is TransportMode.ROAD_CONVOY:
            escort = ROAD_ESCORT_BY_COUNTRY.get(facilities[here].country, route.escort_id)
            if facilities[route.origin_id].country == facilities[here].country:
                escort = route.escort_id
        plans.append(transfers.LegPlan(here, there, route.mode, escort, vehicles, start, start + moving))
        start += moving + STOP_TIME
    return plans
