"""browser sessions

Revision ID: 0005
Revises: 0004

Server-side browser sessions: the SHA-256 of the cookie's secret, the account, what it must do before it may do
anything else (change a one-time password, set up a second factor), and when it expires or ended.
"""

import sqlalchemy as sa
from alembic import op

import handover.store.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("created_at", handover.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", handover.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", handover.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sessions_account_id"), ["account_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sessions_account_id"))
    op.drop_table("sessions")
