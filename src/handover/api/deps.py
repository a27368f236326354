"""Dependencies shared by the API routes: units of work, the runtime, and who is acting (see `handover.gate`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request

from handover.gate import ActorOf
from handover.services.ports import UnitOfWork
from handover.services.runtime import Runtime
from handover.settings import get_settings
from handover.store.uow import Database


def unit_of_work(request: Request) -> Iterator[UnitOfWork]:
    """One read-only unit of work per request (every read route only reads); leaving the block rolls back."""
    database: Database = request.app.state.database
    with database.unit_of_work(read_only=True) as uow:
        yield uow


Uow = Annotated[UnitOfWork, Depends(unit_of_work)]


def write_unit_of_work(request: Request) -> Iterator[UnitOfWork]:
    """One read-write unit of work per request. The route commits after its service call returns; any exception
    (a refusal included) leaves the block uncommitted and the exit rolls back, so nothing is partly written."""
    database: Database = request.app.state.database
    with database.unit_of_work() as uow:
        yield uow


# scope="function": close the transaction as soon as the route returns, not after the response is sent, so a
# SQLite writer's lock is held no longer than the work.
WriteUow = Annotated[UnitOfWork, Depends(write_unit_of_work, scope="function")]


def runtime(request: Request) -> Runtime:
    """The clock and id source (the system's, or a seeded one a test put on app.state)."""
    rt: Runtime = request.app.state.runtime
    return rt


Rt = Annotated[Runtime, Depends(runtime)]


# Who the request acts for, as the transfer services see it: the principal's account and flat permissions.
Who = ActorOf


def notification_hours(request: Request) -> int:
    """Hours after admission within which a family must be notified (HANDOVER_NOTIFICATION_HOURS)."""
    hours: int = getattr(request.app.state, "notification_hours", None) or get_settings().notification_hours
    return hours


NotificationHours = Annotated[int, Depends(notification_hours)]
