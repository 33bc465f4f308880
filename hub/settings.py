"""Settings of the hub: one pydantic-settings model, read once from the environment (HUB_*)
by an entry point (``load_settings``) and passed down.

Each setting is documented once, in its Field description (the README's table names each
one for operators; a test checks it names them all). Constructing ``Settings(...)`` reads
nothing from the environment: only ``load_settings`` does, so tests and children see exactly
what they are given.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

PREFIX = "HUB_"


class SettingsError(ValueError):
    """A setting has a value the hub cannot use; the message names the variable and the fix."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=PREFIX, env_ignore_empty=True, extra="ignore", frozen=True
    )

    data_dir: Path = Field(
        Path(".hub-data"),
        description="Where the SQLite database, keys and embedded-broker logs live.",
    )
    database_url: str = Field(
        "",
        description="SQLAlchemy URL; empty: a SQLite file under the data directory. "
        "PostgreSQL: postgresql+psycopg://user@host:5432/dbname",
    )
    kafka_bootstrap: str = Field(
        "", description="host:port[,host:port]. Empty: the hub starts its embedded broker."
    )
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT",
        description="How the hub's Kafka clients connect: PLAINTEXT (the embedded broker), SSL "
        "(TLS; with HUB_KAFKA_SSL_CERTFILE, mutual TLS), SASL_SSL (TLS and SASL/SCRAM) or "
        "SASL_PLAINTEXT. docs/operations.md, 'Kafka security'.",
    )
    kafka_ssl_cafile: Path | None = Field(
        None, description="The CA that signed the brokers' certificates; default the system's."
    )
    kafka_ssl_certfile: Path | None = Field(
        None, description="This component's client certificate (PEM) for mutual TLS."
    )
    kafka_ssl_keyfile: Path | None = Field(
        None, description="The private key (PEM) of HUB_KAFKA_SSL_CERTFILE."
    )
    kafka_sasl_mechanism: Literal["SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"] = Field(
        "SCRAM-SHA-512", description="The SASL mechanism, with SASL_SSL or SASL_PLAINTEXT."
    )
    kafka_sasl_username: str = Field(
        "", description="This component's SASL user (one per component: api, worker, admin)."
    )
    kafka_sasl_password_file: Path | None = Field(
        None,
        description="A file holding the SASL password (a mounted secret; never an environment "
        "variable, which child processes and crash reports can show).",
    )
    embedded_broker_port: int = Field(
        0, ge=0, description="Loopback port for the embedded broker (0 = pick a free one)."
    )
    api_host: str = Field("127.0.0.1", description="Where the API listens (loopback by default).")
    api_port: int = Field(8000, ge=0, description="The API's port.")
    topic_partitions: int = Field(
        4, ge=1, description="Partitions of hub.events.v1 (ordering is per family key)."
    )
    topic_prefix: str = Field(
        "", description="Prepended to every topic name (tests use a unique one each)."
    )
    future_tolerance_seconds: int = Field(
        300, description="How far in the future an event time may lie (clock skew)."
    )
    clock_check_seconds: float = Field(
        30.0,
        gt=0,
        description="How often the API looks for deadlines (first contact overdue, next "
        "school day) that have passed, and then records a hub.clock.ticked event: time rules "
        "run on those stored ticks, never on the wall clock, so a replay agrees.",
    )
    relay_poll_seconds: float = Field(
        0.2, gt=0, description="How often the outbox relay looks for rows written elsewhere."
    )
    relay_lease_seconds: float = Field(
        30.0,
        ge=1,
        description="The outbox relay's lease in the database: of several API processes on one "
        "store, only the holder links and publishes; it renews every third of this, and another "
        "process's relay takes over once it has lapsed (at once after an orderly stop). Keep "
        "it well above the hosts' clock skew.",
    )
    key_dir: Path | None = Field(
        None,
        description="Where the hub's secret keys live (0700; each key 0600), apart from the "
        "database if you wish (another volume, a secrets mount); default <data dir>/keys.",
    )
    master_key_file: Path | None = Field(
        None,
        description="The 32-byte master key wrapping subject data keys; default "
        "<key dir>/master.key, generated on first start (mode 0600).",
    )
    max_batch_events: int = Field(
        1000, ge=1, description="Most events accepted in one POST /v1/events:batch."
    )
    max_event_bytes: int = Field(
        64 * 1024, ge=1, description="Largest single event accepted (HTTP body or Kafka message)."
    )
    sharing_policy_file: Path | None = Field(
        None,
        description="The sharing policy (TOML); default the packaged "
        "consent/data/sharing_policy.toml. Checked at start: a bad file stops the hub.",
    )
    rules_file: Path | None = Field(
        None,
        description="The rule settings per Marac area (TOML: thresholds, windows, agencies, "
        "holidays); default the packaged hub/data/areas.toml. `hub rules show` prints the "
        "settings in force. Checked at start: a bad file stops the hub, naming the line.",
    )
    audit_checkpoint_every: int = Field(
        1000,
        ge=1,
        description="The audit store signs a checkpoint (Merkle root and chain head, Ed25519) "
        "every this many records; `hub audit checkpoint` signs one at any time. Records after "
        "the newest checkpoint are the ones a database editor could drop unseen.",
    )
    audit_signing_key_file: Path | None = Field(
        None,
        description="The Ed25519 seed that signs audit checkpoints (mode 0600); default "
        "<data dir>/keys/audit-checkpoint.key. Several API processes sharing one database "
        "must share this file, so the log has one signer.",
    )
    web_assets_dir: Path | None = Field(
        None,
        description="GOV.UK Frontend's compiled files (its dist/govuk folder), served to the "
        "web pages; default node_modules/govuk-frontend/dist/govuk in the source tree, "
        "installed by `make venv` (npm ci). Checked at start.",
    )
    web_session_idle_minutes: float = Field(
        30.0, gt=0, description="A person's web session ends after this long without a request."
    )
    web_session_max_hours: float = Field(
        12.0, gt=0, description="A web session ends this long after logging in, however busy."
    )
    web_login_max_failures: int = Field(
        5, ge=1, description="Wrong passwords in a row that lock a person's login."
    )
    web_lockout_minutes: float = Field(
        15.0, gt=0, description="How long a login stays locked after too many wrong passwords."
    )
    ig_name_resolvers: str = Field(
        "",
        description="Login names, comma-separated, of the IG officers who may find a person's "
        "subject tokens by name, date of birth and postcode, or by NHS number, PNC id or local "
        "authority id (/ig/find), e.g. to answer a subject access request. Each resolution "
        "is written to the audit log (the tokens found, never what was typed). Empty: nobody; "
        "IG officers then search by subject token only.",
    )
    log_level: str = Field("INFO", description="Python logging level name.")
    log_format: Literal["text", "json"] = Field(
        "text",
        description="How log lines are written: text (one readable line) or json (one JSON "
        "object per line: time, level, logger, message; for a log collector). Neither "
        "ever holds a name or an identifier in clear: the hub logs tokens and ids only.",
    )
    readiness_interval_seconds: float = Field(
        5.0,
        gt=0,
        description="How often the API runs the readiness checks (database, broker, worker, "
        "lags) that /readyz and the lag gauges of /metrics answer from: an outage or a "
        "recovery shows within about this long.",
    )
    ready_relay_lag_seconds: float = Field(
        30.0,
        gt=0,
        description="/readyz fails while the oldest event not yet published to Kafka is older "
        "than this (after a broker is refilled, until the refill is done).",
    )
    ready_worker_lag_seconds: float = Field(
        60.0,
        gt=0,
        description="/readyz fails while the oldest published event the worker has not "
        "applied is older than this.",
    )
    worker_metrics_port: int = Field(
        0,
        ge=0,
        le=65535,
        description="Port on which `hub worker` serves its Prometheus metrics at /metrics "
        "(alerts raised by rule, alert latency, Kafka-direct ingress outcomes); 0 = none. "
        "The API serves its own at GET /metrics on its port.",
    )
    egress_agencies: str = Field(
        "",
        description="Agency ids, comma-separated, whose feed the API also publishes to Kafka "
        "(hub.out.<agency>.v1, docs/feed.md); empty: none. Every agency can read its feed at "
        "GET /v1/feed.",
    )
    egress_poll_seconds: float = Field(
        1.0, gt=0, description="How often the Kafka egress looks for new feed items."
    )
    embedded_broker: bool = Field(
        False,
        description="Set by the hub itself for its children when it runs the embedded broker "
        "(Tansu needs client tuning).",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Only what the caller passes: load_settings is the one reader of the environment.
        return (init_settings,)

    @field_validator("log_level")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @property
    def effective_key_dir(self) -> Path:
        return self.key_dir or self.data_dir / "keys"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'hub.db').resolve()}"

    @property
    def name_resolvers(self) -> frozenset[str]:
        """HUB_IG_NAME_RESOLVERS as a set of login names."""
        return frozenset(n.strip() for n in self.ig_name_resolvers.split(",") if n.strip())

    @property
    def egress_agency_ids(self) -> list[str]:
        return [a.strip() for a in self.egress_agencies.split(",") if a.strip()]

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"

    def replace(self, **changes: Any) -> Settings:
        """A copy with changes, checked like values read from the environment."""
        try:
            return type(self).model_validate({**self.model_dump(), **changes})
        except ValidationError as exc:
            raise _settings_error(exc, changes) from None

    def with_bootstrap(self, bootstrap: str, *, embedded: bool) -> Settings:
        return self.replace(kafka_bootstrap=bootstrap, embedded_broker=embedded)


def env_name(field: str) -> str:
    return f"{PREFIX}{field.upper()}"


class _MappingSource(EnvSettingsSource):
    """pydantic-settings' environment source, reading a given mapping (os.environ or a
    test's dict) instead of always os.environ."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._mapping = env
        super().__init__(Settings)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {k.lower(): v for k, v in self._mapping.items() if v != ""}


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build settings from the environment (or the mapping given, for tests)."""
    values = _MappingSource(os.environ if env is None else env)()
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        raise _settings_error(exc, values) from None


_FIX = {
    "int_parsing": "is not a whole number; set it to e.g. {default}",
    "int_from_float": "is not a whole number; set it to e.g. {default}",
    "float_parsing": "is not a number; set it to e.g. {default}",
    "bool_parsing": "is not 1 or 0",
    "greater_than": "must be more than {gt}",
    "greater_than_equal": "must be at least {ge}",
}


def _settings_error(exc: ValidationError, given: Mapping[str, Any]) -> SettingsError:
    """The first error as one sentence naming the variable, its value and the fix."""
    error = exc.errors()[0]
    field = str(error["loc"][0])
    default = Settings.model_fields[field].default
    template = _FIX.get(error["type"])
    fix = template.format(default=default, **error.get("ctx", {})) if template else error["msg"]
    return SettingsError(f"{env_name(field)}={given.get(field)!r} {fix}")
