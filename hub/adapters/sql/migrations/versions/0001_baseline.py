"""The hub's tables as they stood when migrations began (baseline).

Data folders made before migrations have some or all of these tables without an
alembic_version row; this revision adopts them: read models from before families (session 1)
are dropped, to be made again by `hub replay`, principals gains its area column, and every
missing table or index is created (if_not_exists), so it is safe on an empty database, a
current one and an old one alike.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

log = logging.getLogger("hub.adapters.sql.migrations")

# Derived tables from before families: dropped and made again (`hub replay` refills them).
_OLD_DERIVED = ("victim_projections", "alerts")


def _adopt_pre_migration_tables() -> None:
    tables = sa.inspect(op.get_bind())
    names = set(tables.get_table_names())
    if "alerts" in names and "family_id" not in {c["name"] for c in tables.get_columns("alerts")}:
        log.warning("read models predate families: dropping them; run `hub replay` to rebuild")
        for table in _OLD_DERIVED:
            op.drop_table(table, if_exists=True)
    if "principals" in names and "area" not in {
        c["name"] for c in tables.get_columns("principals")
    }:
        op.add_column("principals", sa.Column("area", sa.String(length=64), nullable=True))


def upgrade() -> None:
    _adopt_pre_migration_tables()
    op.create_table(
        "access_requests",
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("requester_id", sa.String(length=64), nullable=False),
        sa.Column("requester_role", sa.String(length=64), nullable=False),
        sa.Column("requester_agency", sa.String(length=64), nullable=True),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("item_ids", sa.Text(), nullable=False),
        sa.Column("holding_agency", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("request_id"),
        if_not_exists=True,
    )
    op.create_index(
        op.f("ix_access_requests_holding_agency"),
        "access_requests",
        ["holding_agency"],
        unique=False,
        if_not_exists=True,
    )
    op.create_index(
        op.f("ix_access_requests_requester_id"),
        "access_requests",
        ["requester_id"],
        unique=False,
        if_not_exists=True,
    )
    op.create_table(
        "alerts",
        sa.Column("alert_id", sa.String(length=36), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("family_id", sa.String(length=64), nullable=False),
        sa.Column("area", sa.String(length=64), nullable=False),
        sa.Column("victim_token", sa.String(length=64), nullable=False),
        sa.Column("person_ids", sa.Text(), nullable=False),
        sa.Column("subject_tokens", sa.Text(), nullable=False),
        sa.Column("triggering_event_ids", sa.Text(), nullable=False),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recommended_action", sa.Text(), nullable=False),
        sa.Column("lawful_basis", sa.String(length=32), nullable=True),
        sa.Column("due", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_detail", sa.Text(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("alert_id"),
        if_not_exists=True,
    )
    op.create_index(op.f("ix_alerts_area"), "alerts", ["area"], unique=False, if_not_exists=True)
    op.create_index(
        op.f("ix_alerts_event_time"), "alerts", ["event_time"], unique=False, if_not_exists=True
    )
    op.create_index(
        op.f("ix_alerts_family_id"), "alerts", ["family_id"], unique=False, if_not_exists=True
    )
    op.create_index(op.f("ix_alerts_rule"), "alerts", ["rule"], unique=False, if_not_exists=True)
    op.create_index(
        op.f("ix_alerts_updated_at"), "alerts", ["updated_at"], unique=False, if_not_exists=True
    )
    op.create_index(
        op.f("ix_alerts_victim_token"), "alerts", ["victim_token"], unique=False, if_not_exists=True
    )
    op.create_table(
        "clock",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
        if_not_exists=True,
    )
    op.create_table(
        "counters",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
        if_not_exists=True,
    )
    op.create_table(
        "event_tokens",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("token", "seq"),
        if_not_exists=True,
    )
    op.create_table(
        "events",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("hub_id", sa.String(length=36), nullable=False),
        sa.Column("agency_id", sa.String(length=64), nullable=False),
        sa.Column("source_id", sa.String(length=128), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("partition_key", sa.String(length=64), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("agency_id", "source_id", name="uq_events_agency_source"),
        sa.UniqueConstraint("hub_id"),
        if_not_exists=True,
    )
    op.create_index(
        op.f("ix_events_partition_key"),
        "events",
        ["partition_key"],
        unique=False,
        if_not_exists=True,
    )
    op.create_table(
        "family_projections",
        sa.Column("family_id", sa.String(length=64), nullable=False),
        sa.Column("membership", sa.String(length=64), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("next_due", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("family_id"),
        if_not_exists=True,
    )
    op.create_index(
        op.f("ix_family_projections_next_due"),
        "family_projections",
        ["next_due"],
        unique=False,
        if_not_exists=True,
    )
    op.create_table(
        "family_redirects",
        sa.Column("old_id", sa.String(length=64), nullable=False),
        sa.Column("new_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("old_id"),
        if_not_exists=True,
    )
    op.create_table(
        "identity_edges",
        sa.Column("a", sa.String(length=64), nullable=False),
        sa.Column("b", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("a", "b", "kind", "source"),
        if_not_exists=True,
    )
    op.create_index(
        "ix_identity_edges_b", "identity_edges", ["b"], unique=False, if_not_exists=True
    )
    op.create_table(
        "outbox",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("event_seq", sa.BigInteger(), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("event_seq"),
        if_not_exists=True,
    )
    op.create_index(
        op.f("ix_outbox_published_at"), "outbox", ["published_at"], unique=False, if_not_exists=True
    )
    op.create_table(
        "possible_matches",
        sa.Column("match_id", sa.String(length=36), nullable=False),
        sa.Column("token_a", sa.String(length=64), nullable=False),
        sa.Column("token_b", sa.String(length=64), nullable=False),
        sa.Column("found_seq", sa.BigInteger(), nullable=False),
        sa.Column("found_by", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("match_id"),
        if_not_exists=True,
    )
    op.create_table(
        "principals",
        sa.Column("principal_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("role", sa.String(length=64), nullable=False),
        sa.Column("agency_id", sa.String(length=64), nullable=True),
        sa.Column("area", sa.String(length=64), nullable=True),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("principal_id"),
        sa.UniqueConstraint("key_id"),
        sa.UniqueConstraint("name"),
        if_not_exists=True,
    )
    op.create_table(
        "processed_events",
        sa.Column("consumer", sa.String(length=64), nullable=False),
        sa.Column("hub_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "hub_id"),
        if_not_exists=True,
    )
    op.create_table(
        "signing_keys",
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("agency_id", sa.String(length=64), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key_id"),
        if_not_exists=True,
    )
    op.create_index(
        op.f("ix_signing_keys_agency_id"),
        "signing_keys",
        ["agency_id"],
        unique=False,
        if_not_exists=True,
    )
    op.create_table(
        "subject_keys",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("wrapped_key", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("token"),
        if_not_exists=True,
    )
    op.create_table(
        "subject_tokens",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("first_seq", sa.BigInteger(), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("family_id", sa.String(length=64), nullable=False),
        sa.Column("weak", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("token"),
        if_not_exists=True,
    )
    op.create_index(
        op.f("ix_subject_tokens_family_id"),
        "subject_tokens",
        ["family_id"],
        unique=False,
        if_not_exists=True,
    )
    op.create_index(
        op.f("ix_subject_tokens_person_id"),
        "subject_tokens",
        ["person_id"],
        unique=False,
        if_not_exists=True,
    )
    op.create_index(
        op.f("ix_subject_tokens_weak"), "subject_tokens", ["weak"], unique=False, if_not_exists=True
    )
    op.create_table(
        "subject_vault",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("hub_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("token", "field"),
        if_not_exists=True,
    )


def downgrade() -> None:
    raise NotImplementedError("the baseline is not undone: restore a backup instead")
