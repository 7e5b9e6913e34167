"""mentions: the pending index holds only pending rows, so the planner keeps using it at a million stored

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_mentions_pending", table_name="mentions")
    op.create_index(
        "ix_mentions_pending",
        "mentions",
        ["pending"],
        sqlite_where=sa.text("pending = 1"),
        postgresql_where=sa.text("pending"),
    )


def downgrade() -> None:
    op.drop_index("ix_mentions_pending", table_name="mentions")
    op.create_index("ix_mentions_pending", "mentions", ["pending"])
