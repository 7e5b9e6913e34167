"""Rows the store refused, kept with their error (quarantine); each Slack route's backoff (outbox_routes)

Revision ID: 0008
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "quarantine",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("mention_key", sa.Text(), nullable=False, comment="platform:native_id as it came, clipped"),
        sa.Column("error", sa.Text(), nullable=False, comment="why the store refused the row"),
        sa.Column(
            "record",
            sa.Text(),
            nullable=False,
            comment="the mention as ASCII-escaped JSON, for a replay once fixed",
        ),
        sa.Column("quarantined_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_quarantine_source", "quarantine", ["source"])
    op.create_table(
        "outbox_routes",
        sa.Column("route", sa.String(length=100), primary_key=True),
        sa.Column(
            "paused_until",
            sa.DateTime(timezone=True),
            nullable=False,
            comment="no row of the route is sent before this",
        ),
        sa.Column("failures", sa.Integer(), nullable=False, comment="sends failed in a row; sets the backoff"),
        sa.Column("last_error", sa.Text()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("outbox_routes")
    op.drop_index("ix_quarantine_source", table_name="quarantine")
    op.drop_table("quarantine")
