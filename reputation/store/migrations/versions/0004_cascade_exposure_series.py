"""Cascades: effective exposure and size over time

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cascades") as batch:
        batch.add_column(
            sa.Column(
                "exposure",
                sa.Float(),
                nullable=True,
                comment="followers who have likely seen it by now (SEISMIC's kernel-weighted marks)",
            )
        )
        batch.add_column(
            sa.Column(
                "size_series", sa.JSON(), nullable=True, comment="[[hours since the root, events so far], ...] per hour"
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("cascades") as batch:
        batch.drop_column("size_series")
        batch.drop_column("exposure")
