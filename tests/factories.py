"""A small world of reference data and synthetic identities for tests."""

from __future__ import annotations

from datetime import UTC, date, datetime

from handover.core.custody import Authority, Capacity, Facility
from handover.core.custody.identity import Identity
from handover.core.custody.model import AuthorityKind, FacilityKind, Sex, TransportMode
from handover.core.custody.movements import Route
from handover.services.ports import UnitOfWork
from handover.services.reference import add_reference_data

T0 = datetime(2026, 1, 21, 6, 0, tzinfo=UTC)

AUTHORITIES = [
    Authority("sy-moi", "Syrian Ministry of Interior", AuthorityKind.MINISTRY, "SY"),
    Authority("us-centcom", "US Central Command", AuthorityKind.COALITION, ""),
    Authority("iq-moj", "Iraq Ministry of Justice", AuthorityKind.MINISTRY, "IQ"),
]

GHWERAN = Facility(
    "ghweran", "Ghweran prison", "SY", FacilityKind.PRISON, 36.51, 40.74, "sy-moi", 3, Capacity(adult_men=100)
)
AL_HOL = Facility("al-hol", "al-Hol camp", "SY", FacilityKind.CAMP, 36.37, 41.14, "sy-moi", 2, Capacity(0, 50, 100))
KARKH = Facility(
    "karkh",
    "Karkh Central Prison",
    "IQ",
    FacilityKind.PRISON,
    33.24,
    44.22,
    "iq-moj",
    4,
    Capacity(adult_men=60),
)
JEDDAH = Facility(
    "jeddah-1", "Jeddah-1", "IQ", FacilityKind.FAMILY_CENTRE, 35.79, 43.29, "iq-moj", 2, Capacity(0, 40, 80)
)
KHARAB = Facility(
    "kharab-al-jir",
    "Kharab al-Jir",
    "SY",
    FacilityKind.STAGING_BASE,
    37.05,
    41.65,
    "us-centcom",
    3,
    Capacity(50, 0, 0),
)
FACILITIES = [GHWERAN, AL_HOL, KARKH, JEDDAH, KHARAB]

ROUTES = [
    Route(
        "ghweran-karkh",
        "ghweran",
        "karkh",
        ("kharab-al-jir",),
        TransportMode.HELICOPTER,
        "us-centcom",
        480,
        40,
    ),
    Route("al-hol-jeddah", "al-hol", "jeddah-1", (), TransportMode.ROAD_CONVOY, "us-centcom", 300, 45),
]


def add_world(uow: UnitOfWork) -> None:
    add_reference_data(uow, AUTHORITIES, FACILITIES, ROUTES)


def man(n: int = 0, nationality: str = "IQ") -> Identity:
    return Identity(
        name_ar=f"محمد {n}",
        name_latin=f"Mohammed {n}",
        aliases=(f"Muhammad {n}",),
        sex=Sex.MALE,
        birth_date=date(1990, 1, 1),
        age_estimated=False,
        nationalities=(nationality,),
    )


def woman(n: int = 0) -> Identity:
    return Identity(
        name_ar=f"فاطمة {n}",
        name_latin=f"Fatima {n}",
        aliases=(),
        sex=Sex.FEMALE,
        birth_date=date(1995, 5, 5),
        age_estimated=True,
        nationalities=("IQ",),
    )


def child(mother_id: str, n: int = 0) -> Identity:
    return Identity(
        name_ar=f"علي {n}",
        name_latin=f"Ali {n}",
        aliases=(),
        sex=Sex.MALE,
        birth_date=date(2018, 3, 3),
        age_estimated=True,
        nationalities=("IQ",),
        mother_id=mother_id,
    )
