"""Server-rendered pages: the dashboard, a person's custody chain with its proofs, and the partial HTMX refreshes.

Thin: call a query or service, shape, render.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from handover.core.custody import CustodyEvent, Estate, EventType, PersonState
from handover.core.custody.machine import apply
from handover.core.custody.model import Facility
from handover.core.tlog.note import Signer
from handover.i18n import _, current_language
from handover.services import proofs, queries
from handover.services.errors import NotFoundError
from handover.services.ports import CurrentCustody, StoredEvent, UnitOfWork
from handover.store.uow import Database
from handover.web.labels import estate_label, event_label, facility_kind_label, status_label
from handover.web.templating import templates

LATEST_EVENTS = 20
REFRESH_SECONDS = 15
# Served by the log's own routes (handover.api.log); pages link to them and never import the API.
CHECKPOINT_PATH = "/log/checkpoint"
RECEIPT_PATH = "/api/v1/log/receipts/{event_id}"

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


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _reported_late(events: Iterable[CustodyEvent]) -> list[bool]:
    """For events in log order: whether each occurred before an event earlier in that order (rule 2)."""
    flags = []
    latest_so_far: datetime | None = None
    for event in events:
        occurred = _utc(event.occurred_at)
        flags.append(latest_so_far is not None and occurred < latest_so_far)
        latest_so_far = occurred if latest_so_far is None else max(latest_so_far, occurred)
    return flags


class Names:
    """Facility names, authority names and movement codes, for showing places and custodians by name."""

    def __init__(self, uow: UnitOfWork, movement_ids: Iterable[str | None] = ()) -> None:
        self.facilities = {f.id: _facility_name(f) for f in uow.reference.facilities()}
        wanted = {m for m in movement_ids if m}
        self.codes = {m.id: m.code for m in queries.movements(uow) if m.id in wanted} if wanted else {}
        self._uow = uow
        self._authorities: dict[str, str] | None = None

    def facility(self, facility_id: str) -> str:
        return self.facilities.get(facility_id, facility_id)

    def movement(self, movement_id: str) -> str:
        return self.codes.get(movement_id, movement_id)

    def authority(self, authority_id: str) -> str:
        if self._authorities is None:
            self._authorities = {a.id: a.name for a in self._uow.reference.authorities()}
        return self._authorities.get(authority_id, authority_id)

    def place(self, facility_id: str | None, movement_id: str | None) -> str:
        if facility_id:
            return self.facility(facility_id)
        if movement_id:
            return _("on movement {code}").format(code=self.movement(movement_id))
        return ""


def _event_rows(uow: UnitOfWork, latest: Sequence[StoredEvent]) -> list[EventRow]:
    """Newest first (descending log index), with the place named and late reports flagged."""
    names = Names(uow, (e.event.movement_id for e in latest))
    in_order = sorted(latest, key=lambda s: s.seq)
    rows = []
    for stored, late in zip(in_order, _reported_late(s.event for s in in_order), strict=True):
        event = stored.event
        occurred = _utc(event.occurred_at)
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


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@dataclass(frozen=True, slots=True)
class CheckpointPanel:
    """The dashboard's transparency-log panel: the latest signed checkpoint, in words a reader can check."""

    size: int
    root: str  # base64, as in the checkpoint itself
    signed_at: str  # ISO 8601, UTC
    signed_utc: str  # for reading: YYYY-MM-DD HH:MM:SS
    key_name: str
    key_id: str  # 8 hex digits, as in the verifier key `<name>+<key ID>+<key>`
    vkey: str  # the server's verifier key, when it holds the key that signed; else empty
    after: int  # events recorded since
    note_matches: bool
    signature_verified: bool | None


def _signer(request: Request) -> Signer | None:
    signer = getattr(request.app.state, "signer", None)
    return signer if isinstance(signer, Signer) else None


def _checkpoint_panel(view: proofs.CheckpointView, signer: Signer | None) -> CheckpointPanel:
    signed = _utc(view.signed_at)
    key = view.key
    ours = signer is not None and key is not None and (key.name, key.key_id) == (signer.name, signer.key_id)
    return CheckpointPanel(
        size=view.size,
        root=view.root_b64,
        signed_at=signed.isoformat(),
        signed_utc=signed.strftime("%Y-%m-%d %H:%M:%S"),
        key_name=key.name if key else "",
        key_id=key.key_id_hex if key else "",
        vkey=signer.verifier.vkey if ours and signer is not None else "",
        after=view.after,
        note_matches=view.note_matches,
        signature_verified=view.signature_verified,
    )


@router.get("/", name="dashboard")
def dashboard(request: Request, uow: Uow) -> HTMLResponse:
    report = queries.status(uow)
    signer = _signer(request)
    view = proofs.checkpoint_view(uow, signer.verifier if signer else None)
    progress = min(1.0, report.moved / report.planned) if report.planned else 0.0
    context = {
        "report": report,
        "progress": progress,
        "facilities": _occupancy(report),
        "events": _event_rows(uow, queries.latest_events(uow, LATEST_EVENTS)),
        "refresh_seconds": REFRESH_SECONDS,
        "checkpoint": _checkpoint_panel(view, signer) if view else None,
        "checkpoint_url": CHECKPOINT_PATH,
    }
    return templates.TemplateResponse(request, "dashboard.html", context)


@router.get("/partials/latest-events", name="latest_events")
def latest_events(request: Request, uow: Uow) -> HTMLResponse:
    events = _event_rows(uow, queries.latest_events(uow, LATEST_EVENTS))
    return templates.TemplateResponse(request, "_latest_events.html", {"events": events})


@dataclass(frozen=True, slots=True)
class ChainRow:
    """One event of a person's chain, with its inclusion proof and the verdict of checking it."""

    seq: int
    event_id: str
    type: str
    label: str
    occurred_at: str  # ISO 8601, UTC
    occurred_utc: str
    reported_late: bool
    place: str
    custodian: str
    custodian_id: str
    movement: str  # the movement's code
    corrected_by: list[int]  # log indexes of the corrections that point at this event
    corrects: int | None  # for a correction: the log index of the event it corrects
    inclusion: str  # proofs.Inclusion value
    checkpoint_size: int | None
    leaf_hash: str
    proof: list[str]  # base64, the leaf's sibling first
    problem: str
    receipt_url: str  # empty unless the event is inside the checkpoint


@dataclass(frozen=True, slots=True)
class CurrentRow:
    status: str
    status_label: str
    custodian: str
    custodian_id: str
    place: str
    facility_id: str
    movement: str
    movement_id: str


def _chain_rows(
    names: Names, chain: Sequence[StoredEvent], inclusions: Sequence[proofs.EventInclusion]
) -> list[ChainRow]:
    seq_of = {s.event.event_id: s.seq for s in chain}
    corrected_by: dict[str, list[int]] = {}
    for stored in chain:
        if stored.event.corrects:
            corrected_by.setdefault(stored.event.corrects, []).append(stored.seq)
    rows = []
    late_flags = _reported_late(s.event for s in chain)
    custodians = _custodians_after(s.event for s in chain)
    for stored, late, custodian_id, inclusion in zip(chain, late_flags, custodians, inclusions, strict=True):
        event = stored.event
        occurred = _utc(event.occurred_at)
        rows.append(
            ChainRow(
                seq=stored.seq,
                event_id=event.event_id,
                type=event.type.value,
                label=event_label(event.type),
                occurred_at=occurred.isoformat(),
                occurred_utc=occurred.strftime("%Y-%m-%d %H:%M"),
                reported_late=late,
                place=names.place(event.facility_id, event.movement_id),
                custodian=names.authority(custodian_id) if custodian_id else "",
                custodian_id=custodian_id or "",
                movement=names.movement(event.movement_id) if event.movement_id else "",
                corrected_by=corrected_by.get(event.event_id, []),
                corrects=seq_of.get(event.corrects) if event.corrects else None,
                inclusion=inclusion.status.value,
                checkpoint_size=inclusion.checkpoint_size,
                leaf_hash=_b64(inclusion.leaf_hash) if inclusion.leaf_hash else "",
                proof=[_b64(h) for h in inclusion.proof],
                problem=inclusion.problem,
                receipt_url=RECEIPT_PATH.format(event_id=quote(event.event_id, safe=""))
                if inclusion.in_checkpoint
                else "",
            )
        )
    return rows


def _custodians_after(events: Iterable[CustodyEvent]) -> list[str | None]:
    """Who held the person after each event, folding the chain with the custody machine's `apply`.

    Events name the custodian only when it changes; the fold fills in the rest. A chain the machine cannot fold
    (which `handover verify` reports) falls back to what each event itself names.
    """
    state: PersonState | None = None
    custodians: list[str | None] = []
    for event in events:
        if state is None and event.type is not EventType.REGISTERED:
            custodians.append(event.authority_id)
            continue
        try:
            state = apply(state, event)
        except ValueError:
            state = None
        custodians.append(state.custodian_id if state is not None else event.authority_id)
    return custodians


def _current_row(names: Names, current: CurrentCustody) -> CurrentRow:
    state = current.state
    return CurrentRow(
        status=state.status.value,
        status_label=status_label(state.status),
        custodian=names.authority(state.custodian_id) if state.custodian_id else "",
        custodian_id=state.custodian_id or "",
        place=names.place(state.facility_id, state.movement_id),
        facility_id=state.facility_id or "",
        movement=names.movement(state.movement_id) if state.movement_id else "",
        movement_id=state.movement_id or "",
    )


@router.get("/persons/{person_id:path}", name="person")
def person(request: Request, person_id: str, uow: Uow) -> HTMLResponse:
    """A monitor's view of one person, by random id: current custody, and the chain with each event's proof."""
    try:
        view = queries.person(uow, person_id)
    except NotFoundError as missing:
        missing_context = {"person_id": person_id, "detail": missing.message}
        return templates.TemplateResponse(request, "person_not_found.html", missing_context, status_code=404)
    signer = _signer(request)
    checkpoint = proofs.checkpoint_view(uow, signer.verifier if signer else None)
    inclusions = proofs.event_inclusions(uow, view.chain, checkpoint)
    names = Names(uow, [view.current.state.movement_id, *(s.event.movement_id for s in view.chain)])
    rows = _chain_rows(names, view.chain, inclusions)
    counts = {status.value: sum(1 for i in inclusions if i.status is status) for status in proofs.Inclusion}
    context: dict[str, Any] = {
        "person_id": person_id,
        "current": _current_row(names, view.current),
        "chain": rows,
        "counts": counts,
        "checkpoint": _checkpoint_panel(checkpoint, signer) if checkpoint else None,
        "checkpoint_url": CHECKPOINT_PATH,
    }
    return templates.TemplateResponse(request, "person.html", context)
