"""The access log: every read of a person's record, who read it, when and why, kept and published.

Each read is a row of the append-only `access_log` table and an entry of the transparency log, at a log index taken
from the same counter as custody events, in the same transaction: the published entry holds ids and a purpose code
only (`handover.core.access.leaf`), the stated reason in words stays in the table.

Routes call `record_read` (or `record_reads` for a list that shows people's records) in a writing unit of work
before answering. The log's entry bundles serve access entries among custody events, by index (`log.entries`), and
`handover verify` decodes and counts them, keeping them out of the custody chains.
"""

from __future__ import annotations

from collections.abc import Sequence

from handover.core.access import leaf as access_leaf
from handover.core.policy.access import (
    DEFAULT_PURPOSE,
    Action,
    Principal,
    Purpose,
    Resource,
    must_state_purpose,
    scopes,
)
from handover.i18n import _
from handover.services import log
from handover.services.errors import ConflictError
from handover.services.ports import AccessRecord, AccountsUnitOfWork
from handover.services.runtime import Runtime

MAX_NOTE = 2000


def purpose_for(principal: Principal, purpose: Purpose | str | None) -> Purpose:
    """The purpose a read is recorded with: the one stated, else the role's usual one; refused when the role must
    state one and did not."""
    if purpose:
        try:
            return Purpose(purpose)
        except ValueError:
            raise ValueError(
                _("{purpose!r} is not a purpose; the purposes are: {all}.").format(
                    purpose=purpose, all=", ".join(p.value for p in Purpose)
                )
            ) from None
    if must_state_purpose(principal.role):
        raise ConflictError(
            principal.account_id,
            "purpose-required",
            principal.role.value,
            _("As {role}, say why you are opening this record.").format(role=principal.role.value),
        )
    return DEFAULT_PURPOSE[principal.role]


def leaf(record: AccessRecord) -> bytes:
    """The log entry of a stored read."""
    return access_leaf.encode(
        access_leaf.AccessEntry(record.reader_id, record.person_id, Purpose(record.purpose), record.at)
    )


def record_reads(
    uow: AccountsUnitOfWork,
    rt: Runtime,
    principal: Principal,
    person_ids: Sequence[str],
    purpose: Purpose | str | None = None,
    note: str = "",
) -> list[AccessRecord]:
    """Record that `principal` read these people's records (each once, in the order given), in the table and the log."""
    if not principal.account_id:
        raise ValueError("only a signed-in account reads people's records")
    if not scopes(principal.grants, Resource.PERSON, Action.READ):
        raise ConflictError(
            principal.account_id,
            "permission-required",
            "forbidden",
            _("{actor} may not read people's records.").format(actor=principal.name),
        )
    chosen = purpose_for(principal, purpose)
    unique = list(dict.fromkeys(person_ids))
    if not unique:
        return []
    records = uow.access_log.append(principal.account_id, unique, chosen.value, note.strip()[:MAX_NOTE], rt.clock())
    log.append_leaves(uow, records[0].seq, [leaf(r) for r in records])
    return records


def record_read(
    uow: AccountsUnitOfWork,
    rt: Runtime,
    principal: Principal,
    person_id: str,
    purpose: Purpose | str | None = None,
    note: str = "",
) -> AccessRecord:
    (record,) = record_reads(uow, rt, principal, [person_id], purpose, note)
    return record


def reads_of(uow: AccountsUnitOfWork, person_id: str, limit: int = 100) -> list[AccessRecord]:
    """Who read this person's record, newest first (for monitors, and the person's page)."""
    return uow.access_log.for_person(person_id, limit)


def reads_by(uow: AccountsUnitOfWork, reader_id: str, limit: int = 100) -> list[AccessRecord]:
    return uow.access_log.by_reader(reader_id, limit)


def latest(uow: AccountsUnitOfWork, limit: int = 100) -> list[AccessRecord]:
    """The newest reads first, whoever read whom (for monitors)."""
    return uow.access_log.latest(limit)


def entries(uow: AccountsUnitOfWork, after: int = -1, limit: int = 100) -> list[AccessRecord]:
    """Reads in log order after log index `after` (for monitors)."""
    return uow.access_log.page(after, limit)
