"""The operator's context a report release states beside its figures: the baseline forecast of when the move ends.

It is not counted from the log and no reader can check it from there: the release says so (`Context`). It is the
same forecast the planning page shows (`planning.make_forecast`, its baseline band), from the pace logged so far.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from handover.core.report.release import Release
from handover.services import planning, report
from handover.services.ports import AccountsUnitOfWork, UnitOfWork
from handover.settings import get_settings


def forecast(uow: UnitOfWork, today: date) -> dict[str, str | None] | None:
    """The baseline band (P50, P85, P95 dates) for the people still to move, or None when nobody is left to move."""
    as_of = planning.default_start(uow, today) - timedelta(days=1)
    remaining = planning.build_inputs(uow, as_of + timedelta(days=1)).model.people
    if remaining <= 0:
        return None
    band = planning.make_forecast(uow, as_of, remaining).baseline
    return {
        "as_of": as_of.isoformat(),
        "p50_date": band.p50_date.isoformat() if band.p50_date else None,
        "p85_date": band.p85_date.isoformat() if band.p85_date else None,
        "p95_date": band.p95_date.isoformat() if band.p95_date else None,
    }


def configured_policy() -> report.Policy:
    """The disclosure rules and cadence the settings give (HANDOVER_REPORT_THRESHOLD, _ROUNDING, _CADENCE_DAYS)."""
    settings = get_settings()
    return report.Policy.of(settings.report_threshold, settings.report_rounding, settings.report_cadence_days)


def make_release(
    uow: AccountsUnitOfWork, now: datetime, *, force: bool = False, policy: report.Policy | None = None
) -> Release:
    """`report.make_release` with the configured policy (or `policy`) and the baseline forecast as context.

    The forecast costs a simulation: it is made only when a release may follow (due, forced, or the first); otherwise
    `report.make_release` refuses exactly as it would with it.
    """
    rules = policy if policy is not None else configured_policy()
    attempted = force or uow.reports.latest() is None or report.due(uow, now, rules)
    return report.make_release(
        uow, now, policy=rules, forecast=forecast(uow, now.date()) if attempted else None, force=force
    )
