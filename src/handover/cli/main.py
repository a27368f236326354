"""The `handover` command line: thin commands over the services."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from handover.cli import operations, planning, users
from handover.cli import report as report_cli
from handover.cli.common import console, errors
from handover.cli.common import database as _database
from handover.cli.common import refusals as _refusals
from handover.cli.verify import verify
from handover.core.custody import Estate
from handover.core.tlog.note import Signer
from handover.i18n import _

if TYPE_CHECKING:
    from handover.store.uow import Database

# The database, the services and the settings are imported by the commands that use them, not here: `handover
# verify` is the monitor's tool, run over logs of millions of entries, and needs none of them (they take a second
# to import).

app = typer.Typer(help=_("Handover: plan, run and prove transfers of people in custody."), no_args_is_help=True)
# The demo log's origin (its key's name): .invalid marks it as nobody's real log.
DEMO_ORIGIN = "demo.handover.invalid/nes-iraq-2026"


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@app.command()
def init() -> None:
    """Create or upgrade the database schema; on a database without accounts, make the first admin."""
    db = _database()
    db.migrate()
    console.print(_("Database ready: {url}").format(url=_safe_url(db.url)))
    _first_admin(db)


def _first_admin(db: Database) -> None:
    """On a database without accounts, make the first admin and print its one-time password, once."""
    from handover.services import accounts
    from handover.services.runtime import system_runtime

    with db.unit_of_work() as uow:
        if accounts.any_accounts(uow):
            return
        admin, password = accounts.create_first_admin(uow, system_runtime())
        uow.commit()
    console.print(
        _("First admin account: {name}. One-time password, shown only now (change it at first sign-in):").format(
            name=admin.name
        )
    )
    typer.echo(password)


@app.command()
def demo(
    seed: Annotated[int, typer.Option(help=_("Seed: the same seed builds the same database."))] = 2026,
    people: Annotated[int | None, typer.Option(help=_("How many people (default: the scenario's 7,000)."))] = None,
) -> None:
    """Build the 2026 north-east Syria to Iraq scenario: the people, and the first week as history."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from handover.demo.build import DEMO_KEY, build_demo

    db = _database()
    db.migrate()
    with db.unit_of_work() as uow:
        existing = uow.meta.get(DEMO_KEY)
    if existing is not None:
        built = json.loads(existing)
        if built.get("seed") == seed and (people is None or built.get("people") == people):
            console.print(_("The demo (seed {seed}) is already built here.").format(seed=seed))
            _demo_people_at_work(db, seed)
            _release_demo(db, _checkpoint_demo(db))
            return
    with (
        _refusals(),
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress,
    ):
        task = progress.add_task(_("Building the demo"), total=None)

        def report(stage: str, done: int, of: int) -> None:
            label = _("Registering people") if stage == "register" else _("Moving groups")
            progress.update(task, description=label, completed=done, total=of)

        summary = build_demo(db.unit_of_work, seed=seed, people=people, progress=report)
    console.print(
        _("Demo built: {people} people registered, {moved} moved in {groups} groups (seed {seed}).").format(
            people=summary.people, moved=summary.moved, groups=summary.groups, seed=summary.seed
        )
    )
    _demo_people_at_work(db, seed)
    _release_demo(db, _checkpoint_demo(db))


def _demo_people_at_work(db: Database, seed: int) -> None:
    """The demo's accounts (listed, with their published passwords and TOTP secrets) and repatriation cases."""
    from handover.demo.people_at_work import add_accounts_and_cases

    with _refusals():
        users, cases = add_accounts_and_cases(db.unit_of_work, seed)
    if cases is not None:
        console.print(
            _("Repatriation: {cases} cases across {countries} countries.").format(
                cases=cases.total, countries=len(cases.cases)
            )
        )
    console.print(_("Demo accounts (demo only: these passwords and second factors are published):"))
    for user in users:
        typer.echo("  " + user.line())


def _checkpoint_demo(db: Database) -> str:
    """Sign the demo's log (with its own key, made on first use) so the log is checkable as soon as it is served;
    its verifier key.

    Also covers a demo database built before the log existed: the migration built its tree, this signs it.
    """
    from handover.keys import configured_signer
    from handover.services import log as log_service
    from handover.settings import Settings

    signer = configured_signer(Settings(), demo=True) or _new_demo_key()
    with _refusals(), db.unit_of_work() as uow:
        signed = log_service.sign_checkpoint(uow, signer, datetime.now(UTC))
        uow.commit()
    console.print(_("Log checkpoint at size {size}.").format(size=signed.size))
    return signer.verifier.vkey


def _release_demo(db: Database, vkey: str) -> None:
    """Release 1 of the public report, at the checkpoint just signed (once: a rebuilt demo keeps its releases); then
    the verifier key, last, where scripts read it."""
    from handover.demo.report import first_release
    from handover.services.errors import ConflictError

    try:
        with db.unit_of_work() as uow:
            made = first_release(uow, datetime.now(UTC))
            uow.commit()
    except ConflictError as refused:
        # The demo stays usable without its report; the refusal says why, and `handover report` can try again.
        errors.print(f"[red]{_('Refused')}[/red] ({refused.rule}): {refused.message}", highlight=False)
        made = None
    if made is not None:
        console.print(
            _("Public report: release {number} at checkpoint size {size} (/report).").format(
                number=made.number, size=made.checkpoint.size
            )
        )
    console.print(_("Verifier key:"))
    typer.echo(vkey)


def _new_demo_key() -> Signer:
    """The demo's own log key, made once; random and kept on this machine like any signing key."""
    from handover.keys import write_key
    from handover.settings import DEMO_SIGNING_KEY

    signer = Signer.generate(DEMO_ORIGIN)
    write_key(signer, DEMO_SIGNING_KEY)
    return signer


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help=_("Address to listen on."))] = None,
    port: Annotated[int | None, typer.Option(help=_("Port to listen on."))] = None,
) -> None:
    """Serve the dashboard and the API."""
    import uvicorn

    from handover.app import create_app
    from handover.keys import configured_signer
    from handover.settings import Settings

    settings = Settings()
    db = _database()
    demo = _is_demo(db)
    signer = configured_signer(settings, demo=demo)
    if signer is None:
        errors.print(_("No signing key configured (HANDOVER_SIGNING_KEY): the log will not be checkpointed."))
    if demo:
        console.print(
            _("Demo: sign in at /signin as one of the accounts `handover demo` listed (the page lists them).")
        )
    app = create_app(db, signer=signer)
    uvicorn.run(app, host=host or settings.host, port=port or settings.port)


def _is_demo(db: Database) -> bool:
    from handover.demo.build import DEMO_KEY

    with db.unit_of_work(read_only=True) as uow:
        return uow.meta.get(DEMO_KEY) is not None


@app.command()
def status(as_json: Annotated[bool, typer.Option("--json", help=_("Print JSON."))] = False) -> None:
    """Where everyone is: held at each facility by estate against capacity, in transit, moved."""
    from rich.table import Table

    from handover.services import queries

    with _database().unit_of_work() as uow:
        report = queries.status(uow)
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
        return
    console.print(
        _(
            "{moved:,} moved of {planned:,} planned; {transit:,} in transit; {origin:,} held at their origin; "
            "{registered:,} registered; log size {size:,}."
        ).format(
            moved=report.moved,
            planned=report.planned,
            transit=report.in_transit,
            origin=report.held_at_origin,
            registered=report.registered,
            size=report.log_size,
        )
    )
    table = Table(title=_("Held by facility and estate, against capacity"))
    table.add_column(_("Facility"), no_wrap=True)
    table.add_column(_("Country"))
    for label in (_("Men"), _("Women"), _("Minors")):
        table.add_column(label, justify="right", no_wrap=True)
    table.add_column(_("Received"), justify="right")
    table.add_column(_("Arrived"), justify="right")
    for o in report.facilities:
        cells = []
        for estate in Estate:
            held, cap = o.held.get(estate.value, 0), o.facility.capacity.for_estate(estate)
            style = "red" if held > cap else ""
            cells.append(f"[{style}]{held:,} / {cap:,}[/{style}]" if style else f"{held:,} / {cap:,}")
        table.add_row(o.facility.id, o.facility.country, *cells, f"{o.received:,}", f"{o.awaiting_admission:,}")
    console.print(table)
    if report.in_transit_by_movement:
        moving = Table(title=_("In transit"))
        moving.add_column(_("Movement"))
        moving.add_column(_("People"), justify="right")
        for code, count in report.in_transit_by_movement.items():
            moving.add_row(code, f"{count:,}")
        console.print(moving)


@app.command()
def person(
    person_id: Annotated[str, typer.Argument(help=_("The person's random id."))],
    as_json: Annotated[bool, typer.Option("--json", help=_("Print JSON."))] = False,
) -> None:
    """One person's current custody and whole custody chain, in log order."""
    from rich.table import Table

    from handover.services import queries

    with _refusals(), _database().unit_of_work() as uow:
        view = queries.person(uow, person_id)
    if as_json:
        typer.echo(json.dumps(view.as_dict(), indent=2, ensure_ascii=False))
        return
    state = view.current.state
    console.print(f"[bold]{state.person_id}[/bold]: {state.describe()}")
    table = Table()
    for column in (
        _("Log index"),
        _("Event"),
        _("Occurred (UTC)"),
        _("Facility"),
        _("Custodian"),
        _("Movement"),
    ):
        table.add_column(column)
    for stored in view.chain:
        e = stored.event
        kind = e.type.value + (f" → {e.corrects}" if e.corrects else "")
        if e.event_id in view.corrected:
            kind = f"[strike]{kind}[/strike] ({_('corrected')})"
        table.add_row(
            str(stored.seq),
            kind,
            f"{e.occurred_at:%Y-%m-%d %H:%M}",
            e.facility_id or "",
            e.authority_id or "",
            e.movement_id or "",
        )
    console.print(table)


@app.command()
def rebuild() -> None:
    """Recompute the custody projection from the events and report what differed."""
    from handover.services import rebuild as rebuilding

    db = _database()
    with db.unit_of_work() as uow:
        report = rebuilding.rebuild(uow)
        uow.commit()
    console.print(
        _("Rebuilt custody of {persons} people from {events} events; {diff} rows differed.").format(
            persons=report.persons, events=report.events, diff=len(report.differences)
        )
    )
    for line in report.differences[:20]:
        console.print(f"  {line}")
    if report.broken:
        for refused in report.broken[:20]:
            errors.print(f"[red]{refused.message}[/red]")
        raise typer.Exit(1)


app.command()(verify)
operations.install(app)
planning.install(app)
report_cli.install(app)
users.install(app)

log_app = typer.Typer(help=_("The transparency log: keys, checkpoints, export."), no_args_is_help=True)
app.add_typer(log_app, name="log")


def _signer_or_exit(db: Database) -> Signer:
    from handover.keys import configured_signer
    from handover.settings import Settings

    signer = configured_signer(Settings(), demo=_is_demo(db))
    if signer is None:
        errors.print(_("No signing key: set HANDOVER_SIGNING_KEY to a key file (`handover log keygen` makes one)."))
        raise typer.Exit(1)
    return signer


@log_app.command()
def keygen(
    name: Annotated[str, typer.Option(help=_("The log's origin, e.g. example.org/handover (the key's name)."))],
    out: Annotated[Path, typer.Option(help=_("Where to write the private key (created with mode 0600)."))],
) -> None:
    """Make a new Ed25519 signing key for the log. The private key is written to a file, never printed."""
    from handover.keys import write_key

    try:
        signer = Signer.generate(name)
        write_key(signer, out)
    except FileExistsError:
        errors.print(_("{path} exists: refusing to overwrite a signing key.").format(path=out))
        raise typer.Exit(1) from None
    except ValueError as error:
        errors.print(_("Refused: {error}").format(error=error))
        raise typer.Exit(1) from None
    console.print(_("Key written to {path}. Verifier key:").format(path=out))
    typer.echo(signer.verifier.vkey)


@log_app.command()
def vkey(
    key: Annotated[Path | None, typer.Option(help=_("A key file (default: the configured one)."))] = None,
) -> None:
    """Print the verifier key (public) that monitors use to check the log's checkpoints."""
    from handover.keys import read_key

    signer = read_key(key) if key is not None else _signer_or_exit(_database())
    typer.echo(signer.verifier.vkey)


@log_app.command()
def checkpoint() -> None:
    """Sign a checkpoint over the committed log now (after proving it consistent with the last one)."""
    from handover.services import log as log_service

    db = _database()
    signer = _signer_or_exit(db)
    with _refusals(), db.unit_of_work() as uow:
        signed = log_service.sign_checkpoint(uow, signer, datetime.now(UTC))
        uow.commit()
    typer.echo(signed.note, nl=False)


@log_app.command()
def export(directory: Annotated[Path, typer.Argument(help=_("Directory to write the log into."))]) -> None:
    """Write the log in the C2SP tlog-tiles layout (checkpoint, tiles, entry bundles) and the counts it backs.

    With a signing key, the committed log is checkpointed first, so the counts written beside it stand on exactly
    the signed entries; without one, counts are written only if no event came after the latest checkpoint.
    """
    from handover.keys import configured_signer
    from handover.services import log as log_service
    from handover.services import queries
    from handover.settings import Settings

    db = _database()
    signer = configured_signer(Settings(), demo=_is_demo(db))
    if signer is not None:
        with _refusals(), db.unit_of_work() as uow:
            log_service.sign_checkpoint(uow, signer, datetime.now(UTC))
            uow.commit()
    with _refusals(), db.unit_of_work(read_only=True) as uow:
        signed = log_service.latest_checkpoint(uow)
        count = 0
        for path, data in log_service.publication(uow, signed):
            target = directory / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            count += 1
        current = queries.status(uow).as_dict()
    if current["log_size"] == signed.size:
        (directory / "status").write_text(json.dumps(current, indent=2, ensure_ascii=False) + "\n")
        count += 1
    else:
        errors.print(
            _("Counts not written: {after} events came after the latest checkpoint and no signing key is set.").format(
                after=current["log_size"] - signed.size
            )
        )
    console.print(
        _("Wrote {files} files for the checkpoint at size {size} to {path}.").format(
            files=count, size=signed.size, path=directory
        )
    )


if __name__ == "__main__":  # pragma: no cover
    app()
