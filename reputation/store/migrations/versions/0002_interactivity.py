"""Slack interactivity: assignee and SLA follow-up on incidents, and the interactions log

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("assignee", sa.String(length=40), nullable=True, comment="Slack user id"))
        batch.add_column(
            sa.Column(
                "followed_up_at", sa.DateTime(timezone=True), nullable=True, comment="when the SLA reminder went out"
            )
        )
    op.create_table(
        "interactions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("signature", sa.String(length=100), nullable=False, comment="a replayed request has the same one"),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("user_name", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("signature"),
    )
    op.create_index("ix_interactions_incident_id", "interactions", ["incident_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_interactions_incident_id", table_name="interactions")
    op.drop_table("interactions")
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("followed_up_at")
        batch.drop_column("assignee")
