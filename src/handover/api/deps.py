"""Dependencies shared by the API routes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request

from handover.services.ports import UnitOfWork
from handover.store.uow import Database


def unit_of_work(request: Request) -> Iterator[UnitOfWork]:
    """One read-only unit of work per request (every route here only reads); leaving the block rolls back."""
    database: Database = request.app.state.database
    with database.unit_of_work(read_only=True) as uow:
        yield uow


Uow = Annotated[UnitOfWork, Depends(unit_of_work)]
