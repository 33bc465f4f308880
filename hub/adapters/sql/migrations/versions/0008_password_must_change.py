"""A temporary password must be changed: principals.password_must_change, set when an
administrator gives a person a temporary password, cleared when they choose their own.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A data folder from before migrations may have it already (0001 adopts it as is).
    if "password_must_change" in {
        c["name"] for c in sa.inspect(op.get_bind()).get_columns("principals")
    }:
        return
    with op.batch_alter_table("principals") as batch:  # SQLite: batch rebuilds the table
        batch.add_column(
            sa.Column(
                "password_must_change", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("principals") as batch:
        batch.drop_column("password_must_change")
