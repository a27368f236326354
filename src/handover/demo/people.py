"""Synthetic detainees for the demo: plausible names, ages, nationalities and families, from a seed.

Nobody here is real. Names are drawn from pools of common names, spelled in the varied ways real lists spell them.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from handover.core.custody.identity import Identity
from handover.core.custody.model import Sex
from handover.demo.scenario import Name, NamePool, Nationality, Population, Scenario


@dataclass(frozen=True, slots=True)
class SyntheticPerson:
    person_id: str
    identity: Identity
    facility_id: str
    iraqi: bool


class PeopleFactory:
    def __init__(self, scenario: Scenario, rng: random.Random, new_id: Callable[[], str]) -> None:
        self.scenario = scenario
        self.rng = rng
        self.new_id = new_id
        self.reference_day = scenario.registered_at.date()
        self._foreign = list(scenario.nationalities)
        self._weights = [n.weight for n in self._foreign]

    def _spelling(self, name: Name) -> str:
        # Most lists use the common spelling; a minority use the others.
        if len(name.latin) == 1 or self.rng.random() < 0.6:
            return name.latin[0]
        return self.rng.choice(name.latin[1:])

    def _full_name(self, pool: NamePool, sex: Sex) -> tuple[str, str, tuple[str, ...]]:
        given = self.rng.choice(pool.male_given if sex is Sex.MALE else pool.female_given)
        father = self.rng.choice(pool.male_given)
        family = self.rng.choice(pool.family)
        parts = (given, father, family)
        arabic = " ".join(p.ar for p in parts)
        latin = " ".join(self._spelling(p) for p in parts)
        aliases = {" ".join(self._spelling(p) for p in parts) for _ in range(2)} - {latin}
        return arabic, latin, tuple(sorted(aliases))

    def _birth(self, low: int, high: int) -> tuple[date, bool]:
        """A date of birth giving an age in [low, high] on the registration day (so estates come out right)."""
        age = self.rng.randint(low, high)
        day = self.reference_day
        if self.rng.random() < 0.35:
            # Registers record an estimated age as 1 January of the estimated year of birth.
            return date(day.year - age, 1, 1), True
        anniversary = day.replace(year=day.year - age)
        return anniversary - timedelta(days=self.rng.randint(1, 364)), False

    def _nationality(self, iraqi: bool) -> Nationality:
        if iraqi:
            return self.scenario.iraq
        return self.rng.choices(self._foreign, weights=self._weights, k=1)[0]

    def _person(
        self,
        facility: str,
        sex: Sex,
        ages: tuple[int, int],
        nationality: Nationality,
        mother_id: str | None = None,
    ) -> SyntheticPerson:
        pool = self.scenario.name_pools[nationality.names]
        arabic, latin, aliases = self._full_name(pool, sex)
        born, estimated = self._birth(*ages)
        identity = Identity(
            name_ar=arabic,
            name_latin=latin,
            aliases=aliases,
            sex=sex,
            birth_date=born,
            age_estimated=estimated,
            nationalities=(nationality.code,),
            mother_id=mother_id,
        )
        return SyntheticPerson(self.new_id(), identity, facility, nationality.code == self.scenario.iraq.code)

    def men(self, population: Population, count: int) -> list[SyntheticPerson]:
        return [
            self._person(
                population.facility,
                Sex.MALE,
                (18, 62),
                self._nationality(self.rng.random() < population.iraqi_share),
            )
            for _ in range(count)
        ]

    def families(self, population: Population, count: int) -> list[SyntheticPerson]:
        """Mothers then their children (1 to 4 each), until `count` people; children keep the mother's link."""
        people: list[SyntheticPerson] = []
        while len(people) < count:
            nationality = self._nationality(self.rng.random() < population.iraqi_share)
            mother = self._person(population.facility, Sex.FEMALE, (20, 45), nationality)
            people.append(mother)
            mother_age = self.reference_day.year - (mother.identity.birth_date or self.reference_day).year
            for _ in range(min(self.rng.randint(1, 4), count - len(people))):
                sex = self.rng.choice((Sex.MALE, Sex.FEMALE))
                oldest = max(0, min(17, mother_age - 16))
                people.append(self._person(population.facility, sex, (0, oldest), nationality, mother.person_id))
        return people


def shares(total: int, populations: tuple[Population, ...]) -> list[int]:
    """Split `total` by the populations' shares, largest remainders first, so the parts sum to `total`."""
    raw = [p.share * total for p in populations]
    counts = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - counts[i], reverse=True)
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def generate(scenario: Scenario, total: int, rng: random.Random, new_id: Callable[[], str]) -> list[SyntheticPerson]:
    factory = PeopleFactory(scenario, rng, new_id)
    people: list[SyntheticPerson] = []
    for population, count in zip(scenario.populations, shares(total, scenario.populations), strict=True):
        make = factory.men if population.kind == "men" else factory.families
        people.extend(make(population, count))
    return people
