"""The IG index of the audit log: audit_index, audit_index_subjects, audit_index_bases.

Empty when made; hub.adapters.sql.audit_index.SqlAuditIndex.catch_up back-fills it from
audit_records at start (the audit tables are not Alembic's, so this migration cannot assume
they exist yet).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_BY = ("principal_id", "role", "agency_id", "purpose", "decision")


def upgrade() -> None:
    op.create_table(
        "audit_index",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("principal_id", sa.String(length=64), nullable=True),
        sa.Column("role", sa.String(length=40), nullable=True),
        sa.Column("agency_id", sa.String(length=64), nullable=True),
        sa.Column("purpose", sa.String(length=64), nullable=True),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("record_id"),
        if_not_exists=True,  # 0001 adopts a pre-migration folder with today's tables
    )
    op.create_index("ix_audit_index_at", "audit_index", ["at", "seq"], if_not_exists=True)
    for column in _BY:
        op.create_index(
            f"ix_audit_index_{column}", "audit_index", [column, "at", "seq"], if_not_exists=True
        )
    for table, key, length in (("audit_index_subjects", "token", 64),
                               ("audit_index_bases", "basis", 80)):  # fmt: skip
        op.create_table(
            table,
            sa.Column(key, sa.String(length=length), nullable=False),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
            sa.PrimaryKeyConstraint(key, "at", "seq"),
            if_not_exists=True,
        )
    op.create_index(
        "ix_audit_index_subjects_seq", "audit_index_subjects", ["seq"], if_not_exists=True
    )


def downgrade() -> None:
    op.drop_table("audit_index_bases")
    op.drop_index("ix_audit_index_subjects_seq", table_name="audit_index_subjects")
    op.drop_table("audit_index_subjects")
    for column in (*_BY, "at"):
        op.drop_index(f"ix_audit_index_{column}", table_name="audit_index")
    op.drop_table("audit_index")
