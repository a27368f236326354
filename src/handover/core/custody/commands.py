"""What users ask to happen to a person. `decide` turns a command into events or a refusal.

Services fill in `event_id` and `recorded_at` (from their id source and clock) so the core stays deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from handover.core.custody.events import CustodyEvent
from handover.core.custody.model import Estate, Facility


@dataclass(frozen=True, slots=True, kw_only=True)
class Command:
    person_id: str
    event_id: str
    occurred_at: datetime
    recorded_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Register(Command):
    facility: Facility
    custodian_id: str
    estate: Estate
    identity_commitment: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Assess(Command):
    kind: str
    outcome: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Manifest(Command):
    movement_id: str
    origin_id: str
    # Safeguards overridden for this person, why, and by whom (an actor id, never a name): kept on the event.
    overrides: tuple[str, ...] = ()
    override_reason: str | None = None
    override_by: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Unmanifest(Command):
    movement_id: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Depart(Command):
    movement_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class HandOver(Command):
    from_authority_id: str
    to_authority_id: str
    place_id: str | None = None
    handover_id: str | None = None
    document: str | None = None  # SHA-256 (hex) of the signed handover document


@dataclass(frozen=True, slots=True, kw_only=True)
class Arrive(Command):
    facility: Facility
    movement_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Admit(Command):
    facility: Facility
    authority_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Notify(Command):
    channel: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Hospitalise(Command):
    place: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Escape(Command):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class Recapture(Command):
    facility: Facility
    authority_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Die(Command):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class Release(Command):
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Repatriate(Command):
    to_authority_id: str
    country: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Correct(Command):
    """Voids one earlier event of the person. `history` is the person's whole chain in log order."""

    target_event_id: str
    reason: str
    history: tuple[CustodyEvent, ...]
