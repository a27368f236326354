"""Recording what happens to one person outside a group action: assessments, hospital, escapes, deaths, releases.

Movement events (manifested, departed, handed over, arrived with a movement) go through `transfers`, which acts on
a whole group; registrations through `registry`; corrections through `custody.correct`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from enum import StrEnum
from typing import Any

from handover.core.custody import Facility
from handover.core.custody import commands as c
from handover.i18n import _
from handover.services import reference
from handover.services.custody import record
from handover.services.errors import NotFoundError
from handover.services.ports import StoredEvent, UnitOfWork
from handover.services.runtime import Runtime


class PersonEventType(StrEnum):
    """The event types one person can be given on their own (values are those of `EventType`)."""

    ASSESSED = "assessed"
    HOSPITALISED = "hospitalised"
    ESCAPED = "escaped"
    RECAPTURED = "recaptured"
    DIED = "died"
    RELEASED = "released"
    REPATRIATED = "repatriated"
    NOTIFIED = "notified"
    ARRIVED = "arrived"  # back from hospital; arrivals on a movement go through transfers.arrive
    ADMITTED = "admitted"


# What each type needs, and what it may also take. Anything else is refused rather than silently dropped: a user
# who sends a reason with a death expects it to be recorded somewhere, and it would not be.
_REQUIRED: dict[PersonEventType, tuple[str, ...]] = {
    PersonEventType.ASSESSED: ("kind", "outcome"),
    PersonEventType.HOSPITALISED: ("place",),
    PersonEventType.ESCAPED: (),
    PersonEventType.RECAPTURED: ("facility_id",),
    PersonEventType.DIED: (),
    PersonEventType.RELEASED: ("reason",),
    PersonEventType.REPATRIATED: ("authority_id",),
    PersonEventType.NOTIFIED: ("channel",),
    PersonEventType.ARRIVED: ("facility_id",),
    PersonEventType.ADMITTED: ("facility_id",),
}
_OPTIONAL: dict[PersonEventType, tuple[str, ...]] = {
    PersonEventType.RECAPTURED: ("authority_id",),  # defaults to the facility's operating authority
    PersonEventType.REPATRIATED: ("country",),  # defaults to the receiving authority's country
    PersonEventType.ADMITTED: ("authority_id",),  # defaults to the facility's operating authority
}


@dataclass(frozen=True, slots=True, kw_only=True)
class EventRequest:
    """One event for one person, as a user asks for it. Invalid combinations raise ValueError on construction."""

    type: PersonEventType | str
    occurred_at: datetime
    facility_id: str | None = None
    authority_id: str | None = None
    kind: str | None = None
    outcome: str | None = None
    reason: str | None = None
    place: str | None = None
    channel: str | None = None
    country: str | None = None

    def __post_init__(self) -> None:
        try:
            kind = PersonEventType(self.type)
        except ValueError:
            allowed = ", ".join(t.value for t in PersonEventType)
            raise ValueError(
                _("{type} is not an event that can be recorded for one person; use one of: {allowed}.").format(
                    type=self.type, allowed=allowed
                )
            ) from None
        object.__setattr__(self, "type", kind)
        if self.occurred_at.tzinfo is None or self.occurred_at.utcoffset() is None:
            raise ValueError(_("occurred_at must include a timezone."))
        required = _REQUIRED[kind]
        allowed_fields = {*required, *_OPTIONAL.get(kind, ())}
        for name in _OPTIONAL_FIELDS:
            value = getattr(self, name)
            if name in required and (value is None or not value.strip()):
                raise ValueError(_("A {type} event needs {field}.").format(type=kind.value, field=name))
            if value is not None and name not in allowed_fields:
                raise ValueError(_("{field} does not apply to a {type} event.").format(field=name, type=kind.value))


_OPTIONAL_FIELDS = tuple(f.name for f in fields(EventRequest) if f.name not in ("type", "occurred_at"))


def record_event(uow: UnitOfWork, rt: Runtime, person_id: str, request: EventRequest) -> StoredEvent:
    """Record one event for a registered person; a refusal (RefusedError) writes nothing."""
    if uow.custody.current(person_id) is None:
        raise NotFoundError("person", person_id, _("No person {id} is registered.").format(id=person_id))
    (stored,) = record(uow, [_command(uow, rt, person_id, request)])
    return stored


def _command(uow: UnitOfWork, rt: Runtime, person_id: str, r: EventRequest) -> c.Command:
    meta: dict[str, Any] = {
        "person_id": person_id,
        "event_id": rt.new_id(),
        "occurred_at": r.occurred_at,
        "recorded_at": rt.clock(),
    }
    # __post_init__ guarantees the fields each branch reads are present (hence the `or ""` only for the type checker).
    match r.type:
        case PersonEventType.ASSESSED:
            return c.Assess(**meta, kind=r.kind or "", outcome=r.outcome or "")
        case PersonEventType.HOSPITALISED:
            return c.Hospitalise(**meta, place=r.place or "")
        case PersonEventType.ESCAPED:
            return c.Escape(**meta)
        case PersonEventType.RECAPTURED:
            facility = reference.facility(uow, r.facility_id or "")
            return c.Recapture(**meta, facility=facility, authority_id=_custodian(uow, r.authority_id, facility))
        case PersonEventType.DIED:
            return c.Die(**meta)
        case PersonEventType.RELEASED:
            return c.Release(**meta, reason=r.reason or "")
        case PersonEventType.REPATRIATED:
            receiving = reference.authority(uow, r.authority_id or "")
            country = r.country or receiving.country
            if not country:
                raise ValueError(
                    _("A repatriated event needs country: authority {id} has none.").format(id=receiving.id)
                )
            return c.Repatriate(**meta, to_authority_id=receiving.id, country=country)
        case PersonEventType.NOTIFIED:
            return c.Notify(**meta, channel=r.channel or "")
        case PersonEventType.ARRIVED:
            return c.Arrive(**meta, facility=reference.facility(uow, r.facility_id or ""), movement_id=None)
        case PersonEventType.ADMITTED:
            facility = reference.facility(uow, r.facility_id or "")
            return c.Admit(**meta, facility=facility, authority_id=_custodian(uow, r.authority_id, facility))
    raise AssertionError(f"unhandled person event type {r.type}")  # pragma: no cover - the enum is closed


def _custodian(uow: UnitOfWork, authority_id: str | None, facility: Facility) -> str:
    """The authority that takes custody: the one named (which must exist), else the facility's operator."""
    if authority_id is None:
        return facility.authority_id
    return reference.authority(uow, authority_id).id
