"""The transparency log as pages show it: the latest signed checkpoint, and late reports in log order."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import Request

from handover.core.custody import CustodyEvent
from handover.core.tlog.note import Signer
from handover.services import proofs

# Served by the log's own routes (handover.api.log); pages link to them and never import the API.
CHECKPOINT_PATH = "/log/checkpoint"
RECEIPT_PATH = "/api/v1/log/receipts/{event_id}"


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def reported_late(events: Iterable[CustodyEvent]) -> list[bool]:
    """For events in log order: whether each occurred before an event earlier in that order (rule 2)."""
    flags = []
    latest_so_far: datetime | None = None
    for event in events:
        occurred = utc(event.occurred_at)
        flags.append(latest_so_far is not None and occurred < latest_so_far)
        latest_so_far = occurred if latest_so_far is None else max(latest_so_far, occurred)
    return flags


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


def signer(request: Request) -> Signer | None:
    found = getattr(request.app.state, "signer", None)
    return found if isinstance(found, Signer) else None


def checkpoint_panel(view: proofs.CheckpointView, ours: Signer | None) -> CheckpointPanel:
    signed = utc(view.signed_at)
    key = view.key
    same = ours is not None and key is not None and (key.name, key.key_id) == (ours.name, ours.key_id)
    return CheckpointPanel(
        size=view.size,
        root=view.root_b64,
        signed_at=signed.isoformat(),
        signed_utc=signed.strftime("%Y-%m-%d %H:%M:%S"),
        key_name=key.name if key else "",
        key_id=key.key_id_hex if key else "",
        vkey=ours.verifier.vkey if same and ours is not None else "",
        after=view.after,
        note_matches=view.note_matches,
        signature_verified=view.signature_verified,
    )
