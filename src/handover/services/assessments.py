"""Pre-transfer assessments: fit to travel (medical) and legal review (non-refoulement risk), one event per person.

An assessment records only its kind and outcome; the reasons behind it stay with the reviewer's own records, so
nothing about a person's health or legal case reaches the log.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from handover.core.custody import commands as c
from handover.core.policy.permissions import Actor, Permission
from handover.core.policy.safeguards import FIT_TO_TRAVEL, LEGAL_REVIEW
from handover.i18n import _
from handover.services.access import OPERATOR, require
from handover.services.custody import record_each, refuse_duplicates
from handover.services.ports import StoredEvent, UnitOfWork
from handover.services.runtime import Runtime

OUTCOMES = {FIT_TO_TRAVEL: ("fit", "unfit"), LEGAL_REVIEW: ("cleared", "risk")}


def assess(
    uow: UnitOfWork,
    rt: Runtime,
    person_ids: Sequence[str],
    kind: str,
    outcome: str,
    occurred_at: datetime,
    actor: Actor = OPERATOR,
) -> list[StoredEvent]:
    """Record the same assessment outcome for each person named; all of them, or on a refusal none."""
    require(actor, Permission.REVIEW)
    if kind not in OUTCOMES:
        raise ValueError(
            _("Unknown assessment {kind}: one of {kinds}.").format(kind=kind, kinds=", ".join(sorted(OUTCOMES)))
        )
    if outcome not in OUTCOMES[kind]:
        raise ValueError(
            _("A {kind} assessment's outcome is one of {outcomes}, not {outcome}.").format(
                kind=kind, outcomes=", ".join(OUTCOMES[kind]), outcome=outcome
            )
        )
    refuse_duplicates(person_ids, _("assessment"))
    return record_each(uow, rt, person_ids, occurred_at, c.Assess, kind=kind, outcome=outcome)
