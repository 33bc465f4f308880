"""SQL tables of the hub: event store and outbox, principals, read models.

The audit tables are audit.schema's (with their append-only triggers).

Portable across SQLite and PostgreSQL: no dialect-specific types.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
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
    Column("area", String(64), nullable=True),  # a Marac chair's or coordinator's area
    Column("key_id", String(32), nullable=False, unique=True),
    Column("key_hash", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    # People's web login (hub/adapters/sql/logins.py): an argon2 hash, never the password
    Column("password_hash", String(200), nullable=True),
    Column("failed_logins", Integer, nullable=False, server_default="0"),
    Column("locked_until", DateTime(timezone=True), nullable=True),
    Column("login_disabled", Boolean, nullable=False, server_default=false()),
    # a temporary password an administrator gave: no page works until the person changes it
    Column("password_must_change", Boolean, nullable=False, server_default=false()),
)

# A person's web session: the cookie holds a random token, the table only its SHA-256, so a
# copy of the database opens no session. Ended sessions are kept (ended_at) for the record.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("session_hash", String(64), primary_key=True),
    Column("principal_id", String(64), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True), nullable=True),
)

# Public Ed25519 keys agency systems sign Kafka-direct messages with (hub/contract/signing.py).
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

# Tracking rows: which events a consumer has applied, written with the effect.
processed_events = Table(
    "processed_events",
    metadata,
    Column("consumer", String(64), primary_key=True),
    Column("hub_id", String(36), primary_key=True),
)

# One row per alert (rule + condition); a rule that fires again for the same condition updates
# the row. status is derived from the alert lifecycle events in the family's projection.
alerts = Table(
    "alerts",
    metadata,
    Column("alert_id", String(36), primary_key=True),
    Column("rule", String(64), nullable=False, index=True),
    Column("family_id", String(64), nullable=False, index=True),
    Column("area", String(64), nullable=False, index=True),
    Column("victim_token", String(64), nullable=False, index=True),
    Column("person_ids", Text, nullable=False),  # JSON list
    Column("subject_tokens", Text, nullable=False),  # JSON list
    Column("triggering_event_ids", Text, nullable=False),  # JSON list
    Column("event_time", DateTime(timezone=True), nullable=False, index=True),
    Column("raised_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, index=True),
    Column("reason", Text, nullable=False),
    Column("recommended_action", Text, nullable=False),
    Column("lawful_basis", String(32), nullable=True),
    Column("due", DateTime(timezone=True), nullable=True),
    Column("status", String(16), nullable=False),  # new | acknowledged | on_agenda | dismissed
    Column("status_detail", Text, nullable=True),  # JSON: by, at, reason, reopened
    Column("revision", Integer, nullable=False),  # bumped on every change (SSE cursor)
)

# Per-family projections (hub.domain.family), rebuilt whenever the family's membership changes.
family_projections = Table(
    "family_projections",
    metadata,
    Column("family_id", String(64), primary_key=True),
    Column("membership", String(64), nullable=False),  # hash of member tokens it was built for
    Column("state", Text, nullable=False),
    Column("next_due", DateTime(timezone=True), nullable=True, index=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# The clock time rules run on: the latest hub.clock.ticked event processed (never wall clock).
clock = Table(
    "clock",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
)

# Monotonic counters: the alerts' revision (the live stream's cursor). Taken with UPDATE …
# RETURNING in the writer's transaction, so concurrent writers get revisions in commit order.
counters = Table(
    "counters",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

# The person index and family grouping (hub/pipeline/linking.py): derived from the event store
# in store order, rebuilt by replay. Tokens only: identifiers stay in the sealed vault.
subject_tokens = Table(
    "subject_tokens",
    metadata,
    Column("token", String(64), primary_key=True),
    Column("first_seq", BigInteger, nullable=False),
    Column("person_id", String(64), nullable=False, index=True),
    Column("family_id", String(64), nullable=False, index=True),
    Column("weak", String(64), nullable=True, index=True),
)

# Edges between tokens: same_person (identifiers of one subject, confirmed matches) and
# relations between people (partner, parent_child, perpetrator_of: perpetrator first, ...).
identity_edges = Table(
    "identity_edges",
    metadata,
    Column("a", String(64), primary_key=True),
    Column("b", String(64), primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("source", String(36), primary_key=True),  # hub id of the event that made it
    Index("ix_identity_edges_b", "b"),
)

# Which events name which token (family rebuilds and timelines read events through it).
event_tokens = Table(
    "event_tokens",
    metadata,
    Column("token", String(64), primary_key=True),
    Column("seq", BigInteger, primary_key=True),
)

# A perpetrator named only as a perpetrator belongs to the case of every victim he is named
# against (hub.domain.identity): one row per such token and case, his home case included
# (subject_tokens.family_id holds the home case, the earliest).
case_members = Table(
    "case_members",
    metadata,
    Column("family_id", String(64), primary_key=True),
    Column("token", String(64), primary_key=True),
    Index("ix_case_members_token", "token"),
)

family_redirects = Table(
    "family_redirects",
    metadata,
    Column("old_id", String(64), primary_key=True),
    Column("new_id", String(64), nullable=False),
)

# Weak matches (name + date of birth + postcode) never merge silently: a person with the right
# role confirms or rejects, and the decision is an event (hub.identity.*).
possible_matches = Table(
    "possible_matches",
    metadata,
    Column("match_id", String(36), primary_key=True),
    Column("token_a", String(64), nullable=False),
    Column("token_b", String(64), nullable=False),
    Column("found_seq", BigInteger, nullable=False),
    Column("found_by", String(36), nullable=False),  # hub id of the event that raised it
    Column("status", String(16), nullable=False),  # open | confirmed | rejected | undone
    Column("decided_by", String(36), nullable=True),  # hub id of the decision event
)

# Names and dates of birth, sealed under the subject's data key (hub/adapters/crypto/ciphers.py):
# shown only to recipients the policy allows, unreadable after erasure.
subject_vault = Table(
    "subject_vault",
    metadata,
    Column("token", String(64), primary_key=True),
    Column("field", String(32), primary_key=True),
    Column("value", Text, nullable=False),  # sealed JSON
    Column("hub_id", String(36), nullable=False),
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

# One row: how many subject keys were ever erased. Erasing a key adds one in the same
# transaction; a process caching data keys reads it with every use and forgets its cache
# when it moved, so an erased subject's key is never served from any process's cache.
key_erasures = Table(
    "key_erasures",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("count", BigInteger, nullable=False),
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

# Each worker process writes its row every few seconds: /readyz reads the newest beat to tell
# whether any worker is alive (a dead one stops beating; its row stays until it is pruned).
worker_heartbeats = Table(
    "worker_heartbeats",
    metadata,
    Column("worker_id", String(128), primary_key=True),  # host:pid
    Column("beat_at", DateTime(timezone=True), nullable=False, index=True),
)

# Events the projector could not apply (hub/pipeline/isolation.py): set apart so that no single
# event stops the projector or a replay, with the reason (exception type and a message without
# personal data), until an operator retries them (`hub failed retry`). A family with an
# unresolved row needs attention. One row per event: the family it last failed in.
failed_events = Table(
    "failed_events",
    metadata,
    Column("hub_id", String(36), primary_key=True),
    Column("family_id", String(64), nullable=False, index=True),
    Column("first_failed_at", DateTime(timezone=True), nullable=False),
    Column("last_failed_at", DateTime(timezone=True), nullable=False),
    Column("error_type", String(64), nullable=False),
    Column("last_error", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("status", String(16), nullable=False, index=True),  # open | retried | resolved
    Column("resolved_at", DateTime(timezone=True), nullable=True),
)

# Where each agency's Kafka egress (hub.out.<agency>.v1, hub/pipeline/egress.py) has got to in
# its feed: the feed's cursor after the last page published, so a restart resumes there.
feed_egress = Table(
    "feed_egress",
    metadata,
    Column("agency_id", String(64), primary_key=True),
    Column("cursor", String(64), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# The IG index of the audit log (hub/adapters/sql/audit_index.py): one row per audit record
# with the columns an IG officer searches by, so a search reads an index, not the whole log.
# Derived, never the record: written in the same transaction as each record, back-filled at
# start for records from before it existed. Every index ends in (at, seq): a search filters by
# one column and reads newest first without sorting.
audit_index = Table(
    "audit_index",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("record_id", String(36), nullable=False, unique=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("principal_id", String(64), nullable=True),
    Column("role", String(40), nullable=True),
    Column("agency_id", String(64), nullable=True),
    Column("purpose", String(64), nullable=True),
    Column("decision", String(16), nullable=False),  # shared | refused | overridden | other
    Column("outcome", String(40), nullable=False),
    Column("action", String(200), nullable=False),
    Index("ix_audit_index_at", "at", "seq"),
    *(
        Index(f"ix_audit_index_{c}", c, "at", "seq")
        for c in ("principal_id", "role", "agency_id", "purpose", "decision")
    ),
)
# Subjects and lawful bases are lists in a record: one row per value, with the record's time.


def _audit_index_values(name: str, key: str, length: int, *extra: Index) -> Table:
    return Table(
        name,
        metadata,
        Column(key, String(length), primary_key=True),
        Column("at", DateTime(timezone=True), primary_key=True),
        Column("seq", BigInteger, primary_key=True, autoincrement=False),
        *extra,
    )


audit_index_subjects = _audit_index_values(
    "audit_index_subjects", "token", 64,
    Index("ix_audit_index_subjects_seq", "seq"),  # a listing's subjects, by record
)  # fmt: skip
audit_index_bases = _audit_index_values("audit_index_bases", "basis", 80)

# The outbox relay's lease (hub/adapters/sql/lease.py): every API process runs a relay, but
# only the holder of the "outbox" row links and publishes; it renews the row well before
# `expires_at`, and another process's relay takes it once it has lapsed.
relay_lease = Table(
    "relay_lease",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("holder", String(160), nullable=False),  # host:pid:random, of the holding relay
    Column("expires_at", DateTime(timezone=True), nullable=False),
)
