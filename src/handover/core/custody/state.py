"""A person's custody at one moment, folded from their events."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from handover.core.custody.model import Estate
from handover.i18n import _


class Status(StrEnum):
    HELD = "held"
    IN_TRANSIT = "in_transit"
    ARRIVED = "arrived"
    HOSPITALISED = "hospitalised"
    ESCAPED = "escaped"
    DEAD = "dead"
    RELEASED = "released"
    REPATRIATED = "repatriated"


# After these nothing may happen to the person except a correction.
TERMINAL = frozenset({Status.DEAD, Status.RELEASED, Status.REPATRIATED})
# Custody ends with release: the only status with no custodian.
WITHOUT_CUSTODIAN = frozenset({Status.RELEASED})
# Read as a plain name where every event of a log is folded (off the enum class it is several times slower).
_HELD = Status.HELD


@dataclass(frozen=True, slots=True)
class PersonState:
    """Where a person is and who holds them.

    `facility_id` is set while the person is at a place (held, arrived, hospitalised); `movement_id` while they are
    on a manifest or in transit. An escaped person has no place but their last custodian stays accountable.
    """

    person_id: str
    status: Status
    estate: Estate
    custodian_id: str | None
    facility_id: str | None
    movement_id: str | None
    last_event_id: str
    event_count: int

    @property
    def on_manifest(self) -> bool:
        return self.status is _HELD and self.movement_id is not None

    def describe(self) -> str:
        """The state in words, for refusals: what a user needs to see to understand why."""
        custodian = self.custodian_id or _("nobody")
        if self.status is Status.HELD and self.movement_id:
            return _("held at {facility} by {custodian}, on the manifest of movement {movement}").format(
                facility=self.facility_id, custodian=custodian, movement=self.movement_id
            )
        if self.status is Status.HELD:
            return _("held at {facility} by {custodian}").format(facility=self.facility_id, custodian=custodian)
        if self.status is Status.IN_TRANSIT:
            return _("in transit on movement {movement}, custodian {custodian}").format(
                movement=self.movement_id, custodian=custodian
            )
        if self.status is Status.ARRIVED:
            return _("arrived at {facility}, not yet admitted, custodian {custodian}").format(
                facility=self.facility_id, custodian=custodian
            )
        if self.status is Status.HOSPITALISED:
            return _("hospitalised, custodian {custodian}").format(custodian=custodian)
        if self.status is Status.ESCAPED:
            return _("escaped from the custody of {custodian}").format(custodian=custodian)
        if self.status is Status.DEAD:
            return _("dead")
        if self.status is Status.RELEASED:
            return _("released")
        return _("repatriated to {custodian}").format(custodian=custodian)


def describe(state: PersonState | None) -> str:
    return state.describe() if state is not None else _("not registered")
