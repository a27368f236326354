"""A monitor's view of one person, by random id: current custody, and the chain with each event's proof."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from handover.core.custody import CustodyEvent, EventType, PersonState
from handover.core.custody.machine import apply
from handover.services import proofs, queries
from handover.services.errors import NotFoundError
from handover.services.ports import CurrentCustody, StoredEvent
from handover.web.checkpoints import (
    CHECKPOINT_PATH,
    RECEIPT_PATH,
    b64,
    checkpoint_panel,
    reported_late,
    signer,
    utc,
)
from handover.web.common import Names, Uow, render
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


@router.get("/persons/{person_id:path}", name="person")
def person(request: Request, person_id: str, uow: Uow) -> HTMLResponse:
    """A monitor's view of one person, by random id: current custody, and the chain with each event's proof."""
    try:
        view = queries.person(uow, person_id)
    except NotFoundError as missing:
        missing_context = {"person_id": person_id, "detail": missing.message}
        return render(request, "person_not_found.html", missing_context, status_code=404)
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
    }
    return render(request, "person.html", context)
