"""Each agency's Kafka egress cursor (feed_egress): where hub.out.<agency>.v1 has got to.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feed_egress",
        sa.Column("agency_id", sa.String(length=64), nullable=False),
        sa.Column("cursor", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("agency_id"),
        if_not_exists=True,
    )


def downgrade() -> None:
    op.drop_table("feed_egress")
