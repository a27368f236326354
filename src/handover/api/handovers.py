"""Officers and signed two-party handovers through the API.

A handover is opened for a movement: the server draws up the document (the counted list of people, place, time,
discrepancies) and answers its exact text and SHA-256. Each officer signs those exact bytes (UTF-8) with their own
Ed25519 key, on their own device, and posts the base64 signature; custody passes when both sides have signed and both
signatures verify.

What each route needs: officers are reference data (reference:read, and reference:write to register one); a
handover belongs to its movement, so reading one needs movement:read over that movement and opening or signing one
movement:write over it (a field officer: the movements their authority escorts). A handover of a movement out of
the account's scope answers 404, as one that does not exist; the list shows only those in scope.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field, StringConstraints

from handover.api import scoped
from handover.api.deps import Rt, Uow, Who, WriteUow
from handover.api.movements import LegNumber, Reads, Runs
from handover.api.routes import Event
from handover.api.schema import WRITE_RESPONSES, Id, MovementRef, PathId, StrictModel, Text, When, events
from handover.core.custody.handover import Side
from handover.core.policy.access import Action, Resource, actor_for
from handover.gate import needs
from handover.services import handovers
from handover.services.ports import HandoverRecord, Officer

router = APIRouter(responses=WRITE_RESPONSES)

OfficerName = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]
Base64 = Annotated[str, StringConstraints(max_length=200, pattern=r"^[A-Za-z0-9+/=\s]*$")]


class NewOfficer(StrictModel):
    name: OfficerName
    authority_id: Id
    public_key: Base64 = Field(description="Base64 of the officer's 32-byte Ed25519 public key.")


class OfficerOut(BaseModel):
    id: str
    name: str
    authority_id: str
    public_key: str


class Note(StrictModel):
    person_id: Id
    note: Text = ""


class NewHandover(StrictModel):
    place_id: Id
    from_authority_id: Id
    to_authority_id: Id
    occurred_at: When
    present: list[Id] | None = Field(
        None,
        max_length=5000,
        description="The people actually there (everyone the dispatching authority holds on the movement if absent); "
        "anyone expected and not present is listed as missing and stays with the dispatching authority.",
    )
    extra: list[Note] = Field([], max_length=5000, description="People present who are not on the movement.")
    injuries: list[Note] = Field([], max_length=5000, description="Injuries noted against people handed over.")
    leg: LegNumber = None


class Signature(StrictModel):
    officer_id: Id
    side: Side
    signature: Base64 = Field(description="Base64 of the Ed25519 signature over the document's exact UTF-8 bytes.")


class Signed(BaseModel):
    officer_id: str
    signature: str


class Discrepancy(BaseModel):
    person_id: str
    kind: str
    note: str


class HandoverOut(BaseModel):
    id: str
    movement_id: str
    leg: int | None
    place_id: str
    occurred_at: str
    from_authority_id: str
    to_authority_id: str
    state: str
    people: list[str]
    counts: dict[str, int]
    discrepancies: list[Discrepancy]
    document: str = Field(description="The exact text both officers sign (its UTF-8 bytes).")
    sha256: str = Field(description="SHA-256 (hex) of the document's UTF-8 bytes; custody events carry it.")
    dispatching: Signed | None
    receiving: Signed | None
    opened_at: str
    completed_at: str | None


class SignResult(BaseModel):
    handover: HandoverOut
    events: list[Event] = Field(description="The custody events, once both sides have signed; empty until then.")


def officer_dict(o: Officer) -> dict[str, Any]:
    return {"id": o.id, "name": o.name, "authority_id": o.authority_id, "public_key": o.public_key}


def handover_dict(h: HandoverRecord) -> dict[str, Any]:
    document = json.loads(h.document)

    def signed(officer: str | None, signature: str | None) -> dict[str, str] | None:
        return {"officer_id": officer, "signature": signature} if officer and signature else None

    return {
        "id": h.id,
        "movement_id": h.movement_id,
        "leg": h.leg,
        "place_id": h.place_id,
        "occurred_at": h.occurred_at.isoformat(),
        "from_authority_id": h.from_authority_id,
        "to_authority_id": h.to_authority_id,
        "state": h.state,
        "people": document["people"],
        "counts": document["counts"],
        "discrepancies": document["discrepancies"],
        "document": h.document,
        "sha256": h.digest,
        "dispatching": signed(h.dispatching_officer_id, h.dispatching_signature),
        "receiving": signed(h.receiving_officer_id, h.receiving_signature),
        "opened_at": h.opened_at.isoformat(),
        "completed_at": h.completed_at.isoformat() if h.completed_at else None,
    }


@router.post(
    "/officers",
    status_code=201,
    response_model=OfficerOut,
    summary="Register an officer and their key",
    dependencies=[needs(Resource.REFERENCE, Action.WRITE)],
)
def register_officer(body: NewOfficer, uow: WriteUow, rt: Rt, actor: Who) -> dict[str, Any]:
    created = handovers.register_officer(uow, rt, body.name, body.authority_id, body.public_key, actor)
    uow.commit()
    return officer_dict(created)


@router.get(
    "/officers",
    response_model=list[OfficerOut],
    summary="Officers who sign handovers",
    dependencies=[needs(Resource.REFERENCE, Action.READ)],
)
def list_officers(uow: Uow) -> list[dict[str, Any]]:
    return [officer_dict(o) for o in handovers.officers(uow)]


@router.get(
    "/officers/{officer_id}",
    response_model=OfficerOut,
    summary="One officer",
    dependencies=[needs(Resource.REFERENCE, Action.READ)],
)
def get_officer(officer_id: PathId, uow: Uow) -> dict[str, Any]:
    return officer_dict(handovers.officer(uow, officer_id))


@router.post(
    "/movements/{movement}/handovers",
    status_code=201,
    response_model=HandoverOut,
    summary="Draw up a handover document for people of a movement; custody passes once both sides sign it",
)
def open_handover(movement: MovementRef, body: NewHandover, uow: WriteUow, rt: Rt, who: Runs) -> dict[str, Any]:
    scoped.movement(uow, who, movement, Action.WRITE)
    opened = handovers.open_handover(
        uow,
        rt,
        movement,
        body.place_id,
        body.from_authority_id,
        body.to_authority_id,
        body.occurred_at,
        present=body.present,
        extra=[(n.person_id, n.note) for n in body.extra],
        injuries=[(n.person_id, n.note) for n in body.injuries],
        leg=body.leg,
        actor=actor_for(who),
    )
    uow.commit()
    return handover_dict(opened)


@router.get("/handovers", response_model=list[HandoverOut], summary="Handovers not yet signed by both sides")
def list_open_handovers(uow: Uow, who: Reads) -> list[dict[str, Any]]:
    return [
        handover_dict(h)
        for h in handovers.open_handovers(uow)
        if scoped.sees_movement(uow, who, h.movement_id, Action.READ)
    ]


@router.get("/handovers/{handover_id}", response_model=HandoverOut, summary="One handover, with the text to sign")
def get_handover(handover_id: PathId, uow: Uow, who: Reads) -> dict[str, Any]:
    return handover_dict(scoped.handover(uow, who, handover_id))


@router.get(
    "/handovers/{handover_id}/document",
    summary="The handover document's exact bytes, to sign offline",
    response_class=Response,
    responses={200: {"content": {"application/json": {}}, "description": "The canonical document."}},
)
def get_document(handover_id: PathId, uow: Uow, who: Reads) -> Response:
    found = scoped.handover(uow, who, handover_id)
    return Response(found.document.encode(), media_type="application/json", headers={"X-Content-SHA256": found.digest})


@router.post(
    "/handovers/{handover_id}/signatures",
    status_code=201,
    response_model=SignResult,
    summary="Add the dispatching or receiving officer's signature; the second one passes custody",
)
def sign(handover_id: PathId, body: Signature, uow: WriteUow, rt: Rt, who: Runs) -> dict[str, Any]:
    scoped.handover(uow, who, handover_id, Action.WRITE)
    actor = actor_for(who)
    record, stored = handovers.sign(uow, rt, handover_id, body.officer_id, body.side, body.signature, actor)
    uow.commit()
    return {"handover": handover_dict(record)} | events(stored)
