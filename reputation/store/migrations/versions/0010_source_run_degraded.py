"""Source runs: how many items a run kept with an optional field missing (degraded, not dropped);
mentions: the post a quote quotes, kept also when the quote is a reply

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mentions") as batch:
        batch.add_column(
            sa.Column(
                "quoted_key",
                sa.String(length=600),
                nullable=True,
                comment="the post it quotes, also when it is a reply",
            )
        )
    with op.batch_alter_table("source_runs") as batch:
        batch.add_column(
            sa.Column(
                "degraded", sa.Integer(), nullable=False, server_default="0", comment="items kept with a field missing"
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("source_runs") as batch:
        batch.drop_column("degraded")
    with op.batch_alter_table("mentions") as batch:
        batch.drop_column("quoted_key")
