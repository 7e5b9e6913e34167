"""Topics over issues: the topics table, each issue's topic, and each brand's issue grain

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "topics",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("brand", sa.String(length=200), nullable=True),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("label_locked", sa.Boolean(), nullable=False, comment="a human named it"),
        sa.Column("size", sa.Integer(), nullable=False, comment="posts in its issues"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("merged_into", sa.String(length=40), nullable=True),
        sa.Column(
            "centroid", sa.LargeBinary(), nullable=True, comment="float32 size-weighted mean of its issues' centroids"
        ),
        sa.Column("embedder", sa.String(length=60), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "issue_granularity",
        sa.Column("brand", sa.String(length=200), nullable=False, comment="empty for mentions of no brand"),
        sa.Column("embedder", sa.String(length=60), nullable=False),
        sa.Column("join_similarity", sa.Float(), nullable=False, comment="chosen from the brand's first complaints"),
        sa.Column("chosen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("brand", "embedder"),
    )
    with op.batch_alter_table("issues") as batch:
        batch.add_column(
            sa.Column(
                "topic_id",
                sa.String(length=40),
                nullable=True,
                comment="the topic it belongs to; null while unsorted (too few posts)",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("issues") as batch:
        batch.drop_column("topic_id")
    op.drop_table("issue_granularity")
    op.drop_table("topics")
