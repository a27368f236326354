"""The demo's repatriation cases: several countries, in different states, as FACTS.md describes them.

Some countries have repatriated their nationals (the Central Asian states, in the hundreds each in earlier years):
here Kazakhstan, Uzbekistan, Tajikistan and Kyrgyzstan accept, and Kazakhstan's first group has already left by a
signed handover at Qamishli airport, its second is scheduled. Several Western governments refused or made no
commitment: France and the United Kingdom refuse, Germany and Sweden have not answered. A few agreed after talks:
Belgium and the Netherlands. Tunisia's cases are identified, not yet requested.

The countries' authorities, Qamishli airport and the road to it are added (illustrative: not in FACTS.md). Every
step goes through the services, as the planner, the country's diplomat and the escort would take it. People are
chosen among those held at their origin and on no movement; a country with no such nationals gets no cases.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from handover.core.custody import Authority, Capacity, Facility, Status
from handover.core.custody.model import AuthorityKind, FacilityKind, TransportMode
from handover.core.custody.movements import Route
from handover.core.policy.access import Principal, Role
from handover.core.policy.safeguards import FIT_TO_TRAVEL, LEGAL_REVIEW
from handover.core.repatriation.cases import CaseAction, CaseState
from handover.demo.accounts import DemoAccount
from handover.demo.officers import DemoOfficers
from handover.services import assessments, reference, repatriation, transfers
from handover.services.ports import AccountsUnitOfWork, RepatriationCase
from handover.services.runtime import Runtime, SimulatedClock

AIRPORT = Facility(
    "qamishli-airport",
    "Qamishli airport",
    "SY",
    FacilityKind.AIRFIELD,
    37.0206,  # approximate; not in FACTS.md
    41.1914,
    "sy-moi",
    2,
    Capacity(adult_men=100, adult_women=100, minors=200),  # holding places while a repatriation flight boards
    name_ar="مطار القامشلي",
)
ROAD_TO_AIRPORT = Route(
    "ghweran-qamishli-airport-road", "ghweran", "qamishli-airport", (), TransportMode.ROAD_CONVOY, "us-centcom", 90, 90
)


@dataclass(frozen=True, slots=True)
class Stance:
    """How far a country's cases have gone: how many cases end in each state."""

    country: str
    authority: str
    outcomes: Sequence[tuple[CaseState, int]]
    notes: str = ""


STANCES = (
    Stance(
        "KZ",
        "Kazakhstan, Ministry of Foreign Affairs",
        # Ten in the first group: the public report publishes no count under ten, and this one should show.
        ((CaseState.REPATRIATED, 10), (CaseState.SCHEDULED, 3), (CaseState.ACCEPTED, 2), (CaseState.IN_TALKS, 1)),
        "Kazakhstan has repatriated its nationals in groups before.",
    ),
    Stance(
        "UZ",
        "Uzbekistan, Ministry of Foreign Affairs",
        ((CaseState.ACCEPTED, 5), (CaseState.IN_TALKS, 2), (CaseState.REQUESTED, 2)),
    ),
    Stance("TJ", "Tajikistan, Ministry of Foreign Affairs", ((CaseState.ACCEPTED, 4), (CaseState.REQUESTED, 3))),
    Stance("KG", "Kyrgyzstan, Ministry of Foreign Affairs", ((CaseState.ACCEPTED, 3), (CaseState.IN_TALKS, 2))),
    Stance("BE", "Belgium, Federal Public Service Foreign Affairs", ((CaseState.ACCEPTED, 2), (CaseState.IN_TALKS, 2))),
    Stance("NL", "Netherlands, Ministry of Foreign Affairs", ((CaseState.ACCEPTED, 1), (CaseState.IN_TALKS, 2))),
    Stance(
        "FR",
        "France, Ministry for Europe and Foreign Affairs",
        ((CaseState.REFUSED, 5), (CaseState.WITHDRAWN, 1), (CaseState.REQUESTED, 1)),
        "France answered that adult nationals are to be tried where the crimes were committed.",
    ),
    Stance("GB", "United Kingdom, Foreign, Commonwealth and Development Office", ((CaseState.REFUSED, 4),)),
    Stance("DE", "Germany, Federal Foreign Office", ((CaseState.REQUESTED, 4),), "No answer yet."),
    Stance("SE", "Sweden, Ministry for Foreign Affairs", ((CaseState.REQUESTED, 2),), "No answer yet."),
    Stance("TN", "Tunisia, Ministry of Foreign Affairs", ((CaseState.IDENTIFIED, 4),)),
)

# How far along the way to each end state a case goes, in order (refusals and withdrawals after talks).
_PATHS: dict[CaseState, tuple[CaseAction, ...]] = {
    CaseState.IDENTIFIED: (),
    CaseState.REQUESTED: (CaseAction.REQUEST,),
    CaseState.IN_TALKS: (CaseAction.REQUEST, CaseAction.OPEN_TALKS),
    CaseState.ACCEPTED: (CaseAction.REQUEST, CaseAction.OPEN_TALKS, CaseAction.ACCEPT),
    CaseState.SCHEDULED: (CaseAction.REQUEST, CaseAction.OPEN_TALKS, CaseAction.ACCEPT, CaseAction.SCHEDULE),
    CaseState.REPATRIATED: (
        CaseAction.REQUEST,
        CaseAction.OPEN_TALKS,
        CaseAction.ACCEPT,
        CaseAction.SCHEDULE,
        CaseAction.COMPLETE,
    ),
    CaseState.REFUSED: (CaseAction.REQUEST, CaseAction.OPEN_TALKS, CaseAction.REFUSE),
    CaseState.WITHDRAWN: (CaseAction.REQUEST, CaseAction.WITHDRAW),
}
_REASONS = {
    CaseAction.REFUSE: "The government declined to take back this adult national.",
    CaseAction.WITHDRAW: "The person's nationality could not be confirmed; the request was withdrawn.",
}


@dataclass
class DemoRepatriation:
    cases: dict[str, list[RepatriationCase]] = field(default_factory=dict)
    movements: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(len(found) for found in self.cases.values())


def _principal(users: Sequence[DemoAccount], role: Role, country: str | None = None) -> Principal | None:
    for user in users:
        if user.role is role and (country is None or user.principal.country == country):
            return user.principal
    return None


def _candidates(uow: AccountsUnitOfWork, countries: set[str]) -> dict[str, list[str]]:
    """Adult men held at Ghweran and on no movement, by nationality, in registry order; others after them."""
    held = {
        s.person_id: s
        for s in uow.custody.states([p.id for p in uow.persons.all() if p.identity.nationality in countries]).values()
        if s.status is Status.HELD and s.movement_id is None
    }
    found: dict[str, list[str]] = {country: [] for country in countries}
    later: dict[str, list[str]] = {country: [] for country in countries}
    for person in uow.persons.all():
        state = held.get(person.id)
        if state is None:
            continue
        at_prison = state.facility_id == ROAD_TO_AIRPORT.origin_id and person.estate == "adult_men"
        (found if at_prison else later)[person.identity.nationality].append(person.id)
    return {country: found[country] + later[country] for country in countries}


def add_demo_repatriation(
    uow: AccountsUnitOfWork,
    rt: Runtime,
    clock: SimulatedClock,
    users: Sequence[DemoAccount],
    seed: int = 2026,
) -> DemoRepatriation:
    """Open, request, negotiate, accept, refuse, schedule and carry out the demo's cases, advancing `clock` from its
    current time over about two weeks. `users` are the demo's accounts (`add_demo_accounts`)."""
    planner = _principal(users, Role.PLANNER)
    escort = _principal(users, Role.FIELD_OFFICER)
    if planner is None or escort is None:
        raise ValueError("the demo's repatriation needs the demo's planner and escort accounts")
    known = {a.id for a in uow.reference.authorities()}
    authorities = [
        Authority(f"{s.country.lower()}-gov", s.authority, AuthorityKind.COUNTRY_OF_ORIGIN, s.country)
        for s in STANCES
        if f"{s.country.lower()}-gov" not in known
    ]
    facilities = [AIRPORT] if uow.reference.facility(AIRPORT.id) is None else []
    routes = [ROAD_TO_AIRPORT] if uow.reference.route(ROAD_TO_AIRPORT.id) is None else []
    reference.add_reference_data(uow, authorities, facilities, routes)

    start = clock()
    day = timedelta(days=1)
    pool = _candidates(uow, {s.country for s in STANCES})
    result = DemoRepatriation()
    plans: list[tuple[RepatriationCase, tuple[CaseAction, ...], Principal]] = []
    for stance in STANCES:
        acting = _principal(users, Role.DIPLOMAT, stance.country) or planner
        people = pool.get(stance.country, [])
        for end, count in stance.outcomes:
            for person_id in people[:count]:
                opened = repatriation.open_case(uow, rt, planner, person_id, stance.country, stance.notes)
                plans.append((opened, _PATHS[end], acting))
            people = people[count:]

    def at(offset: timedelta) -> None:
        clock.set(start + offset)

    # Day 1: the requests, one per country, naming every case to go further than identified.
    at(day)
    for stance in STANCES:
        requested = [c.id for c, path, _who in plans if c.country == stance.country and path]
        if requested:
            repatriation.send_request(
                uow, rt, planner, stance.country, requested, (start + day).date(), f"NV-{stance.country}-001"
            )
    # Days 3 to 6: talks, answers, withdrawals.
    for offset, action in (
        (3, CaseAction.OPEN_TALKS),
        (4, CaseAction.WITHDRAW),
        (5, CaseAction.REFUSE),
        (6, CaseAction.ACCEPT),
    ):
        at(day * offset)
        for found, path, who in plans:
            if action in path:
                repatriation.act(uow, rt, who, found.id, action, _REASONS.get(action, ""))

    # Day 8: Kazakhstan's first flight (carried out) and second (scheduled), by road to Qamishli airport.
    at(day * 8)
    kazakh = [c for c, path, _who in plans if c.country == "KZ" and CaseAction.SCHEDULE in path]
    # Only people held at the road's origin can be carried out by it; in a small demo some scheduled ones are held
    # elsewhere, and they stay scheduled, waiting to be brought there.
    states = uow.custody.states([c.person_id for c in kazakh])
    at_origin = {
        person_id
        for person_id, state in states.items()
        if state.status is Status.HELD and state.movement_id is None and state.facility_id == ROAD_TO_AIRPORT.origin_id
    }
    leaving = [c for c, path, _who in plans if c in kazakh and CaseAction.COMPLETE in path and c.person_id in at_origin]
    staying = [c for c in kazakh if c not in leaving]
    officers = DemoOfficers(seed)
    diplomat = _principal(users, Role.DIPLOMAT, "KZ") or planner
    for number, group in ((1, leaving), (2, staying)):
        if not group:
            continue
        departs = start + day * (9 + 3 * (number - 1))
        code = f"REPAT-KZ-{start:%m%d}-{number:02d}"
        movement = transfers.create_movement(uow, rt, code, ROAD_TO_AIRPORT.id, departs)
        result.movements.append(movement.id)
        for found in group:
            repatriation.schedule(uow, rt, diplomat, found.id, movement.id, departs)
    if leaving:
        _carry_out(uow, rt, clock, officers, escort, leaving, result.movements[0], start + day * 9)

    for found, _path, _who in plans:
        current = uow.repatriation.case(found.id)
        assert current is not None
        result.cases.setdefault(found.country, []).append(current)
    return result


def _carry_out(
    uow: AccountsUnitOfWork,
    rt: Runtime,
    clock: SimulatedClock,
    officers: DemoOfficers,
    escort: Principal,
    group: Sequence[RepatriationCase],
    movement_id: str,
    departs: datetime,
) -> None:
    """The first flight: cleared, manifested, handed to the escort at the prison, driven to the airport and handed
    over to Kazakhstan by a signed handover there; then each case is completed."""
    people = [c.person_id for c in group]

    def step(moment: datetime, action: Callable[[], object]) -> None:
        clock.set(moment)
        action()

    reviewed = departs - timedelta(days=1)
    step(reviewed, lambda: assessments.assess(uow, rt, people, FIT_TO_TRAVEL, "fit", reviewed))
    step(reviewed, lambda: assessments.assess(uow, rt, people, LEGAL_REVIEW, "cleared", reviewed))
    step(reviewed, lambda: transfers.approve(uow, movement_id))
    step(reviewed, lambda: transfers.manifest(uow, rt, movement_id, people, reviewed))
    handed = departs - timedelta(minutes=30)
    step(
        handed,
        lambda: officers.hand_over(uow, rt, movement_id, "sy-moi", "us-centcom", ROAD_TO_AIRPORT.origin_id, handed),
    )
    step(departs - timedelta(minutes=10), lambda: transfers.board(uow, rt, movement_id, people, departs))
    step(departs, lambda: transfers.depart(uow, rt, movement_id, departs))
    arrives = departs + timedelta(hours=2)
    step(arrives, lambda: transfers.arrive(uow, rt, movement_id, arrives))
    country = group[0].authority_id or "kz-gov"
    at_airport = arrives + timedelta(minutes=30)
    step(
        at_airport,
        lambda: officers.hand_over(uow, rt, movement_id, "us-centcom", country, AIRPORT.id, at_airport),
    )
    flown = at_airport + timedelta(hours=1)
    clock.set(flown)
    for found in group:
        repatriation.complete(uow, rt, escort, found.id, flown)


def requested_on(result: DemoRepatriation) -> date | None:
    """When the demo's requests were sent (for pages and tests)."""
    first = [c.opened_at for found in result.cases.values() for c in found]
    return (min(first) + timedelta(days=1)).date() if first else None
