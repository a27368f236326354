"""`handover report`: make the public transparency report's next release when it is due, and write its files.

The files are the release document (report.json, byte for byte as stored and served) and every format made from it
(`handover.publish.write_all`: CSV with HXL tags, the counts, the PDF, the charts). Not due yet, or already standing
on the latest checkpoint: it says so and writes the latest release instead (exit 0). Disclosive figures are refused
with the findings (exit 1), and nothing is released.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from handover.cli.common import console, database, refusals
from handover.i18n import _

# What is refused because releasing now would only repeat or come too soon: the latest release is exported instead.
_NOT_NOW = ("report-not-due", "report-current")


def report(
    out: Annotated[Path, typer.Option(help=_("Directory to write the release's files into."))] = Path("var/report"),
    force: Annotated[
        bool, typer.Option("--force", help=_("Release now even if the cadence has not passed since the last one."))
    ] = False,
    release: Annotated[
        int | None,
        typer.Option("--release", min=1, help=_("Write this existing release's files; make no new release.")),
    ] = None,
) -> None:
    """Make the next release of the public report when it is due (or with --force), and write its files."""
    from handover.services import report_context
    from handover.services.errors import ConflictError

    db = database()
    number = release
    if number is None:
        now = datetime.now(UTC)
        try:
            with refusals(), db.unit_of_work() as uow:
                try:
                    made = report_context.make_release(uow, now, force=force)
                except ConflictError as refused:
                    if refused.rule not in _NOT_NOW:
                        raise
                    console.print(_("No new release: {reason}").format(reason=refused.message), highlight=False)
                else:
                    uow.commit()
                    number = made.number
                    console.print(_("Release {number} made.").format(number=made.number))
        finally:
            db.dispose()
    _export(number, out)


def _export(number: int | None, out: Path) -> None:
    """Write release `number` (the latest when None) into `out` and say what was written and what it stands on."""
    from handover.publish import write_all
    from handover.services import report as reports

    db = database()
    try:
        with refusals(), db.unit_of_work(read_only=True) as uow:
            document = reports.document(uow, number)
    finally:
        db.dispose()
    doc = json.loads(document)
    out.mkdir(parents=True, exist_ok=True)
    target = out / "report.json"
    target.write_bytes(document)
    written = [target, *(path for path in write_all(doc, out) if path != target)]
    checkpoint = doc["checkpoint"]
    console.print(
        _("Release {number} ({date}) stands on the checkpoint of {origin} at size {size}, root {root}.").format(
            number=doc["release"],
            date=doc["published_at"][:10],
            origin=checkpoint["origin"],
            size=checkpoint["size"],
            root=checkpoint["root"],
        ),
        highlight=False,
    )
    console.print(_("Wrote {count} files to {path}:").format(count=len(written), path=out), highlight=False)
    for path in written:
        typer.echo(f"  {path}")


def install(app: typer.Typer) -> None:
    app.command()(report)
