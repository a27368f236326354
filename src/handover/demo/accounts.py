"""The demo's accounts: one per role, with passwords and second factors derived from the seed.

Demo mode only: refused on a database the demo did not build. The passwords and TOTP secrets are printed by
`handover demo` so anyone trying the demo can sign in as each role; nowhere else does an account get a password
that was not random and shown once.
"""

from __future__ import annotations

import base64
import hashlib
import random
import uuid
from dataclasses import dataclass, replace

from handover.core.policy import signin
from handover.core.policy.access import Principal, Role, requires_second_factor
from handover.demo.build import DEMO_KEY
from handover.services import accounts
from handover.services.errors import ConflictError
from handover.services.ports import AccountsUnitOfWork
from handover.services.runtime import Runtime, SimulatedClock


@dataclass(frozen=True, slots=True)
class DemoUser:
    name: str
    display_name: str
    role: Role
    facility_id: str | None = None
    country: str | None = None
    authority_id: str | None = None


# One account per role (two diplomats: an accepting country and a refusing one), scoped to the scenario's places.
USERS = (
    DemoUser("demo-admin", "Demo administrator", Role.ADMIN),
    DemoUser("planner", "Operations planner", Role.PLANNER),
    DemoUser("escort", "Escort officer, coalition", Role.FIELD_OFFICER, authority_id="us-centcom"),
    DemoUser("intake-karkh", "Intake officer, Karkh", Role.INTAKE_OFFICER, facility_id="karkh"),
    DemoUser("reviewer", "Legal reviewer", Role.LEGAL_REVIEWER),
    DemoUser("diplomat-kz", "Consular officer, Kazakhstan", Role.DIPLOMAT, country="KZ"),
    DemoUser("diplomat-fr", "Consular officer, France", Role.DIPLOMAT, country="FR"),
    DemoUser("monitor", "Independent monitor", Role.MONITOR),
)


@dataclass(frozen=True, slots=True)
class DemoAccount:
    name: str
    role: Role
    scope: str
    password: str
    totp_secret: str | None  # base32, for an authenticator app; None when the role needs no second factor
    principal: Principal

    def line(self) -> str:
        second = f"  TOTP secret {self.totp_secret}" if self.totp_secret else ""
        scope = f" ({self.scope})" if self.scope else ""
        return f"{self.name:<14} {self.role.value}{scope}  password {self.password}{second}"


def demo_runtime(seed: int, clock: SimulatedClock) -> Runtime:
    """Seeded ids and salts for the demo's accounts and cases: a stream of its own, so they never repeat the ids
    `build_demo` drew (its runtime is `seeded_runtime(seed, ...)`; a second one of those would start over)."""
    rng = random.Random(f"handover-demo-accounts-{seed}")
    return Runtime(
        clock=clock,
        new_id=lambda: str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        new_salt=lambda: rng.getrandbits(128).to_bytes(16, "big"),
    )


def _secret(seed: int, name: str, purpose: str, size: int) -> bytes:
    return hashlib.sha256(f"handover-demo-{purpose}-{seed}-{name}".encode()).digest()[:size]


def demo_password(seed: int, name: str) -> str:
    return "demo-" + base64.b32encode(_secret(seed, name, "password", 10)).decode().lower()


def demo_totp_secret(seed: int, user: DemoUser) -> bytes | None:
    """The demo user's TOTP secret, or None when the role needs no second factor."""
    return _secret(seed, user.name, "totp", signin.SECRET_BYTES) if requires_second_factor(user.role) else None


def add_demo_accounts(uow: AccountsUnitOfWork, rt: Runtime, seed: int = 2026) -> list[DemoAccount]:
    """Make the demo's accounts (idempotent: existing ones are left as they are and listed again)."""
    if uow.meta.get(DEMO_KEY) is None:
        raise ConflictError(
            "database",
            "demo-only",
            "not a demo",
            "Demo accounts, with their published passwords, are made only in a database the demo built.",
        )
    made: list[DemoAccount] = []
    for user in USERS:
        password = demo_password(seed, user.name)
        secret = demo_totp_secret(seed, user)
        account = uow.accounts.by_name(user.name)
        if account is None:
            account, _ = accounts.add_account(
                uow,
                rt,
                user.name,
                user.role,
                display_name=user.display_name,
                facility_id=user.facility_id,
                country=user.country,
                authority_id=user.authority_id,
                password=password,
            )
            if secret is not None:
                account = replace(account, totp_secret=secret, totp_confirmed=True)
                uow.accounts.update(account)
        scope = user.facility_id or user.country or user.authority_id or ""
        made.append(
            DemoAccount(
                user.name,
                user.role,
                scope,
                password,
                signin.secret_text(secret) if secret is not None else None,
                accounts.principal_of(account),
            )
        )
    return made
