"""Building the audit store from the hub's settings: tables and triggers, signing key, publisher.

Used by the API (hub.bootstrap.build_services) and the `hub audit` and `hub ig`
commands, so all write the same checkpoints with the same key. It lives in hub, not in audit:
audit never imports hub (the hub's settings, key files and Kafka tuning are passed in here).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from audit.checkpoint import CheckpointSigner
from audit.errors import CheckpointError
from audit.publish import AUDIT_CHECKPOINTS, KafkaCheckpointPublisher
from audit.schema import create_audit_schema
from audit.store import SqlAuditStore
from hub.adapters.crypto.keys import load_or_create_key
from hub.adapters.kafka.security import KafkaSecurity
from hub.adapters.sql.audit_index import SqlAuditIndex
from hub.adapters.sql.db import create_schema
from hub.contract.kafka_clients import producer_tuning
from hub.settings import Settings


def signing_key_path(settings: Settings) -> Path:
    """The checkpoint signing key (an Ed25519 seed, mode 0600): HUB_AUDIT_SIGNING_KEY_FILE, or
    the data directory's."""
    return settings.audit_signing_key_file or settings.effective_key_dir / "audit-checkpoint.key"


def load_or_create_signer(path: Path) -> CheckpointSigner:
    """The signing key at path, created on first use (mode 0600, never overwritten)."""
    try:
        return CheckpointSigner.from_seed(load_or_create_key(path, 32))
    except ValueError as exc:
        raise CheckpointError(str(exc)) from None


def load_signer(path: Path) -> CheckpointSigner | None:
    """The signing key at path, or None if there is none yet (never creates one)."""
    return load_or_create_signer(path) if path.exists() else None


def checkpoint_publisher(settings: Settings) -> KafkaCheckpointPublisher | None:
    if not settings.kafka_bootstrap:
        return None
    return KafkaCheckpointPublisher(
        settings.kafka_bootstrap,
        settings.topic(AUDIT_CHECKPOINTS),
        producer_tuning(settings.embedded_broker),
        KafkaSecurity.from_settings(settings).kafka_python(),
    )


def open_audit_store(settings: Settings, engine: Engine, *, publish: bool = True) -> SqlAuditStore:
    """The audit store, ready to append: tables, triggers and head row exist, key loaded.

    publish: hand new checkpoints to Kafka in the background (when HUB_KAFKA_BOOTSTRAP is set).
    Each record is indexed for IG searches as it is appended; records from before the index
    (or from a process without it) are indexed here first.
    """
    create_schema(engine)  # the IG index's tables are the hub's (cheap when current)
    create_audit_schema(engine)
    index = SqlAuditIndex(engine)
    store = SqlAuditStore(
        engine,
        signer=load_or_create_signer(signing_key_path(settings)),
        checkpoint_every=settings.audit_checkpoint_every,
        publisher=checkpoint_publisher(settings) if publish else None,
        indexer=index,
    )
    store.ensure_head()
    index.catch_up()
    return store
