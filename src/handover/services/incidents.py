"""Incidents, at any time: escapes, recaptures, deaths, hospitalisations and returns, use of force, breakdowns.

An incident that changes custody records the custody events in the same transaction as the incident itself; the
others (use of force, a vehicle breakdown) are operational records only. Escapes and deaths raise alerts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from handover.core.custody import commands as c
from handover.core.policy.permissions import Actor, Permission
from handover.i18n import _
from handover.services import reference, transfers
from handover.services.access import OPERATOR, require
from handover.services.custody import record, refuse_duplicates
from handover.services.errors import NotFoundError
from handover.services.ports import Incident, StoredEvent, UnitOfWork
from handover.services.runtime import Runtime


class IncidentKind(StrEnum):
    ESCAPE = "escape"
    RECAPTURE = "recapture"
    DEATH = "death"
    HOSPITALISATION = "hospitalisation"
    HOSPITAL_RETURN = "hospital_return"
    USE_OF_FORCE = "use_of_force"
    VEHICLE_BREAKDOWN = "vehicle_breakdown"
    OTHER = "other"


ALERTING = frozenset({IncidentKind.ESCAPE, IncidentKind.DEATH})
_NEEDS_PEOPLE = frozenset(
    {
        IncidentKind.ESCAPE,
        IncidentKind.RECAPTURE,
        IncidentKind.DEATH,
        IncidentKind.HOSPITALISATION,
        IncidentKind.HOSPITAL_RETURN,
    }
)
_NEEDS_FACILITY = frozenset({IncidentKind.RECAPTURE, IncidentKind.HOSPITAL_RETURN})


def report(
    uow: UnitOfWork,
    rt: Runtime,
    kind: IncidentKind,
    occurred_at: datetime,
    description: str,
    people: Sequence[str] = (),
    movement_id: str | None = None,
    facility_id: str | None = None,
    actor: Actor = OPERATOR,
) -> tuple[Incident, list[StoredEvent]]:
    """Record an incident and the custody events it means for the people named; all of it, or nothing.

    The description stays in the operational record; the custody events carry no free text, so nothing said about a
    person's health or conduct reaches the log.
    """
    require(actor, Permission.REPORT_INCIDENTS)
    if not description.strip():
        raise ValueError(_("An incident needs a description of what happened."))
    if kind in _NEEDS_PEOPLE and not people:
        raise ValueError(_("A {kind} incident must name the people concerned.").format(kind=kind.value))
    if kind in _NEEDS_FACILITY and facility_id is None:
        raise ValueError(_("A {kind} incident must name the facility the people are taken to.").format(kind=kind.value))
    refuse_duplicates(people, _("incident"))
    unknown = sorted(set(people) - uow.persons.existing(people))
    if unknown:
        raise NotFoundError("person", unknown[0], _("No person {id} is registered.").format(id=unknown[0]))
    movement = transfers.movement(uow, movement_id) if movement_id is not None else None
    facility = reference.facility(uow, facility_id) if facility_id is not None else None
    now = rt.clock()
    commands: list[c.Command] = []
    for person in people:

        def base(person: str = person) -> dict[str, object]:
            return {"person_id": person, "event_id": rt.new_id(), "occurred_at": occurred_at, "recorded_at": now}

        match kind:
            case IncidentKind.ESCAPE:
                commands.append(c.Escape(**base()))  # type: ignore[arg-type]
            case IncidentKind.DEATH:
                commands.append(c.Die(**base()))  # type: ignore[arg-type]
            case IncidentKind.HOSPITALISATION:
                commands.append(c.Hospitalise(**base(), place=facility.id if facility else "hospital"))  # type: ignore[arg-type]
            case IncidentKind.RECAPTURE:
                assert facility is not None
                commands.append(
                    c.Recapture(**base(), facility=facility, authority_id=facility.authority_id)  # type: ignore[arg-type]
                )
            case IncidentKind.HOSPITAL_RETURN:
                assert facility is not None
                commands.append(c.Arrive(**base(), facility=facility))  # type: ignore[arg-type]
                commands.append(
                    c.Admit(**base(), facility=facility, authority_id=facility.authority_id)  # type: ignore[arg-type]
                )
    events = record(uow, commands) if commands else []
    incident = Incident(
        id=rt.new_id(),
        kind=kind.value,
        occurred_at=occurred_at,
        recorded_at=now,
        movement_id=movement.id if movement is not None else None,
        facility_id=facility.id if facility is not None else None,
        people=tuple(people),
        description=description.strip(),
        recorded_by=actor.id,
    )
    uow.operations.add_incident(incident)
    return incident, events


def incidents(uow: UnitOfWork, movement_id: str | None = None) -> list[Incident]:
    """Incidents recorded, all of them or a movement's (named by id or code)."""
    movement = transfers.movement(uow, movement_id).id if movement_id is not None else None
    return uow.operations.incidents(movement_id=movement)
