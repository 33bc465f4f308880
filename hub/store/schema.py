"""SQL tables of the hub: event store and outbox, principals, read models.

The audit tables are audit.schema's (with their append-only triggers).

Portable across SQLite and PostgreSQL: no dialect-specific types.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

# BigInteger ids on PostgreSQL, INTEGER PRIMARY KEY (rowid) on SQLite.
SeqId = BigInteger().with_variant(Integer(), "sqlite")

events = Table(
    "events",
    metadata,
    Column("seq", SeqId, primary_key=True, autoincrement=True),
    Column("hub_id", String(36), nullable=False, unique=True),
    Column("agency_id", String(64), nullable=False),
    Column("source_id", String(128), nullable=False),
    Column("type", String(64), nullable=False),
    Column("event_time", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("partition_key", String(64), nullable=False, index=True),
    Column("content_hash", String(64), nullable=False),
    Column("body", Text, nullable=False),
    UniqueConstraint("agency_id", "source_id", name="uq_events_agency_source"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("seq", SeqId, primary_key=True, autoincrement=True),
    Column("event_seq", BigInteger, nullable=False, unique=True),
    Column("topic", String(200), nullable=False),
    Column("key", String(64), nullable=False),
    Column("value", Text, nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=True, index=True),
)

principals = Table(
    "principals",
    metadata,
    Column("principal_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),  # agency_system | person
    Column("role", String(64), nullable=False),  # agency type or person role
    Column("agency_id", String(64), nullable=True),
    Column("key_id", String(32), nullable=False, unique=True),
    Column("key_hash", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)

# Public Ed25519 keys agency systems sign Kafka-direct messages with (hub/kafka/signing.py).
# Only the public half is kept; an agency may hold more than one active key while rotating.
signing_keys = Table(
    "signing_keys",
    metadata,
    Column("key_id", String(32), primary_key=True),
    Column("agency_id", String(64), nullable=False, index=True),
    Column("public_key", String(64), nullable=False),  # base64 of the 32 raw bytes
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)

victim_projections = Table(
    "victim_projections",
    metadata,
    Column("victim_token", String(64), primary_key=True),
    Column("state", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Tracking rows: which events a consumer has applied, written with the effect.
processed_events = Table(
    "processed_events",
    metadata,
    Column("consumer", String(64), primary_key=True),
    Column("hub_id", String(36), primary_key=True),
)

alerts = Table(
    "alerts",
    metadata,
    Column("alert_id", String(36), primary_key=True),
    Column("rule", String(64), nullable=False),
    Column("victim_token", String(64), nullable=False, index=True),
    Column("subject_tokens", Text, nullable=False),
    Column("triggering_event_ids", Text, nullable=False),
    Column("event_time", DateTime(timezone=True), nullable=False),
    Column("raised_at", DateTime(timezone=True), nullable=False),
    Column("reason", Text, nullable=False),
    Column("recommended_action", Text, nullable=False),
    Column("lawful_basis", String(32), nullable=True),
    Column("status", String(16), nullable=False),
)

# Per-subject data keys for sensitive fields, wrapped by the master key. Erasing a subject
# clears its wrapped key: everything encrypted under it becomes unreadable (crypto-shredding).
subject_keys = Table(
    "subject_keys",
    metadata,
    Column("token", String(64), primary_key=True),
    Column("wrapped_key", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("erased_at", DateTime(timezone=True), nullable=True),
)

# Requests for more than "involvement only": a practitioner asks the holding agency (or the
# Marac chair) to see items about a subject; the answer is recorded and audited.
access_requests = Table(
    "access_requests",
    metadata,
    Column("request_id", String(36), primary_key=True),
    Column("requester_id", String(64), nullable=False, index=True),
    Column("requester_role", String(64), nullable=False),
    Column("requester_agency", String(64), nullable=True),
    Column("subject", String(64), nullable=False),
    Column("item_ids", Text, nullable=False),  # JSON list of hub ids
    Column("holding_agency", String(64), nullable=False, index=True),
    Column("purpose", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("status", String(16), nullable=False),  # open | granted | refused
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("decided_by", String(64), nullable=True),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    Column("decision_reason", Text, nullable=True),
)
