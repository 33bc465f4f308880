"""failed_events: events the projector set apart, so that no single event stops it or a replay
(hub/pipeline/isolation.py; `hub failed list` and `hub failed retry`).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "failed_events",
        sa.Column("hub_id", sa.String(length=36), nullable=False),
        sa.Column("family_id", sa.String(length=64), nullable=False),
        sa.Column("first_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("error_type", sa.String(length=64), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("hub_id"),
        if_not_exists=True,  # a data folder adopted by the baseline may have it already
    )
    op.create_index(
        op.f("ix_failed_events_family_id"),
        "failed_events",
        ["family_id"],
        unique=False,
        if_not_exists=True,
    )
    op.create_index(
        op.f("ix_failed_events_status"),
        "failed_events",
        ["status"],
        unique=False,
        if_not_exists=True,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_failed_events_status"), table_name="failed_events")
    op.drop_index(op.f("ix_failed_events_family_id"), table_name="failed_events")
    op.drop_table("failed_events")
