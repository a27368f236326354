"""Scenarios built through the services, for tests of the read side (API, pages).

`transfer_scenario(world_db)` on the small world of tests/factories.py leaves:

- 30 men registered at ghweran, 5 women and 8 children (each with a mother) at al-hol;
- the 17 men moved cleared for travel first (fit to travel, legal review cleared);
- movement M-001 (12 men, ghweran -> karkh via kharab-al-jir) boarded and departed, handed over sy-moi ->
  us-centcom at ghweran and us-centcom -> iq-moj at karkh (signed by both sides), arrived and admitted: 12 held
  at karkh;
- movement M-002 (5 men, ghweran -> karkh) boarded, departed and handed over to us-centcom: 5 in transit;
- 13 men still at ghweran, 13 women and children at al-hol; a planned total of 7,000.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from handover.services import transfers
from handover.services.reference import set_planned_total
from handover.services.registry import NewPerson, register_people
from handover.services.runtime import SimulatedClock, seeded_runtime
from handover.store.uow import Database
from tests.factories import T0, child, man, woman
from tests.journeys import board_and_depart, clear, hand_over, travel_to_destination

PLANNED = 7000
MEN, WOMEN, CHILDREN, MOVED, IN_TRANSIT = 30, 5, 8, 12, 5
ARRIVED_CODE, IN_TRANSIT_CODE = "M-001", "M-002"


@dataclass(frozen=True)
class Scenario:
    men: list[str]
    women: list[str]
    children: list[str]
    moved: list[str]  # admitted at karkh by ARRIVED_CODE
    in_transit: list[str]  # on IN_TRANSIT_CODE
    movement_codes: tuple[str, str] = (ARRIVED_CODE, IN_TRANSIT_CODE)
    log_size: int = 0

    @property
    def registered(self) -> int:
        return len(self.men) + len(self.women) + len(self.children)

    @property
    def held_at_origin(self) -> int:
        return self.registered - len(self.moved) - len(self.in_transit)


def transfer_scenario(db: Database, seed: int = 1) -> Scenario:
    """Build the scenario on `db` (which must hold the world of tests/factories.py), one commit per step."""
    clock = SimulatedClock(T0)
    rt = seeded_runtime(seed, clock)
    step = timedelta(minutes=30)

    def tick() -> None:
        clock.advance(step)

    with db.unit_of_work() as uow:
        set_planned_total(uow, PLANNED)
        men = [
            e.event.person_id
            for e in register_people(uow, rt, [NewPerson(man(n), "ghweran") for n in range(MEN)], clock())
        ]
        mothers = [rt.new_id() for _ in range(WOMEN)]
        people = [NewPerson(woman(n), "al-hol", person_id=mothers[n]) for n in range(WOMEN)]
        people += [NewPerson(child(mothers[n % WOMEN], n), "al-hol") for n in range(CHILDREN)]
        registered = [e.event.person_id for e in register_people(uow, rt, people, clock())]
        uow.commit()
    women, children = registered[:WOMEN], registered[WOMEN:]
    moved, in_transit = men[:MOVED], men[MOVED : MOVED + IN_TRANSIT]

    # M-001: the whole way, ghweran -> karkh, admitted.
    tick()
    with db.unit_of_work() as uow:
        clear(uow, rt, moved + in_transit, clock())
        transfers.create_movement(uow, rt, ARRIVED_CODE, "ghweran-karkh", clock() + step)
        transfers.approve(uow, ARRIVED_CODE)
        transfers.manifest(uow, rt, ARRIVED_CODE, moved, clock())
        uow.commit()
    tick()
    with db.unit_of_work() as uow:
        board_and_depart(uow, rt, ARRIVED_CODE, clock())
        hand_over(uow, rt, ARRIVED_CODE, "sy-moi", "us-centcom", "ghweran", clock())
        uow.commit()
    tick()
    with db.unit_of_work() as uow:
        travel_to_destination(uow, rt, ARRIVED_CODE, clock())
        hand_over(uow, rt, ARRIVED_CODE, "us-centcom", "iq-moj", "karkh", clock())
        transfers.admit(uow, rt, ARRIVED_CODE, clock())
        uow.commit()

    # M-002: departed and handed to the escort, still in transit.
    tick()
    with db.unit_of_work() as uow:
        transfers.create_movement(uow, rt, IN_TRANSIT_CODE, "ghweran-karkh", clock() + step)
        transfers.approve(uow, IN_TRANSIT_CODE)
        transfers.manifest(uow, rt, IN_TRANSIT_CODE, in_transit, clock())
        uow.commit()
    tick()
    with db.unit_of_work() as uow:
        board_and_depart(uow, rt, IN_TRANSIT_CODE, clock())
        hand_over(uow, rt, IN_TRANSIT_CODE, "sy-moi", "us-centcom", "ghweran", clock())
        uow.commit()

    with db.unit_of_work() as uow:
        size = uow.custody.size()
    return Scenario(men, women, children, moved, in_transit, log_size=size)


def expected_log_size(scenario: Scenario) -> int:
    """Registrations, then two assessments and six custody events per person on M-001, two and three on M-002."""
    return scenario.registered + 8 * len(scenario.moved) + 5 * len(scenario.in_transit)
