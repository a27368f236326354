"""Accounts on both databases: passwords, the first admin, roles and scope, TOTP with a fixed clock, throttling,
disabled accounts, API tokens (scope and revocation)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from argon2 import PasswordHasher, Type

from handover.core.policy import signin
from handover.core.policy.access import ROLE_GRANTS, Grant, Principal, Role
from handover.services import accounts
from handover.services.accounts import SignInError, TokenError
from handover.services.errors import ConflictError, NotFoundError
from handover.services.runtime import Runtime, SimulatedClock, seeded_runtime
from handover.store.uow import Database
from tests.factories import T0

ADDRESS = "198.51.100.7"


@pytest.fixture(autouse=True)
def cheap_hashing() -> Iterator[None]:
    """Argon2id at test strength (the production parameters are checked once, below)."""
    previous = accounts.use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=Type.ID))
    yield
    accounts.use_hasher(previous)


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(T0)


@pytest.fixture
def rt(clock: SimulatedClock) -> Runtime:
    return seeded_runtime(7, clock)


def _add(db: Database, rt: Runtime, name: str, role: Role | str, **scope: str) -> str:
    with db.unit_of_work() as uow:
        _account, password = accounts.add_account(uow, rt, name, role, **scope)  # type: ignore[arg-type]
        uow.commit()
    return password


def _sign_in(db: Database, rt: Runtime, name: str, password: str, code: str | None = None, address: str = ADDRESS):  # type: ignore[no-untyped-def]
    """One attempt in its own unit of work, committed even when refused (failures must be counted)."""
    with db.unit_of_work() as uow:
        try:
            return accounts.sign_in(uow, rt, name, password, address, code)
        finally:
            uow.commit()


def test_passwords_are_hashed_with_argon2id_and_verified() -> None:
    accounts.use_hasher(PasswordHasher())  # the production parameters
    encoded = accounts.hash_password("correct horse battery staple")
    assert encoded.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert "correct horse" not in encoded
    assert accounts.password_matches(encoded, "correct horse battery staple")
    assert not accounts.password_matches(encoded, "correct horse battery stapler")
    assert not accounts.password_matches("not a hash", "anything")


def test_the_first_admin_gets_a_one_time_password_once(world: Database, rt: Runtime) -> None:
    with world.unit_of_work() as uow:
        assert not accounts.any_accounts(uow)
        admin, password = accounts.create_first_admin(uow, rt)
        uow.commit()
    assert admin.name == "admin" and admin.role == "admin" and admin.password_must_change
    assert len(password) >= 20
    with world.unit_of_work() as uow:
        stored = uow.accounts.by_name("admin")
        assert stored is not None and password not in stored.password_hash
        with pytest.raises(ConflictError) as refused:
            accounts.create_first_admin(uow, rt)
        assert refused.value.rule == "accounts-exist"
    signed = _sign_in(world, rt, "admin", password)
    assert signed.must_change_password and signed.must_set_up_second_factor
    assert signed.principal.role is Role.ADMIN
    with world.unit_of_work() as uow:
        with pytest.raises(ValueError, match="at least 12"):
            accounts.change_password(uow, rt, admin.id, password, "short")
        with pytest.raises(ValueError, match="account name"):
            accounts.change_password(uow, rt, admin.id, password, "my-admin-password-1")
        with pytest.raises(SignInError):
            accounts.change_password(uow, rt, admin.id, "wrong", "a much better passphrase")
        accounts.change_password(uow, rt, admin.id, password, "a much better passphrase")
        uow.commit()
    assert not _sign_in(world, rt, "admin", "a much better passphrase").must_change_password
    with pytest.raises(SignInError):
        _sign_in(world, rt, "admin", password)  # the one-time password is gone


def test_roles_need_their_scope_and_names_are_unique(world: Database, rt: Runtime) -> None:
    with world.unit_of_work() as uow:
        with pytest.raises(ValueError, match="needs a facility"):
            accounts.add_account(uow, rt, "intake", Role.INTAKE_OFFICER)
        with pytest.raises(NotFoundError):
            accounts.add_account(uow, rt, "intake", Role.INTAKE_OFFICER, facility_id="nowhere")
        with pytest.raises(ValueError, match="takes no country"):
            accounts.add_account(uow, rt, "planner", Role.PLANNER, country="FR")
        with pytest.raises(ValueError, match="not a role"):
            accounts.add_account(uow, rt, "boss", "overlord")
        with pytest.raises(ValueError, match="not a usable account name"):
            accounts.add_account(uow, rt, "a b", Role.PLANNER)
        diplomat, _ = accounts.add_account(uow, rt, "Diplomat-KZ", Role.DIPLOMAT, country="kz")
        assert diplomat.name == "diplomat-kz" and diplomat.country == "KZ"
        with pytest.raises(ConflictError) as taken:
            accounts.add_account(uow, rt, "DIPLOMAT-kz", Role.MONITOR)
        assert taken.value.rule == "account-exists"
        moved = accounts.set_role(uow, rt, "diplomat-kz", Role.INTAKE_OFFICER, facility_id="karkh")
        assert (moved.role, moved.facility_id, moved.country) == ("intake-officer", "karkh", None)


def test_only_an_admin_changes_accounts(world: Database, rt: Runtime) -> None:
    planner = Principal.of("p", "planner", Role.PLANNER)
    admin = Principal.of("a", "admin", Role.ADMIN)
    with world.unit_of_work() as uow:
        with pytest.raises(ConflictError, match="all:account:write"):
            accounts.add_account(uow, rt, "someone", Role.MONITOR, by=planner)
        accounts.add_account(uow, rt, "someone", Role.MONITOR, by=admin)


def test_the_last_admin_cannot_be_disabled_or_demoted(world: Database, rt: Runtime) -> None:
    with world.unit_of_work() as uow:
        accounts.create_first_admin(uow, rt)
        for attempt in (
            lambda: accounts.disable(uow, rt, "admin"),
            lambda: accounts.set_role(uow, rt, "admin", Role.MONITOR),
        ):
            with pytest.raises(ConflictError) as refused:
                attempt()
            assert refused.value.rule == "last-admin"
        accounts.add_account(uow, rt, "second-admin", Role.ADMIN)
        assert accounts.disable(uow, rt, "admin").disabled


def _with_second_factor(db: Database, rt: Runtime, name: str) -> bytes:
    with db.unit_of_work() as uow:
        setup = accounts.begin_second_factor(uow, rt, name)
        uow.commit()
    assert setup.uri.startswith(f"otpauth://totp/Handover%3A{name}?secret={setup.secret}")
    with db.unit_of_work() as uow:
        stored = uow.accounts.by_name(name)
        assert stored is not None and stored.totp_secret is not None and not stored.totp_confirmed
        secret = stored.totp_secret
        with pytest.raises(SignInError):
            accounts.confirm_second_factor(
                uow, rt, name, "000000" if signin.code_at(secret, rt.clock()) != "000000" else "111111"
            )
        accounts.confirm_second_factor(uow, rt, name, signin.code_at(secret, rt.clock()))
        uow.commit()
    return secret


def test_totp_sign_in_with_a_fixed_clock(world: Database, rt: Runtime, clock: SimulatedClock) -> None:
    password = _add(world, rt, "diplomat-fr", Role.DIPLOMAT, country="FR")
    # Without a second factor the diplomat is signed in only to set one up.
    assert _sign_in(world, rt, "diplomat-fr", password).must_set_up_second_factor
    secret = _with_second_factor(world, rt, "diplomat-fr")
    clock.advance(timedelta(minutes=5))
    with pytest.raises(SignInError) as asked:
        _sign_in(world, rt, "diplomat-fr", password)
    assert asked.value.rule == "second-factor-required"
    code = signin.code_at(secret, clock())
    signed = _sign_in(world, rt, "diplomat-fr", password, code)
    assert not signed.must_set_up_second_factor
    assert signed.principal.country == "FR" and signed.principal.role is Role.DIPLOMAT
    with pytest.raises(SignInError) as replayed:
        _sign_in(world, rt, "diplomat-fr", password, code)  # the same code again, within its 30 seconds
    assert replayed.value.rule == "sign-in-failed"
    clock.advance(timedelta(seconds=30))
    assert _sign_in(world, rt, "diplomat-fr", password, signin.code_at(secret, clock()))
    # A lost phone: reset, and the next sign-in asks to set one up again.
    with world.unit_of_work() as uow:
        with pytest.raises(ConflictError):
            accounts.begin_second_factor(uow, rt, "diplomat-fr")
        reset = accounts.reset_second_factor(uow, rt, "diplomat-fr")
        uow.commit()
    assert reset.totp_secret is None
    assert _sign_in(world, rt, "diplomat-fr", password).must_set_up_second_factor


def test_unknown_names_and_wrong_passwords_fail_alike(world: Database, rt: Runtime) -> None:
    password = _add(world, rt, "planner", Role.PLANNER)
    errors = []
    for name, attempt in (("planner", password + "x"), ("nobody", password)):
        with pytest.raises(SignInError) as failed:
            _sign_in(world, rt, name, attempt)
        errors.append((failed.value.rule, failed.value.message))
    assert errors[0] == errors[1]


def test_throttling_per_account(world: Database, rt: Runtime, clock: SimulatedClock) -> None:
    password = _add(world, rt, "planner", Role.PLANNER)
    for i in range(5):
        clock.advance(timedelta(seconds=20))
        with pytest.raises(SignInError) as failed:
            _sign_in(world, rt, "planner", "guess", address=f"203.0.113.{i}")
        assert failed.value.rule == "sign-in-failed"
    # Five failures in two minutes, from five addresses: even the right password is refused for a minute.
    clock.advance(timedelta(seconds=10))
    with pytest.raises(SignInError) as throttled:
        _sign_in(world, rt, "planner", password)
    assert throttled.value.rule == "sign-in-throttled" and throttled.value.retry_after == 50
    clock.advance(timedelta(seconds=50))
    with pytest.raises(SignInError):
        _sign_in(world, rt, "planner", "guess again")
    # The sixth failure doubles the delay; refused attempts did not count as failures.
    clock.advance(timedelta(seconds=90))
    with pytest.raises(SignInError) as still:
        _sign_in(world, rt, "planner", password)
    assert still.value.rule == "sign-in-throttled" and still.value.retry_after == 30
    clock.advance(timedelta(seconds=30))
    assert _sign_in(world, rt, "planner", password).principal.name == "planner"
    # A success clears the count.
    with pytest.raises(SignInError) as again:
        _sign_in(world, rt, "planner", "guess")
    assert again.value.rule == "sign-in-failed"


def test_throttling_per_address(world: Database, rt: Runtime, clock: SimulatedClock) -> None:
    password = _add(world, rt, "monitor", Role.MONITOR)
    for i in range(5):
        clock.advance(timedelta(seconds=5))
        with pytest.raises(SignInError):
            _sign_in(world, rt, f"guessed-{i}", "password", address="192.0.2.1")
    with pytest.raises(SignInError) as throttled:
        _sign_in(world, rt, "monitor", password, address="192.0.2.1")
    assert throttled.value.rule == "sign-in-throttled"
    assert _sign_in(world, rt, "monitor", password, address="192.0.2.2")  # another address is not held back
    with world.unit_of_work() as uow:
        clock.advance(signin.LOOKBACK + timedelta(minutes=1))
        assert accounts.prune_attempts(uow, rt) >= 7
        uow.commit()


def test_a_disabled_account_cannot_sign_in_and_its_tokens_stop(world: Database, rt: Runtime) -> None:
    password = _add(world, rt, "escort", Role.FIELD_OFFICER, authority_id="us-centcom")
    with world.unit_of_work() as uow:
        _token, secret = accounts.create_token(uow, rt, "escort", "tablet 3")
        accounts.disable(uow, rt, "escort")
        uow.commit()
    with pytest.raises(SignInError) as refused:
        _sign_in(world, rt, "escort", password)
    assert refused.value.rule == "account-disabled"
    with world.unit_of_work() as uow:
        with pytest.raises(TokenError) as stopped:
            accounts.authenticate_token(uow, rt, secret)
        assert stopped.value.rule == "account-disabled"
        with pytest.raises(ConflictError):
            accounts.create_token(uow, rt, "escort", "tablet 4")
        accounts.enable(uow, rt, "escort")
        uow.commit()
    assert _sign_in(world, rt, "escort", password).principal.authority_id == "us-centcom"


def test_tokens_are_scoped_hashed_and_revocable(world: Database, rt: Runtime, clock: SimulatedClock) -> None:
    _add(world, rt, "diplomat-kz", Role.DIPLOMAT, country="KZ")
    with world.unit_of_work() as uow:
        token, secret = accounts.create_token(
            uow, rt, "diplomat-kz", "case script", ["own-country:repatriation:read"], expires_at=T0 + timedelta(days=30)
        )
        with pytest.raises(ConflictError) as beyond:
            accounts.create_token(uow, rt, "diplomat-kz", "greedy", ["all:person:read"])
        assert beyond.value.rule == "token-scope-exceeds-role"
        with pytest.raises(ValueError, match="unknown resource"):
            accounts.create_token(uow, rt, "diplomat-kz", "typo", ["own-country:cases:read"])
        uow.commit()
    assert secret.startswith("hvr_") and len(secret) > 40
    assert token.token_hash == accounts.token_hash(secret) and secret not in token.token_hash
    with world.unit_of_work() as uow:
        principal = accounts.authenticate_token(uow, rt, secret)
        assert principal.grants == {Grant.parse("own-country:repatriation:read")} | ROLE_GRANTS[Role.PUBLIC]
        assert principal.token_id == token.id and principal.country == "KZ"
        assert not principal.can("own-country:person:read")
        with pytest.raises(TokenError) as unknown:
            accounts.authenticate_token(uow, rt, secret + "x")
        assert unknown.value.rule == "token-invalid"
        [listed] = accounts.tokens(uow, "diplomat-kz")
        assert listed.id == token.id and listed.revoked_at is None
        accounts.revoke_token(uow, rt, token.id)
        uow.commit()
    with world.unit_of_work() as uow:
        with pytest.raises(TokenError) as revoked:
            accounts.authenticate_token(uow, rt, secret)
        assert revoked.value.rule == "token-revoked"
        _second, other = accounts.create_token(
            uow, rt, "diplomat-kz", "short-lived", expires_at=T0 + timedelta(hours=1)
        )
        uow.commit()
    with world.unit_of_work() as uow:
        assert accounts.authenticate_token(uow, rt, other).grants  # all of the role's grants
        clock.advance(timedelta(hours=1))
        with pytest.raises(TokenError) as expired:
            accounts.authenticate_token(uow, rt, other)
        assert expired.value.rule == "token-expired"


def test_a_token_never_holds_more_than_the_role_has_now(world: Database, rt: Runtime) -> None:
    _add(world, rt, "someone", Role.PLANNER)
    with world.unit_of_work() as uow:
        _token, secret = accounts.create_token(uow, rt, "someone", "laptop", ["all:person:read", "all:plan:write"])
        accounts.set_role(uow, rt, "someone", Role.MONITOR)
        uow.commit()
    with world.unit_of_work() as uow:
        principal = accounts.authenticate_token(uow, rt, secret)
    # The monitor reads people and plans nothing (and sees what the public sees, as any token does).
    assert principal.grants == {Grant.parse("all:person:read")} | ROLE_GRANTS[Role.PUBLIC]


def test_a_user_may_revoke_their_own_tokens_only(world: Database, rt: Runtime) -> None:
    _add(world, rt, "one", Role.PLANNER)
    _add(world, rt, "two", Role.PLANNER)
    with world.unit_of_work() as uow:
        token, _ = accounts.create_token(uow, rt, "one", "laptop")
        one = accounts.principal_of(accounts.account(uow, "one"))
        two = accounts.principal_of(accounts.account(uow, "two"))
        with pytest.raises(ConflictError):
            accounts.revoke_token(uow, rt, token.id, by=two)
        with pytest.raises(ConflictError):
            accounts.tokens(uow, "one", by=two)
        assert accounts.revoke_token(uow, rt, token.id, by=one).revoked_at is not None
