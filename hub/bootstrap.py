"""The composition root: builds the hub's services from Settings, for the API, the worker and
the CLI alike, so all three use the same keys, cipher, agency types, policy and audit log.

Only entry points import this module (it sits above services, pipeline and adapters). Tests
and entry points may pass in a fake for a port (e.g. an audit log that fails) instead of
patching the real one.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import Engine

from consent.policy import load_policy
from hub.adapters.audit_wiring import open_audit_store
from hub.adapters.crypto.ciphers import FieldCipher, SqlKeyStore
from hub.adapters.crypto.keys import load_ingress_key, load_or_create_key
from hub.adapters.crypto.tokens import Tokeniser
from hub.adapters.crypto.vault import Vault
from hub.adapters.kafka import topics
from hub.adapters.kafka.security import KafkaSecurity
from hub.adapters.metrics import CountedAuditLog
from hub.adapters.rules_file import load_area_book
from hub.adapters.sql.batching import BatchingAppender
from hub.adapters.sql.db import create_schema, make_engine
from hub.adapters.sql.events import SqlEventStore
from hub.adapters.sql.family_cache import FamilyCache
from hub.adapters.sql.lease import SqlLease, holder_id
from hub.adapters.sql.principals import KeyCache, SqlPrincipalStore
from hub.contract import EVENT_TYPES
from hub.domain.agencies import load_agency_types
from hub.domain.areas import DEFAULT, AreaBook
from hub.pipeline.egress import FeedEgress
from hub.pipeline.relay import OutboxRelay
from hub.pipeline.ticker import Ticker
from hub.services.admin import Administration
from hub.services.disclosure import PolicyPoint
from hub.services.ingress import Ingress
from hub.services.kafka_ingress import CachedDirectory, KafkaIngress
from hub.services.ports import AuditLog
from hub.settings import Settings


@dataclass
class Services:
    settings: Settings
    engine: Engine
    principals: SqlPrincipalStore
    ingress: Ingress
    cipher: FieldCipher  # seals sensitive fields as the event store stores them; opens them
    audit: AuditLog
    appender: BatchingAppender
    policy: PolicyPoint
    vault: Vault  # names and dates of birth, sealed; shown only where the policy allows
    areas: AreaBook  # the Marac areas' rule settings (HUB_RULES_FILE), checked at start
    families: FamilyCache  # family projections kept parsed for the family view
    relay: OutboxRelay | None = None
    key_cache: KeyCache = field(default_factory=KeyCache)

    def wake_relay(self) -> None:
        """Publish what was just stored now rather than at the relay's next poll."""
        if self.relay is not None:
            self.relay.wake()


def field_cipher(settings: Settings, engine: Engine) -> FieldCipher:
    master = load_or_create_key(
        settings.master_key_file or settings.effective_key_dir / "master.key"
    )
    return FieldCipher(SqlKeyStore(engine, master))


def build_services(settings: Settings, *, audit: AuditLog | None = None) -> Services:
    """Every service, on the database, keys and broker the settings name.

    audit: the audit log to write disclosures to; by default the SQL audit store (tables,
    triggers and signing key created on first use).
    """
    engine = make_engine(settings.effective_database_url)
    create_schema(engine)
    cipher = field_cipher(settings, engine)
    store = SqlEventStore(engine, sealer=cipher)
    if audit is None:
        audit = open_audit_store(settings, engine)
    tokeniser = Tokeniser(load_or_create_key(settings.effective_key_dir / "subject-token.key"))
    agency_types = load_agency_types()
    ingress = Ingress(
        store=store,
        tokeniser=tokeniser,
        agency_types=agency_types,
        events_topic=settings.topic(topics.EVENTS),
        future_tolerance=timedelta(seconds=settings.future_tolerance_seconds),
    )
    relay = None
    if settings.kafka_bootstrap:
        relay = OutboxRelay(
            store,
            settings.kafka_bootstrap,
            settings.embedded_broker,
            settings.relay_poll_seconds,
            KafkaSecurity.from_settings(settings).aiokafka(),
            prepare_broker=functools.partial(topics.ensure_topics, settings),
            lease=SqlLease(
                engine, "outbox", holder_id(), timedelta(seconds=settings.relay_lease_seconds)
            ),
        )
    policy_text = (
        settings.sharing_policy_file.read_text("utf-8") if settings.sharing_policy_file else None
    )
    policy = PolicyPoint(
        engine,
        load_policy(policy_text, EVENT_TYPES, agency_types),
        cipher,
        CountedAuditLog(audit),  # every disclosure's record passes here: counted once written
    )
    vault = Vault(engine, cipher)
    areas = load_area_book(settings)  # a bad rules file stops the hub here, naming the line
    return Services(
        settings, engine, SqlPrincipalStore(engine), ingress, cipher, audit,
        BatchingAppender(store),
        policy, vault, areas, FamilyCache(engine), relay,
    )  # fmt: skip


def clock_ticker(services: Services) -> Ticker | None:
    """The hub clock runs beside the relay that publishes its ticks."""
    relay = services.relay
    if relay is None:
        return None
    topic = services.settings.topic(topics.EVENTS)
    return Ticker(
        services.engine, topic, services.settings.clock_check_seconds, relay.wake,
        active=relay.holds_lease,
    )  # fmt: skip


def feed_egress(services: Services) -> FeedEgress | None:
    """The Kafka egress of the agencies' feeds runs beside the relay, for the agencies the
    settings name (HUB_EGRESS_AGENCIES)."""
    agencies = services.settings.egress_agency_ids
    if services.relay is None or not agencies:
        return None
    return FeedEgress(services, agencies, services.settings.egress_poll_seconds)


def kafka_ingress(services: Services) -> KafkaIngress:
    """Kafka-direct ingress for the worker: the same ingress and principals as the API, the
    hub's ingress key to open sealed events, and each area's word on plaintext."""
    settings = services.settings
    book = load_area_book(settings)

    def plaintext_allowed(agency_id: str) -> bool:
        return book.get(book.area_of_agency(agency_id) or DEFAULT).kafka_plaintext

    return KafkaIngress(
        services.ingress,
        CachedDirectory(services.principals),
        settings.max_event_bytes,
        ingress_key=load_ingress_key(settings.effective_key_dir),
        plaintext_allowed=plaintext_allowed,
    )


def administration(services: Services) -> Administration:
    """Administering agencies and people (the pages), on the services' audit log and key
    cache, so a revoked or rotated key stops at once in this process."""
    return Administration(
        services.engine, services.audit, services.key_cache, services.ingress.agency_types
    )


def operator_administration(settings: Settings) -> Administration:
    """Administering from the `hub` command at the host: the same checks and audit records
    (the audit store's checkpoints are not published from a short-lived command)."""
    engine = make_engine(settings.effective_database_url)
    create_schema(engine)
    audit = open_audit_store(settings, engine, publish=False)
    return Administration(engine, audit, KeyCache(), load_agency_types())
