"""Accounts: who may sign in, with which role over which scope, and how they prove it.

- Passwords are hashed with argon2id (argon2-cffi's defaults: RFC 9106's second recommended profile, 64 MiB,
  3 passes, 4 lanes); hashes made with older parameters are upgraded at the next successful sign-in.
- Every role that sees personal data (and the admin) needs a TOTP second factor (RFC 6238). The secret is created
  when the user sets it up, kept while in use, and dropped when the second factor is reset.
- A new account, and a reset password, get a random one-time password, shown once: it must be changed at the
  first sign-in. There is no default password (the demo's accounts are made by `handover.demo.accounts`).
- API tokens for devices and scripts: 32 random bytes, shown once; only their SHA-256 is stored. A token carries
  a subset of its account's role's grants, and never more than the role has now; revoked, never deleted.
- Throttling per account name and per address: see `handover.core.policy.signin.refused_until`.

Functions that change accounts take `by`, the principal acting (`None` for the command line, run by whoever holds
the database), and refuse unless it may write accounts.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from handover.core.policy import signin
from handover.core.policy.access import (
    ROLE_GRANTS,
    Grant,
    Principal,
    Role,
    can,
    requires_second_factor,
    scope_problem,
)
from handover.i18n import _
from handover.services import reference
from handover.services.errors import ConflictError, NotFoundError
from handover.services.ports import Account, AccountsUnitOfWork, ApiToken
from handover.services.runtime import Runtime

ISSUER = "Handover"
MIN_PASSWORD = 12
MAX_PASSWORD = 1024
TOKEN_PREFIX = "hvr_"
FIRST_ADMIN = "admin"
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")

# One hasher for the process; tests may swap in cheaper parameters (`use_hasher`).
_hasher = PasswordHasher()

SUCCESS, FAILURE, REFUSED = "success", "failure", "refused"


def use_hasher(hasher: PasswordHasher) -> PasswordHasher:
    """Replace the password hasher (tests use cheap parameters); returns the one it replaced."""
    global _hasher
    previous, _hasher = _hasher, hasher
    _dummy_hash.cache_clear()
    return previous


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Checked against when the account does not exist, so a wrong name takes as long as a wrong password.
    return _hasher.hash(secrets.token_urlsafe(16))


class SignInError(ConflictError):
    """Sign-in refused. `retry_after` (seconds) is set when throttled. The message never says whether the name
    exists or the password was wrong."""

    def __init__(self, subject: str, rule: str, state: str, message: str, retry_after: int | None = None) -> None:
        super().__init__(subject, rule, state, message)
        self.retry_after = retry_after


class TokenError(ConflictError):
    """An API token that is unknown, revoked, expired, or whose account is disabled."""


@dataclass(frozen=True, slots=True)
class SignIn:
    """A successful sign-in. Until the one-time password is changed and a required second factor set up, a page
    session should allow nothing but that."""

    account: Account
    principal: Principal
    must_change_password: bool
    must_set_up_second_factor: bool


@dataclass(frozen=True, slots=True)
class SecondFactorSetup:
    secret: str  # base32, to type into an authenticator by hand
    uri: str  # otpauth://, for a QR code


# --- names, roles, scope ------------------------------------------------------------------------------------------


def normalise_name(name: str) -> str:
    folded = name.strip().lower()
    if not _NAME.fullmatch(folded):
        raise ValueError(
            _(
                "{name!r} is not a usable account name: 2 to 64 letters, digits, dots, dashes or underscores, "
                "starting with a letter or digit."
            ).format(name=name)
        )
    return folded


def _role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise ValueError(
            _("{role!r} is not a role; the roles are: {roles}.").format(
                role=role, roles=", ".join(r.value for r in Role)
            )
        ) from None


def _check_scope(
    uow: AccountsUnitOfWork, role: Role, facility_id: str | None, country: str | None, authority_id: str | None
) -> str | None:
    country = country.upper() if country else None
    problem = scope_problem(role, facility_id, country, authority_id)
    if problem is not None:
        raise ValueError(problem)
    if facility_id:
        reference.facility(uow, facility_id)
    if authority_id:
        reference.authority(uow, authority_id)
    if role is Role.PUBLIC:
        raise ValueError(_("The public needs no account: public pages are open to everyone."))
    return country


def _require(by: Principal | None, permission: str) -> None:
    if by is not None and not can(by.grants, permission):
        raise ConflictError(
            by.account_id or by.name,
            "permission-required",
            "forbidden",
            _("{actor} lacks the permission {permission}.").format(actor=by.name, permission=permission),
        )


def principal_of(
    account: Account, narrowed_to: Iterable[Grant] | None = None, token_id: str | None = None
) -> Principal:
    return Principal.of(
        account.id,
        account.name,
        Role(account.role),
        facility_id=account.facility_id,
        country=account.country,
        authority_id=account.authority_id,
        narrowed_to=narrowed_to,
        token_id=token_id,
    )


# --- passwords ------------------------------------------------------------------------------------------------------


def one_time_password() -> str:
    """A random password to hand over once (about 120 bits): the user must change it at first sign-in."""
    return secrets.token_urlsafe(15)


def hash_password(password: str, salt: bytes | None = None) -> str:
    """argon2id; the salt is random unless given (the services give the runtime's, so a seeded demo is repeatable)."""
    return _hasher.hash(password, salt=salt)


def password_matches(encoded: str, password: str) -> bool:
    try:
        return _hasher.verify(encoded, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _check_new_password(name: str, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValueError(_("A password needs at least {n} characters.").format(n=MIN_PASSWORD))
    if len(password) > MAX_PASSWORD:
        raise ValueError(_("A password may have at most {n} characters.").format(n=MAX_PASSWORD))
    if name.lower() in password.lower():
        raise ValueError(_("A password must not contain the account name."))


# --- accounts -------------------------------------------------------------------------------------------------------


def account(uow: AccountsUnitOfWork, name: str) -> Account:
    found = uow.accounts.by_name(name.strip().lower())
    if found is None:
        raise NotFoundError("account", name, _("No account {name}.").format(name=name))
    return found


def accounts(uow: AccountsUnitOfWork, by: Principal | None = None) -> list[Account]:
    _require(by, "all:account:read")
    return uow.accounts.all()


def any_accounts(uow: AccountsUnitOfWork) -> bool:
    return uow.accounts.count() > 0


def add_account(
    uow: AccountsUnitOfWork,
    rt: Runtime,
    name: str,
    role: Role | str,
    *,
    display_name: str | None = None,
    facility_id: str | None = None,
    country: str | None = None,
    authority_id: str | None = None,
    password: str | None = None,
    by: Principal | None = None,
) -> tuple[Account, str]:
    """A new account and its one-time password (to show once). `password` is for the demo only: such an account
    has no one-time password to change."""
    _require(by, "all:account:write")
    name = normalise_name(name)
    chosen = _role(role)
    country = _check_scope(uow, chosen, facility_id, country, authority_id)
    if uow.accounts.by_name(name) is not None:
        raise ConflictError(name, "account-exists", "exists", _("An account {name} already exists.").format(name=name))
    secret = password if password is not None else one_time_password()
    new = Account(
        id=rt.new_id(),
        name=name,
        display_name=(display_name or name).strip()[:200],
        role=chosen.value,
        facility_id=facility_id or None,
        country=country,
        authority_id=authority_id or None,
        password_hash=hash_password(secret, rt.new_salt()),
        password_must_change=password is None,
        created_at=rt.clock(),
    )
    uow.accounts.add(new)
    return new, secret


def create_first_admin(uow: AccountsUnitOfWork, rt: Runtime, name: str = FIRST_ADMIN) -> tuple[Account, str]:
    """The first account, an admin, with a one-time password to print once. Refused once any account exists."""
    if any_accounts(uow):
        raise ConflictError(
            "accounts", "accounts-exist", "not empty", _("Accounts exist already: the first admin was made before.")
        )
    return add_account(uow, rt, name, Role.ADMIN, display_name=_("Administrator"))


def set_role(
    uow: AccountsUnitOfWork,
    rt: Runtime,
    name: str,
    role: Role | str,
    *,
    facility_id: str | None = None,
    country: str | None = None,
    authority_id: str | None = None,
    by: Principal | None = None,
) -> Account:
    """Give the account another role (and the scope that role needs). Its tokens keep only grants the new role has."""
    _require(by, "all:account:write")
    found = account(uow, name)
    chosen = _role(role)
    country = _check_scope(uow, chosen, facility_id, country, authority_id)
    if chosen is not Role.ADMIN and found.role == Role.ADMIN.value and _last_active_admin(uow, found):
        raise ConflictError(
            found.name,
            "last-admin",
            found.role,
            _("{name} is the last active admin: make another admin first.").format(name=found.name),
        )
    changed = replace(
        found, role=chosen.value, facility_id=facility_id or None, country=country, authority_id=authority_id or None
    )
    uow.accounts.update(changed)
    return changed


def _last_active_admin(uow: AccountsUnitOfWork, found: Account) -> bool:
    admins = [a for a in uow.accounts.all() if a.role == Role.ADMIN.value and not a.disabled]
    return [a.id for a in admins] == [found.id]


def disable(uow: AccountsUnitOfWork, rt: Runtime, name: str, by: Principal | None = None) -> Account:
    """The account can no longer sign in, its sessions end and none of its tokens work. Nothing is deleted."""
    _require(by, "all:account:write")
    found = account(uow, name)
    if found.disabled:
        return found
    if found.role == Role.ADMIN.value and _last_active_admin(uow, found):
        raise ConflictError(
            found.name,
            "last-admin",
            found.role,
            _("{name} is the last active admin: make another admin first.").format(name=found.name),
        )
    changed = replace(found, disabled_at=rt.clock())
    uow.accounts.update(changed)
    uow.accounts.end_sessions_of(found.id, rt.clock())
    return changed


def enable(uow: AccountsUnitOfWork, rt: Runtime, name: str, by: Principal | None = None) -> Account:
    _require(by, "all:account:write")
    found = account(uow, name)
    changed = replace(found, disabled_at=None)
    uow.accounts.update(changed)
    return changed


def reset_password(uow: AccountsUnitOfWork, rt: Runtime, name: str, by: Principal | None = None) -> tuple[Account, str]:
    """A new one-time password for the account (to show once), to be changed at the next sign-in."""
    _require(by, "all:account:write")
    found = account(uow, name)
    secret = one_time_password()
    changed = replace(found, password_hash=hash_password(secret, rt.new_salt()), password_must_change=True)
    uow.accounts.update(changed)
    uow.accounts.end_sessions_of(found.id, rt.clock())  # whoever knew the old password is signed out
    return changed, secret


def change_password(uow: AccountsUnitOfWork, rt: Runtime, account_id: str, current: str, new: str) -> Account:
    """The user's own change: the current password proves it is them."""
    found = uow.accounts.get(account_id)
    if found is None or found.disabled or not password_matches(found.password_hash, current):
        raise SignInError(account_id, "password-wrong", "signed-in", _("The current password is not right."))
    _check_new_password(found.name, new)
    if password_matches(found.password_hash, new):
        raise ValueError(_("The new password must differ from the current one."))
    changed = replace(found, password_hash=hash_password(new, rt.new_salt()), password_must_change=False)
    uow.accounts.update(changed)
    return changed


# --- the second factor ----------------------------------------------------------------------------------------------


def begin_second_factor(uow: AccountsUnitOfWork, rt: Runtime, name: str) -> SecondFactorSetup:
    """A new TOTP secret for the account, not in force until a code from it is confirmed (replaces any unconfirmed
    one; a confirmed one must be reset first)."""
    found = account(uow, name)
    if found.totp_confirmed:
        raise ConflictError(
            found.name,
            "second-factor-set",
            "confirmed",
            _("{name} already has a second factor: reset it first.").format(name=found.name),
        )
    secret = secrets.token_bytes(signin.SECRET_BYTES)
    uow.accounts.update(replace(found, totp_secret=secret, totp_confirmed=False, totp_last_step=None))
    return SecondFactorSetup(signin.secret_text(secret), signin.provisioning_uri(secret, found.name, ISSUER))


def confirm_second_factor(uow: AccountsUnitOfWork, rt: Runtime, name: str, code: str) -> Account:
    found = account(uow, name)
    if found.totp_secret is None or found.totp_confirmed:
        raise ConflictError(
            found.name,
            "no-second-factor-pending",
            "confirmed" if found.totp_confirmed else "none",
            _("{name} has no second factor being set up.").format(name=found.name),
        )
    step = signin.verify_code(found.totp_secret, code, rt.clock())
    if step is None:
        raise SignInError(found.name, "second-factor-invalid", "pending", _("That code is not right: try the next."))
    changed = replace(found, totp_confirmed=True, totp_last_step=step)
    uow.accounts.update(changed)
    return changed


def reset_second_factor(uow: AccountsUnitOfWork, rt: Runtime, name: str, by: Principal | None = None) -> Account:
    """Forget the account's TOTP secret (a lost phone); a role that needs one must set up a new one at sign-in."""
    _require(by, "all:account:write")
    found = account(uow, name)
    changed = replace(found, totp_secret=None, totp_confirmed=False, totp_last_step=None)
    uow.accounts.update(changed)
    return changed


# --- signing in -----------------------------------------------------------------------------------------------------


def _throttled(uow: AccountsUnitOfWork, name: str, address: str, now: datetime) -> datetime | None:
    since = now - signin.LOOKBACK
    by_name = signin.refused_until(uow.accounts.failures(name=name, since=since), now)
    by_address = signin.refused_until(uow.accounts.failures(address=address, since=since), now)
    waits = [t for t in (by_name, by_address) if t is not None]
    return max(waits) if waits else None


def _failed(uow: AccountsUnitOfWork, name: str, address: str, now: datetime) -> SignInError:
    uow.accounts.add_attempt(name, address, now, FAILURE)
    return SignInError(name, "sign-in-failed", "signed-out", _("The name, password or code is not right."))


def sign_in(
    uow: AccountsUnitOfWork, rt: Runtime, name: str, password: str, address: str, code: str | None = None
) -> SignIn:
    """Check a password (and the second factor, when the account has one) and record the attempt.

    The caller commits even when this raises `SignInError` (failures must be counted): use a unit of work of its
    own. Unknown name and wrong password fail alike and take as long.
    """
    now = rt.clock()
    name = name.strip().lower()[:64]
    address = address[:64]
    until = _throttled(uow, name, address, now)
    if until is not None:
        uow.accounts.add_attempt(name, address, now, REFUSED)
        wait = max(1, int((until - now).total_seconds() + 0.999))
        raise SignInError(
            name,
            "sign-in-throttled",
            "signed-out",
            _("Too many failed attempts: try again in {seconds} seconds.").format(seconds=wait),
            retry_after=wait,
        )
    found = uow.accounts.by_name(name)
    if found is None:
        password_matches(_dummy_hash(), password)
        raise _failed(uow, name, address, now)
    if not password_matches(found.password_hash, password):
        raise _failed(uow, name, address, now)
    if found.disabled:
        uow.accounts.add_attempt(name, address, now, FAILURE)
        raise SignInError(name, "account-disabled", "disabled", _("This account is disabled."))
    if found.totp_confirmed and found.totp_secret is not None:
        if not code:
            # The password was right: not a failure. The page asks for the code and sends both again.
            raise SignInError(
                name, "second-factor-required", "signed-out", _("Enter the code from your authenticator.")
            )
        step = signin.verify_code(found.totp_secret, code, now, found.totp_last_step)
        if step is None:
            raise _failed(uow, name, address, now)
        found = replace(found, totp_last_step=step)
    if _hasher.check_needs_rehash(found.password_hash):
        found = replace(found, password_hash=hash_password(password, rt.new_salt()))
    uow.accounts.update(found)
    uow.accounts.add_attempt(name, address, now, SUCCESS)
    role = Role(found.role)
    return SignIn(
        account=found,
        principal=principal_of(found),
        must_change_password=found.password_must_change,
        must_set_up_second_factor=requires_second_factor(role) and not found.totp_confirmed,
    )


def prune_attempts(uow: AccountsUnitOfWork, rt: Runtime) -> int:
    """Forget sign-in attempts older than throttling looks back."""
    return uow.accounts.prune_attempts(rt.clock() - signin.LOOKBACK)


# --- API tokens -----------------------------------------------------------------------------------------------------


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    uow: AccountsUnitOfWork,
    rt: Runtime,
    name: str,
    label: str,
    grants: Sequence[str] | None = None,
    expires_at: datetime | None = None,
    by: Principal | None = None,
) -> tuple[ApiToken, str]:
    """A token for a device or a script of the account, with `grants` (all of its role's when None), and the
    token itself, to show once."""
    _require(by, "all:account:write")
    found = account(uow, name)
    if found.disabled:
        raise ConflictError(found.name, "account-disabled", "disabled", _("This account is disabled."))
    role_grants = ROLE_GRANTS[Role(found.role)]
    wanted = role_grants if grants is None else frozenset(Grant.parse(g) for g in grants)
    beyond = sorted(str(g) for g in wanted - role_grants)
    if beyond:
        raise ConflictError(
            found.name,
            "token-scope-exceeds-role",
            found.role,
            _("The role {role} does not grant {grants}: a token carries only grants of its account's role.").format(
                role=found.role, grants=", ".join(beyond)
            ),
        )
    if not wanted:
        raise ValueError(_("A token needs at least one grant."))
    now = rt.clock()
    if expires_at is not None and expires_at <= now:
        raise ValueError(_("A token must expire in the future."))
    if not label.strip():
        raise ValueError(_("A token needs a label saying what it is for (a device, a script)."))
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        id=rt.new_id(),
        account_id=found.id,
        label=label.strip()[:200],
        token_hash=token_hash(secret),
        grants=tuple(sorted(str(g) for g in wanted)),
        created_at=now,
        expires_at=expires_at,
    )
    uow.accounts.add_token(token)
    return token, secret


def revoke_token(uow: AccountsUnitOfWork, rt: Runtime, token_id: str, by: Principal | None = None) -> ApiToken:
    found = uow.accounts.token(token_id)
    if found is None:
        raise NotFoundError("token", token_id, _("No token {id}.").format(id=token_id))
    if by is not None and by.account_id != found.account_id:
        _require(by, "all:account:write")  # your own tokens you may always revoke
    uow.accounts.revoke_token(found.id, rt.clock())
    revoked = uow.accounts.token(found.id)
    assert revoked is not None
    return revoked


def tokens(uow: AccountsUnitOfWork, name: str, by: Principal | None = None) -> list[ApiToken]:
    found = account(uow, name)
    if by is not None and by.account_id != found.id:
        _require(by, "all:account:read")
    return uow.accounts.tokens(found.id)


def authenticate_token(uow: AccountsUnitOfWork, rt: Runtime, presented: str) -> Principal:
    """The principal a bearer token acts as: its grants, less any its account's role no longer has."""
    found = uow.accounts.token_by_hash(token_hash(presented.strip()))
    now = rt.clock()
    if found is None:
        raise TokenError("token", "token-invalid", "unknown", _("The token is not valid."))
    if found.revoked_at is not None:
        raise TokenError(found.id, "token-revoked", "revoked", _("The token was revoked."))
    if found.expires_at is not None and found.expires_at <= now:
        raise TokenError(found.id, "token-expired", "expired", _("The token has expired."))
    owner = uow.accounts.get(found.account_id)
    if owner is None or owner.disabled:
        raise TokenError(found.id, "account-disabled", "disabled", _("The token's account is disabled."))
    return principal_of(owner, narrowed_to=(Grant.parse(g) for g in found.grants), token_id=found.id)
