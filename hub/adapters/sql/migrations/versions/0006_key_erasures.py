"""A count of subject-key erasures, so every process can cache data keys and still drop
them the moment any process erases one (hub/adapters/crypto/ciphers.py).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A data folder from before migrations may have the table already (0001 adopts it).
    op.create_table(
        "key_erasures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        if_not_exists=True,
    )
    op.execute(
        "INSERT INTO key_erasures (id, count) SELECT 1, 0 "
        "WHERE NOT EXISTS (SELECT 1 FROM key_erasures WHERE id = 1)"
    )


def downgrade() -> None:
    op.drop_table("key_erasures")
