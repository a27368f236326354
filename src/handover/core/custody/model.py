"""The things custody is about: estates, authorities, facilities."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Estate(StrEnum):
    """The part of a facility a person may be held in; capacity is counted per estate."""

    ADULT_MEN = "adult_men"
    ADULT_WOMEN = "adult_women"
    MINORS = "minors"


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"


ADULT_AGE = 18


def estate_for(sex: Sex, age_years: int) -> Estate:
    if age_years < ADULT_AGE:
        return Estate.MINORS
    return Estate.ADULT_MEN if sex is Sex.MALE else Estate.ADULT_WOMEN


class AuthorityKind(StrEnum):
    MINISTRY = "ministry"
    FORCE = "force"
    COALITION = "coalition"
    JUDICIARY = "judiciary"
    COUNTRY_OF_ORIGIN = "country_of_origin"


class FacilityKind(StrEnum):
    CAMP = "camp"
    PRISON = "prison"
    STAGING_BASE = "staging_base"
    AIRFIELD = "airfield"
    BORDER_CROSSING = "border_crossing"
    FAMILY_CENTRE = "family_centre"


class TransportMode(StrEnum):
    HELICOPTER = "helicopter"
    AIRCRAFT = "aircraft"
    ROAD_CONVOY = "road_convoy"


@dataclass(frozen=True, slots=True)
class Authority:
    id: str
    name: str
    kind: AuthorityKind
    country: str


@dataclass(frozen=True, slots=True)
class Capacity:
    """Places per estate; zero means the facility does not hold that estate at all."""

    adult_men: int = 0
    adult_women: int = 0
    minors: int = 0

    def for_estate(self, estate: Estate) -> int:
        return int(getattr(self, estate.value))

    @property
    def total(self) -> int:
        return self.adult_men + self.adult_women + self.minors


@dataclass(frozen=True, slots=True)
class Facility:
    id: str
    name: str
    country: str
    kind: FacilityKind
    latitude: float
    longitude: float
    authority_id: str
    security_level: int
    capacity: Capacity
    name_ar: str = ""

    def holds(self, estate: Estate) -> bool:
        return self.capacity.for_estate(estate) > 0
