"""Fill a cohort-level plan with named people: one draft movement per sortie or convoy, families never split.

People are taken from each cohort in the order given (the service decides that order: longest waiting, most at risk),
a family (people sharing a unit id) as one block. Each route-day's units are packed first-fit decreasing into its
sorties. The solver and the greedy planner count only `rules.packing_seats` seats per sortie, which is exactly what
makes first-fit always succeed; a hand-made plan that counts every seat may not pack, and is refused with a reason.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable

from handover.core.planning.model import Member, PlanningInput
from handover.core.planning.plan import CohortLoad, DraftMovement, Plan
from handover.i18n import _


class FillError(ValueError):
    """The plan cannot be filled with these people; nothing was filled."""


def fill(inputs: PlanningInput, plan: Plan, members: Iterable[Member]) -> tuple[DraftMovement, ...]:
    cohorts = {c.id: c for c in inputs.cohorts}
    routes = {r.id: r for r in inputs.routes}
    units: dict[str, list[str]] = {}
    unit_cohort: dict[str, str] = {}
    queues: dict[str, deque[str]] = defaultdict(deque)
    for member in members:
        if member.cohort_id not in cohorts:
            raise FillError(_("Person {id} is in an unknown cohort.").format(id=member.person_id))
        if member.unit_id not in units:
            units[member.unit_id] = []
            unit_cohort[member.unit_id] = member.cohort_id
            queues[member.cohort_id].append(member.unit_id)
        elif unit_cohort[member.unit_id] != member.cohort_id:
            raise FillError(_("Family {id} spans two cohorts.").format(id=member.unit_id))
        units[member.unit_id].append(member.person_id)
    for unit_id, unit in units.items():
        cohort = cohorts[unit_cohort[unit_id]]
        if len(unit) != cohort.unit_size:
            raise FillError(
                _("Family {id} has {n} people, but a unit of cohort {cohort} has {size}.").format(
                    id=unit_id, n=len(unit), cohort=cohort.id, size=cohort.unit_size
                )
            )

    drafts: list[DraftMovement] = []
    for entry in sorted(plan.schedule, key=lambda r: (r.day, r.route_id)):
        route = routes[entry.route_id]
        taken: list[str] = []
        for load in entry.loads:
            queue = queues[load.cohort_id]
            if len(queue) < load.units:
                raise FillError(
                    _("Cohort {id} has {n} units left to place but route {route} on day {day} needs {units}.").format(
                        id=load.cohort_id, n=len(queue), route=route.id, day=entry.day, units=load.units
                    )
                )
            taken += [queue.popleft() for _i in range(load.units)]
        bins: list[list[str]] = [[] for _i in range(entry.sorties)]
        free = [route.seats] * entry.sorties
        for unit_id in sorted(taken, key=lambda u: -len(units[u])):
            size = len(units[unit_id])
            slot = next((i for i, room in enumerate(free) if room >= size), None)
            if slot is None:
                raise FillError(
                    _(
                        "The people planned on route {route} on day {day} do not pack into {n} sorties of {seats}."
                    ).format(route=route.id, day=entry.day, n=entry.sorties, seats=route.seats)
                )
            bins[slot].append(unit_id)
            free[slot] -= size
        for number, unit_ids in enumerate((b for b in bins if b), start=1):
            people = tuple(p for u in unit_ids for p in units[u])
            counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
            for u in unit_ids:
                counts[unit_cohort[u]][0] += 1
                counts[unit_cohort[u]][1] += len(units[u])
            loads = tuple(CohortLoad(c, n_units, n_people) for c, (n_units, n_people) in sorted(counts.items()))
            drafts.append(DraftMovement(entry.day, route.id, number, route.seats, people, loads))
    return tuple(drafts)
