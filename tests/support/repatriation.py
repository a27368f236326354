"""A small repatriation world for tests of the API and the pages: Kazakh and French nationals held at Ghweran, the
two countries' authorities, Qamishli airport and the road to it, and real accounts (a planner, a diplomat of each
country, an escort of the coalition, a monitor) as people would sign in with them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from handover.core.custody import Authority, Capacity, Facility
from handover.core.custody.model import AuthorityKind, FacilityKind, TransportMode
from handover.core.custody.movements import Route
from handover.core.policy.access import Role
from handover.services import reference
from handover.services.registry import NewPerson, register_people
from handover.services.runtime import Runtime, SimulatedClock, seeded_runtime
from handover.store.uow import Database
from tests.factories import T0, man
from tests.support.accounts import User, make_user

KZ_GOV = Authority("kz-gov", "Kazakhstan, Ministry of Foreign Affairs", AuthorityKind.COUNTRY_OF_ORIGIN, "KZ")
FR_GOV = Authority("fr-gov", "France, Ministry for Europe and Foreign Affairs", AuthorityKind.COUNTRY_OF_ORIGIN, "FR")
AIRPORT = Facility(
    "qamishli-airport", "Qamishli airport", "SY", FacilityKind.AIRFIELD, 37.02, 41.19, "sy-moi", 2, Capacity(20, 0, 0)
)
ROAD = Route("ghweran-airport", "ghweran", "qamishli-airport", (), TransportMode.ROAD_CONVOY, "us-centcom", 90, 45)

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << >> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
# A clock a few hours after T0, so that times the tests give (T0 + minutes) are in the past.
NOW = T0 + timedelta(hours=4)


@dataclass
class RepatriationWorld:
    db: Database
    rt: Runtime
    clock: SimulatedClock
    kazakhs: list[str]
    french: str
    planner: User
    diplomat_kz: User
    diplomat_fr: User
    escort: User
    monitor: User


def repatriation_world(db: Database, seed: int = 31) -> RepatriationWorld:
    """`db` (with tests/factories' world) plus the countries, the airport, three Kazakhs, one French, accounts."""
    clock = SimulatedClock(NOW)
    rt = seeded_runtime(seed, clock)
    with db.unit_of_work() as uow:
        reference.add_reference_data(uow, [KZ_GOV, FR_GOV], [AIRPORT], [ROAD])
        people = [NewPerson(man(i, "KZ"), "ghweran") for i in range(3)] + [NewPerson(man(9, "FR"), "ghweran")]
        stored = register_people(uow, rt, people, T0)
        uow.commit()
    ids = [s.event.person_id for s in stored]
    return RepatriationWorld(
        db,
        rt,
        clock,
        ids[:3],
        ids[3],
        make_user(db, rt, "planner", Role.PLANNER),
        make_user(db, rt, "diplomat-kz", Role.DIPLOMAT, country="KZ"),
        make_user(db, rt, "diplomat-fr", Role.DIPLOMAT, country="FR"),
        make_user(db, rt, "escort", Role.FIELD_OFFICER, authority_id="us-centcom"),
        make_user(db, rt, "monitor", Role.MONITOR),
    )
