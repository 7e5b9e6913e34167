"""Issues: the size at which an issue was last checked for a split; splits in the change log;
the index of posts by issue leaves out the posts in none

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_COMMENTS = {  # issue_changes column -> (type, comment before, comment now)
    "change": (sa.String(length=20), "merged | renamed", "merged | renamed | split"),
    "other_id": (
        sa.String(length=40),
        "the issue it was merged into",
        "the issue it was merged into, or the one split off it",
    ),
    "detail": (
        sa.String(length=200),
        "new label, or the similarity that merged",
        "new label, the similarity that merged, or what was split off",
    ),
}


def _comment(now: int) -> None:
    with op.batch_alter_table("issue_changes") as batch:
        for column, (kind, *comments) in _COMMENTS.items():
            batch.alter_column(column, existing_type=kind, comment=comments[now], existing_comment=comments[1 - now])


def _index_issue_id(partial: bool) -> None:
    op.drop_index("ix_enrichments_issue_id", table_name="enrichments")
    where = sa.text("issue_id IS NOT NULL") if partial else None
    op.create_index("ix_enrichments_issue_id", "enrichments", ["issue_id"], sqlite_where=where, postgresql_where=where)


def upgrade() -> None:
    _comment(now=1)
    _index_issue_id(partial=True)
    with op.batch_alter_table("issues") as batch:
        batch.add_column(
            sa.Column(
                "reviewed_size",
                sa.Integer(),
                nullable=False,
                server_default="0",
                comment="its size when last checked for a split",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("issues") as batch:
        batch.drop_column("reviewed_size")
    _index_issue_id(partial=False)
    _comment(now=0)
