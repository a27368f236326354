"""Browser sessions: a random secret in an HttpOnly cookie, its SHA-256 on the server, ended at sign-out.

A session starts after a successful sign-in. When the account must first change its one-time password or set up
its second factor, the session is at that stage and can do nothing else (`principal` answers the anonymous
principal for it), so a stolen one-time password alone never reaches a record. Each request re-reads the account:
a disabled account, or a changed role, takes effect at once. Forms carry a CSRF token derived from the session's
secret (HMAC), so nothing more is stored and a token is worthless without the cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from handover.core.policy.access import ANONYMOUS, Principal, Role, requires_second_factor
from handover.services import accounts
from handover.services.accounts import SignIn
from handover.services.ports import Account, AccountsUnitOfWork, WebSession
from handover.services.runtime import Runtime

LIFETIME = timedelta(hours=12)
FULL = "full"
CHANGE_PASSWORD = "change-password"
SET_UP_SECOND_FACTOR = "set-up-second-factor"


@dataclass(frozen=True, slots=True)
class Current:
    """A live session, the account it belongs to, and the principal it acts as (anonymous until `full`)."""

    session: WebSession
    account: Account
    principal: Principal
    csrf: str

    @property
    def stage(self) -> str:
        return self.session.stage


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def csrf_token(secret: str) -> str:
    return hmac.new(secret.encode(), b"handover-csrf", hashlib.sha256).hexdigest()


def csrf_matches(current: Current | None, submitted: str) -> bool:
    return current is not None and secrets.compare_digest(submitted.encode(), current.csrf.encode())


def stage_for(account: Account) -> str:
    """What the account must do before its session may act: change a one-time password, then set up TOTP."""
    if account.password_must_change:
        return CHANGE_PASSWORD
    if requires_second_factor(Role(account.role)) and not account.totp_confirmed:
        return SET_UP_SECOND_FACTOR
    return FULL


def start(uow: AccountsUnitOfWork, rt: Runtime, signed_in: SignIn) -> str:
    """A new session for a signed-in account; returns the cookie's secret (shown to the browser only)."""
    now = rt.clock()
    secret = secrets.token_urlsafe(32)
    uow.accounts.add_session(
        WebSession(
            id=rt.new_id(),
            account_id=signed_in.account.id,
            token_hash=_hash(secret),
            stage=stage_for(signed_in.account),
            created_at=now,
            expires_at=now + LIFETIME,
        )
    )
    return secret


def current(uow: AccountsUnitOfWork, rt: Runtime, secret: str) -> Current | None:
    """The live session a cookie's secret belongs to, or None (unknown, ended, expired, or account disabled)."""
    if not secret:
        return None
    found = uow.accounts.session_by_hash(_hash(secret))
    if found is None or found.ended_at is not None or found.expires_at <= rt.clock():
        return None
    owner = uow.accounts.get(found.account_id)
    if owner is None or owner.disabled:
        return None
    principal = accounts.principal_of(owner) if found.stage == FULL else ANONYMOUS
    return Current(found, owner, principal, csrf_token(secret))


def advance(uow: AccountsUnitOfWork, session: WebSession, account: Account) -> str:
    """Move the session on once the account has done what its stage asked; returns the new stage."""
    stage = stage_for(account)
    if stage != session.stage:
        uow.accounts.set_session_stage(session.id, stage)
    return stage


def end(uow: AccountsUnitOfWork, rt: Runtime, secret: str) -> None:
    found = uow.accounts.session_by_hash(_hash(secret)) if secret else None
    if found is not None:
        uow.accounts.end_session(found.id, rt.clock())
