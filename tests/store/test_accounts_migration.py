"""Migration 0004 (accounts, access log, repatriation) goes down to 0003 and up again on both databases, and its
append-only tables refuse changes."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command

from handover.store.database import alembic_config, migrate
from handover.store.uow import Database

NEW_TABLES = {
    "accounts",
    "api_tokens",
    "sign_in_attempts",
    "access_log",
    "repatriation_cases",
    "repatriation_case_events",
    "repatriation_requests",
    "repatriation_request_cases",
    "repatriation_documents",
}


def test_down_to_0003_and_up_again(db: Database) -> None:
    command.downgrade(alembic_config(db.engine), "0003")
    assert not NEW_TABLES & set(sa.inspect(db.engine).get_table_names())
    migrate(db.engine)
    assert set(sa.inspect(db.engine).get_table_names()) >= NEW_TABLES


@pytest.mark.parametrize(
    "statement", ["UPDATE repatriation_case_events SET note = 'x'", "DELETE FROM repatriation_case_events"]
)
def test_case_history_is_append_only(world: Database, statement: str) -> None:
    from datetime import UTC, datetime

    from handover.services.registry import NewPerson, register_people
    from handover.services.runtime import SimulatedClock, seeded_runtime
    from tests.factories import man

    at = datetime(2026, 1, 21, tzinfo=UTC)
    rt = seeded_runtime(3, SimulatedClock(at))
    with world.unit_of_work() as uow:
        [stored] = register_people(uow, rt, [NewPerson(man(1, "KZ"), "ghweran")], at)
        uow.connection.execute(
            sa.text(
                "INSERT INTO repatriation_cases (id, person_id, country, state, state_since, opened_at) "
                "VALUES ('c1', :p, 'KZ', 'identified', :t, :t)"
            ),
            {"p": stored.event.person_id, "t": at},
        )
        uow.connection.execute(
            sa.text(
                "INSERT INTO repatriation_case_events (id, case_id, action, to_state, at, actor_id, note) "
                "VALUES ('e1', 'c1', 'open', 'identified', :t, 'a1', '')"
            ),
            {"t": at},
        )
        uow.commit()
    with world.engine.connect() as conn, pytest.raises(sa.exc.DatabaseError, match="append-only"):
        conn.execute(sa.text(statement))
