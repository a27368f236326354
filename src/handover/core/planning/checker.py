"""An independent plan checker: does a plan, and its filled movements, keep every rule?

Written apart from the planners on purpose. It imports only the input model and the plan's data classes (a test
checks this), and reads every rule again in its own words, so a mistake in the planners' rules is caught here instead
of being repeated. It accepts any plan, whoever made it, and returns every violation it finds, in words.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from handover.core.custody.model import Estate, FacilityKind
from handover.core.planning.model import ESTATES, Cohort, Destination, Member, Nationality, PlanningInput
from handover.core.planning.plan import DraftMovement, Plan
from handover.i18n import _


@dataclass(frozen=True, slots=True)
class Violation:
    rule: str
    subject: str
    day: int | None
    message: str

    def __str__(self) -> str:
        return self.message


def check(
    inputs: PlanningInput,
    plan: Plan,
    drafts: Iterable[DraftMovement] | None = None,
    members: Iterable[Member] | None = None,
) -> list[Violation]:
    """Every violation in the plan and, when given, in its draft movements of named people."""
    found = check_plan(inputs, plan)
    if drafts is not None:
        found += check_drafts(inputs, plan, list(drafts), list(members or ()))
    return found


def check_plan(inputs: PlanningInput, plan: Plan) -> list[Violation]:
    out: list[Violation] = []

    def bad(rule: str, subject: str, day: int | None, message: str) -> None:
        out.append(Violation(rule, subject, day, message))

    horizon = inputs.horizon_days
    routes = {r.id: r for r in inputs.routes}
    cohorts = {c.id: c for c in inputs.cohorts}
    destinations = {d.id: d for d in inputs.destinations}
    closed_on = {c.id: {day for first, last in c.closed for day in range(first, last + 1)} for c in inputs.crossings}
    if plan.horizon_days != horizon:
        bad("horizon", "plan", None, _("The plan's horizon differs from the inputs'."))

    moved_units: dict[str, int] = defaultdict(int)
    arrivals: dict[tuple[str, Estate, int], int] = defaultdict(int)
    intake: dict[tuple[str, int], int] = defaultdict(int)
    overall: dict[int, int] = defaultdict(int)
    seen: set[tuple[int, str]] = set()
    waiting = 0
    weighted = 0.0
    last_day: int | None = None
    for entry in plan.schedule:
        day, route = entry.day, routes.get(entry.route_id)
        where = f"{entry.route_id}@{day}"
        if route is None:
            bad("unknown-route", entry.route_id, day, _("Route {id} is not in the inputs.").format(id=entry.route_id))
            continue
        if (day, route.id) in seen:
            bad("duplicate", where, day, _("Route {id} appears twice on day {day}.").format(id=route.id, day=day))
        seen.add((day, route.id))
        if not 0 <= day < horizon:
            bad("horizon", where, day, _("Day {day} is outside the horizon.").format(day=day))
        most = route.sorties_per_day.at(day)
        if entry.sorties < 0 or entry.sorties > most:
            bad(
                "sorties",
                where,
                day,
                _("Route {id} flies {n} sorties on day {day}; it may fly {most}.").format(
                    id=route.id, n=entry.sorties, day=day, most=most
                ),
            )
        people = 0
        for load in entry.loads:
            cohort = cohorts.get(load.cohort_id)
            if cohort is None:
                bad(
                    "unknown-cohort",
                    load.cohort_id,
                    day,
                    _("Cohort {id} is not in the inputs.").format(id=load.cohort_id),
                )
                continue
            size = sum(cohort.composition.of(e) for e in ESTATES)
            if load.units < 0 or load.people != load.units * size:
                bad(
                    "units",
                    where,
                    day,
                    _("Cohort {id} on route {route} counts {units} units but {people} people.").format(
                        id=cohort.id, route=route.id, units=load.units, people=load.people
                    ),
                )
            people += load.units * size
            moved_units[cohort.id] += load.units
            waiting += day * load.units * size
            weighted += day * load.units * size * cohort.priority
            if load.units > 0:
                last_day = day if last_day is None else max(last_day, day)
            if cohort.origin != route.origin:
                bad(
                    "origin",
                    where,
                    day,
                    _("Cohort {id} is at {origin}, but route {route} leaves from {start}.").format(
                        id=cohort.id, origin=cohort.origin, route=route.id, start=route.origin
                    ),
                )
            destination = destinations.get(route.destination)
            if destination is not None:
                reason = _separation(cohort, destination)
                if reason:
                    bad("separation", where, day, reason)
                for estate in ESTATES:
                    arrivals[destination.id, estate, day] += load.units * cohort.composition.of(estate)
                intake[destination.id, day] += load.units * size
            overall[day] += load.units * size
            for message in _too_early(inputs, cohort, day):
                bad("too-early", where, day, message)
        if people > 0:
            for crossing in route.crossings:
                if day in closed_on.get(crossing, set()):
                    bad(
                        "crossing-closed",
                        where,
                        day,
                        _("Route {id} crosses {crossing} on day {day}, when it is closed.").format(
                            id=route.id, crossing=crossing, day=day
                        ),
                    )
        if people > route.seats * entry.sorties:
            bad(
                "seats",
                where,
                day,
                _("Route {id} carries {people} people on day {day} in {n} sorties of {seats} seats.").format(
                    id=route.id, people=people, day=day, n=entry.sorties, seats=route.seats
                ),
            )

    for cohort in inputs.cohorts:
        if moved_units[cohort.id] > cohort.units:
            bad(
                "supply",
                cohort.id,
                None,
                _("Cohort {id} moves {moved} units but has {units}.").format(
                    id=cohort.id, moved=moved_units[cohort.id], units=cohort.units
                ),
            )

    for destination in inputs.destinations:
        for estate in ESTATES:
            held = 0
            for day in range(horizon):
                held += arrivals.get((destination.id, estate, day), 0)
                places = destination.places.for_estate(estate) + sum(
                    f.places for f in destination.freed if f.estate is estate and f.day <= day
                )
                if held > places:
                    bad(
                        "capacity",
                        f"{destination.id}:{estate.value}",
                        day,
                        _(
                            "{place} would hold {held} in its {estate} estate on day {day}; it has {places} places."
                        ).format(place=destination.name, held=held, estate=estate.value, day=day, places=places),
                    )
        cap = destination.daily_intake_cap
        if cap is not None:
            for day in range(horizon):
                if intake.get((destination.id, day), 0) > cap.at(day):
                    bad(
                        "intake-cap",
                        destination.id,
                        day,
                        _("{place} takes in {n} people on day {day}, over its cap of {cap}.").format(
                            place=destination.name, n=intake[destination.id, day], day=day, cap=cap.at(day)
                        ),
                    )
    if inputs.overall_daily_cap is not None:
        for day, n in overall.items():
            if n > inputs.overall_daily_cap.at(day):
                bad(
                    "overall-cap",
                    "overall",
                    day,
                    _("{n} people arrive on day {day}, over the overall cap of {cap}.").format(
                        n=n, day=day, cap=inputs.overall_daily_cap.at(day)
                    ),
                )

    out += _reported_figures(inputs, plan, moved_units, waiting, weighted, last_day, arrivals)
    return out


def _separation(cohort: Cohort, destination: Destination) -> str | None:
    """Men to prisons secure enough for them; women and children to family facilities only, never a prison."""
    if destination.security_level < cohort.security_level:
        return _("Cohort {id} needs security level {need}; {place} has {level}.").format(
            id=cohort.id, need=cohort.security_level, place=destination.name, level=destination.security_level
        )
    for estate in ESTATES:
        if cohort.composition.of(estate) == 0:
            continue
        if estate is Estate.ADULT_MEN and destination.kind is not FacilityKind.PRISON:
            return _("Cohort {id} has adult men, who may only go to a prison, not to {place}.").format(
                id=cohort.id, place=destination.name
            )
        if estate is not Estate.ADULT_MEN and destination.kind is not FacilityKind.FAMILY_CENTRE:
            return _("Cohort {id} has women or children, who may only go to a family facility, not to {place}.").format(
                id=cohort.id, place=destination.name
            )
    return None


def _too_early(inputs: PlanningInput, cohort: Cohort, day: int) -> list[str]:
    out = []
    hold = inputs.repatriation_hold_until
    if cohort.nationality is Nationality.FOREIGN and cohort.repatriation_case_open and hold is not None and day < hold:
        out.append(
            _("Cohort {id} is held for repatriation until day {hold} but moves on day {day}.").format(
                id=cohort.id, hold=hold, day=day
            )
        )
    if not cohort.cleared and (cohort.clearance_day is None or day < cohort.clearance_day):
        out.append(_("Cohort {id} is not cleared on day {day}.").format(id=cohort.id, day=day))
    return out


def _reported_figures(
    inputs: PlanningInput,
    plan: Plan,
    moved_units: dict[str, int],
    waiting: int,
    weighted: float,
    last_day: int | None,
    arrivals: dict[tuple[str, Estate, int], int],
) -> list[Violation]:
    """The figures a plan reports must be the ones its schedule gives."""
    out = []
    horizon = inputs.horizon_days
    remaining = 0
    for cohort in inputs.cohorts:
        size = sum(cohort.composition.of(e) for e in ESTATES)
        left = max(cohort.units - moved_units[cohort.id], 0) * size
        remaining += left
        waiting += horizon * left
        weighted += horizon * left * cohort.priority
    reported = {
        "remaining": (plan.remaining, remaining),
        "moved": (plan.moved, inputs.people - remaining),
        "people": (plan.people, inputs.people),
        "waiting_person_days": (plan.waiting_person_days, waiting),
        "movements": (plan.movements, sum(r.sorties for r in plan.schedule)),
        "completion_day": (plan.completion_day, last_day if remaining == 0 else None),
        "left_behind": (sum(x.people for x in plan.left_behind), remaining),
    }
    for name, (said, found) in reported.items():
        if said != found:
            out.append(
                Violation(
                    "reported",
                    name,
                    None,
                    _("The plan reports {name} = {said}; its schedule gives {found}.").format(
                        name=name, said=said, found=found
                    ),
                )
            )
    if abs(plan.weighted_waiting - weighted) > 1e-6 * max(1.0, abs(weighted)):
        out.append(
            Violation(
                "reported",
                "weighted_waiting",
                None,
                _("The plan reports weighted waiting {said}; its schedule gives {found}.").format(
                    said=plan.weighted_waiting, found=weighted
                ),
            )
        )
    for row in plan.utilisation:
        for estate in ESTATES:
            if row.arrivals.of(estate) != arrivals.get((row.destination_id, estate, row.day), 0):
                out.append(
                    Violation(
                        "reported",
                        row.destination_id,
                        row.day,
                        _("The plan reports wrong {estate} arrivals at {id} on day {day}.").format(
                            estate=estate.value, id=row.destination_id, day=row.day
                        ),
                    )
                )
    return out


def check_drafts(
    inputs: PlanningInput, plan: Plan, drafts: list[DraftMovement], members: list[Member]
) -> list[Violation]:
    """Named people in sorties: each at most once, in their cohort's numbers, within seats, families whole."""
    out: list[Violation] = []

    def bad(rule: str, subject: str, day: int | None, message: str) -> None:
        out.append(Violation(rule, subject, day, message))

    routes = {r.id: r for r in inputs.routes}
    cohorts = {c.id: c for c in inputs.cohorts}
    person = {m.person_id: m for m in members}
    unit_members: dict[str, set[str]] = defaultdict(set)
    for m in members:
        unit_members[m.unit_id].add(m.person_id)
    planned = {(r.day, r.route_id): r for r in plan.schedule}
    placed: dict[str, int] = {}
    units_in_draft: dict[str, int] = {}
    per_route_day: dict[tuple[int, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    sorties: dict[tuple[int, str], set[int]] = defaultdict(set)
    for index, draft in enumerate(drafts):
        where = f"{draft.route_id}@{draft.day}#{draft.sortie}"
        route = routes.get(draft.route_id)
        entry = planned.get((draft.day, draft.route_id))
        if route is None or entry is None:
            bad("unplanned", where, draft.day, _("Movement {id} is not in the plan.").format(id=where))
            continue
        if draft.sortie in sorties[draft.day, draft.route_id] or not 1 <= draft.sortie <= entry.sorties:
            bad(
                "sorties",
                where,
                draft.day,
                _("Movement {id} is not one of the {n} sorties planned.").format(id=where, n=entry.sorties),
            )
        sorties[draft.day, draft.route_id].add(draft.sortie)
        if len(draft.people) > route.seats:
            bad(
                "seats",
                where,
                draft.day,
                _("Movement {id} carries {n} people in {seats} seats.").format(
                    id=where, n=len(draft.people), seats=route.seats
                ),
            )
        counted: dict[str, int] = defaultdict(int)
        for person_id in draft.people:
            member = person.get(person_id)
            if member is None:
                bad(
                    "unknown-person",
                    person_id,
                    draft.day,
                    _("Person {id} is not one of the people to move.").format(id=person_id),
                )
                continue
            if person_id in placed:
                bad("twice", person_id, draft.day, _("Person {id} is on two movements.").format(id=person_id))
            placed[person_id] = index
            counted[member.cohort_id] += 1
            per_route_day[draft.day, draft.route_id][member.cohort_id].add(member.unit_id)
            if units_in_draft.setdefault(member.unit_id, index) != index:
                bad(
                    "family-split",
                    member.unit_id,
                    draft.day,
                    _("Family {id} is split across movements.").format(id=member.unit_id),
                )
        said = {load.cohort_id: load.people for load in draft.loads}
        if said != dict(counted):
            bad("reported", where, draft.day, _("Movement {id} reports the wrong people per cohort.").format(id=where))
    for unit_id, index in units_in_draft.items():
        if any(placed.get(p) != index for p in unit_members[unit_id]):
            bad("family-split", unit_id, None, _("Family {id} does not travel together.").format(id=unit_id))
    for (day, route_id), entry in planned.items():
        filled = per_route_day.get((day, route_id), {})
        for load in entry.loads:
            cohort = cohorts.get(load.cohort_id)
            units = filled.get(load.cohort_id, set())
            people = sum(len(unit_members[u]) for u in units)
            size = sum(cohort.composition.of(e) for e in ESTATES) if cohort else 0
            if len(units) != load.units or people != load.people or any(len(unit_members[u]) != size for u in units):
                bad(
                    "fill",
                    f"{route_id}@{day}",
                    day,
                    _(
                        "Route {route} on day {day} plans {units} units of cohort {id} but the movements carry {got}."
                    ).format(route=route_id, day=day, units=load.units, id=load.cohort_id, got=len(units)),
                )
        extra = set(filled) - {load.cohort_id for load in entry.loads}
        for cohort_id in sorted(extra):
            bad(
                "fill",
                f"{route_id}@{day}",
                day,
                _("Route {route} on day {day} carries cohort {id}, which the plan does not put there.").format(
                    route=route_id, day=day, id=cohort_id
                ),
            )
    for member in members:
        if member.cohort_id not in cohorts:
            bad(
                "unknown-cohort",
                member.person_id,
                None,
                _("Person {id} is in an unknown cohort.").format(id=member.person_id),
            )
    return out
