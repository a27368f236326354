"""Words for codes shown on pages: event types, custody statuses, estates, facility kinds (translated on request)."""

from __future__ import annotations

from handover.core.custody import Estate, EventType, Status
from handover.core.custody.model import FacilityKind
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
