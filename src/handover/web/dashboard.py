"""The dashboard: progress, where people are, alerts, the daily roll, the latest events and the log's checkpoint."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from handover.core.custody import Estate
from handover.i18n import _, ngettext
from handover.services import proofs, queries, reconciliation
from handover.services.ports import StoredEvent, UnitOfWork
from handover.web.checkpoints import CHECKPOINT_PATH, checkpoint_panel, reported_late, signer, utc
from handover.web.common import Names, Uow, facility_name, notification_hours, render, runtime
from handover.web.labels import (
    alert_kind_label,
    estate_label,
    event_label,
    facility_kind_label,
    incident_kind_label,
)

LATEST_EVENTS = 20
REFRESH_SECONDS = 15

router = APIRouter(default_response_class=HTMLResponse)


@dataclass(frozen=True, slots=True)
class EstateRow:
    estate: str
    label: str
    held: int
    capacity: int
    free: int
    over: bool
    fill: float  # bar width in percent, 0..100


@dataclass(frozen=True, slots=True)
class FacilityRow:
    id: str
    name: str
    country: str
    kind: str
    estates: list[EstateRow]
    awaiting_admission: int


@dataclass(frozen=True, slots=True)
class EventRow:
    seq: int
    type: str
    label: str
    person_id: str
    place: str
    occurred_at: str  # ISO 8601, UTC
    occurred_utc: str  # for reading: YYYY-MM-DD HH:MM
    reported_late: bool  # occurred before an event earlier in the log (rule 2: say when time and order differ)


@dataclass(frozen=True, slots=True)
class AlertRow:
    kind: str
    label: str
    message: str
    at: datetime
    link: str


@dataclass(frozen=True, slots=True)
class RollRow:
    facility_id: str
    name: str
    came_in: int
    went_out: int
    held: int
    in_transit: int
    expected: int
    capacity: int
    free: int


def _occupancy(report: queries.StatusReport) -> list[FacilityRow]:
    rows = []
    for occupancy in report.facilities:
        facility = occupancy.facility
        estates = []
        for estate in Estate:
            held = occupancy.held.get(estate.value, 0)
            capacity = facility.capacity.for_estate(estate)
            if capacity == 0 and held == 0:
                continue
            fill = 100.0 if capacity == 0 else min(100.0, 100.0 * held / capacity)
            estates.append(
                EstateRow(estate.value, estate_label(estate), held, capacity, capacity - held, held > capacity, fill)
            )
        if estates or occupancy.awaiting_admission:
            rows.append(
                FacilityRow(
                    facility.id,
                    facility_name(facility),
                    facility.country,
                    facility_kind_label(facility.kind),
                    estates,
                    occupancy.awaiting_admission,
                )
            )
    return rows


def _event_rows(uow: UnitOfWork, latest: Sequence[StoredEvent]) -> list[EventRow]:
    """Newest first (descending log index), with the place named and late reports flagged."""
    names = Names(uow, (e.event.movement_id for e in latest))
    in_order = sorted(latest, key=lambda s: s.seq)
    rows = []
    for stored, late in zip(in_order, reported_late(s.event for s in in_order), strict=True):
        event = stored.event
        occurred = utc(event.occurred_at)
        rows.append(
            EventRow(
                seq=stored.seq,
                type=event.type.value,
                label=event_label(event.type),
                person_id=event.person_id,
                place=names.place(event.facility_id, event.movement_id),
                occurred_at=occurred.isoformat(),
                occurred_utc=occurred.strftime("%Y-%m-%d %H:%M"),
                reported_late=late,
            )
        )
    rows.reverse()
    return rows


def _alert_link(request: Request, alert: reconciliation.Alert) -> str:
    if alert.kind == "handover_open":
        return request.url_for("web_handover", handover_id=alert.subject).path
    if alert.kind == "notification_overdue":
        return request.url_for("web_intake").path
    return ""


def _alert_message(uow: UnitOfWork, names: Names, alert: reconciliation.Alert) -> str:
    """The alert in words, with places, authorities and movements named rather than given by id."""
    if alert.kind == "handover_open":
        record = uow.operations.handover(alert.subject)
        if record is not None:
            waiting = record.to_authority_id if record.dispatching_signature else record.from_authority_id
            return _("Handover at {place} signed by one side only; waiting for {authority}.").format(
                place=names.facility(record.place_id), authority=names.authority(waiting)
            )
    if alert.kind in ("escape", "death"):
        incident = next((i for i in uow.operations.incidents(kinds=[alert.kind]) if i.id == alert.subject), None)
        if incident is not None:
            where = names.movement(incident.movement_id) if incident.movement_id else ""
            text = ngettext(
                "{kind}: {count} person ({people})", "{kind}: {count} people ({people})", len(incident.people)
            )
            message = text.format(
                kind=incident_kind_label(incident.kind), count=len(incident.people), people=", ".join(incident.people)
            )
            return _("{message}, movement {code}").format(message=message, code=where) if where else message
    return alert.message


def _alerts(request: Request, uow: UnitOfWork, now: datetime) -> list[AlertRow]:
    found = reconciliation.alerts(uow, now, notification_hours(request))
    names = Names(uow, (i.movement_id for i in uow.operations.incidents(kinds=["escape", "death"])))
    return [
        AlertRow(a.kind, alert_kind_label(a.kind), _alert_message(uow, names, a), a.at, _alert_link(request, a))
        for a in found
    ]


def _roll(uow: UnitOfWork, now: datetime) -> list[RollRow]:
    names = Names(uow)
    return [
        RollRow(
            r.facility_id,
            names.facility(r.facility_id),
            r.came_in,
            r.went_out,
            r.held,
            r.in_transit,
            r.expected,
            r.capacity,
            r.free,
        )
        for r in reconciliation.roll(uow, utc(now).date())
    ]


@router.get("/", name="dashboard")
def dashboard(request: Request, uow: Uow) -> HTMLResponse:
    report = queries.status(uow)
    ours = signer(request)
    view = proofs.checkpoint_view(uow, ours.verifier if ours else None)
    progress = min(1.0, report.moved / report.planned) if report.planned else 0.0
    now = runtime(request).clock()
    context = {
        "report": report,
        "progress": progress,
        "facilities": _occupancy(report),
        "alerts": _alerts(request, uow, now),
        "roll": _roll(uow, now),
        "roll_day": utc(now).date().isoformat(),
        "events": _event_rows(uow, queries.latest_events(uow, LATEST_EVENTS)),
        "refresh_seconds": REFRESH_SECONDS,
        "checkpoint": checkpoint_panel(view, ours) if view else None,
        "checkpoint_url": CHECKPOINT_PATH,
    }
    return render(request, "dashboard.html", context)


@router.get("/partials/latest-events", name="latest_events")
def latest_events(request: Request, uow: Uow) -> HTMLResponse:
    events = _event_rows(uow, queries.latest_events(uow, LATEST_EVENTS))
    return render(request, "_latest_events.html", {"events": events})
