"""Issues: embedding centroid, embedder, typical examples; the issue_changes log

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("issues") as batch:
        batch.add_column(
            sa.Column(
                "centroid", sa.LargeBinary(), nullable=True, comment="float32 mean of the members' unit embeddings"
            )
        )
        batch.add_column(
            sa.Column(
                "embedder",
                sa.String(length=60),
                nullable=False,
                server_default="",
                comment="which embedder the centroid comes from",
            )
        )
        batch.add_column(
            sa.Column("examples", sa.JSON(), nullable=False, server_default="[]", comment="the most typical posts")
        )
    op.create_table(
        "issue_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issue_id", sa.String(length=40), nullable=False),
        sa.Column("change", sa.String(length=20), nullable=False, comment="merged | renamed"),
        sa.Column("other_id", sa.String(length=40), nullable=True, comment="the issue it was merged into"),
        sa.Column("detail", sa.String(length=200), nullable=True, comment="new label, or the similarity that merged"),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("issue_changes")
    with op.batch_alter_table("issues") as batch:
        batch.drop_column("examples")
        batch.drop_column("embedder")
        batch.drop_column("centroid")
