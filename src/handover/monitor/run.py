"""The monitor's run: the checks in order, stopping at the first discrepancy, and the state saved only after all pass.

Usage problems (the source cannot be read, the state file is not ours, the report is not a release) raise
`SourceError`, `StateFileError` or `ReportError`; findings about the log come back as `Outcome.failure`, and about a
report release (step 8) as `Outcome.report`. The state is saved once the log verified, whatever the report says: the
report is the publisher's document, not the log.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from handover.core.tlog.note import Verifier
from handover.i18n import _
from handover.monitor import checks
from handover.monitor.checks import Discrepancy, b64
from handover.monitor.report_check import ReportOutcome, check_report, needs_identities, parse
from handover.monitor.sources import LogSource, NotPublished, SourceError
from handover.monitor.state import StateFileError, VerifiedCheckpoint, default_state_path, load_state, save_state


@dataclass(frozen=True, slots=True)
class Step:
    """One step done: its number, short name, and what it established."""

    number: int
    name: str
    detail: str


@dataclass
class Outcome:
    """What a run established. `failure` is None when the log verified."""

    source: str
    origin: str | None = None
    size: int | None = None
    root: bytes | None = None
    people: int | None = None
    access_entries: int | None = None
    """Entries that are access entries (reads of a person's record); the other entries are custody events."""
    steps: list[Step] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    failure: Discrepancy | None = None
    state_path: Path | None = None
    previous_size: int | None = None
    counts_compared: bool = False
    identities_checked: int | None = None
    report: ReportOutcome | None = None

    @property
    def verified(self) -> bool:
        """The log verified (the report, if any, is judged apart: `passed`)."""
        return self.failure is None

    @property
    def passed(self) -> bool:
        """The log verified and the report, if one was given, was recounted without a difference."""
        return self.verified and (self.report is None or self.report.matches)

    @property
    def events(self) -> int | None:
        """Custody events in the verified tree."""
        if not self.verified or self.size is None:
            return None
        return self.size - (self.access_entries or 0)

    def as_dict(self) -> dict[str, Any]:
        return {
            "verified": self.verified,
            "source": self.source,
            "origin": self.origin,
            "size": self.size,
            "events": self.events,
            "access_entries": self.access_entries if self.verified else None,
            "root": b64(self.root) if self.root is not None else None,
            "root_hex": self.root.hex() if self.root is not None else None,
            "people": self.people,
            "previous_size": self.previous_size,
            "counts_compared": self.counts_compared,
            "identities_checked": self.identities_checked,
            "state_file": str(self.state_path) if self.state_path is not None else None,
            "steps": [{"step": s.number, "name": s.name, "detail": s.detail} for s in self.steps],
            "warnings": list(self.warnings),
            "failure": self.failure.as_dict() if self.failure is not None else None,
            "report": self.report.as_dict() if self.report is not None else None,
        }


def verify_log(
    source: LogSource,
    verifier: Verifier,
    *,
    state_path: Path | None = None,
    identities: bool = False,
    on_step: Callable[[Step], None] | None = None,
    on_warning: Callable[[str], None] | None = None,
    on_progress: Callable[[str, int, int], None] | None = None,
    now: Callable[[], datetime] | None = None,
    workers: int | None = None,
    report: bytes | None = None,
) -> Outcome:
    """Verify the log `source` serves against `verifier`, trusting nothing it serves. See `checks` for the steps.

    `state_path` defaults to `default_state_path(origin)`. `on_progress(what, done, total)` reports fetching.
    `workers` is how many processes decode the entries (default: one per CPU for a long log). `report`, a release
    document, is recounted in step 8; if it has tables that need identity records, they are fetched and checked
    even without `identities` when the source serves them (else those tables are left unchecked, with a warning).
    """
    outcome = Outcome(source=source.description)
    release = parse(report) if report is not None else None  # a malformed report stops us before any fetching
    wants_identities = release is not None and needs_identities(release)

    def done(number: int, name: str, detail: str) -> None:
        step = Step(number, name, detail)
        outcome.steps.append(step)
        if on_step is not None:
            on_step(step)

    def warn(text: str) -> None:
        outcome.warnings.append(text)
        if on_warning is not None:
            on_warning(text)

    def progress(what: str) -> Callable[[int, int], None] | None:
        if on_progress is None:
            return None
        report = on_progress
        return lambda number, total: report(what, number, total)

    try:
        # 1. The checkpoint, opened with the key; the state file is read now so a bad one stops us before fetching.
        try:
            note = source.checkpoint()
        except NotPublished:
            raise SourceError(
                _("{source} publishes no checkpoint: not a log, or none signed yet.").format(source=source.description)
            ) from None
        checkpoint, signed_note = checks.open_checkpoint(note, verifier)
        outcome.origin, outcome.size = checkpoint.origin, checkpoint.size
        outcome.state_path = state_path if state_path is not None else default_state_path(checkpoint.origin)
        previous = load_state(outcome.state_path, verifier)
        done(
            1,
            "checkpoint",
            _("signed by {key}, origin {origin}, size {size}").format(
                key=f"{verifier.name}+{verifier.key_id:08x}", origin=checkpoint.origin, size=checkpoint.size
            ),
        )

        # 2. Every entry, decoded as a canonical custody event or access entry.
        entries = checks.read_entries(source, checkpoint.size, progress("entry bundles"), workers=workers)
        outcome.access_entries = entries.access_entries
        events = entries.size - entries.access_entries
        done(
            2,
            "entries",
            _("{count} entries decoded: {events} canonical custody events, {access} canonical access entries").format(
                count=entries.size, events=events, access=entries.access_entries
            ),
        )

        # 3. Every hash tile recomputed from the entries and compared; the root with the checkpoint's.
        tiles = checks.check_tiles(source, checkpoint, entries, progress("tiles"))
        outcome.root = checkpoint.root
        done(
            3,
            "tiles",
            _("{count} tiles recomputed from the entries match; root {root} matches the checkpoint").format(
                count=len(tiles), root=b64(checkpoint.root)
            ),
        )

        # 4. The tree extends the checkpoint this monitor verified last.
        checks.check_history(previous, checkpoint, tiles)
        if previous is None:
            detail = _("no earlier checkpoint in {path}: this one will be remembered").format(path=outcome.state_path)
        else:
            outcome.previous_size = previous.size
            detail = _("extends the checkpoint of size {size} verified on {when}").format(
                size=previous.size, when=previous.verified_at
            )
        done(4, "history", detail)

        # 5. Every person's chain, re-derived by the custody machine.
        chains = checks.custody_chains(entries)
        outcome.people = chains.people
        done(
            5,
            "custody",
            _("{people} people's custody chains ({events} events) accepted by the custody machine").format(
                people=chains.people, events=events
            ),
        )

        # 6. The server's current-state counts, if they stand on this tree.
        status, why_not = checks.parse_status(source.status(), checkpoint.size)
        if status is None:
            warn(_("counts not compared: {reason}.").format(reason=why_not))
        else:
            checks.compare_counts(checks.derive_counts(chains), status)
            outcome.counts_compared = True
            done(6, "counts", _("the server's current-state counts equal the ones the chains give"))

        # 7. Identity records against the commitments logged at registration.
        records: dict[str, Any] | None = None
        data = _identities(source, required=identities, warn=warn) if identities or wants_identities else None
        if data is not None:
            records = checks.parse_identity_records(data)
            outcome.identities_checked = checks.check_identities(records, chains)
            extra = len(records.keys() - chains.registrations.keys())
            if extra:
                warn(
                    _("{count} identity records are for people registered after this checkpoint: not checked.").format(
                        count=extra
                    )
                )
            done(
                7,
                "identities",
                _("{count} identity records match their commitments").format(count=outcome.identities_checked),
            )

        # 8. Every figure of the report recounted from the entries at its checkpoint.
        if release is not None:
            outcome.report = check_report(release, verifier, source, checkpoint.size, entries.leaf_hashes, records)
            for text in outcome.report.warnings:
                warn(text)
            if outcome.report.matches:
                done(8, "report", _report_detail(outcome.report))
    except Discrepancy as failure:
        outcome.failure = failure
        return outcome

    clock = now or (lambda: datetime.now(UTC))
    verified = VerifiedCheckpoint(
        origin=checkpoint.origin,
        size=checkpoint.size,
        root=checkpoint.root,
        note=signed_note,
        verified_at=clock().isoformat(timespec="seconds"),
        subtrees=checks.subtree_hashes(tiles, checkpoint.size),
    )
    try:
        save_state(outcome.state_path, verified)
    except OSError as error:
        raise StateFileError(
            _("The log verified, but the state file {path} cannot be written: {error}").format(
                path=outcome.state_path, error=error
            )
        ) from None
    return outcome


def _identities(source: LogSource, *, required: bool, warn: Callable[[str], None]) -> bytes | None:
    """The identity records, or None: without --identities, a source that cannot serve them is no failure."""
    try:
        data = source.identities()
    except SourceError as error:
        if required:
            raise
        warn(_("identity records not read: {error}").format(error=error))
        return None
    if data is None:
        if required:
            raise SourceError(_("{source} publishes no identity records.").format(source=source.description))
        warn(_("{source} publishes no identity records.").format(source=source.description))
    return data


def _report_detail(report: ReportOutcome) -> str:
    return _("release {release}: {tables} tables and every operation-wide count recounted at size {size}").format(
        release=report.release, tables=len(report.tables_checked), size=report.size
    )
