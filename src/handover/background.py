"""Work the server does by itself: signing a new checkpoint whenever the log has grown, and releasing the public
report when its cadence comes round."""

from __future__ import annotations

import logging
import threading

from sqlalchemy.exc import IntegrityError

from handover.core.tlog.note import Signer
from handover.services import log, report, report_context
from handover.services.errors import ConflictError
from handover.services.runtime import Runtime
from handover.store.uow import Database

logger = logging.getLogger("handover.checkpoints")


class CheckpointSigner:
    """Signs the committed tree every `interval` seconds in a background thread (a no-op while nothing changed)."""

    def __init__(self, database: Database, signer: Signer, runtime: Runtime, interval: float) -> None:
        self._database = database
        self._signer = signer
        self._runtime = runtime
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="checkpoint-signer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self._interval + 5)

    def sign_once(self) -> None:
        try:
            with self._database.unit_of_work() as uow:
                signed = log.sign_checkpoint(uow, self._signer, self._runtime.clock())
                uow.commit()
            logger.debug("checkpoint at size %d", signed.size)
        except ConflictError as refusal:
            if refusal.rule == log.EMPTY_LOG:
                return
            # The tree does not extend what we signed before: say so loudly, and never sign over it.
            logger.error("checkpoint refused: %s", refusal.message)
        except IntegrityError:
            logger.info("another process signed this tree size first")

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sign_once()
            self._stop.wait(self._interval)


report_logger = logging.getLogger("handover.report")


class ReportPublisher:
    """Makes the next release of the public report when it is due (see `services.report.due`), checking every
    `interval` seconds. A release the disclosure checks refuse is logged (cell keys only, never people) and tried
    again at the next check, on the log as it then stands."""

    def __init__(self, database: Database, runtime: Runtime, policy: report.Policy, interval: float) -> None:
        self._database = database
        self._runtime = runtime
        self._policy = policy
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="report-publisher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=60)  # a release under way finishes first; waiting is woken at once

    def publish_if_due(self) -> int | None:
        """The number of the release made, or None."""
        now = self._runtime.clock()
        try:
            with self._database.unit_of_work() as uow:
                if not report.due(uow, now, self._policy):
                    return None
                made = report_context.make_release(uow, now, policy=self._policy)
                uow.commit()
        except ConflictError as refusal:
            report_logger.warning("report release not made: %s", refusal.message)
            return None
        except IntegrityError:
            report_logger.info("another process made this release first")
            return None
        report_logger.info("report release %d at checkpoint size %d", made.number, made.checkpoint.size)
        return made.number

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.publish_if_due()
