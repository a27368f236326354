"""report releases

Revision ID: 0006
Revises: 0005

Releases of the public transparency report: each release's number, the size of the checkpoint it was counted at,
when it was made, and the published document. Append-only, like the log it is counted from.
"""

import sqlalchemy as sa
from alembic import op

import handover.store.types
from handover.store.append_only import allow_changes, forbid_changes

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_releases",
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("checkpoint_size", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("published_at", handover.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("document", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("number"),
    )
    forbid_changes("report_releases")


def downgrade() -> None:
    allow_changes("report_releases")
    op.drop_table("report_releases")
