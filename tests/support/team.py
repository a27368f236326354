"""The operations team, for tests of what the operations do rather than of who may do them.

One principal with every grant over every scope: no role has that (need to know is the point of roles), and the
route-role table (tests/api/test_route_roles.py) proves what each real role may do through real tokens and
sessions. Tests of the transfer operations, the planner and the pages' behaviour act as this team so that one
client can plan, run, admit and review. `as_team(app)` makes every request of the app act as it: the bearer
token and session resolution are replaced, and nothing else; a page's form token is `TEAM_CSRF`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import FastAPI, Request

from handover.core.policy.access import Action, Grant, Principal, Resource, Role, Scope
from handover.gate import principal, session_of
from handover.services import sessions
from handover.services.ports import Account, WebSession

TEAM_ID = "operations-team"
TEAM_CSRF = "team-csrf-token"
TEAM = Principal(
    account_id=TEAM_ID,
    name="Operations team",
    role=Role.PLANNER,
    grants=frozenset(Grant(Scope.ALL, resource, action) for resource in Resource for action in Action),
)
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
TEAM_SESSION = sessions.Current(
    session=WebSession(TEAM_ID, TEAM_ID, "", sessions.FULL, _EPOCH, _EPOCH + timedelta(days=3650)),
    account=Account(TEAM_ID, TEAM_ID, "Operations team", Role.PLANNER.value, None, None, None, "!", False, _EPOCH),
    principal=TEAM,
    csrf=TEAM_CSRF,
)


def _team_session() -> sessions.Current:
    return TEAM_SESSION


def _team(request: Request) -> Principal:
    request.state.session = TEAM_SESSION
    request.state.principal = TEAM
    return TEAM


def as_team(app: FastAPI) -> FastAPI:
    """Every request of `app` acts as the operations team (a real account of its database, so what it reads is
    recorded in the access log like anyone's reads; it has no password and cannot sign in)."""
    with app.state.database.unit_of_work() as uow:
        if uow.accounts.get(TEAM_ID) is None:
            uow.accounts.add(TEAM_SESSION.account)
            uow.commit()
    app.dependency_overrides[session_of] = _team_session
    app.dependency_overrides[principal] = _team
    return app
