"""Cascades: the interval around the predicted final size, whether it is uncertain, and the
spread prior learned from the store's finished cascades

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cascades") as batch:
        batch.add_column(
            sa.Column(
                "predicted_low",
                sa.Float(),
                nullable=True,
                comment="low end of the 90% interval around predicted_final",
            )
        )
        batch.add_column(sa.Column("predicted_high", sa.Float(), nullable=True, comment="high end of that interval"))
        batch.add_column(
            sa.Column(
                "prediction_uncertain", sa.Boolean(), nullable=True, comment="the forecast is too loose to act on"
            )
        )
    op.create_table(
        "spread_priors",
        sa.Column("key", sa.String(40), primary_key=True, comment="whose history: 'store'"),
        sa.Column(
            "prior", sa.JSON(), nullable=False, comment="reputation.spread.prior.Prior as JSON: the cells learned"
        ),
        sa.Column("learned_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("spread_priors")
    with op.batch_alter_table("cascades") as batch:
        batch.drop_column("prediction_uncertain")
        batch.drop_column("predicted_high")
        batch.drop_column("predicted_low")
