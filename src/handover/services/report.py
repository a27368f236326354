"""The public transparency report: releases counted from the log at a signed checkpoint, kept as a history.

A release counts the custody events among the log entries 0 to N-1 of the latest signed checkpoint (size N) with
`core.report.figures.count`, the same function `handover verify --report` recounts them with, and protects them
(`core.report.release.build`). Releases are made at a fixed cadence (`Settings.report_cadence_days`): successive
releases are checked against each other, and publishing often would let small changes show. The previous release's
true figures are not stored: they are recounted from the log at its checkpoint, which the log keeps.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from babel import Locale

from handover.core.custody.events import CustodyEvent
from handover.core.custody.model import Estate
from handover.core.report import figures as report_figures
from handover.core.report import release as report_release
from handover.core.report.disclosure import DEFAULT_RULES, Rules
from handover.core.report.figures import Attributes, Figures
from handover.core.report.release import CheckpointRef, Context, Release
from handover.core.tlog.checkpoint import parse_checkpoint
from handover.i18n import _
from handover.services import log
from handover.services.errors import ConflictError, NotFoundError
from handover.services.ports import AccountsUnitOfWork as UnitOfWork
from handover.services.ports import StoredRelease
from handover.services.reference import operation_name, planned_total


@dataclass(frozen=True, slots=True)
class Policy:
    """How releases are made: the disclosure rules and the cadence."""

    rules: Rules = DEFAULT_RULES
    cadence: timedelta = timedelta(days=7)

    @classmethod
    def of(cls, threshold: int, rounding: int | None, cadence_days: int) -> Policy:
        return cls(Rules(threshold=threshold, rounding=rounding), timedelta(days=cadence_days))


def events_at(uow: UnitOfWork, size: int) -> Iterator[CustodyEvent]:
    """The custody events among the log entries 0 to size - 1, in log order (access entries are not custody).

    Read from the rows the entries are the canonical encoding of (`store.SqlLog.entries` encodes these very rows), so
    without encoding each to its leaf and decoding it back; `handover verify --report` counts from the entries.
    """
    for stored in uow.custody.all_events():
        if stored.seq >= size:
            return
        yield stored.event


def attributes(uow: UnitOfWork) -> dict[str, Attributes]:
    """Nationality, sex and birth date of everyone registered, for the nationality table (never published as such)."""
    return {
        person.id: Attributes(person.identity.nationality, person.identity.sex, person.identity.birth_date)
        for person in uow.persons.all()
    }


def figures_at(uow: UnitOfWork, size: int) -> Figures:
    return report_figures.count(events_at(uow, size), attributes(uow))


def labels(uow: UnitOfWork, language: str = "en") -> dict[str, dict[str, str]]:
    """Names for the raw keys of every dimension: facilities, receiving countries, nationalities, estates, groups."""
    territories = Locale.parse(language).territories
    facilities = {facility.id: facility.name for facility in uow.reference.facilities()}
    authorities = {
        authority.id: territories.get(authority.country, authority.name) if authority.country else authority.name
        for authority in uow.reference.authorities()
    }
    nationalities = {code: name for code, name in territories.items() if len(code) == 2 and code.isalpha()}
    nationalities[report_figures.UNKNOWN_NATIONALITY] = _("unknown")
    return {
        "destination": facilities,
        "facility": facilities,
        "authority": authorities,
        "nationality": nationalities,
        "estate": {
            Estate.ADULT_MEN.value: _("adult men"),
            Estate.ADULT_WOMEN.value: _("adult women"),
            Estate.MINORS.value: _("minors"),
        },
        "group": {
            report_figures.MEN: _("men (18 and over)"),
            report_figures.WOMEN: _("women (18 and over)"),
            report_figures.BOYS: _("boys (under 18)"),
            report_figures.GIRLS: _("girls (under 18)"),
        },
    }


def context(
    uow: UnitOfWork, forecast: Mapping[str, str | None] | None = None, plan_completion: date | None = None
) -> Context:
    return Context(
        planned_total=planned_total(uow) or None,
        plan_completion=plan_completion,
        forecast=forecast,
        capacity={
            facility.id: {estate.value: facility.capacity.for_estate(estate) for estate in Estate}
            for facility in uow.reference.facilities()
            if facility.capacity.total
        },
    )


def latest(uow: UnitOfWork) -> Release | None:
    stored = uow.reports.latest()
    return report_release.from_json(stored.document) if stored is not None else None


def release(uow: UnitOfWork, number: int) -> Release:
    stored = uow.reports.get(number)
    if stored is None:
        raise NotFoundError("report", str(number), _("No report release {number}.").format(number=number))
    return report_release.from_json(stored.document)


def document(uow: UnitOfWork, number: int | None = None) -> bytes:
    stored = uow.reports.latest() if number is None else uow.reports.get(number)
    if stored is None and number is not None:
        raise NotFoundError("report", str(number), _("No report release {number}.").format(number=number))
    if stored is None:
        raise NotFoundError("report", "latest", _("No report has been released yet."))
    return stored.document


def history(uow: UnitOfWork) -> list[StoredRelease]:
    return uow.reports.all()


def due(uow: UnitOfWork, now: datetime, policy: Policy) -> bool:
    """Whether a release should be made now: none yet, or the cadence has passed and custody has changed since."""
    previous = uow.reports.latest()
    if previous is None:
        return uow.log.latest_checkpoint() is not None
    return (
        now >= previous.published_at + policy.cadence and uow.custody.last_custody_index() >= previous.checkpoint_size
    )


def make_release(
    uow: UnitOfWork,
    now: datetime,
    *,
    policy: Policy = Policy(),
    forecast: Mapping[str, str | None] | None = None,
    plan_completion: date | None = None,
    force: bool = False,
) -> Release:
    """Count, protect, check against the previous release and store a new release at the latest checkpoint.

    Refuses (`ConflictError`) before the cadence has passed since the last release (unless `force`), when the log
    has no checkpoint, when the checkpoint is the last release's, and when the figures cannot be published safely
    (`ReleaseRefused`'s findings, named).
    """
    checkpoint = log.latest_checkpoint(uow)
    previous = uow.reports.latest()
    if previous is not None:
        # Reads of records grow the log too; a release is new only if custody changed since the last one.
        if previous.checkpoint_size == checkpoint.size or uow.custody.last_custody_index() < previous.checkpoint_size:
            raise ConflictError(
                "report",
                "report-current",
                f"release {previous.number}",
                _(
                    "Release {number} is current: no custody event has been logged since its checkpoint (size {size})."
                ).format(number=previous.number, size=previous.checkpoint_size),
            )
        due = previous.published_at + policy.cadence
        if now < due and not force:
            raise ConflictError(
                "report",
                "report-not-due",
                f"release {previous.number}",
                _(
                    "The next release is due on {due}: releases are made every {days} days, so that no change between "
                    "two releases is small enough to single anyone out."
                ).format(due=due.isoformat(timespec="minutes"), days=policy.cadence.days),
            )
    counted = figures_at(uow, checkpoint.size)
    before: tuple[Release, Figures] | None = None
    if previous is not None:
        old = report_release.from_json(previous.document)
        before = (old, figures_at(uow, previous.checkpoint_size))
    origin = parse_checkpoint(checkpoint.note.split("\n\n")[0] + "\n").origin
    try:
        made = report_release.build(
            counted,
            number=(previous.number + 1) if previous is not None else 1,
            published_at=now,
            operation=operation_name(uow) or origin,
            checkpoint=CheckpointRef(origin, checkpoint.size, checkpoint.root, checkpoint.note),
            rules=policy.rules,
            labels=labels(uow),
            context=context(uow, forecast, plan_completion),
            previous=before,
        )
    except report_release.ReleaseRefused as refused:
        raise ConflictError(
            "report",
            "report-disclosive",
            f"checkpoint {checkpoint.size}",
            _("The report cannot be released: {findings}").format(findings="; ".join(refused.findings)),
        ) from None
    uow.reports.add(StoredRelease(made.number, checkpoint.size, now, report_release.to_json(made)))
    return made
