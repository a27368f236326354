"""The demo scenario file (TOML data, not code), read into plain objects."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from handover.core.custody import Authority, Capacity, Facility
from handover.core.custody.model import AuthorityKind, FacilityKind, TransportMode
from handover.core.custody.movements import Route

DEFAULT_SCENARIO = Path(__file__).resolve().parent / "scenario_2026.toml"


@dataclass(frozen=True, slots=True)
class Name:
    ar: str
    latin: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NamePool:
    male_given: tuple[Name, ...]
    female_given: tuple[Name, ...]
    family: tuple[Name, ...]


@dataclass(frozen=True, slots=True)
class Nationality:
    code: str
    name: str
    weight: float
    names: str


@dataclass(frozen=True, slots=True)
class Population:
    facility: str
    share: float
    kind: str  # "men" or "families"
    iraqi_share: float


@dataclass(frozen=True, slots=True)
class Group:
    """One group moved in the first week, as history."""

    route: str
    iraqis: int
    foreigners: int
    departs: datetime
    arrives: datetime
    handover_from: str
    handover_to: str
    sorties: int


@dataclass(frozen=True, slots=True)
class Scenario:
    id: str
    name: str
    registered_at: datetime
    people: int
    planned: int
    authorities: tuple[Authority, ...]
    facilities: tuple[Facility, ...]
    routes: tuple[Route, ...]
    populations: tuple[Population, ...]
    iraq: Nationality
    nationalities: tuple[Nationality, ...]
    name_pools: dict[str, NamePool]
    history: tuple[Group, ...]
    planning: dict[str, Any] = field(default_factory=dict)
    """Planning policy, as `services.planning.Parameters` reads it."""


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _at(day: str, clock: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time.fromisoformat(clock), tzinfo=UTC)


def _names(entries: list[dict[str, Any]]) -> tuple[Name, ...]:
    return tuple(Name(e["ar"], tuple(e["latin"])) for e in entries)


def load(path: Path = DEFAULT_SCENARIO) -> Scenario:
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    head = data["scenario"]
    history = []
    for g in data.get("history", []):
        departs = _at(g["day"], g["depart"])
        arrives = _at(g.get("arrive_day", g["day"]), g["arrive"])
        if arrives <= departs:
            arrives += timedelta(days=1)
        history.append(
            Group(
                g["route"],
                int(g["iraqis"]),
                int(g["foreigners"]),
                departs,
                arrives,
                g["handover_from"],
                g["handover_to"],
                int(g.get("sorties", 1)),
            )
        )
    iraq = data["iraq"]
    return Scenario(
        id=head["id"],
        name=head["name"],
        registered_at=_utc(head["registered_at"]),
        people=int(head["people"]),
        planned=int(head["planned"]),
        authorities=tuple(
            Authority(a["id"], a["name"], AuthorityKind(a["kind"]), a["country"]) for a in data["authorities"]
        ),
        facilities=tuple(
            Facility(
                id=f["id"],
                name=f["name"],
                name_ar=f.get("name_ar", ""),
                country=f["country"],
                kind=FacilityKind(f["kind"]),
                latitude=float(f["lat"]),
                longitude=float(f["lon"]),
                authority_id=f["authority"],
                security_level=int(f["security_level"]),
                capacity=Capacity(**{k: int(v) for k, v in f["capacity"].items()}),
            )
            for f in data["facilities"]
        ),
        routes=tuple(
            Route(
                r["id"],
                r["origin"],
                r["destination"],
                tuple(r.get("via", [])),
                TransportMode(r["mode"]),
                r["escort"],
                int(r["distance_km"]),
                int(r["seats"]),
            )
            for r in data["routes"]
        ),
        populations=tuple(
            Population(p["facility"], float(p["share"]), p["kind"], float(p["iraqi_share"]))
            for p in data["populations"]
        ),
        iraq=Nationality(iraq["code"], iraq["name"], 0.0, iraq["names"]),
        nationalities=tuple(
            Nationality(n["code"], n["name"], float(n["weight"]), n["names"]) for n in data["nationalities"]
        ),
        name_pools={
            key: NamePool(_names(p["male_given"]), _names(p["female_given"]), _names(p["family"]))
            for key, p in data["name_pools"].items()
        },
        history=tuple(sorted(history, key=lambda g: g.departs)),
        planning=data.get("planning", {}),
    )
