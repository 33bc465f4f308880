"""Settings of the hub, read once from the environment by an entry point and passed down.

Every setting is documented here and in the README's table; nothing reads the environment
at import time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path


class SettingsError(ValueError):
    """A setting has a value the hub cannot use; the message names the variable and the fix."""


@dataclass(frozen=True)
class Settings:
    # HUB_DATA_DIR: where the SQLite database, keys and embedded-broker logs live.
    data_dir: Path = Path(".hub-data")
    # HUB_DATABASE_URL: SQLAlchemy URL; default SQLite file under the data directory.
    # PostgreSQL: postgresql+psycopg://user@host:5432/dbname
    database_url: str = ""
    # HUB_KAFKA_BOOTSTRAP: host:port[,host:port]. Unset: the hub starts its embedded broker.
    kafka_bootstrap: str = ""
    # HUB_EMBEDDED_BROKER_PORT: loopback port for the embedded broker (0 = pick a free one).
    embedded_broker_port: int = 0
    # HUB_API_HOST / HUB_API_PORT: where the API listens (loopback by default).
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    # HUB_TOPIC_PARTITIONS: partitions of hub.events.v1 (ordering is per victim key).
    topic_partitions: int = 4
    # HUB_TOPIC_PREFIX: prepended to every topic name (tests use a unique one each).
    topic_prefix: str = ""
    # HUB_FUTURE_TOLERANCE_SECONDS: how far in the future an event time may lie (clock skew).
    future_tolerance_seconds: int = 300
    # HUB_CLOCK_CHECK_SECONDS: how often the API looks for deadlines (first contact overdue,
    # next school day) that have passed, and then records a hub.clock.ticked event: time
    # rules run on those stored ticks, never on the wall clock, so a replay agrees.
    clock_check_seconds: float = 30.0
    # HUB_RELAY_POLL_SECONDS: how often the outbox relay looks for rows written elsewhere.
    relay_poll_seconds: float = 0.2
    # HUB_MASTER_KEY_FILE: the 32-byte master key wrapping subject data keys; default
    # <data dir>/keys/master.key, generated on first start (mode 0600).
    master_key_file: Path | None = None
    # HUB_MAX_BATCH_EVENTS: most events accepted in one POST /v1/events:batch.
    max_batch_events: int = 1000
    # HUB_MAX_EVENT_BYTES: largest single event accepted (HTTP body or Kafka message).
    max_event_bytes: int = 64 * 1024
    # HUB_SHARING_POLICY_FILE: the sharing policy (TOML); default the packaged
    # consent/data/sharing_policy.toml. Checked at start: a bad file stops the hub.
    sharing_policy_file: Path | None = None
    # HUB_RULES_FILE: the rule settings per Marac area (TOML: thresholds, windows, agencies,
    # holidays); default the packaged hub/data/areas.toml. `hub rules show` prints the
    # settings in force. Checked at start: a bad file stops the hub, naming the line.
    rules_file: Path | None = None
    # HUB_AUDIT_CHECKPOINT_EVERY: the audit store signs a checkpoint (Merkle root and chain
    # head, Ed25519) every this many records; `hub audit checkpoint` signs one at any time.
    # Records after the newest checkpoint are the ones a database editor could drop unseen.
    audit_checkpoint_every: int = 1000
    # HUB_AUDIT_SIGNING_KEY_FILE: the Ed25519 seed that signs audit checkpoints (mode 0600);
    # default <data dir>/keys/audit-checkpoint.key. Several API processes sharing one database
    # must share this file, so the log has one signer.
    audit_signing_key_file: Path | None = None
    # HUB_LOG_LEVEL: python logging level name.
    log_level: str = "INFO"
    # Set by the hub itself when it runs the embedded broker (Tansu needs client tuning).
    embedded_broker: bool = field(default=False)

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'hub.db').resolve()}"

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"

    def with_bootstrap(self, bootstrap: str, *, embedded: bool) -> Settings:
        return replace(self, kafka_bootstrap=bootstrap, embedded_broker=embedded)


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(
            f"{name}={raw!r} is not a whole number; set it to e.g. {default}"
        ) from None


def _float(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number; set it to e.g. {default}") from None


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Build settings from the environment (or the mapping given, for tests)."""
    env = dict(os.environ if env is None else env)
    s = Settings(
        data_dir=Path(env.get("HUB_DATA_DIR") or ".hub-data"),
        database_url=env.get("HUB_DATABASE_URL", ""),
        kafka_bootstrap=env.get("HUB_KAFKA_BOOTSTRAP", ""),
        embedded_broker_port=_int(env, "HUB_EMBEDDED_BROKER_PORT", 0),
        api_host=env.get("HUB_API_HOST") or "127.0.0.1",
        api_port=_int(env, "HUB_API_PORT", 8000),
        topic_partitions=_int(env, "HUB_TOPIC_PARTITIONS", 4),
        topic_prefix=env.get("HUB_TOPIC_PREFIX", ""),
        future_tolerance_seconds=_int(env, "HUB_FUTURE_TOLERANCE_SECONDS", 300),
        clock_check_seconds=_float(env, "HUB_CLOCK_CHECK_SECONDS", 30.0),
        relay_poll_seconds=_float(env, "HUB_RELAY_POLL_SECONDS", 0.2),
        master_key_file=Path(env["HUB_MASTER_KEY_FILE"])
        if env.get("HUB_MASTER_KEY_FILE")
        else None,
        max_batch_events=_int(env, "HUB_MAX_BATCH_EVENTS", 1000),
        sharing_policy_file=(
            Path(env["HUB_SHARING_POLICY_FILE"]) if env.get("HUB_SHARING_POLICY_FILE") else None
        ),
        rules_file=Path(env["HUB_RULES_FILE"]) if env.get("HUB_RULES_FILE") else None,
        max_event_bytes=_int(env, "HUB_MAX_EVENT_BYTES", 64 * 1024),
        audit_checkpoint_every=_int(env, "HUB_AUDIT_CHECKPOINT_EVERY", 1000),
        audit_signing_key_file=(
            Path(env["HUB_AUDIT_SIGNING_KEY_FILE"])
            if env.get("HUB_AUDIT_SIGNING_KEY_FILE")
            else None
        ),
        log_level=(env.get("HUB_LOG_LEVEL") or "INFO").upper(),
        embedded_broker=env.get("HUB_EMBEDDED_BROKER") == "1",
    )
    if s.clock_check_seconds <= 0:
        raise SettingsError(f"HUB_CLOCK_CHECK_SECONDS={s.clock_check_seconds} must be more than 0")
    if s.topic_partitions < 1:
        raise SettingsError("HUB_TOPIC_PARTITIONS must be at least 1")
    if s.audit_checkpoint_every < 1:
        raise SettingsError(
            f"HUB_AUDIT_CHECKPOINT_EVERY={s.audit_checkpoint_every} must be at least 1 "
            "(records between signed checkpoints; e.g. 1000)"
        )
    return s
