"""Signed two-party handovers: a document listing the people, signed by the dispatching and the receiving officer.

Custody passes only when both signatures verify over the document's canonical bytes; the custody events then carry
the document's SHA-256, so the log commits to exactly what the two officers signed. A document signed by one side
only stays open, and shows as an alert, until the other side signs.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from handover.core.custody import Status
from handover.core.custody import commands as c
from handover.core.custody.handover import (
    BadKey,
    Discrepancy,
    DiscrepancyKind,
    HandoverDocument,
    Side,
    public_key,
    signature_valid,
)
from handover.core.custody.movements import MovementState
from handover.core.policy.permissions import Actor, Permission
from handover.i18n import _
from handover.services import reference, transfers
from handover.services.access import OPERATOR, require
from handover.services.custody import record, refuse_duplicates
from handover.services.errors import ConflictError, NotFoundError
from handover.services.ports import HandoverRecord, Officer, StoredEvent, UnitOfWork
from handover.services.runtime import Runtime

OPEN = "open"
COMPLETE = "complete"
_HANDING_OVER = frozenset({MovementState.APPROVED, MovementState.IN_PROGRESS, MovementState.ARRIVED})
_WITH_THE_GROUP = frozenset({Status.HELD, Status.IN_TRANSIT, Status.ARRIVED})


def register_officer(
    uow: UnitOfWork, rt: Runtime, name: str, authority_id: str, key: str, actor: Actor = OPERATOR
) -> Officer:
    """An officer of an authority, with the public key their handover signatures are checked against."""
    require(actor, Permission.MANAGE_REFERENCE)
    reference.authority(uow, authority_id)
    if not name.strip():
        raise ValueError(_("An officer needs a name."))
    try:
        raw = public_key(key)
    except BadKey as error:
        raise ValueError(_("The officer's key is not usable: {error}.").format(error=error)) from None
    encoded = base64.b64encode(raw).decode()
    if uow.operations.officer_by_key(encoded) is not None:
        raise ConflictError(encoded, "key-taken", "exists", _("Another officer already has this key."))
    officer = Officer(id=rt.new_id(), name=name.strip(), authority_id=authority_id, public_key=encoded)
    uow.operations.add_officer(officer)
    return officer


def officer(uow: UnitOfWork, officer_id: str) -> Officer:
    found = uow.operations.officer(officer_id)
    if found is None:
        raise NotFoundError("officer", officer_id, _("No officer {id}.").format(id=officer_id))
    return found


def officers(uow: UnitOfWork) -> list[Officer]:
    return uow.operations.officers()


def open_handover(
    uow: UnitOfWork,
    rt: Runtime,
    movement_id: str,
    place_id: str,
    from_authority_id: str,
    to_authority_id: str,
    occurred_at: datetime,
    present: Sequence[str] | None = None,
    extra: Sequence[tuple[str, str]] = (),
    injuries: Sequence[tuple[str, str]] = (),
    leg: int | None = None,
    actor: Actor = OPERATOR,
) -> HandoverRecord:
    """Draw up the handover document for the people of a movement the dispatching authority holds.

    `present` are the people actually there (all of them when None): anyone expected but not present is listed as
    missing and stays with the dispatching authority. `extra` (person, note) are people present who are not on the
    movement; `injuries` (person, note) are noted against people handed over. Nothing changes custody yet.
    """
    require(actor, Permission.RUN_MOVEMENTS)
    m = transfers.movement(uow, movement_id)
    if m.state not in _HANDING_OVER:
        raise ConflictError(
            m.code,
            "movement-state",
            m.state.value,
            _("Movement {code} is {state}: nobody on it can be handed over.").format(code=m.code, state=m.state.value),
        )
    reference.facility(uow, place_id)
    reference.authority(uow, from_authority_id)
    reference.authority(uow, to_authority_id)
    if from_authority_id == to_authority_id:
        raise ConflictError(
            m.code,
            "handover-to-same-custodian",
            m.state.value,
            _(
                "A handover on movement {code} must pass custody to another authority: {authority} is named on both "
                "sides."
            ).format(code=m.code, authority=from_authority_id),
        )
    held = [
        s.person_id
        for s in uow.custody.on_movement(m.id)
        if s.custodian_id == from_authority_id and s.status in _WITH_THE_GROUP
    ]
    expected = set(held)
    if present is None:
        present = held
    refuse_duplicates(present, _("handover"))
    for person in present:
        if person not in expected:
            raise ConflictError(
                person,
                "not-in-dispatching-custody",
                m.state.value,
                _(
                    "Person {person} is not on movement {code} in the custody of {authority}: list them as extra, "
                    "not as handed over."
                ).format(person=person, code=m.code, authority=from_authority_id),
            )
    if not present and held:
        raise ConflictError(
            m.code,
            "nobody-present",
            m.state.value,
            _("Nobody is listed as present for this handover on movement {code}: tick who is there.").format(
                code=m.code
            ),
        )
    if not present:
        raise ConflictError(
            m.code,
            "nobody-eligible",
            m.state.value,
            _("Nobody on movement {code} is in the custody of {authority}.").format(
                code=m.code, authority=from_authority_id
            ),
        )
    handed = set(present)
    if leg is not None and leg not in {found.number for found in uow.operations.legs(m.id)}:
        raise NotFoundError("leg", str(leg), _("Movement {code} has no leg {n}.").format(code=m.code, n=leg))
    pending = _on_open_handovers(uow, m.id)
    for person in present:
        if person in pending:
            raise ConflictError(
                person,
                "handover-already-open",
                m.state.value,
                _(
                    "Person {person} is already on handover {handover}, not yet signed by both sides: complete or "
                    "replace that one first."
                ).format(person=person, handover=pending[person]),
            )
    for person, _note in injuries:
        if person not in handed:
            raise ConflictError(
                person,
                "injury-not-handed-over",
                m.state.value,
                _("An injury can only be noted for a person being handed over; {person} is not.").format(person=person),
            )
    for person, _note in extra:
        if person in expected:
            raise ConflictError(
                person,
                "extra-is-expected",
                m.state.value,
                _("Person {person} is on the movement: list them as present, not as extra.").format(person=person),
            )
    lines = [Discrepancy(p, DiscrepancyKind.MISSING, "") for p in held if p not in handed]
    lines += [Discrepancy(p, DiscrepancyKind.EXTRA, note) for p, note in extra]
    lines += [Discrepancy(p, DiscrepancyKind.INJURY, note) for p, note in injuries]
    document = HandoverDocument(
        handover_id=rt.new_id(),
        movement_id=m.id,
        leg=leg,
        place_id=place_id,
        occurred_at=occurred_at,
        from_authority_id=from_authority_id,
        to_authority_id=to_authority_id,
        people=tuple(sorted(handed)),
        discrepancies=tuple(lines),
    )
    text = document.canonical().decode()
    stored = HandoverRecord(
        id=document.handover_id,
        movement_id=m.id,
        leg=leg,
        place_id=place_id,
        occurred_at=occurred_at,
        from_authority_id=from_authority_id,
        to_authority_id=to_authority_id,
        document=text,
        digest=document.digest(),
        state=OPEN,
        opened_at=rt.clock(),
    )
    uow.operations.add_handover(stored)
    return stored


def _on_open_handovers(uow: UnitOfWork, movement_id: str) -> dict[str, str]:
    """Who is listed on the movement's handovers still waiting for a signature, and on which."""
    listed: dict[str, str] = {}
    for waiting in uow.operations.handovers(movement_id=movement_id, state=OPEN):
        for person in json.loads(waiting.document)["people"]:
            listed[person] = waiting.id
    return listed


def handover(uow: UnitOfWork, handover_id: str) -> HandoverRecord:
    found = uow.operations.handover(handover_id)
    if found is None:
        raise NotFoundError("handover", handover_id, _("No handover {id}.").format(id=handover_id))
    return found


def sign(
    uow: UnitOfWork,
    rt: Runtime,
    handover_id: str,
    officer_id: str,
    side: Side,
    signature: str,
    actor: Actor = OPERATOR,
) -> tuple[HandoverRecord, list[StoredEvent]]:
    """Add one officer's signature. When both sides have signed, custody passes: the events are returned."""
    require(actor, Permission.RUN_MOVEMENTS)
    found = handover(uow, handover_id)
    signer = officer(uow, officer_id)
    if found.state != OPEN:
        raise ConflictError(found.id, "handover-complete", found.state, _("This handover is already complete."))
    authority = found.from_authority_id if side is Side.DISPATCHING else found.to_authority_id
    if signer.authority_id != authority:
        raise ConflictError(
            signer.id,
            "wrong-authority",
            side.value,
            _("Officer {officer} is of {theirs}; the {side} side of this handover is {authority}.").format(
                officer=signer.name, theirs=signer.authority_id, side=side.value, authority=authority
            ),
        )
    already = found.dispatching_signature if side is Side.DISPATCHING else found.receiving_signature
    if already is not None:
        raise ConflictError(
            found.id, "already-signed", found.state, _("The {side} side has already signed.").format(side=side.value)
        )
    try:
        raw = base64.b64decode(signature.strip(), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    key = base64.b64decode(signer.public_key)
    if len(raw) != 64 or not signature_valid(key, raw, found.document.encode()):
        raise ConflictError(
            found.id,
            "bad-signature",
            found.state,
            _(
                "The signature does not verify with officer {officer}'s key over this handover document: nothing "
                "was recorded."
            ).format(officer=signer.name),
        )
    encoded = base64.b64encode(raw).decode()
    if side is Side.DISPATCHING:
        found = replace(found, dispatching_officer_id=signer.id, dispatching_signature=encoded)
    else:
        found = replace(found, receiving_officer_id=signer.id, receiving_signature=encoded)
    events: list[StoredEvent] = []
    if found.dispatching_signature is not None and found.receiving_signature is not None:
        events = _pass_custody(uow, rt, found)
        found = replace(found, state=COMPLETE, completed_at=rt.clock())
    uow.operations.update_handover(found)
    return found, events


def _pass_custody(uow: UnitOfWork, rt: Runtime, found: HandoverRecord) -> list[StoredEvent]:
    people = json.loads(found.document)["people"]
    now = rt.clock()
    return record(
        uow,
        [
            c.HandOver(
                person_id=p,
                event_id=rt.new_id(),
                occurred_at=found.occurred_at,
                recorded_at=now,
                from_authority_id=found.from_authority_id,
                to_authority_id=found.to_authority_id,
                place_id=found.place_id,
                handover_id=found.id,
                document=found.digest,
            )
            for p in people
        ],
    )


def open_handovers(uow: UnitOfWork) -> list[HandoverRecord]:
    return uow.operations.handovers(state=OPEN)
