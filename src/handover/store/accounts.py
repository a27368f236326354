"""SQL for accounts, API tokens, sign-in attempts and the access log."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from handover.services.ports import AccessRecord, Account, ApiToken, WebSession
from handover.store.tables import AccessLogRow, AccountRow, ApiTokenRow, CounterRow, SessionRow, SignInAttemptRow

accounts_t = AccountRow.__table__
tokens_t = ApiTokenRow.__table__
attempts_t = SignInAttemptRow.__table__
access_t = AccessLogRow.__table__
counters_t = CounterRow.__table__
sessions_t = SessionRow.__table__

# The log index counter: custody events and access entries take their indexes from this one row, so the two
# tables together hold every index exactly once (see store.repositories.SqlCustody._reserve).
LOG_COUNTER = "events"
SUCCESS, FAILURE, REFUSED = "success", "failure", "refused"


def _account(row: Mapping[str, Any]) -> Account:
    secret = row["totp_secret"]
    return Account(
        id=row["id"],
        name=row["name"],
        display_name=row["display_name"],
        role=row["role"],
        facility_id=row["facility_id"],
        country=row["country"],
        authority_id=row["authority_id"],
        password_hash=row["password_hash"],
        password_must_change=bool(row["password_must_change"]),
        created_at=row["created_at"],
        totp_secret=bytes(secret) if secret is not None else None,
        totp_confirmed=bool(row["totp_confirmed"]),
        totp_last_step=row["totp_last_step"],
        disabled_at=row["disabled_at"],
    )


def _token(row: Mapping[str, Any]) -> ApiToken:
    return ApiToken(
        id=row["id"],
        account_id=row["account_id"],
        label=row["label"],
        token_hash=row["token_hash"],
        grants=tuple(row["grants"].split()),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
    )


def _token_row(token: ApiToken) -> dict[str, Any]:
    values = asdict(token)
    values["grants"] = " ".join(token.grants)
    return values


class SqlAccounts:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add(self, account: Account) -> None:
        self._c.execute(insert(accounts_t).values(**asdict(account)))

    def get(self, account_id: str) -> Account | None:
        row = self._c.execute(select(accounts_t).where(accounts_t.c.id == account_id)).mappings().first()
        return _account(row) if row else None

    def by_name(self, name: str) -> Account | None:
        row = self._c.execute(select(accounts_t).where(accounts_t.c.name == name)).mappings().first()
        return _account(row) if row else None

    def update(self, account: Account) -> None:
        values = asdict(account)
        del values["id"]
        self._c.execute(update(accounts_t).where(accounts_t.c.id == account.id).values(**values))

    def all(self) -> list[Account]:
        return [_account(r) for r in self._c.execute(select(accounts_t).order_by(accounts_t.c.name)).mappings()]

    def count(self) -> int:
        return int(self._c.execute(select(func.count()).select_from(accounts_t)).scalar_one())

    def add_token(self, token: ApiToken) -> None:
        self._c.execute(insert(tokens_t).values(**_token_row(token)))

    def token(self, token_id: str) -> ApiToken | None:
        row = self._c.execute(select(tokens_t).where(tokens_t.c.id == token_id)).mappings().first()
        return _token(row) if row else None

    def token_by_hash(self, token_hash: str) -> ApiToken | None:
        row = self._c.execute(select(tokens_t).where(tokens_t.c.token_hash == token_hash)).mappings().first()
        return _token(row) if row else None

    def tokens(self, account_id: str) -> list[ApiToken]:
        query = select(tokens_t).where(tokens_t.c.account_id == account_id).order_by(tokens_t.c.created_at)
        return [_token(r) for r in self._c.execute(query).mappings()]

    def revoke_token(self, token_id: str, at: datetime) -> None:
        self._c.execute(
            update(tokens_t).where(tokens_t.c.id == token_id, tokens_t.c.revoked_at.is_(None)).values(revoked_at=at)
        )

    def add_session(self, session: WebSession) -> None:
        self._c.execute(insert(sessions_t).values(**asdict(session)))

    def session_by_hash(self, token_hash: str) -> WebSession | None:
        row = self._c.execute(select(sessions_t).where(sessions_t.c.token_hash == token_hash)).mappings().first()
        return WebSession(**row) if row else None

    def set_session_stage(self, session_id: str, stage: str) -> None:
        self._c.execute(update(sessions_t).where(sessions_t.c.id == session_id).values(stage=stage))

    def end_session(self, session_id: str, at: datetime) -> None:
        self._c.execute(
            update(sessions_t).where(sessions_t.c.id == session_id, sessions_t.c.ended_at.is_(None)).values(ended_at=at)
        )

    def end_sessions_of(self, account_id: str, at: datetime) -> int:
        ended = self._c.execute(
            update(sessions_t)
            .where(sessions_t.c.account_id == account_id, sessions_t.c.ended_at.is_(None))
            .values(ended_at=at)
        )
        return int(ended.rowcount or 0)

    def add_attempt(self, name: str, address: str, at: datetime, outcome: str) -> None:
        self._c.execute(insert(attempts_t).values(name=name, address=address, at=at, outcome=outcome))

    def failures(self, *, name: str | None = None, address: str | None = None, since: datetime) -> list[datetime]:
        if (name is None) == (address is None):
            raise ValueError("failures are counted per name or per address")
        who = attempts_t.c.name == name if name is not None else attempts_t.c.address == address
        last_success = self._c.execute(
            select(func.max(attempts_t.c.at)).where(who, attempts_t.c.outcome == SUCCESS, attempts_t.c.at >= since)
        ).scalar_one_or_none()
        after = attempts_t.c.at > last_success if last_success is not None else attempts_t.c.at >= since
        query = select(attempts_t.c.at).where(who, attempts_t.c.outcome == FAILURE, after).order_by(attempts_t.c.at)
        return list(self._c.execute(query).scalars())

    def prune_attempts(self, before: datetime) -> int:
        return int(self._c.execute(delete(attempts_t).where(attempts_t.c.at < before)).rowcount or 0)


def _record(row: Mapping[str, Any]) -> AccessRecord:
    return AccessRecord(
        seq=int(row["seq"]),
        reader_id=row["reader_id"],
        person_id=row["person_id"],
        purpose=row["purpose"],
        note=row["note"],
        at=row["at"],
    )


class SqlAccessLog:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def _reserve(self, count: int) -> int:
        """Take `count` consecutive log indexes inside this transaction (the row stays locked until it ends)."""
        stmt = (
            update(counters_t)
            .where(counters_t.c.name == LOG_COUNTER)
            .values(value=counters_t.c.value + count)
            .returning(counters_t.c.value)
        )
        return int(self._c.execute(stmt).scalar_one()) - count

    def append(
        self, reader_id: str, person_ids: Sequence[str], purpose: str, note: str, at: datetime
    ) -> list[AccessRecord]:
        if not person_ids:
            return []
        first = self._reserve(len(person_ids))
        records = [
            AccessRecord(first + i, reader_id, person_id, purpose, note, at) for i, person_id in enumerate(person_ids)
        ]
        self._c.execute(insert(access_t), [asdict(r) for r in records])
        return records

    def for_person(self, person_id: str, limit: int = 100) -> list[AccessRecord]:
        query = select(access_t).where(access_t.c.person_id == person_id).order_by(access_t.c.seq.desc()).limit(limit)
        return [_record(r) for r in self._c.execute(query).mappings()]

    def by_reader(self, reader_id: str, limit: int = 100) -> list[AccessRecord]:
        query = select(access_t).where(access_t.c.reader_id == reader_id).order_by(access_t.c.seq.desc()).limit(limit)
        return [_record(r) for r in self._c.execute(query).mappings()]

    def latest(self, limit: int = 100) -> list[AccessRecord]:
        query = select(access_t).order_by(access_t.c.seq.desc()).limit(limit)
        return [_record(r) for r in self._c.execute(query).mappings()]

    def page(self, after_seq: int, limit: int) -> list[AccessRecord]:
        query = select(access_t).where(access_t.c.seq > after_seq).order_by(access_t.c.seq).limit(limit)
        return [_record(r) for r in self._c.execute(query).mappings()]

    def between(self, start: int, stop: int) -> list[AccessRecord]:
        query = select(access_t).where(access_t.c.seq >= start, access_t.c.seq < stop).order_by(access_t.c.seq)
        return [_record(r) for r in self._c.execute(query).mappings()]
