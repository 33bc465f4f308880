"""A family is the victim's case: the cases a perpetrator belongs to (case_members).

Families made before this revision joined two victims of one perpetrator into one family;
`hub replay` relinks every stored event and splits them into cases (docs/rules.md).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_members",
        sa.Column("family_id", sa.String(length=64), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("family_id", "token"),
        if_not_exists=True,
    )
    op.create_index(
        "ix_case_members_token", "case_members", ["token"], unique=False, if_not_exists=True
    )


def downgrade() -> None:
    op.drop_index("ix_case_members_token", table_name="case_members")
    op.drop_table("case_members")
