"""Words for codes shown on pages: event types, custody statuses, estates, facility kinds (translated on request)."""

from __future__ import annotations

from handover.core.custody import Estate, EventType, Status
from handover.core.custody.handover import DiscrepancyKind, Side
from handover.core.custody.model import FacilityKind, TransportMode
from handover.core.custody.movements import LegState, MovementState
from handover.core.policy.safeguards import Safeguard
from handover.i18n import _


def event_label(kind: EventType) -> str:
    labels = {
        EventType.REGISTERED: _("registered"),
        EventType.ASSESSED: _("assessed"),
        EventType.MANIFESTED: _("put on a manifest"),
        EventType.UNMANIFESTED: _("taken off a manifest"),
        EventType.DEPARTED: _("departed"),
        EventType.HANDED_OVER: _("handed over"),
        EventType.ARRIVED: _("arrived"),
        EventType.ADMITTED: _("admitted"),
        EventType.NOTIFIED: _("notified"),
        EventType.HOSPITALISED: _("hospitalised"),
        EventType.ESCAPED: _("escaped"),
        EventType.RECAPTURED: _("recaptured"),
        EventType.DIED: _("died"),
        EventType.RELEASED: _("released"),
        EventType.REPATRIATED: _("repatriated"),
        EventType.CORRECTED: _("corrected"),
    }
    return labels[kind]


def status_label(status: Status) -> str:
    labels = {
        Status.HELD: _("held"),
        Status.IN_TRANSIT: _("in transit"),
        Status.ARRIVED: _("arrived, awaiting admission"),
        Status.HOSPITALISED: _("hospitalised"),
        Status.ESCAPED: _("escaped"),
        Status.DEAD: _("dead"),
        Status.RELEASED: _("released"),
        Status.REPATRIATED: _("repatriated"),
    }
    return labels[status]


def estate_label(estate: Estate) -> str:
    labels = {
        Estate.ADULT_MEN: _("Adult men"),
        Estate.ADULT_WOMEN: _("Adult women"),
        Estate.MINORS: _("Minors"),
    }
    return labels[estate]


def facility_kind_label(kind: FacilityKind) -> str:
    labels = {
        FacilityKind.CAMP: _("camp"),
        FacilityKind.PRISON: _("prison"),
        FacilityKind.STAGING_BASE: _("staging base"),
        FacilityKind.AIRFIELD: _("airfield"),
        FacilityKind.BORDER_CROSSING: _("border crossing"),
        FacilityKind.FAMILY_CENTRE: _("family centre"),
    }
    return labels[kind]


def movement_state_label(state: MovementState) -> str:
    labels = {
        MovementState.DRAFT: _("draft"),
        MovementState.APPROVED: _("approved"),
        MovementState.IN_PROGRESS: _("in progress"),
        MovementState.ARRIVED: _("arrived"),
        MovementState.RECONCILED: _("reconciled"),
        MovementState.CANCELLED: _("cancelled"),
    }
    return labels[state]


def leg_state_label(state: LegState) -> str:
    labels = {LegState.PLANNED: _("planned"), LegState.DEPARTED: _("under way"), LegState.ARRIVED: _("arrived")}
    return labels[state]


def mode_label(mode: TransportMode) -> str:
    labels = {
        TransportMode.HELICOPTER: _("helicopter"),
        TransportMode.AIRCRAFT: _("aircraft"),
        TransportMode.ROAD_CONVOY: _("road convoy"),
    }
    return labels[mode]


def safeguard_label(safeguard: Safeguard) -> str:
    labels = {
        Safeguard.FIT_TO_TRAVEL: _("fit to travel"),
        Safeguard.LEGAL_REVIEW: _("legal review"),
        Safeguard.MINOR_WITH_GUARDIAN: _("minor with mother or guardian"),
        Safeguard.CAPACITY: _("destination capacity"),
        Safeguard.SEATS: _("seats"),
    }
    return labels[safeguard]


def discrepancy_label(kind: DiscrepancyKind) -> str:
    labels = {
        DiscrepancyKind.MISSING: _("missing"),
        DiscrepancyKind.EXTRA: _("extra"),
        DiscrepancyKind.INJURY: _("injury noted"),
    }
    return labels[kind]


def side_label(side: Side) -> str:
    return _("dispatching") if side is Side.DISPATCHING else _("receiving")


def incident_kind_label(kind: str) -> str:
    labels = {
        "escape": _("escape"),
        "recapture": _("recapture"),
        "death": _("death"),
        "hospitalisation": _("hospitalisation"),
        "hospital_return": _("return from hospital"),
        "use_of_force": _("use of force"),
        "vehicle_breakdown": _("vehicle breakdown"),
        "other": _("other incident"),
    }
    return labels.get(kind, kind)


def outcome_label(outcome: str) -> str:
    labels = {
        "admitted": _("admitted"),
        "returned": _("returned to origin"),
        "hospitalised": _("hospitalised"),
        "died": _("died"),
        "escaped": _("escaped"),
    }
    return labels.get(outcome, outcome)


def alert_kind_label(kind: str) -> str:
    labels = {
        "escape": _("Escape"),
        "death": _("Death"),
        "handover_open": _("Handover signed by one side"),
        "notification_overdue": _("Family notification overdue"),
    }
    return labels.get(kind, kind)


def assessment_label(outcome: str | None) -> str:
    labels = {"fit": _("fit"), "unfit": _("unfit"), "cleared": _("cleared"), "risk": _("risk")}
    return labels.get(outcome, outcome) if outcome else _("not assessed")
