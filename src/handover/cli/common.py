"""What every command shares: the configured database, the consoles, clear refusals, times and JSON output.

Like `main`, this imports neither the database nor the services nor the settings at import time: `handover verify`
needs none of them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

from handover.core.custody import RefusedError
from handover.i18n import _

if TYPE_CHECKING:
    from handover.store.uow import Database

console = Console()
# Refusals are not wrapped: scripts and logs read them whole.
errors = Console(stderr=True, soft_wrap=True)


def database() -> Database:
    from handover.settings import Settings
    from handover.store.uow import Database

    return Database(Settings().database_url)


@contextmanager
def refusals() -> Iterator[None]:
    """Refusals and missing things end the command with a clear message and exit code 1; nothing was written."""
    from handover.services.errors import ConflictError, NotFoundError

    try:
        yield
    except RefusedError as error:
        errors.print(f"[red]{_('Refused')}[/red] ({error.refused.rule}): {error.refused.message}", highlight=False)
        raise typer.Exit(1) from None
    except ConflictError as error:
        errors.print(f"[red]{_('Refused')}[/red] ({error.rule}): {error.message}", highlight=False)
        raise typer.Exit(1) from None
    except NotFoundError as error:
        errors.print(f"[red]{_('Refused')}[/red]: {error.message}", highlight=False)
        raise typer.Exit(1) from None
    except ValueError as error:
        # A request the services find malformed (a blank reason, an unusable key): said plainly, nothing written.
        errors.print(f"[red]{_('Refused')}[/red]: {error}", highlight=False)
        raise typer.Exit(1) from None


def moment(text: str | None) -> datetime:
    """A time given on the command line (ISO 8601 with a timezone), or now when none is given."""
    if text is None:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            _("{text} is not an ISO 8601 time, e.g. 2026-01-21T06:00:00+00:00").format(text=text)
        ) from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise typer.BadParameter(_("{text} has no timezone: add Z or +03:00, for example").format(text=text))
    return parsed


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))
