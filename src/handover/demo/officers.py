"""The demo's officers: one per authority, with keys derived from the seed, who sign its handovers.

In real use each officer's key never leaves their device; the demo holds all of them because it plays every part.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from handover.core.custody.handover import Side, public_key_of, sign
from handover.services import handovers
from handover.services.ports import StoredEvent, UnitOfWork
from handover.services.runtime import Runtime


@dataclass
class DemoOfficers:
    seed: int

    def key(self, authority_id: str) -> bytes:
        return hashlib.sha256(f"handover-demo-officer-{self.seed}-{authority_id}".encode()).digest()

    def officer_id(self, uow: UnitOfWork, rt: Runtime, authority_id: str) -> str:
        """The authority's demo officer in this database, registered on first use."""
        public = public_key_of(self.key(authority_id))
        found = uow.operations.officer_by_key(public)
        if found is None:
            found = handovers.register_officer(uow, rt, f"Duty officer, {authority_id}", authority_id, public)
        return found.id

    def hand_over(
        self,
        uow: UnitOfWork,
        rt: Runtime,
        movement_id: str,
        from_authority: str,
        to_authority: str,
        place_id: str,
        occurred_at: datetime,
        present: Sequence[str] | None = None,
        leg: int | None = None,
    ) -> list[StoredEvent]:
        """Draw up the handover document and have both sides' officers sign it: custody passes."""
        record = handovers.open_handover(
            uow, rt, movement_id, place_id, from_authority, to_authority, occurred_at, present=present, leg=leg
        )
        document = record.document.encode()
        events: list[StoredEvent] = []
        for side, authority in ((Side.DISPATCHING, from_authority), (Side.RECEIVING, to_authority)):
            signature = base64.b64encode(sign(self.key(authority), document)).decode()
            _, events = handovers.sign(uow, rt, record.id, self.officer_id(uow, rt, authority), side, signature)
        return events
