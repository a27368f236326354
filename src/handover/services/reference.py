"""Reference data: authorities, facilities and routes, and operation-wide facts."""

from __future__ import annotations

from collections.abc import Sequence

from handover.core.custody import Authority, Facility
from handover.core.custody.movements import Route
from handover.i18n import _
from handover.services.errors import ConflictError, NotFoundError
from handover.services.ports import UnitOfWork

PLANNED_KEY = "planned_total"
OPERATION_KEY = "operation_name"


def add_reference_data(
    uow: UnitOfWork, authorities: Sequence[Authority], facilities: Sequence[Facility], routes: Sequence[Route]
) -> None:
    """Add authorities, facilities and routes, refusing dangling references before anything is written."""
    authority_ids = {a.id for a in authorities} | {a.id for a in uow.reference.authorities()}
    facility_ids = {f.id for f in facilities} | {f.id for f in uow.reference.facilities()}
    for facility in facilities:
        if facility.authority_id not in authority_ids:
            raise _unknown("facility", facility.id, "authority", facility.authority_id)
    for route in routes:
        for place in (route.origin_id, route.destination_id, *route.via):
            if place not in facility_ids:
                raise _unknown("route", route.id, "facility", place)
        if route.escort_id not in authority_ids:
            raise _unknown("route", route.id, "authority", route.escort_id)
    uow.reference.add_authorities(authorities)
    uow.reference.add_facilities(facilities)
    uow.reference.add_routes(routes)


def _unknown(kind: str, identifier: str, missing_kind: str, missing: str) -> ConflictError:
    return ConflictError(
        identifier,
        "unknown-reference",
        kind,
        _("The {kind} {id} names {missing_kind} {missing}, which does not exist.").format(
            kind=kind, id=identifier, missing_kind=missing_kind, missing=missing
        ),
    )


def facility(uow: UnitOfWork, facility_id: str) -> Facility:
    found = uow.reference.facility(facility_id)
    if found is None:
        raise NotFoundError("facility", facility_id, _("No facility {id}.").format(id=facility_id))
    return found


def authority(uow: UnitOfWork, authority_id: str) -> Authority:
    found = uow.reference.authority(authority_id)
    if found is None:
        raise NotFoundError("authority", authority_id, _("No authority {id}.").format(id=authority_id))
    return found


def set_planned_total(uow: UnitOfWork, planned: int) -> None:
    """How many people the operation plans to move; the dashboard shows progress against it."""
    if planned < 0:
        raise ValueError("planned total must not be negative")
    uow.meta.put(PLANNED_KEY, str(planned))


def planned_total(uow: UnitOfWork) -> int:
    value = uow.meta.get(PLANNED_KEY)
    return int(value) if value is not None else 0


def set_operation_name(uow: UnitOfWork, name: str) -> None:
    """What the operation is called in public (the report's title)."""
    uow.meta.put(OPERATION_KEY, name.strip())


def operation_name(uow: UnitOfWork) -> str | None:
    return uow.meta.get(OPERATION_KEY) or None
