"""People log in to the web pages: password hash, failed attempts, lock-out and a disabled
flag on principals, and the web_sessions table.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


_COLUMNS: list[sa.Column[Any]] = [
    sa.Column("password_hash", sa.String(length=200), nullable=True),
    sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
    sa.Column("login_disabled", sa.Boolean(), nullable=False, server_default=sa.false()),
]


def upgrade() -> None:
    # A data folder from before migrations may have these already (0001 adopts it as is).
    have = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("principals")}
    missing = [c for c in _COLUMNS if c.name not in have]
    if missing:
        with op.batch_alter_table("principals") as batch:  # SQLite: batch rebuilds the table
            for column in missing:
                batch.add_column(column)
    op.create_table(
        "web_sessions",
        sa.Column("session_hash", sa.String(length=64), nullable=False),
        sa.Column("principal_id", sa.String(length=64), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("session_hash"),
        if_not_exists=True,
    )
    op.create_index(
        op.f("ix_web_sessions_principal_id"), "web_sessions", ["principal_id"], unique=False,
        if_not_exists=True,
    )  # fmt: skip


def downgrade() -> None:
    op.drop_index(op.f("ix_web_sessions_principal_id"), table_name="web_sessions")
    op.drop_table("web_sessions")
    with op.batch_alter_table("principals") as batch:
        for column in ("login_disabled", "locked_until", "failed_logins", "password_hash"):
            batch.drop_column(column)
