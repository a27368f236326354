"""The transparency log over HTTP: the C2SP tlog-tiles layout under /log/, and proofs under /api/v1/log/.

Checkpoints, hash tiles, proofs and receipts are public (checkpoint:read): they carry hashes only, and the status
counts (report:read). Entry bundles carry what each entry says (every event of every person, by random id) and the
identity records are personal data: both need log:read, which monitors hold. A monitor's account signs in to a
script with an API token (`handover verify --token`).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import PlainTextResponse, Response

from handover.api.deps import Uow
from handover.core.policy.access import Action, Resource
from handover.core.tlog.tiles import EntryBundle, TileError, parse_tile_path
from handover.gate import needs
from handover.i18n import _
from handover.services import log, monitor, queries
from handover.services.ports import UnitOfWork
from handover.store.uow import Database

tiles_router = APIRouter()
proofs_router = APIRouter(prefix="/log", dependencies=[needs(Resource.CHECKPOINT, Action.READ)])
PUBLIC = [needs(Resource.CHECKPOINT, Action.READ)]
MONITORS = [needs(Resource.LOG, Action.READ)]

# Full tiles never change; a partial tile at a given width never changes either, but is superseded quickly.
IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=60"
NO_CACHE = "no-cache"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@tiles_router.get("/checkpoint", response_class=PlainTextResponse, dependencies=PUBLIC)
def checkpoint(uow: Uow) -> Response:
    """The latest signed checkpoint (C2SP tlog-checkpoint in a C2SP signed note)."""
    signed = log.latest_checkpoint(uow)
    return Response(signed.note, media_type="text/plain; charset=utf-8", headers={"Cache-Control": NO_CACHE})


# Entry bundles first: the catch-all tile route below would otherwise take their paths.
@tiles_router.get("/tile/entries/{path:path}", dependencies=MONITORS)
def entries(path: str, uow: Uow) -> Response:
    """An entry bundle: the canonical leaves of up to 256 consecutive events."""
    try:
        wanted = parse_tile_path(f"tile/entries/{path}")
    except (TileError, ValueError):
        raise HTTPException(404, _("No such entry bundle: {path}.").format(path=path)) from None
    assert isinstance(wanted, EntryBundle)
    size = log.latest_checkpoint(uow).size
    if not log.covered(uow, wanted, size):
        raise HTTPException(
            404, _("Entry bundle {path} is not part of the tree of size {size}.").format(path=path, size=size)
        )
    headers = {"Cache-Control": SHORT if wanted.is_partial else IMMUTABLE}
    return Response(log.entry_bundle(uow, wanted), media_type="application/octet-stream", headers=headers)


@tiles_router.get("/tile/{path:path}", dependencies=PUBLIC)
def tile(path: str, uow: Uow) -> Response:
    """A hash tile (public), for the tree of the latest checkpoint."""
    try:
        wanted = parse_tile_path(f"tile/{path}")
    except (TileError, ValueError):
        raise HTTPException(404, _("No such tile: {path}.").format(path=path)) from None
    if isinstance(wanted, EntryBundle):
        # Reached only if the route above did not match first; never serve entries without the log:read check.
        raise HTTPException(404, _("No such tile: {path}.").format(path=path))
    size = log.latest_checkpoint(uow).size
    if not log.covered(uow, wanted, size):
        raise HTTPException(404, _("Tile {path} is not part of the tree of size {size}.").format(path=path, size=size))
    headers = {"Cache-Control": SHORT if wanted.is_partial else IMMUTABLE}
    return Response(log.tile_data(uow, wanted), media_type="application/octet-stream", headers=headers)


@tiles_router.get("/status", dependencies=[needs(Resource.REPORT, Action.READ)])
def status(uow: Uow) -> dict[str, Any]:
    """The server's current counts and the log size they stand on, read in one transaction, for monitors to check."""
    return queries.status(uow).as_dict()


@tiles_router.get("/identities", dependencies=MONITORS)
def identities(uow: Uow) -> Response:
    """Identity records with their salts (JSON lines, one per person, in person-id order), for monitors to check the
    identity commitments logged at registration. Personal data: log:read only, never cached."""
    lines = [
        json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"
        for record in monitor.identity_records(uow)
    ]
    return Response(
        "".join(lines).encode("utf-8"),
        media_type="application/jsonl; charset=utf-8",
        headers={"Cache-Control": "no-store"},
    )


@proofs_router.get("/checkpoint")
def checkpoint_json(uow: Uow) -> dict[str, Any]:
    signed = log.latest_checkpoint(uow)
    return {"size": signed.size, "root": _b64(signed.root), "note": signed.note, "signed_at": signed.signed_at}


def _one_statement_read(request: Request) -> Iterator[UnitOfWork]:
    """A read of one statement, without a transaction: a proof is served in one round trip to the database."""
    database: Database = request.app.state.database
    with database.unit_of_work(read_only=True, one_snapshot=False) as uow:
        yield uow


@proofs_router.get("/inclusion")
def inclusion(
    uow: Annotated[UnitOfWork, Depends(_one_statement_read)],
    index: Annotated[int, Query(ge=0)],
    size: Annotated[int, Query(ge=1)],
) -> dict[str, Any]:
    """Proof that leaf `index` is in the tree of `size` leaves (RFC 9162 inclusion proof)."""
    return {"index": index, "size": size, "proof": [_b64(h) for h in log.inclusion_proof(uow, index, size)]}


@proofs_router.get("/consistency")
def consistency(
    uow: Uow, old_size: Annotated[int, Query(alias="from", ge=1)], new_size: Annotated[int, Query(alias="to", ge=1)]
) -> dict[str, Any]:
    """Proof that the tree of `to` leaves extends the tree of `from` leaves (RFC 9162 consistency proof)."""
    proof = log.consistency_proof(uow, old_size, new_size)
    return {"from": old_size, "to": new_size, "proof": [_b64(h) for h in proof]}


@proofs_router.get("/receipts/{event_id}", response_class=PlainTextResponse)
def receipt(event_id: str, uow: Uow) -> Response:
    """An offline receipt for one event (C2SP tlog-proof), to keep and check later without us."""
    proof = log.receipt(uow, event_id)
    return Response(
        proof.encode(),
        media_type="text/plain; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{event_id}.tlog-proof"'},
    )
