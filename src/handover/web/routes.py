"""Server-rendered pages: the dashboard and the partial HTMX refreshes. Thin: call a query, shape, render."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from handover.core.custody import Estate
from handover.core.custody.model import Facility
from handover.i18n import _, current_language
from handover.services import queries
from handover.services.ports import StoredEvent, UnitOfWork
from handover.store.uow import Database
from handover.web.labels import estate_label, event_label, facility_kind_label
from handover.web.templating import templates

LATEST_EVENTS = 20
REFRESH_SECONDS = 15

router = APIRouter(default_response_class=HTMLResponse)


def unit_of_work(request: Request) -> Iterator[UnitOfWork]:
    """One unit of work per request; pages only read, so it always rolls back."""
    database: Database = request.app.state.database
    with database.unit_of_work(read_only=True) as uow:
        yield uow


Uow = Annotated[UnitOfWork, Depends(unit_of_work)]


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


def _facility_name(facility: Facility) -> str:
    if current_language() == "ar" and facility.name_ar:
        return facility.name_ar
    return facility.name


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
                    _facility_name(facility),
                    facility.country,
                    facility_kind_label(facility.kind),
                    estates,
                    occupancy.awaiting_admission,
                )
            )
    return rows


def _event_rows(uow: UnitOfWork, latest: Sequence[StoredEvent]) -> list[EventRow]:
    """Newest first (descending log index), with the place named and late reports flagged."""
    facilities = {f.id: _facility_name(f) for f in uow.reference.facilities()}
    movement_ids = {e.event.movement_id for e in latest if e.event.movement_id}
    codes = {m.id: m.code for m in queries.movements(uow) if m.id in movement_ids} if movement_ids else {}
    rows = []
    latest_so_far = None
    for stored in sorted(latest, key=lambda s: s.seq):
        event = stored.event
        occurred = event.occurred_at.astimezone(UTC)
        late = latest_so_far is not None and occurred < latest_so_far
        latest_so_far = occurred if latest_so_far is None else max(latest_so_far, occurred)
        if event.facility_id:
            place = facilities.get(event.facility_id, event.facility_id)
        elif event.movement_id:
            code = codes.get(event.movement_id, event.movement_id)
            place = _("on movement {code}").format(code=code)
        else:
            place = ""
        rows.append(
            EventRow(
                seq=stored.seq,
                type=event.type.value,
                label=event_label(event.type),
                person_id=event.person_id,
                place=place,
                occurred_at=occurred.isoformat(),
                occurred_utc=occurred.strftime("%Y-%m-%d %H:%M"),
                reported_late=late,
            )
        )
    rows.reverse()
    return rows


@router.get("/", name="dashboard")
def dashboard(request: Request, uow: Uow) -> HTMLResponse:
    report = queries.status(uow)
    progress = min(1.0, report.moved / report.planned) if report.planned else 0.0
    context = {
        "report": report,
        "progress": progress,
        "facilities": _occupancy(report),
        "events": _event_rows(uow, queries.latest_events(uow, LATEST_EVENTS)),
        "refresh_seconds": REFRESH_SECONDS,
    }
    return templates.TemplateResponse(request, "dashboard.html", context)


@router.get("/partials/latest-events", name="latest_events")
def latest_events(request: Request, uow: Uow) -> HTMLResponse:
    events = _event_rows(uow, queries.latest_events(uow, LATEST_EVENTS))
    return templates.TemplateResponse(request, "_latest_events.html", {"events": events})
