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

from handover.demo.people import SyntheticPerson, generate
from handover.demo.scenario import Group, Scenario, load
from handover.services import reference, transfers
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
        uow.meta.put(DEMO_KEY, json.dumps({"scenario": scenario.id, "seed": seed, "people": total}))
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
    moved = 0
    for number, group in enumerate(scenario.history, start=1):
        chosen = _choose(group, scenario, waiting, rng)
        if not chosen:
            continue
        _move_group(factory, rt, clock, scenario, group, number, chosen)
        moved += len(chosen)
        done += group.iraqis + group.foreigners
        report("move", done, steps)
    return DemoSummary(seed, total, len(scenario.history), moved)


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
    group: Group,
    number: int,
    people: list[str],
) -> None:
    """One group's week-one journey, each step its own transaction as the officers would record it."""
    route = next(r for r in scenario.routes if r.id == group.route)
    code = f"{scenario.id.upper()}-{group.departs:%m%d}-{number:02d}"
    boarding = group.departs - timedelta(hours=2)
    handover_at_origin = group.departs - timedelta(minutes=30)
    admitted_at = group.arrives + timedelta(hours=1)

    def step(moment: datetime, action: Callable[[UnitOfWork], object]) -> None:
        clock.set(moment + REPORTING_DELAY)
        with factory() as uow:
            action(uow)
            uow.commit()

    with factory() as uow:
        clock.set(boarding + REPORTING_DELAY)
        movement = transfers.create_movement(uow, rt, code, route.id, group.departs)
        transfers.approve(uow, movement.id)
        transfers.manifest(uow, rt, movement.id, people, boarding)
        uow.commit()
    mid = movement.id
    step(
        handover_at_origin,
        lambda uow: transfers.hand_over(
            uow, rt, mid, group.handover_from, route.escort_id, route.origin_id, handover_at_origin
        ),
    )
    step(group.departs, lambda uow: transfers.depart(uow, rt, mid, group.departs))
    step(
        group.arrives,
        lambda uow: transfers.hand_over(
            uow, rt, mid, route.escort_id, group.handover_to, route.destination_id, group.arrives
        ),
    )
    step(group.arrives, lambda uow: transfers.arrive(uow, rt, mid, group.arrives))
    step(admitted_at, lambda uow: transfers.admit(uow, rt, mid, admitted_at))
