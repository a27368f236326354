"""Dependencies shared by the API routes: units of work, the runtime, and who may write."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from handover.core.policy.permissions import Actor
from handover.i18n import _
from handover.services.access import OPERATOR
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


def actor(request: Request) -> Actor:
    """Who the request acts for: the one operator until accounts exist (a test may put another on app.state)."""
    found: Actor = getattr(request.app.state, "actor", OPERATOR)
    return found


Who = Annotated[Actor, Depends(actor)]


def notification_hours(request: Request) -> int:
    """Hours after admission within which a family must be notified (HANDOVER_NOTIFICATION_HOURS)."""
    hours: int = getattr(request.app.state, "notification_hours", None) or get_settings().notification_hours
    return hours


NotificationHours = Annotated[int, Depends(notification_hours)]

# auto_error=False: we answer missing credentials ourselves, after checking that the role is enabled at all.
_operator_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="OperatorToken",
    description="The operator token (HANDOVER_OPERATOR_TOKEN), until accounts exist.",
)
_monitor_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="MonitorToken",
    description="The monitor token (HANDOVER_MONITOR_TOKEN), until accounts exist.",
)


def _check_token(expected: str | None, credentials: HTTPAuthorizationCredentials | None, disabled: str) -> None:
    if not expected:
        # An empty token would match an empty header; treat it as no token at all.
        raise HTTPException(403, disabled)
    if credentials is None:
        raise HTTPException(
            401,
            _("This needs a token: Authorization: Bearer <token>."),
            headers={"WWW-Authenticate": "Bearer"},
        )
    # Constant-time comparison, on bytes so a non-ASCII header cannot raise; never log or echo either side.
    if not secrets.compare_digest(credentials.credentials.encode(), expected.encode()):
        raise HTTPException(
            401,
            _("The token is not valid."),
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )


def require_operator(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_operator_bearer)]
) -> None:
    """Writes need `Authorization: Bearer <operator token>`; with no token configured they are disabled."""
    _check_token(
        request.app.state.operator_token, credentials, _("writes are disabled: no operator token is configured")
    )


def require_monitor(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_monitor_bearer)]
) -> None:
    """Entry bundles (what each event says) need the monitor token; with none configured they are not served."""
    _check_token(
        request.app.state.monitor_token, credentials, _("monitor reads are disabled: no monitor token is configured")
    )
