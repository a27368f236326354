"""Accounts on the command line: `handover user add|list|role|password|disable|enable|totp|token`.

Run by whoever holds the database (like `handover init`): these commands act with no principal of their own.
Passwords and tokens are printed once and never stored in the clear. Services and the database are imported inside
the commands, so importing the CLI stays light.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated

import typer

from handover.cli.common import console, database, print_json, refusals
from handover.i18n import _

if TYPE_CHECKING:
    from handover.services.ports import AccountsUnitOfWork
    from handover.services.runtime import Runtime

user_app = typer.Typer(
    help=_("Accounts: roles and their scope, passwords, second factors, API tokens."), no_args_is_help=True
)
token_app = typer.Typer(
    help=_("API tokens for devices and scripts: scoped, revocable, shown once."), no_args_is_help=True
)
user_app.add_typer(token_app, name="token")

Name = Annotated[str, typer.Argument(help=_("The account name (what the user signs in with)."))]
RoleOption = Annotated[
    str,
    typer.Option(
        "--role",
        help=_("planner, field-officer, intake-officer, legal-reviewer, diplomat, monitor or admin."),
    ),
]
FacilityOption = Annotated[str | None, typer.Option("--facility", help=_("Intake officers: their facility's id."))]
CountryOption = Annotated[str | None, typer.Option("--country", help=_("Diplomats: their country's ISO code."))]
AuthorityOption = Annotated[
    str | None, typer.Option("--authority", help=_("Field officers: the id of the authority they escort for."))
]
AsJson = Annotated[bool, typer.Option("--json", help=_("Print JSON."))]


def install(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")


@contextmanager
def _work(write: bool = True) -> Iterator[tuple[AccountsUnitOfWork, Runtime]]:
    from handover.services.runtime import system_runtime

    db = database()
    try:
        with refusals(), db.unit_of_work(read_only=not write) as uow:
            yield uow, system_runtime()
    finally:
        db.dispose()


def _scope(facility: str | None, country: str | None, authority: str | None) -> str:
    return facility or (country.upper() if country else "") or authority or ""


@user_app.command("add")
def add(
    name: Name,
    role: RoleOption,
    facility: FacilityOption = None,
    country: CountryOption = None,
    authority: AuthorityOption = None,
    display_name: Annotated[str | None, typer.Option("--display-name", help=_("The name people read."))] = None,
) -> None:
    """Make an account. Its one-time password is printed once: the user must change it at first sign-in."""
    from handover.services import accounts

    with _work() as (uow, rt):
        account, password = accounts.add_account(
            uow,
            rt,
            name,
            role,
            display_name=display_name,
            facility_id=facility,
            country=country,
            authority_id=authority,
        )
        uow.commit()
    console.print(
        _("Account {name} ({role} {scope}) made. One-time password, shown only now:").format(
            name=account.name, role=account.role, scope=_scope(facility, country, authority)
        )
    )
    typer.echo(password)


@user_app.command("list")
def list_accounts(as_json: AsJson = False) -> None:
    """Every account, its role and scope, second factor and whether it is disabled."""
    from rich.table import Table

    from handover.services import accounts

    with _work(write=False) as (uow, _rt):
        found = accounts.accounts(uow)
    rows = [
        {
            "name": a.name,
            "display_name": a.display_name,
            "role": a.role,
            "scope": _scope(a.facility_id, a.country, a.authority_id),
            "second_factor": a.totp_confirmed,
            "must_change_password": a.password_must_change,
            "disabled": a.disabled,
        }
        for a in found
    ]
    if as_json:
        print_json(rows)
        return
    table = Table()
    for column in (_("Name"), _("Role"), _("Scope"), _("Second factor"), _("State")):
        table.add_column(column)
    for a in found:
        state = _("disabled") if a.disabled else (_("must change password") if a.password_must_change else "")
        scope = _scope(a.facility_id, a.country, a.authority_id)
        table.add_row(a.name, a.role, scope, _("yes") if a.totp_confirmed else _("no"), state)
    console.print(table)


@user_app.command("role")
def role(
    name: Name,
    role: RoleOption,
    facility: FacilityOption = None,
    country: CountryOption = None,
    authority: AuthorityOption = None,
) -> None:
    """Give an account another role, with the scope that role needs."""
    from handover.services import accounts

    with _work() as (uow, rt):
        account = accounts.set_role(uow, rt, name, role, facility_id=facility, country=country, authority_id=authority)
        uow.commit()
    console.print(
        _("{name} is now {role} {scope}.").format(
            name=account.name,
            role=account.role,
            scope=_scope(account.facility_id, account.country, account.authority_id),
        )
    )


@user_app.command("password")
def password(name: Name) -> None:
    """Reset an account's password: a new one-time password, printed once."""
    from handover.services import accounts

    with _work() as (uow, rt):
        account, secret = accounts.reset_password(uow, rt, name)
        uow.commit()
    console.print(_("New one-time password for {name}, shown only now:").format(name=account.name))
    typer.echo(secret)


@user_app.command("disable")
def disable(name: Name) -> None:
    """Stop an account signing in and its tokens working (nothing is deleted)."""
    from handover.services import accounts

    with _work() as (uow, rt):
        account = accounts.disable(uow, rt, name)
        uow.commit()
    console.print(_("{name} is disabled.").format(name=account.name))


@user_app.command("enable")
def enable(name: Name) -> None:
    """Let a disabled account sign in again."""
    from handover.services import accounts

    with _work() as (uow, rt):
        account = accounts.enable(uow, rt, name)
        uow.commit()
    console.print(_("{name} is enabled.").format(name=account.name))


@user_app.command("totp")
def totp(
    name: Name,
    code: Annotated[
        str | None, typer.Option("--code", help=_("Confirm the second factor with a code from it."))
    ] = None,
    reset: Annotated[bool, typer.Option("--reset", help=_("Forget the second factor (a lost device)."))] = False,
) -> None:
    """Set up an account's TOTP second factor: prints the secret and an otpauth:// URI for an authenticator app;
    then `--code` with a code it shows confirms it. `--reset` forgets it."""
    from handover.services import accounts

    with _work() as (uow, rt):
        if reset:
            account = accounts.reset_second_factor(uow, rt, name)
            uow.commit()
            console.print(_("Second factor of {name} reset.").format(name=account.name))
            return
        if code is not None:
            account = accounts.confirm_second_factor(uow, rt, name, code)
            uow.commit()
            console.print(_("Second factor of {name} confirmed.").format(name=account.name))
            return
        setup = accounts.begin_second_factor(uow, rt, name)
        uow.commit()
    console.print(_("Add this to an authenticator app, then confirm with --code. Secret and URI:"))
    typer.echo(setup.secret)
    typer.echo(setup.uri)


@token_app.command("create")
def token_create(
    name: Name,
    label: Annotated[str, typer.Option("--label", help=_("What the token is for: a device, a script."))],
    grant: Annotated[
        list[str] | None,
        typer.Option("--grant", help=_("A permission (scope:resource:action) of the role; all of them if none.")),
    ] = None,
    days: Annotated[int | None, typer.Option("--days", min=1, help=_("Expire after this many days."))] = None,
) -> None:
    """Make an API token for an account. The token is printed once; only its hash is kept."""
    from handover.services import accounts

    with _work() as (uow, rt):
        expires = rt.clock() + timedelta(days=days) if days else None
        token, secret = accounts.create_token(uow, rt, name, label, grant or None, expires)
        uow.commit()
    console.print(
        _("Token {id} for {name} ({grants}). Shown only now:").format(
            id=token.id, name=name, grants=" ".join(token.grants)
        )
    )
    typer.echo(secret)


@token_app.command("revoke")
def token_revoke(token_id: Annotated[str, typer.Argument(help=_("The token's id (not the token)."))]) -> None:
    """Revoke a token: it stops working at once."""
    from handover.services import accounts

    with _work() as (uow, rt):
        token = accounts.revoke_token(uow, rt, token_id)
        uow.commit()
    console.print(_("Token {id} revoked.").format(id=token.id))


@token_app.command("list")
def token_list(name: Name, as_json: AsJson = False) -> None:
    """An account's tokens: id, label, grants, made, expires, revoked."""
    from rich.table import Table

    from handover.services import accounts

    with _work(write=False) as (uow, _rt):
        found = accounts.tokens(uow, name)
    now = datetime.now(UTC)
    rows = [
        {
            "id": t.id,
            "label": t.label,
            "grants": list(t.grants),
            "created_at": t.created_at.isoformat(),
            "expires_at": t.expires_at.isoformat() if t.expires_at else None,
            "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None,
            "active": t.revoked_at is None and (t.expires_at is None or t.expires_at > now),
        }
        for t in found
    ]
    if as_json:
        print_json(rows)
        return
    table = Table()
    for column in (_("Id"), _("Label"), _("Grants"), _("Made"), _("State")):
        table.add_column(column)
    for t in found:
        expired = t.expires_at is not None and t.expires_at <= now
        state = _("revoked") if t.revoked_at else (_("expired") if expired else _("active"))
        table.add_row(t.id, t.label, "\n".join(t.grants), f"{t.created_at:%Y-%m-%d %H:%M}", state)
    console.print(table)
