"""One person, by random id: current custody, and the chain with each event's proof.

Need to know: the page answers for people in the reader's scope only (anyone else is "not found", exactly like an
unknown id), and every showing is recorded in the access log with its purpose before the page is sent. Roles that
must say why they open a record (a monitor's reads have no usual purpose) get a form asking for the purpose first,
and nothing is recorded until they give one. Those who read the access log see, on the page, who read this person's
record.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from handover.core.custody import CustodyEvent, EventType, PersonState
from handover.core.custody.machine import apply
from handover.core.policy.access import Action, Principal, Purpose, Resource, may, must_state_purpose
from handover.gate import needing
from handover.i18n import _
from handover.services import access_log, proofs, queries, scope
from handover.services.errors import NotFoundError
from handover.services.ports import AccountsUnitOfWork, CurrentCustody, StoredEvent
from handover.web.checkpoints import (
    CHECKPOINT_PATH,
    RECEIPT_PATH,
    b64,
    checkpoint_panel,
    reported_late,
    signer,
    utc,
)
from handover.web.common import Names, clean_text, reading, render, runtime, writing
from handover.web.labels import event_label, status_label

router = APIRouter(default_response_class=HTMLResponse)


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
    late_flags = reported_late(s.event for s in chain)
    custodians = _custodians_after(s.event for s in chain)
    for stored, late, custodian_id, inclusion in zip(chain, late_flags, custodians, inclusions, strict=True):
        event = stored.event
        occurred = utc(event.occurred_at)
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
                leaf_hash=b64(inclusion.leaf_hash) if inclusion.leaf_hash else "",
                proof=[b64(h) for h in inclusion.proof],
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


def purpose_labels() -> list[tuple[str, str]]:
    """The purposes a reader may give, in words (codes go into the log, words stay on the page)."""
    return [
        (Purpose.OPERATIONS.value, _("Planning or running a transfer")),
        (Purpose.INTAKE.value, _("Admission or family notification")),
        (Purpose.LEGAL_REVIEW.value, _("Legal review")),
        (Purpose.CONSULAR.value, _("Consular follow-up of a national")),
        (Purpose.CASE_WORK.value, _("Work on a repatriation case")),
        (Purpose.MONITORING.value, _("Monitoring: checking the custody chain")),
        (Purpose.COMPLAINT.value, _("A complaint or an incident")),
        (Purpose.CORRECTION.value, _("Correcting a record")),
        (Purpose.ADMINISTRATION.value, _("Administration")),
    ]


@dataclass(frozen=True, slots=True)
class ReadRow:
    """One recorded read of the person's record, for those who read the access log."""

    seq: int
    reader: str
    reader_id: str
    purpose: str
    purpose_label: str
    note: str
    at: datetime


def _reads(uow: AccountsUnitOfWork, person_id: str) -> list[ReadRow]:
    labels = dict(purpose_labels())
    rows = []
    for record in access_log.reads_of(uow, person_id):
        account = uow.accounts.get(record.reader_id)
        rows.append(
            ReadRow(
                seq=record.seq,
                reader=(account.display_name or account.name) if account is not None else record.reader_id,
                reader_id=record.reader_id,
                purpose=record.purpose,
                purpose_label=labels.get(record.purpose, record.purpose),
                note=record.note,
                at=record.at,
            )
        )
    return rows


def _not_found(request: Request, person_id: str, missing: NotFoundError) -> HTMLResponse:
    context = {"person_id": person_id, "detail": missing.message}
    return render(request, "person_not_found.html", context, status_code=404)


def _ask_purpose(request: Request, person_id: str, purpose: str, note: str, error: str = "") -> HTMLResponse:
    """The form asking why the record is opened; nothing is recorded (or shown) until it is answered."""
    context = {"person_id": person_id, "purposes": purpose_labels(), "purpose": purpose, "note": note, "error": error}
    return render(request, "person_purpose.html", context, status_code=422 if error else 200)


@router.get("/persons/{person_id:path}", name="person")
def person(
    request: Request,
    person_id: str,
    who: Annotated[Principal, needing(Resource.PERSON, Action.READ)],
    purpose: str = "",
    note: str = "",
) -> HTMLResponse:
    """One person's current custody and chain with each event's proof, for readers whose scope holds them."""
    with reading(request) as uow:
        try:
            scope.visible_person(uow, who, person_id)
        except NotFoundError as missing:
            return _not_found(request, person_id, missing)
    if not purpose.strip() and must_state_purpose(who.role):
        return _ask_purpose(request, person_id, "", note)
    try:
        reason = clean_text(note, _("The note"), access_log.MAX_NOTE)
        chosen = access_log.purpose_for(who, purpose.strip() or None)
    except ValueError as error:
        return _ask_purpose(request, person_id, purpose, note, str(error))
    with writing(request) as uow:
        try:  # again, in the transaction that records the read: scope may have changed in between
            scope.visible_person(uow, who, person_id)
        except NotFoundError as missing:
            return _not_found(request, person_id, missing)
        access_log.record_read(uow, runtime(request), who, person_id, chosen, reason)
        uow.commit()
    with reading(request) as uow:
        return _page(request, uow, who, person_id)


def _page(request: Request, uow: AccountsUnitOfWork, who: Principal, person_id: str) -> HTMLResponse:
    try:
        view = queries.person(uow, person_id)
    except NotFoundError as missing:
        return _not_found(request, person_id, missing)
    ours = signer(request)
    checkpoint = proofs.checkpoint_view(uow, ours.verifier if ours else None)
    inclusions = proofs.event_inclusions(uow, view.chain, checkpoint)
    names = Names(uow, [view.current.state.movement_id, *(s.event.movement_id for s in view.chain)])
    rows = _chain_rows(names, view.chain, inclusions)
    counts = {status.value: sum(1 for i in inclusions if i.status is status) for status in proofs.Inclusion}
    context: dict[str, Any] = {
        "person_id": person_id,
        "current": _current_row(names, view.current),
        "chain": rows,
        "counts": counts,
        "checkpoint": checkpoint_panel(checkpoint, ours) if checkpoint else None,
        "checkpoint_url": CHECKPOINT_PATH,
        "reads": _reads(uow, person_id) if may(who.grants, Resource.ACCESS_LOG, Action.READ) else None,
    }
    return render(request, "person.html", context)
