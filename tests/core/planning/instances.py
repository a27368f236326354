"""Small planning inputs for the tests, built from a few readable defaults."""

from __future__ import annotations

from datetime import date

from handover.core.custody.model import Capacity, Estate, FacilityKind, TransportMode
from handover.core.planning.model import (
    Cohort,
    Crossing,
    Destination,
    Freed,
    Member,
    Origin,
    PlanningInput,
    Route,
    Steps,
    one,
)

START = date(2026, 1, 22)
MEN = one(Estate.ADULT_MEN)


def prison(
    id: str = "al-hout",
    name: str = "al-Hout",
    *,
    men: int = 1000,
    security: int = 4,
    cap: int | None = None,
    freed: tuple[Freed, ...] = (),
) -> Destination:
    return Destination(
        id,
        name,
        FacilityKind.PRISON,
        security,
        Capacity(adult_men=men),
        freed=freed,
        daily_intake_cap=Steps(cap) if cap is not None else None,
    )


def family_centre(
    id: str = "jeddah-1", name: str = "Jeddah-1", *, women: int = 1000, minors: int = 1000, cap: int | None = None
) -> Destination:
    return Destination(
        id,
        name,
        FacilityKind.FAMILY_CENTRE,
        2,
        Capacity(adult_women=women, minors=minors),
        daily_intake_cap=Steps(cap) if cap is not None else None,
    )


def route(
    id: str = "r",
    origin: str = "ghweran",
    destination: str = "al-hout",
    *,
    seats: int = 100,
    sorties: int = 1,
    mode: TransportMode = TransportMode.HELICOPTER,
    crossings: tuple[str, ...] = (),
) -> Route:
    return Route(id, origin, destination, mode, seats, Steps(sorties), crossings=crossings)


def men(id: str, people: int, *, origin: str = "ghweran", **kwargs: object) -> Cohort:
    return Cohort(id=id, origin=origin, units=people, composition=MEN, **kwargs)  # type: ignore[arg-type]


def inputs(
    *,
    horizon: int,
    cohorts: tuple[Cohort, ...],
    destinations: tuple[Destination, ...] = (),
    routes: tuple[Route, ...] = (),
    origins: tuple[Origin, ...] = (Origin("ghweran", "Ghweran"), Origin("roj", "Roj")),
    crossings: tuple[Crossing, ...] = (),
    overall_cap: int | None = None,
    hold_until: int | None = None,
) -> PlanningInput:
    return PlanningInput(
        horizon_days=horizon,
        origins=origins,
        destinations=destinations or (prison(),),
        routes=routes or (route(),),
        cohorts=cohorts,
        crossings=crossings,
        overall_daily_cap=Steps(overall_cap) if overall_cap is not None else None,
        repatriation_hold_until=hold_until,
        start=START,
    )


def members_for(planning: PlanningInput) -> list[Member]:
    out = []
    for cohort in planning.cohorts:
        for unit in range(cohort.units):
            unit_id = f"{cohort.id}/{unit}"
            out += [Member(f"{unit_id}/{k}", cohort.id, unit_id) for k in range(cohort.unit_size)]
    return out
