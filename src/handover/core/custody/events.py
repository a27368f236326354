"""Custody events: immutable records of what happened to one person."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class EventType(StrEnum):
    REGISTERED = "registered"
    ASSESSED = "assessed"
    MANIFESTED = "manifested"
    UNMANIFESTED = "unmanifested"
    DEPARTED = "departed"
    HANDED_OVER = "handed_over"
    ARRIVED = "arrived"
    ADMITTED = "admitted"
    NOTIFIED = "notified"
    HOSPITALISED = "hospitalised"
    ESCAPED = "escaped"
    RECAPTURED = "recaptured"
    DIED = "died"
    RELEASED = "released"
    REPATRIATED = "repatriated"
    CORRECTED = "corrected"


Details = tuple[tuple[str, str], ...]


def details(**values: str | None) -> Details:
    """Extra fields of an event, as a sorted tuple so events stay hashable and compare exactly."""
    return tuple(sorted((key, value) for key, value in values.items() if value is not None))


@dataclass(frozen=True, slots=True)
class CustodyEvent:
    """One thing that happened to one person, named by random id only.

    `facility_id`, `authority_id` and `movement_id` mean, per type: where it happened or where the person now is,
    the custodian after the event, and the movement concerned. `corrects` is set on corrections only.
    """

    event_id: str
    person_id: str
    type: EventType
    occurred_at: datetime
    recorded_at: datetime
    facility_id: str | None = None
    authority_id: str | None = None
    movement_id: str | None = None
    corrects: str | None = None
    details: Details = field(default=())

    def detail(self, key: str) -> str | None:
        for name, value in self.details:
            if name == key:
                return value
        return None

    def required(self, key: str) -> str:
        """A detail the event's type always carries (a registration's estate, a correction's status)."""
        value = self.detail(key)
        if value is None:
            raise ValueError(f"{self.type.value} event {self.event_id} lacks its {key!r} detail")
        return value
