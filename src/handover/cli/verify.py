"""`handover verify`: the monitor's tool, a thin command over `handover.monitor`.

Exit codes: 0 the log verified (and the report, with --report, recounted to the figure); 1 it did not (the verdict
names the first bad index and what is wrong), or the report differs from its recount (every difference is listed);
2 nothing could be verified (bad arguments, unreachable source, refused token, unusable state file, a report file that
cannot be read or is not a release).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from handover.core.tlog.note import MalformedKey, Verifier
from handover.i18n import _, ngettext
from handover.monitor import ReportError, SourceError, StateFileError, Step, open_source, verify_log
from handover.monitor.checks import b64
from handover.monitor.run import Outcome

USAGE_ERROR = 2

console = Console(soft_wrap=True, highlight=False)
errors = Console(stderr=True, soft_wrap=True, highlight=False)


def verify(
    source: Annotated[
        str, typer.Argument(help=_("The log: a server's base URL (the log is under /log/) or an exported directory."))
    ],
    vkey: Annotated[str, typer.Option("--vkey", help=_("The log's verifier key, or a file holding it."))],
    state: Annotated[
        Path | None,
        typer.Option(
            "--state",
            help=_("Where to keep the last verified checkpoint (default ~/.local/state/handover/verify-<hash>.json)."),
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="HANDOVER_MONITOR_TOKEN",
            show_default=False,
            help=_(
                "An API token of a monitor's account (`handover user token create`), for entry bundles and identity "
                "records over HTTP."
            ),
        ),
    ] = None,
    identities: Annotated[
        bool, typer.Option("--identities", help=_("Also check identity records against their logged commitments."))
    ] = False,
    report: Annotated[
        Path | None,
        typer.Option(
            "--report",
            help=_(
                "A report release (its JSON document): recount every figure from the log entries at its checkpoint. "
                "Its nationality table needs identity records, read as --identities does when the source serves them."
            ),
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help=_("Print the result as JSON."))] = False,
) -> None:
    """Verify the transparency log without trusting the server: signature, entries, tiles, history, custody, counts."""
    verifier = _verifier(vkey, as_json)
    document = _report(report, as_json) if report is not None else None
    try:
        log = open_source(source, token)
    except SourceError as error:
        _usage(str(error), as_json)
    try:
        with console.status(_("Verifying {source}").format(source=log.description)) as status:

            def on_step(step: Step) -> None:
                if not as_json:
                    console.print(f"[green]✓[/green] {step.number} {step.name}: {escape(step.detail)}")

            def on_warning(text: str) -> None:
                if not as_json:
                    console.print(f"[yellow]![/yellow] {escape(text)}")

            def on_progress(what: str, done: int, total: int) -> None:
                if not as_json:
                    status.update(f"{escape(what)}: {done:,} / {total:,}")

            outcome = verify_log(
                log,
                verifier,
                state_path=state,
                identities=identities,
                on_step=on_step,
                on_warning=on_warning,
                on_progress=on_progress,
                report=document,
            )
    except (SourceError, StateFileError, ReportError) as error:
        _usage(str(error), as_json)
    finally:
        log.close()
    _verdict(outcome, as_json)


def _verdict(outcome: Outcome, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(outcome.as_dict(), indent=2, ensure_ascii=False))
    elif outcome.failure is not None:
        console.print(f"[bold red]NOT VERIFIED[/bold red]: {escape(outcome.failure.message)}")
    else:
        assert outcome.root is not None
        console.print(
            "[bold green]verified[/bold green]: "
            + escape(
                _(
                    "{origin} at size {size}, root {root}: {people} people, {events} events, {access} access entries."
                ).format(
                    origin=outcome.origin,
                    size=outcome.size,
                    root=b64(outcome.root),
                    people=outcome.people,
                    events=outcome.events,
                    access=outcome.access_entries,
                )
            )
        )
    if not as_json and outcome.report is not None:
        _report_verdict(outcome)
    if not outcome.passed:
        raise typer.Exit(1)


def _report_verdict(outcome: Outcome) -> None:
    report = outcome.report
    assert report is not None
    if report.refused is not None:
        console.print(
            f"[bold red]{escape(_('REPORT REFUSED'))}[/bold red]: "
            + escape(_("release {release}: {reason}").format(release=report.release, reason=report.refused))
        )
        return
    if report.matches:
        if report.size:
            text = _("every figure of release {release} recounted from log entries 0 to {last}: match").format(
                release=report.release, last=report.size - 1
            )
        else:
            text = _("every figure of release {release} recounted from an empty log: match").format(
                release=report.release
            )
        console.print(f"[bold green]{escape(_('report'))}[/bold green]: {escape(text)}")
        return
    table = Table(title=_("Release {release}: figures the log does not bear out").format(release=report.release))
    for heading in (_("where"), _("published"), _("recount"), _("what")):
        table.add_column(heading, overflow="fold")
    for difference in report.differences:
        table.add_row(
            *(
                escape("" if value is None else str(value))
                for value in (difference.where, difference.published, difference.recount, difference.what)
            )
        )
    console.print(table)
    console.print(
        f"[bold red]{escape(_('REPORT DIFFERS'))}[/bold red]: "
        + escape(
            ngettext(
                "release {release}: {count} difference from the recount of log entries 0 to {last}.",
                "release {release}: {count} differences from the recount of log entries 0 to {last}.",
                len(report.differences),
            ).format(release=report.release, count=len(report.differences), last=report.size - 1)
        )
    )


def _report(path: Path, as_json: bool) -> bytes:
    try:
        return path.expanduser().read_bytes()
    except OSError as error:
        _usage(_("Cannot read the report {path}: {error}").format(path=path, error=error), as_json)


def _verifier(text: str, as_json: bool) -> Verifier:
    """`--vkey` as key text, else as a file holding it. The text is never echoed: it might be a private key."""
    if text.startswith("PRIVATE+KEY+"):
        _usage(_("--vkey is a private signing key: pass the verifier key (`handover log vkey` prints it)."), as_json)
    try:
        return Verifier.from_vkey(text.strip())
    except MalformedKey as error:
        reason = str(error)
    path = Path(text).expanduser()
    if not path.is_file():
        _usage(_("--vkey is neither a verifier key nor a file holding one: {reason}.").format(reason=reason), as_json)
    try:
        content = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        _usage(_("Cannot read the key file {path}: {error}").format(path=path, error=error), as_json)
    if content.startswith("PRIVATE+KEY+"):
        _usage(_("{path} holds a private signing key: pass the verifier key instead.").format(path=path), as_json)
    try:
        return Verifier.from_vkey(content)
    except MalformedKey as error:
        _usage(_("{path} does not hold a verifier key: {error}.").format(path=path, error=error), as_json)


def _usage(message: str, as_json: bool) -> NoReturn:
    if as_json:
        result: dict[str, Any] = {"verified": False, "usage_error": message}
        typer.echo(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        errors.print(f"[red]{escape(_('Cannot verify'))}[/red]: {escape(message)}")
    raise typer.Exit(USAGE_ERROR)
