"""Real accounts for tests of who may do what: one per role and scope, with a known password and, for roles that
see personal data, a confirmed TOTP second factor whose codes the test computes like an authenticator would."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime

from argon2 import PasswordHasher, Type
from fastapi.testclient import TestClient
from httpx2 import Response

from handover.core.policy import signin
from handover.core.policy.access import Principal, Role, requires_second_factor
from handover.services import accounts
from handover.services.ports import Account
from handover.services.runtime import Runtime
from handover.store.uow import Database

CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=Type.ID)


@contextmanager
def cheap_hashing() -> Iterator[None]:
    """Argon2id at test strength for the block (production strength is tested in tests/services/test_accounts.py)."""
    previous = accounts.use_hasher(CHEAP)
    try:
        yield
    finally:
        accounts.use_hasher(previous)


@dataclass(frozen=True, slots=True)
class User:
    name: str
    password: str
    secret: bytes | None  # the TOTP secret, for roles that need a second factor
    account: Account
    principal: Principal

    def code(self, at: datetime) -> str:
        assert self.secret is not None, f"{self.name} has no second factor"
        return signin.code_at(self.secret, at)


def make_user(
    db: Database,
    rt: Runtime,
    name: str,
    role: Role,
    *,
    facility_id: str | None = None,
    country: str | None = None,
    authority_id: str | None = None,
) -> User:
    """An account with a chosen password (not one to change) and, when its role needs one, a confirmed TOTP secret."""
    password = f"pw-{name}-correct-horse"
    secret = hashlib.sha256(f"totp-{name}".encode()).digest()[: signin.SECRET_BYTES]
    with db.unit_of_work() as uow:
        account, _ = accounts.add_account(
            uow,
            rt,
            name,
            role,
            facility_id=facility_id,
            country=country,
            authority_id=authority_id,
            password=password,
        )
        if requires_second_factor(role):
            account = replace(account, totp_secret=secret, totp_confirmed=True)
            uow.accounts.update(account)
        uow.commit()
    return User(
        name, password, secret if requires_second_factor(role) else None, account, accounts.principal_of(account)
    )


def token_for(db: Database, rt: Runtime, user: User, grants: list[str] | None = None) -> str:
    """A new API token of the user's account (all of its role's grants, or `grants`)."""
    with db.unit_of_work() as uow:
        _token, secret = accounts.create_token(uow, rt, user.name, "tests", grants)
        uow.commit()
    return secret


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def sign_in(client: TestClient, user: User, at: datetime, next_path: str = "/") -> Response:
    """POST the sign-in form as a browser would (name, password, and the code the authenticator shows at `at`)."""
    form = {"name": user.name, "password": user.password, "next": next_path}
    if user.secret is not None:
        form["code"] = user.code(at)
    return client.post("/signin", data=form, follow_redirects=False)
