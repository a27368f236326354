"""Who read whose record: the access log, for monitors and administrators (never the public).

Each row is also an entry of the transparency log at the same index (ids and a purpose code only); the stated note
in words, and the reader's name, stay here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, cast

from fastapi import APIRouter, Query
from pydantic import BaseModel

from handover.api.deps import Uow
from handover.core.policy.access import Action, Resource
from handover.gate import needs
from handover.services import access_log
from handover.services.ports import AccessRecord, AccountsUnitOfWork

router = APIRouter(dependencies=[needs(Resource.ACCESS_LOG, Action.READ)])


class Read(BaseModel):
    log_index: int
    reader_id: str
    reader: str
    person_id: str
    purpose: str
    note: str
    at: datetime


def _reads(uow: AccountsUnitOfWork, records: list[AccessRecord]) -> list[Read]:
    names = {a.id: a.display_name for a in uow.accounts.all()}
    return [
        Read(
            log_index=r.seq,
            reader_id=r.reader_id,
            reader=names.get(r.reader_id, r.reader_id),
            person_id=r.person_id,
            purpose=r.purpose,
            note=r.note,
            at=r.at,
        )
        for r in records
    ]


@router.get("/access-log", summary="Reads of people's records, newest first")
def reads(
    uow: Uow,
    person_id: Annotated[str | None, Query(max_length=64, description="Only reads of this person.")] = None,
    reader_id: Annotated[str | None, Query(max_length=64, description="Only reads by this account.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[Read]:
    accounts_uow = cast(AccountsUnitOfWork, uow)
    if person_id is not None:
        found = access_log.reads_of(accounts_uow, person_id, limit)
    elif reader_id is not None:
        found = access_log.reads_by(accounts_uow, reader_id, limit)
    else:
        found = access_log.latest(accounts_uow, limit)
    return _reads(accounts_uow, found)
