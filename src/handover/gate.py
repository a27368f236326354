"""Who is asking, and whether the route lets them: the one gate every API route and every page goes through.

A request acts as the account of its bearer token (`Authorization: Bearer hvr_...`), else of its browser session
cookie, else as the public. Every route declares what it needs, as a dependency: `needs(Resource.PERSON,
Action.READ)` (some grant of the principal allows that action on that resource, over some scope), or `OPEN` (the
sign-in pages, which anyone must reach). `undeclared_routes` lists routes that declare neither, and the app refuses
to start with any (deny by default). Which records of a resource a principal sees is then each route's business,
through `handover.services.scope`: out of scope answers 404, exactly as if absent.

Refusals: no account (or a bad token) is 401, an account without the permission is 403; the app answers API paths
with problem documents and pages with the sign-in page or a refusal page.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

from fastapi import Depends, FastAPI, Request
from fastapi.routing import iter_route_contexts

from handover.core.policy.access import ANONYMOUS, Action, Principal, Resource, actor_for, may
from handover.core.policy.permissions import Actor
from handover.i18n import _
from handover.services import accounts, sessions
from handover.services.accounts import TokenError
from handover.services.ports import AccountsUnitOfWork
from handover.services.runtime import Runtime

SESSION_COOKIE = "handover_session"


class Database(Protocol):
    def unit_of_work(self, read_only: bool = False) -> AccountsUnitOfWork: ...


class Denied(Exception):
    """The principal may not use this route: 401 without an account (or with a bad token), else 403."""

    def __init__(self, principal: Principal, message: str, rule: str, bad_token: bool = False) -> None:
        super().__init__(message)
        self.principal = principal
        self.message = message
        self.rule = rule
        self.bad_token = bad_token

    @property
    def status(self) -> int:
        return 401 if self.bad_token or not self.principal.account_id else 403


def _database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def _runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def session_of(request: Request) -> sessions.Current | None:
    """The browser session the request's cookie belongs to, if it is live."""
    secret = request.cookies.get(SESSION_COOKIE, "")
    if not secret:
        return None
    with _database(request).unit_of_work(read_only=True) as uow:
        return sessions.current(uow, _runtime(request), secret)


Session = Annotated[sessions.Current | None, Depends(session_of)]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _sep, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Denied(ANONYMOUS, _("This needs a token: Authorization: Bearer <token>."), "token-required", True)
    return value.strip()


def principal(request: Request, current: Session) -> Principal:
    """Who the request acts as: the bearer token's account, else the session's, else the public."""
    presented = _bearer(request)
    if presented is not None:
        with _database(request).unit_of_work(read_only=True) as uow:
            try:
                found = accounts.authenticate_token(uow, _runtime(request), presented)
            except TokenError as error:
                raise Denied(ANONYMOUS, error.message, error.rule, bad_token=True) from None
        current = None
    else:
        found = current.principal if current is not None else ANONYMOUS
    # Pages read these (who is signed in, the form token) without asking again.
    request.state.session = current
    request.state.principal = found
    return found


Who = Annotated[Principal, Depends(principal)]


@dataclass(frozen=True, slots=True)
class Needs:
    """A route's declaration: the principal must be allowed `action` on `resource` over some scope."""

    resource: Resource
    action: Action

    def __call__(self, who: Who) -> Principal:
        if not may(who.grants, self.resource, self.action):
            if not who.account_id:
                raise Denied(who, _("Sign in to see this."), "sign-in-required")
            raise Denied(
                who,
                _("Your role ({role}) does not allow this ({permission}).").format(
                    role=who.role.value, permission=f"{self.resource.value}:{self.action.value}"
                ),
                "permission-required",
            )
        return who

    def __str__(self) -> str:
        return f"{self.resource.value}:{self.action.value}"


@dataclass(frozen=True, slots=True)
class Open:
    """A route's declaration that anyone may reach it (signing in and out, and nothing that shows a record)."""

    def __call__(self) -> None:
        return None

    def __str__(self) -> str:
        return "open"


def needs(resource: Resource, action: Action) -> Any:
    """For a route's `dependencies=[...]`: what it needs."""
    return Depends(Needs(resource, action))


def needing(resource: Resource, action: Action) -> Any:
    """For a route parameter that wants the principal too: `who: Annotated[Principal, needing(...)]`."""
    return Depends(Needs(resource, action))


OPEN: Any = Depends(Open())


def actor_of(who: Who) -> Actor:
    """The actor the transfer services act for: the principal's account and the flat permissions it holds."""
    return actor_for(who)


ActorOf = Annotated[Actor, Depends(actor_of)]


def declarations(route: Any) -> list[Needs | Open]:
    """Every `Needs` and `Open` among a route's dependencies (and theirs)."""
    found: list[Needs | Open] = []
    stack = list(route.dependant.dependencies)
    while stack:
        dependant = stack.pop()
        if isinstance(dependant.call, Needs | Open):
            found.append(dependant.call)
        stack.extend(dependant.dependencies)
    return found


def routes(app: FastAPI) -> Iterator[Any]:
    """Every API route and page of the app (not mounts such as /static), with its full path."""
    for context in iter_route_contexts(app.routes):
        if getattr(context, "dependant", None) is not None:
            yield context


def declared(route: Any) -> Needs | Open | None:
    """The route's declaration, or None when it has none or conflicting ones (both refuse to start)."""
    found = set(declarations(route))
    if len(found) != 1:
        return None
    return found.pop()


# The documentation of the API itself is public: it holds no record, and tells a script what to send.
DOCUMENTATION = frozenset({"/api/openapi.json", "/api/docs", "/docs/oauth2-redirect"})


def undeclared_routes(app: FastAPI) -> list[str]:
    return sorted(
        f"{' '.join(sorted(route.methods or ()))} {route.path}"
        for route in routes(app)
        if route.path not in DOCUMENTATION and declared(route) is None
    )


def enforce(app: FastAPI) -> None:
    """Refuse to build an app with a route that does not say what it needs."""
    missing = undeclared_routes(app)
    if missing:
        raise RuntimeError("routes without a permission (declare needs(...) or OPEN): " + "; ".join(missing))
