"""Releases of the public report: counted at the latest checkpoint, kept as a history, made at a fixed cadence."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from handover.background import ReportPublisher
from handover.core.report import disclosure, figures
from handover.core.report import release as report_release
from handover.core.tlog.note import Signer, open_note
from handover.services import log, report
from handover.services.errors import ConflictError
from handover.services.registry import NewPerson, register_people
from handover.services.runtime import SimulatedClock, seeded_runtime
from handover.store.uow import Database
from tests.factories import T0, man

SIGNER = Signer.generate("test.handover.example/log")
LATER = T0 + timedelta(days=8)


def _register(db: Database, seed: int, people: list[tuple[int, str]]) -> None:
    rt = seeded_runtime(seed, SimulatedClock(T0))
    with db.unit_of_work() as uow:
        register_people(uow, rt, [NewPerson(man(n, nationality), "ghweran") for n, nationality in people], T0)
        uow.commit()


def _sign(db: Database, when: timedelta = timedelta(hours=1)) -> log.StoredCheckpoint:
    with db.unit_of_work() as uow:
        signed = log.sign_checkpoint(uow, SIGNER, T0 + when)
        uow.commit()
    return signed


def test_a_release_counts_the_log_at_the_latest_checkpoint_and_binds_to_it(world: Database) -> None:
    _register(world, 1, [(n, "FR" if n % 2 else "IQ") for n in range(30)])
    signed = _sign(world)
    _register(world, 2, [(100 + n, "IQ") for n in range(5)])  # after the checkpoint: not in the release

    with world.unit_of_work() as uow:
        made = report.make_release(uow, T0 + timedelta(hours=2))
        uow.commit()

    assert made.number == 1 and made.previous_release is None
    assert (made.checkpoint.size, made.checkpoint.root) == (signed.size, signed.root)
    assert made.computed_from == f"log entries 0 to {signed.size - 1}"
    note = open_note(made.checkpoint.note, [SIGNER.verifier])
    assert note.text.splitlines()[1] == str(signed.size)
    assert made.counts["registered"] == 30
    held = made.table(figures.HELD).published
    assert held.grand_total == 30 and held.rows == ("ghweran",)
    for table in made.tables:
        assert disclosure.audit(table.published, made.rules).safe
    with world.unit_of_work(read_only=True) as uow:
        stored = report.document(uow)
        assert report_release.from_json(stored) == made == report.latest(uow)
        assert [entry.number for entry in report.history(uow)] == [1]


def test_releases_follow_the_cadence_and_never_repeat_a_checkpoint(world: Database) -> None:
    _register(world, 1, [(n, "IQ") for n in range(40)])
    _sign(world)
    with world.unit_of_work() as uow:
        report.make_release(uow, T0 + timedelta(hours=2))
        uow.commit()

    with world.unit_of_work() as uow, pytest.raises(ConflictError) as current:
        report.make_release(uow, LATER)
    assert current.value.rule == "report-current"

    _register(world, 2, [(100 + n, "IQ") for n in range(20)])
    _sign(world, timedelta(hours=3))
    with world.unit_of_work() as uow, pytest.raises(ConflictError) as early:
        report.make_release(uow, T0 + timedelta(days=1))
    assert early.value.rule == "report-not-due" and "7 days" in early.value.message

    with world.unit_of_work() as uow:
        second = report.make_release(uow, LATER)
        uow.commit()
    assert second.number == 2 and second.previous_release == 1
    assert second.counts["registered"] == 60


def test_stocks_may_change_by_a_few_people_between_releases(world: Database) -> None:
    """People held are a stock: their change between releases is a net flow, not a group, and is not checked by
    difference (see core.report.disclosure); cumulative tables are (tests/core/report)."""
    _register(world, 1, [(n, "IQ") for n in range(40)])
    _sign(world)
    with world.unit_of_work() as uow:
        report.make_release(uow, T0 + timedelta(hours=2))
        uow.commit()
    _register(world, 2, [(100 + n, "IQ") for n in range(3)])
    _sign(world, timedelta(hours=3))

    with world.unit_of_work() as uow:
        second = report.make_release(uow, LATER)

    assert second.table(figures.HELD).published.grand_total == 43


def test_released_documents_cannot_be_changed(world: Database) -> None:
    _register(world, 1, [(n, "IQ") for n in range(12)])
    _sign(world)
    with world.unit_of_work() as uow:
        report.make_release(uow, T0 + timedelta(hours=2))
        uow.commit()
    with world.unit_of_work() as uow, pytest.raises(sa.exc.DBAPIError):
        uow.connection.execute(sa.text("UPDATE report_releases SET document = :d"), {"d": b"{}"})


def test_the_server_releases_when_due_and_only_then(world: Database) -> None:
    clock = SimulatedClock(T0 + timedelta(hours=2))
    publisher = ReportPublisher(world, seeded_runtime(9, clock), report.Policy(), interval=3600)
    assert publisher.publish_if_due() is None  # no checkpoint yet: nothing to count at
    _register(world, 1, [(n, "IQ") for n in range(20)])
    _sign(world)

    assert publisher.publish_if_due() == 1
    assert publisher.publish_if_due() is None  # not due

    clock.advance(timedelta(days=8))
    assert publisher.publish_if_due() is None  # due, but custody has not changed since
    _register(world, 2, [(100 + n, "IQ") for n in range(20)])
    _sign(world, timedelta(days=8, hours=3))
    assert publisher.publish_if_due() == 2
