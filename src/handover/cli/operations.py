"""Transfer operations on the command line: movements, officers and their keys, signed handovers, incidents,
assessments, family notifications, the daily roll and alerts.

Thin like the rest of the CLI: parse, call one service in a unit of work, commit, print with Rich (or JSON with
`--json`, in the same shapes as the API). A refusal prints the rule and its text and exits 1; nothing is written.
Services, the database and the API's shapes are imported inside the commands, so `handover verify` stays light.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from handover.cli.common import console, database, errors, moment, print_json, refusals
from handover.core.custody.handover import Side, public_key_of
from handover.core.policy.safeguards import Safeguard
from handover.i18n import _

if TYPE_CHECKING:
    from handover.core.custody.movements import Movement
    from handover.services.ports import StoredEvent, UnitOfWork
    from handover.services.runtime import Runtime

movement_app = typer.Typer(help=_("Movements: plan, manifest, run leg by leg, admit, reconcile."), no_args_is_help=True)
officer_app = typer.Typer(help=_("Officers who sign handovers, and their keys."), no_args_is_help=True)
handover_app = typer.Typer(help=_("Two-party handovers, signed by both officers."), no_args_is_help=True)
incident_app = typer.Typer(
    help=_("Incidents: escapes, deaths, hospital, use of force, breakdowns."), no_args_is_help=True
)

Ref = Annotated[str, typer.Argument(help=_("The movement's code or id."))]
At = Annotated[str | None, typer.Option("--at", help=_("When it happened (ISO 8601 with a timezone); now if absent."))]
AsJson = Annotated[bool, typer.Option("--json", help=_("Print JSON."))]
LegOption = Annotated[int | None, typer.Option("--leg", min=1, help=_("The leg; the next one due if absent."))]
People = Annotated[list[str], typer.Argument(help=_("People, by their random ids."))]


def install(app: typer.Typer) -> None:
    """Add this module's command groups and commands to the `handover` application."""
    app.add_typer(movement_app, name="movement")
    app.add_typer(officer_app, name="officer")
    app.add_typer(handover_app, name="handover")
    app.add_typer(incident_app, name="incident")
    app.command()(assess)
    app.command()(notify)
    app.command()(notifications)
    app.command()(roll)
    app.command()(alerts)


@contextmanager
def _work(write: bool = True) -> Iterator[tuple[UnitOfWork, Runtime]]:
    """One unit of work on the configured database and the system's clock; the caller commits. Refusals exit 1."""
    from handover.services.runtime import system_runtime

    db = database()
    try:
        with refusals(), db.unit_of_work(read_only=not write) as uow:
            yield uow, system_runtime()
    finally:
        db.dispose()


def _events_line(stored: list[StoredEvent]) -> str:
    if not stored:
        return _("No custody events.")
    kinds = sorted({s.event.type.value for s in stored})
    return _("{count} custody events ({kinds}), log index {first} to {last}.").format(
        count=len(stored), kinds=", ".join(kinds), first=stored[0].seq, last=stored[-1].seq
    )


def _done(message: str, stored: list[StoredEvent], as_json: bool = False, **extra: Any) -> None:
    if as_json:
        from handover.services import queries

        print_json(extra | {"events": [queries.event_dict(s) for s in stored]})
        return
    console.print(message, highlight=False)
    console.print(_events_line(stored), highlight=False)


# --- movements ------------------------------------------------------------------------------------------------------


def _movement_table(movements: list[Movement]) -> Table:
    table = Table(title=_("Movements"))
    for column in (_("Code"), _("State"), _("From"), _("To"), _("Mode"), _("Scheduled (UTC)")):
        table.add_column(column)
    for m in movements:
        table.add_row(
            m.code,
            m.state.value,
            m.origin_id,
            m.destination_id,
            m.mode.value,
            f"{m.scheduled_at.astimezone(UTC):%Y-%m-%d %H:%M}",
        )
    return table


def _detail(uow: UnitOfWork, ref: str) -> dict[str, Any]:
    from handover.api.movements import _detail as detail
    from handover.services import transfers

    return detail(uow, transfers.movement(uow, ref))


def _print_legs(legs: list[dict[str, Any]]) -> None:
    table = Table(title=_("Legs"))
    for column in (_("Leg"), _("From"), _("To"), _("Mode"), _("Escort"), _("Seats"), _("Boarded"), _("State")):
        table.add_column(column)
    for leg in legs:
        table.add_row(
            str(leg["number"]),
            leg["from_id"],
            leg["to_id"] + (" " + _("(overnight)") if leg["lodging"] else ""),
            leg["mode"],
            leg["escort_id"],
            str(leg["seats"]),
            str(leg["boarded"] or 0),
            leg["state"],
        )
    console.print(table)


@movement_app.command("list")
def list_movements(as_json: AsJson = False) -> None:
    """Every movement, with its state."""
    from handover.api.routes import movement_dict
    from handover.services import queries

    with _work(write=False) as (uow, _rt):
        found = queries.movements(uow)
    if as_json:
        print_json([movement_dict(m) for m in found])
        return
    console.print(_movement_table(found))


@movement_app.command()
def show(ref: Ref, as_json: AsJson = False) -> None:
    """One movement: its legs and the people on it now."""
    with _work(write=False) as (uow, _rt):
        detail = _detail(uow, ref)
    if as_json:
        print_json(detail)
        return
    console.print(
        f"[bold]{detail['code']}[/bold] ({detail['state']}): {detail['origin']} → {detail['destination']}, "
        + _("{people} people on it, {seats} seats").format(people=len(detail["people"]), seats=detail["seats"]),
        highlight=False,
    )
    _print_legs(detail["legs"])
    if detail["people"]:
        table = Table(title=_("People on the movement"))
        for column in (_("Person"), _("Status"), _("Custodian"), _("Facility")):
            table.add_column(column)
        for p in detail["people"]:
            table.add_row(p["person_id"], p["status"], p["custodian_id"] or "", p["facility_id"] or "")
        console.print(table)


@movement_app.command()
def create(
    code: Annotated[str, typer.Argument(help=_("A code people will use for it, e.g. M-014."))],
    route: Annotated[str, typer.Option(help=_("The route's id."))],
    at: Annotated[str | None, typer.Option("--at", help=_("Scheduled departure (ISO 8601); now if absent."))] = None,
    as_json: AsJson = False,
) -> None:
    """Create a draft movement on a route, with one planned leg per stretch."""
    from handover.services import transfers

    scheduled = moment(at)
    with _work() as (uow, rt):
        created = transfers.create_movement(uow, rt, code, route, scheduled)
        detail = _detail(uow, created.id)
        uow.commit()
    if as_json:
        print_json(detail)
        return
    console.print(_("Movement {code} created (draft), id {id}.").format(code=code, id=created.id), highlight=False)
    _print_legs(detail["legs"])


@movement_app.command()
def legs(
    ref: Ref,
    plan: Annotated[
        Path | None,
        typer.Option(
            help=_("A JSON file of legs to replace them with (a list, each as the API's PUT /movements/{m}/legs).")
        ),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Show a movement's legs, or replace them with a plan (draft or approved movements only)."""
    from handover.services import transfers

    plans = _read_plan(plan) if plan is not None else None
    with _work(write=plans is not None) as (uow, rt):
        if plans is not None:
            transfers.plan_legs(uow, rt, ref, plans)
            uow.commit()
        found = _detail(uow, ref)["legs"]
    if as_json:
        print_json(found)
        return
    _print_legs(found)


def _read_plan(path: Path) -> list[Any]:
    from pydantic import TypeAdapter, ValidationError

    from handover.api.movements import LegPlan

    try:
        raw = json.loads(path.read_text())
        if isinstance(raw, dict):
            raw = raw.get("legs")
        parsed = TypeAdapter(list[LegPlan]).validate_python(raw)
    except (OSError, ValueError, ValidationError) as error:
        errors.print(_("Refused: the leg plan in {path} is not usable: {error}").format(path=path, error=error))
        raise typer.Exit(1) from None
    return [leg.plan() for leg in parsed]


@movement_app.command()
def approve(ref: Ref) -> None:
    """Approve a draft movement."""
    from handover.services import transfers

    with _work() as (uow, _rt):
        transfers.approve(uow, ref)
        uow.commit()
    console.print(_("Movement {ref} approved.").format(ref=ref), highlight=False)


@movement_app.command()
def cancel(ref: Ref, reason: Annotated[str, typer.Option(help=_("Why it is cancelled."))], at: At = None) -> None:
    """Cancel a movement that has not left; everyone on it is taken off its manifest."""
    from handover.services import transfers

    with _work() as (uow, rt):
        stored = transfers.cancel(uow, rt, ref, reason, moment(at))
        uow.commit()
    _done(_("Movement {ref} cancelled.").format(ref=ref), stored)


@movement_app.command("manifest")
def manifest_people(
    ref: Ref,
    people: People,
    override: Annotated[
        list[Safeguard] | None,
        typer.Option(help=_("A safeguard to override (repeat for more); needs --reason and the permission.")),
    ] = None,
    reason: Annotated[str, typer.Option(help=_("Why the safeguards are overridden."))] = "",
    check: Annotated[bool, typer.Option("--check", help=_("Only say which safeguards would break."))] = False,
    at: At = None,
    as_json: AsJson = False,
) -> None:
    """Put people on a movement's manifest, under the safeguards."""
    from handover.services import transfers

    if check:
        with _work(write=False) as (uow, _rt):
            found = transfers.check_manifest(uow, ref, people)
        if as_json:
            print_json(
                [{"person_id": b.person_id, "safeguard": b.safeguard.value, "message": b.message} for b in found]
            )
        elif not found:
            console.print(_("No safeguard would stop these people."))
        else:
            for b in found:
                console.print(f"{b.person_id}: {b.safeguard.value}: {b.message}", highlight=False)
        if found:
            raise typer.Exit(1)
        return
    with _work() as (uow, rt):
        stored = transfers.manifest(uow, rt, ref, people, moment(at), overrides=override or (), reason=reason)
        uow.commit()
    _done(_("{count} people put on movement {ref}.").format(count=len(people), ref=ref), stored, as_json)


@movement_app.command()
def unmanifest(
    ref: Ref,
    people: People,
    reason: Annotated[str, typer.Option(help=_("Why they are taken off."))],
    at: At = None,
) -> None:
    """Take people off a movement's manifest, with the reason."""
    from handover.services import transfers

    with _work() as (uow, rt):
        stored = transfers.unmanifest(uow, rt, ref, people, reason, moment(at))
        uow.commit()
    _done(_("{count} people taken off movement {ref}.").format(count=len(people), ref=ref), stored)


@movement_app.command()
def board(ref: Ref, people: People, leg: LegOption = None, at: At = None) -> None:
    """Count people aboard the next leg (or the one named)."""
    from handover.services import transfers

    with _work() as (uow, rt):
        boarded = transfers.board(uow, rt, ref, people, moment(at), leg)
        aboard = next(x["boarded"] for x in _detail(uow, ref)["legs"] if x["id"] == boarded.id)
        uow.commit()
    console.print(
        _("{count} boarded leg {n} of {ref}: {aboard} of {seats} seats taken.").format(
            count=len(people), n=boarded.number, ref=ref, aboard=aboard, seats=boarded.seats
        ),
        highlight=False,
    )


@movement_app.command()
def depart(ref: Ref, leg: LegOption = None, at: At = None, as_json: AsJson = False) -> None:
    """The next leg (or the one named) departs; the first departure freezes the manifest."""
    from handover.services import transfers

    with _work() as (uow, rt):
        stored = transfers.depart(uow, rt, ref, moment(at), leg)
        uow.commit()
    _done(_("Movement {ref}: leg departed.").format(ref=ref), stored, as_json)


@movement_app.command()
def arrive(ref: Ref, leg: LegOption = None, at: At = None, as_json: AsJson = False) -> None:
    """The leg under way (or the one named) arrives; the last one brings everyone to the destination."""
    from handover.services import transfers

    with _work() as (uow, rt):
        stored = transfers.arrive(uow, rt, ref, moment(at), leg)
        state = transfers.movement(uow, ref).state.value
        uow.commit()
    _done(_("Movement {ref}: leg arrived; the movement is {state}.").format(ref=ref, state=state), stored, as_json)


@movement_app.command()
def admit(
    ref: Ref,
    people: Annotated[list[str] | None, typer.Argument(help=_("Who to admit; everyone arrived if none."))] = None,
    at: At = None,
    as_json: AsJson = False,
) -> None:
    """The destination admits people the movement brought."""
    from handover.services import transfers

    with _work() as (uow, rt):
        stored = transfers.admit(uow, rt, ref, moment(at), people or None)
        uow.commit()
    _done(_("{count} people admitted from movement {ref}.").format(count=len(stored), ref=ref), stored, as_json)


@movement_app.command("return")
def return_to_origin(ref: Ref, people: People, at: At = None) -> None:
    """People in transit brought back to the movement's origin."""
    from handover.services import transfers

    with _work() as (uow, rt):
        stored = transfers.return_to_origin(uow, rt, ref, people, moment(at))
        uow.commit()
    _done(_("{count} people returned to the origin of {ref}.").format(count=len(people), ref=ref), stored)


def _print_report(report: dict[str, Any]) -> None:
    m = report["movement"]
    console.print(
        f"[bold]{m['code']}[/bold] ({m['state']}): "
        + _("{manifest} on the manifest, {departed} departed, {accounted} accounted for.").format(
            manifest=report["manifest"], departed=report["departed"], accounted=report["accounted"]
        ),
        highlight=False,
    )
    if report["outcomes"]:
        console.print(", ".join(f"{k}: {v}" for k, v in report["outcomes"].items()), highlight=False)
    table = Table(title=_("Per leg"))
    for column in (_("Leg"), _("From"), _("To"), _("Boarded"), _("Accounted for")):
        table.add_column(column)
    for leg in report["legs"]:
        table.add_row(str(leg["number"]), leg["from"], leg["to"], str(leg["boarded"]), str(leg["accounted"]))
    console.print(table)
    for person in report["unaccounted"]:
        console.print(f"[yellow]{_('Unaccounted for')}[/yellow]: {person}", highlight=False)
    for handover in report["open_handovers"]:
        console.print(f"[yellow]{_('Handover not signed by both sides')}[/yellow]: {handover}", highlight=False)
    for o in report["overrides"]:
        console.print(
            _("Override for {person}: {safeguards}, by {by}: {reason}").format(
                person=o["person_id"], safeguards=", ".join(o["safeguards"]), by=o["by"], reason=o["reason"]
            ),
            highlight=False,
        )


@movement_app.command()
def report(ref: Ref, as_json: AsJson = False) -> None:
    """Departed against accounted for, per leg and per outcome."""
    from handover.services import reconciliation

    with _work(write=False) as (uow, _rt):
        found = reconciliation.report(uow, ref).as_dict()
    if as_json:
        print_json(found)
        return
    _print_report(found)


@movement_app.command()
def reconcile(ref: Ref, as_json: AsJson = False) -> None:
    """Close an arrived movement once every manifest line has exactly one outcome."""
    from handover.services import reconciliation

    with _work() as (uow, _rt):
        found = reconciliation.reconcile(uow, ref).as_dict()
        uow.commit()
    if as_json:
        print_json(found)
        return
    _print_report(found)


# --- officers and their keys ----------------------------------------------------------------------------------------


@officer_app.command()
def keygen(
    file: Annotated[Path, typer.Argument(help=_("Where to write the private key (created with mode 0600)."))],
) -> None:
    """Make an officer's Ed25519 key: the seed goes to FILE (never printed), the public key is printed."""
    seed = secrets.token_bytes(32)
    try:
        descriptor = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        errors.print(_("{path} exists: refusing to overwrite a key.").format(path=file))
        raise typer.Exit(1) from None
    except OSError as error:
        errors.print(_("Cannot write {path}: {error}").format(path=file, error=error.strerror))
        raise typer.Exit(1) from None
    with os.fdopen(descriptor, "w") as out:
        out.write(base64.b64encode(seed).decode() + "\n")
    errors.print(_("Key written to {path}. Public key (register it with `handover officer add`):").format(path=file))
    typer.echo(public_key_of(seed))


def _read_seed(path: Path) -> bytes:
    try:
        text = path.read_text().strip()
        seed = base64.b64decode(text, validate=True)
    except OSError as error:
        errors.print(_("Cannot read the key file {path}: {error}").format(path=path, error=error.strerror))
        raise typer.Exit(1) from None
    except (binascii.Error, ValueError):
        seed = b""
    if len(seed) != 32:
        errors.print(_("{path} is not an officer key (base64 of a 32-byte seed).").format(path=path))
        raise typer.Exit(1)
    if path.stat().st_mode & 0o077:
        errors.print(_("Warning: {path} can be read by other users of this machine.").format(path=path))
    return seed


@officer_app.command("add")
def add_officer(
    name: Annotated[str, typer.Argument(help=_("The officer's name."))],
    authority: Annotated[str, typer.Option(help=_("The authority they sign for."))],
    key: Annotated[str, typer.Option(help=_("Their public key (base64), as `handover officer keygen` prints it."))],
    as_json: AsJson = False,
) -> None:
    """Register an officer who signs handovers for an authority, with their public key."""
    from handover.api.handovers import officer_dict
    from handover.services import handovers

    with _work() as (uow, rt):
        added = handovers.register_officer(uow, rt, name, authority, key)
        uow.commit()
    if as_json:
        print_json(officer_dict(added))
        return
    console.print(
        _("Officer {name} of {authority} registered, id:").format(name=added.name, authority=authority),
        highlight=False,
    )
    typer.echo(added.id)


@officer_app.command("list")
def list_officers(as_json: AsJson = False) -> None:
    """Officers and the authorities they sign for."""
    from handover.api.handovers import officer_dict
    from handover.services import handovers

    with _work(write=False) as (uow, _rt):
        found = [officer_dict(o) for o in handovers.officers(uow)]
    if as_json:
        print_json(found)
        return
    table = Table(title=_("Officers"))
    for column in (_("Id"), _("Name"), _("Authority"), _("Public key")):
        table.add_column(column)
    for o in found:
        table.add_row(o["id"], o["name"], o["authority_id"], o["public_key"])
    console.print(table)


# --- handovers ------------------------------------------------------------------------------------------------------


def _notes(values: list[str] | None, option: str) -> list[tuple[str, str]]:
    notes = []
    for value in values or []:
        person, _sep, note = value.partition("=")
        if not person:
            raise typer.BadParameter(_("{option} takes PERSON=NOTE").format(option=option))
        notes.append((person, note))
    return notes


def _print_handover(h: dict[str, Any]) -> None:
    console.print(
        f"[bold]{h['id']}[/bold] ({h['state']}): "
        + _("{from_} → {to} at {place}, {count} people").format(
            from_=h["from_authority_id"], to=h["to_authority_id"], place=h["place_id"], count=len(h["people"])
        ),
        highlight=False,
    )
    for line in h["discrepancies"]:
        console.print(f"  {line['kind']}: {line['person_id']} {line['note']}".rstrip(), highlight=False)
    for side in ("dispatching", "receiving"):
        signed = h[side]
        who = signed["officer_id"] if signed else _("not signed")
        console.print(f"  {side}: {who}", highlight=False)
    console.print(f"  sha256: {h['sha256']}", highlight=False)


@handover_app.command("open")
def open_handover(
    movement: Annotated[str, typer.Argument(help=_("The movement's code or id."))],
    place: Annotated[str, typer.Option(help=_("Where it happens (a facility id)."))],
    from_: Annotated[str, typer.Option("--from", help=_("The dispatching authority."))],
    to: Annotated[str, typer.Option("--to", help=_("The receiving authority."))],
    present: Annotated[
        list[str] | None, typer.Option(help=_("A person actually there (repeat); everyone held if none."))
    ] = None,
    extra: Annotated[list[str] | None, typer.Option(help=_("PERSON=NOTE: present, not on the movement."))] = None,
    injury: Annotated[list[str] | None, typer.Option(help=_("PERSON=NOTE: an injury noted on handover."))] = None,
    leg: LegOption = None,
    at: At = None,
    as_json: AsJson = False,
) -> None:
    """Draw up a handover document; custody passes once both officers sign it."""
    from handover.api.handovers import handover_dict
    from handover.services import handovers

    with _work() as (uow, rt):
        opened = handovers.open_handover(
            uow,
            rt,
            movement,
            place,
            from_,
            to,
            moment(at),
            present=present or None,
            extra=_notes(extra, "--extra"),
            injuries=_notes(injury, "--injury"),
            leg=leg,
        )
        uow.commit()
    found = handover_dict(opened)
    if as_json:
        print_json(found)
        return
    _print_handover(found)
    typer.echo(opened.id)


@handover_app.command("show")
def show_handover(
    handover_id: Annotated[str, typer.Argument(help=_("The handover's id."))],
    document: Annotated[
        bool, typer.Option("--document", help=_("Print only the exact document text that officers sign."))
    ] = False,
    as_json: AsJson = False,
) -> None:
    """A handover: its people, discrepancies and signatures."""
    from handover.api.handovers import handover_dict
    from handover.services import handovers

    with _work(write=False) as (uow, _rt):
        found = handovers.handover(uow, handover_id)
    if document:
        typer.echo(found.document, nl=False)
        return
    if as_json:
        print_json(handover_dict(found))
        return
    _print_handover(handover_dict(found))


@handover_app.command("list")
def list_handovers(as_json: AsJson = False) -> None:
    """Handovers not yet signed by both sides."""
    from handover.api.handovers import handover_dict
    from handover.services import handovers

    with _work(write=False) as (uow, _rt):
        found = [handover_dict(h) for h in handovers.open_handovers(uow)]
    if as_json:
        print_json(found)
        return
    if not found:
        console.print(_("No handover is waiting for a signature."))
    for h in found:
        _print_handover(h)


@handover_app.command("sign")
def sign_handover(
    handover_id: Annotated[str, typer.Argument(help=_("The handover's id."))],
    key_file: Annotated[Path, typer.Option(help=_("The officer's key file (from `handover officer keygen`)."))],
    officer: Annotated[str, typer.Option(help=_("The officer's id."))],
    side: Annotated[Side, typer.Option(help=_("Which side the officer signs for."))],
    sha256: Annotated[
        str | None, typer.Option(help=_("Sign only if the document's SHA-256 is this (what the officer was shown)."))
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Sign a handover document with the officer's key, here, and record the signature.

    The key never leaves this machine: the document is signed locally and only the signature is recorded. When
    both sides have signed, custody passes.
    """
    from handover.core.custody.handover import sign
    from handover.services import handovers

    seed = _read_seed(key_file)
    with _work() as (uow, rt):
        found = handovers.handover(uow, handover_id)
        if sha256 is not None and sha256.strip().lower() != found.digest:
            errors.print(
                _("Refused: the document's SHA-256 is {digest}, not the one given; nothing was signed.").format(
                    digest=found.digest
                )
            )
            raise typer.Exit(1)
        signature = base64.b64encode(sign(seed, found.document.encode())).decode()
        record, stored = handovers.sign(uow, rt, handover_id, officer, side, signature)
        uow.commit()
    if record.state == "complete":
        message = _("Signed ({side}). Both sides have signed: custody passed.").format(side=side.value)
    else:
        message = _("Signed ({side}). Waiting for the other side.").format(side=side.value)
    _done(message, stored, as_json, handover=record.id, state=record.state, sha256=record.digest)


# --- incidents, assessments, notifications ------------------------------------------------------------------------


@incident_app.command("report")
def report_incident(
    kind: Annotated[str, typer.Argument(help=_("escape, recapture, death, hospitalisation, hospital_return, ..."))],
    description: Annotated[str, typer.Option(help=_("What happened."))],
    person: Annotated[list[str] | None, typer.Option(help=_("A person concerned (repeat for more)."))] = None,
    movement: Annotated[str | None, typer.Option(help=_("The movement it happened on."))] = None,
    facility: Annotated[
        str | None, typer.Option(help=_("Where people are taken (recapture, hospital return)."))
    ] = None,
    at: At = None,
    as_json: AsJson = False,
) -> None:
    """Record an incident, and the custody events it means for the people named."""
    from handover.services import incidents

    try:
        chosen = incidents.IncidentKind(kind)
    except ValueError:
        raise typer.BadParameter(
            _("{kind} is not an incident kind: one of {kinds}.").format(
                kind=kind, kinds=", ".join(k.value for k in incidents.IncidentKind)
            )
        ) from None
    with _work() as (uow, rt):
        found, stored = incidents.report(
            uow, rt, chosen, moment(at), description, people=person or (), movement_id=movement, facility_id=facility
        )
        uow.commit()
    _done(
        _("Incident {id} recorded ({kind}).").format(id=found.id, kind=found.kind), stored, as_json, incident=found.id
    )


@incident_app.command("list")
def list_incidents(
    movement: Annotated[str | None, typer.Option(help=_("Only this movement's."))] = None, as_json: AsJson = False
) -> None:
    """Incidents, latest first."""
    from handover.api.operations import incident_dict
    from handover.services import incidents

    with _work(write=False) as (uow, _rt):
        found = [incident_dict(i) for i in incidents.incidents(uow, movement)]
    if as_json:
        print_json(found)
        return
    table = Table(title=_("Incidents"))
    for column in (_("When (UTC)"), _("Kind"), _("People"), _("Movement"), _("What happened")):
        table.add_column(column)
    for i in found:
        table.add_row(
            i["occurred_at"][:16], i["kind"], ", ".join(i["people"]), i["movement_id"] or "", i["description"]
        )
    console.print(table)


def assess(
    people: People,
    kind: Annotated[str, typer.Option(help=_("fit_to_travel or legal_review."))],
    outcome: Annotated[str, typer.Option(help=_("fit or unfit; cleared or risk."))],
    at: At = None,
) -> None:
    """Record a pre-transfer assessment outcome for people."""
    from handover.services import assessments

    with _work() as (uow, rt):
        stored = assessments.assess(uow, rt, people, kind, outcome, moment(at))
        uow.commit()
    _done(_("{count} people assessed: {kind} {outcome}.").format(count=len(people), kind=kind, outcome=outcome), stored)


def notify(
    person: Annotated[str, typer.Argument(help=_("The person whose family was notified."))],
    channel: Annotated[str, typer.Option(help=_("How: ICRC message, phone, letter, ..."))],
    at: At = None,
) -> None:
    """Record that a person's family was notified of their admission (Mandela rule 68)."""
    from handover.services.person_events import EventRequest, PersonEventType, record_event

    with _work() as (uow, rt):
        stored = record_event(
            uow, rt, person, EventRequest(type=PersonEventType.NOTIFIED, occurred_at=moment(at), channel=channel)
        )
        uow.commit()
    _done(_("Notification recorded for {person}.").format(person=person), [stored])


def _hours(hours: int | None) -> int:
    from handover.settings import Settings

    return hours or Settings().notification_hours


def notifications(
    hours: Annotated[
        int | None, typer.Option(min=1, help=_("Hours before one is overdue (default: settings)."))
    ] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help=_("Only the overdue ones."))] = False,
    as_json: AsJson = False,
) -> None:
    """Family notifications still to make after admissions, the overdue ones flagged."""
    from handover.services import reconciliation

    with _work(write=False) as (uow, rt):
        tasks = reconciliation.notification_tasks(uow, rt.clock(), _hours(hours))
    found = [
        {
            "person_id": t.person_id,
            "facility_id": t.facility_id,
            "admitted_at": t.admitted_at.isoformat(),
            "due_at": t.due_at.isoformat(),
            "overdue": t.overdue,
        }
        for t in tasks
        if t.overdue or not overdue
    ]
    if as_json:
        print_json(found)
        return
    table = Table(title=_("Family notifications to make"))
    for column in (_("Person"), _("Facility"), _("Admitted (UTC)"), _("Due (UTC)")):
        table.add_column(column)
    for t in found:
        style = "red" if t["overdue"] else ""
        table.add_row(t["person_id"], t["facility_id"], t["admitted_at"][:16], t["due_at"][:16], style=style)
    console.print(table)


# --- the daily roll and alerts --------------------------------------------------------------------------------------


def roll(
    day: Annotated[str | None, typer.Option(help=_("YYYY-MM-DD (UTC); today if absent."))] = None,
    as_json: AsJson = False,
) -> None:
    """The daily roll per facility: in, out, held, in transit, expected, capacity, free."""
    from handover.services import reconciliation

    try:
        when = date.fromisoformat(day) if day is not None else datetime.now(UTC).date()
    except ValueError:
        raise typer.BadParameter(_("{day} is not a date (YYYY-MM-DD).").format(day=day)) from None
    with _work(write=False) as (uow, _rt):
        counts = [c.as_dict() for c in reconciliation.roll(uow, when)]
    if as_json:
        print_json({"day": when.isoformat(), "facilities": counts})
        return
    table = Table(title=_("Roll for {day}").format(day=when.isoformat()))
    table.add_column(_("Facility"))
    headings = (_("In"), _("Out"), _("Held"), _("In transit"), _("Expected"), _("Capacity"), _("Free"))
    for heading in headings:
        table.add_column(heading, justify="right")
    for c in counts:
        keys = ("in", "out", "held", "in_transit", "expected", "capacity", "free")
        table.add_row(c["facility_id"], *(f"{c[k]:,}" for k in keys))
    console.print(table)


def alerts(
    hours: Annotated[int | None, typer.Option(min=1, help=_("Notification hours (default: settings)."))] = None,
    as_json: AsJson = False,
) -> None:
    """What needs attention now: escapes and deaths, half-signed handovers, overdue notifications."""
    from handover.services import reconciliation

    with _work(write=False) as (uow, rt):
        found = reconciliation.alerts(uow, rt.clock(), _hours(hours))
    if as_json:
        print_json(
            [{"kind": a.kind, "subject": a.subject, "message": a.message, "at": a.at.isoformat()} for a in found]
        )
        return
    if not found:
        console.print(_("No alerts."))
    for a in found:
        console.print(f"[red]{a.kind}[/red] {a.at.astimezone(UTC):%Y-%m-%d %H:%M}: {a.message}", highlight=False)
