"""The demo's first release of the public transparency report, made once its log has a signed checkpoint."""

from __future__ import annotations

from datetime import datetime

from handover.core.report.release import Release
from handover.services import report_context
from handover.services.ports import AccountsUnitOfWork


def first_release(uow: AccountsUnitOfWork, now: datetime) -> Release | None:
    """Release 1 at the latest checkpoint, with the baseline forecast as its context; None if one exists already.

    The demo adopts no plan, so the release states no plan completion.
    """
    if uow.reports.latest() is not None:
        return None
    return report_context.make_release(uow, now)
