"""The outbox relay recovers by itself: a publish the broker never acknowledges is abandoned
and sent again by a new producer; records a broker that came back empty acknowledged (and
dropped, as the embedded broker does for topics it does not have yet) are published again;
a database failure does not end the relay. In each case no row is marked before a broker
acknowledged it, and every stored event ends up on the topic."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Coroutine
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy.exc import OperationalError

from hub.adapters.kafka.embedded import EmbeddedBroker, stop_process
from hub.adapters.kafka.topics import EVENTS, ensure_topics
from hub.adapters.sql.db import create_schema, make_engine
from hub.adapters.sql.events import OutboxRow, SqlEventStore
from hub.domain.events import CanonicalEvent
from hub.pipeline.relay import OutboxRelay
from hub.settings import Settings
from tests.integration.conftest import read_topic, until
from tests.unit.canonical import EVENT_TIME, canonical_event

pytestmark = pytest.mark.integration


def store_in(tmp_path: Path, cls: type[SqlEventStore] = SqlEventStore) -> SqlEventStore:
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    create_schema(engine)
    return cls(engine)


def store_events(store: SqlEventStore, topic: str, first: int, n: int) -> list[str]:
    """n events (numbered from first) stored with their outbox rows; their hub ids."""
    events = [
        canonical_event(f"TEST-EVENT-{i}", time=EVENT_TIME - timedelta(hours=i))
        for i in range(first, first + n)
    ]
    store.append_many([(e, f"hash-{e.source_id}", topic) for e in events])
    return [e.hub_id for e in events]


def hub_ids_on(settings: Settings) -> list[str]:
    return [
        CanonicalEvent.from_json(v.decode()).hub_id for v in read_topic(settings, topic(settings))
    ]


def topic(settings: Settings) -> str:
    return settings.topic(EVENTS)


def run_relay(relay: OutboxRelay, scenario: Coroutine[Any, Any, None]) -> None:
    async def both() -> None:
        running = asyncio.create_task(relay.run())
        try:
            await scenario
            assert not running.done(), "the relay ended by itself"
        finally:
            relay.stop()
            await asyncio.wait_for(running, 30)

    asyncio.run(both())


class NeverAcknowledged(AIOKafkaProducer):  # type: ignore[misc]
    """A producer whose sends are never acknowledged (a broker that stopped answering);
    ``sends`` counts the messages handed to it (the relay sends record batches)."""

    async def send(self, *args: Any, **kwargs: Any) -> asyncio.Future[Any]:
        self.sends = getattr(self, "sends", 0) + 1
        return asyncio.get_running_loop().create_future()  # completed by nobody

    async def send_batch(self, batch: Any, *args: Any, **kwargs: Any) -> asyncio.Future[Any]:
        self.sends = getattr(self, "sends", 0) + batch.record_count()
        return asyncio.get_running_loop().create_future()  # completed by nobody


def test_a_publish_never_acknowledged_is_abandoned_and_a_new_producer_publishes_it(
    tmp_path: Path, hub_settings: Settings
) -> None:
    ensure_topics(hub_settings)
    store = store_in(tmp_path)
    stuck: list[NeverAcknowledged] = []

    def producers(**options: Any) -> AIOKafkaProducer:
        if not stuck:
            stuck.append(NeverAcknowledged(**options))
            return stuck[0]
        return AIOKafkaProducer(**options)

    relay = OutboxRelay(
        store, hub_settings.kafka_bootstrap, True, 0.05, publish_timeout=2.0,
        producer_factory=producers,
    )  # fmt: skip
    hub_ids = store_events(store, topic(hub_settings), 1, 5)

    async def scenario() -> None:
        await until(lambda: bool(stuck) and getattr(stuck[0], "sends", 0) == 5, 30, "the sends")
        assert store.unpublished_count() == 5  # nothing marked without an acknowledgement
        await until(lambda: store.unpublished_count() == 0, 60, "every row published")
        assert relay.producers_built == 2 and relay.state()["broker_ok"]

    run_relay(relay, scenario())
    assert sorted(hub_ids_on(hub_settings)) == sorted(hub_ids)  # each once: the first sent none


@pytest.mark.parametrize("published_before", [0, 3])
def test_what_a_broker_back_empty_acknowledged_and_dropped_is_published_again(
    tmp_path: Path, published_before: int
) -> None:
    broker = EmbeddedBroker.start(tmp_path / "broker")
    try:
        settings = Settings(data_dir=tmp_path / "data", topic_partitions=2).with_bootstrap(
            broker.bootstrap, embedded=True
        )
        ensure_topics(settings)
        store = store_in(tmp_path)
        relay = OutboxRelay(
            store, broker.bootstrap, True, 0.05,
            prepare_broker=functools.partial(ensure_topics, settings),
        )  # fmt: skip
        store_events(store, topic(settings), 1, published_before)
        after: list[str] = []

        async def scenario() -> None:
            nonlocal broker
            # with nothing published before, the producer has no connection to the broker yet
            await until(lambda: relay.producers_built == 1, 60, "the relay's producer")
            await until(lambda: store.unpublished_count() == 0, 60, "the first events out")
            await asyncio.to_thread(stop_process, broker.proc, "embedded broker", 10)
            # stored while the broker is away: the relay's producer retries them by itself,
            # and the first broker it reaches is a new one, without the hub's topics
            after.extend(store_events(store, topic(settings), 4, 5))
            relay.wake()
            broker = await asyncio.to_thread(
                EmbeddedBroker.start, tmp_path / "broker-again", broker.port
            )
            await until(lambda: store.unpublished_count() == 0, 90, "the new events out")
            # read here: the broker dies with the thread that started it (PR_SET_PDEATHSIG)
            on_new_broker.extend(await asyncio.to_thread(hub_ids_on, settings))

        on_new_broker: list[str] = []
        run_relay(relay, scenario())
        assert set(after) <= set(on_new_broker), "acknowledged but lost by the new broker"
    finally:
        stop_process(broker.proc, "embedded broker", 10)


class DatabaseAwayTwice(SqlEventStore):
    """An event store whose database does not answer the first two reads of the outbox."""

    failures = 2

    def pending_outbox(self, limit: int = 500) -> list[OutboxRow]:
        if self.failures:
            self.failures -= 1
            raise OperationalError("SELECT outbox", {}, ConnectionError("database away"))
        return super().pending_outbox(limit)


def test_a_database_failure_does_not_end_the_relay(
    tmp_path: Path, hub_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    ensure_topics(hub_settings)
    store = store_in(tmp_path, DatabaseAwayTwice)
    relay = OutboxRelay(store, hub_settings.kafka_bootstrap, True, 0.05)
    hub_ids = store_events(store, topic(hub_settings), 1, 3)

    async def scenario() -> None:
        await until(lambda: store.unpublished_count() == 0, 60, "every row published")

    with caplog.at_level(logging.WARNING, logger="hub.pipeline.relay"):
        run_relay(relay, scenario())
    lines = [
        (r.levelname, r.getMessage()) for r in caplog.records if r.name == "hub.pipeline.relay"
    ]
    assert [level for level, _ in lines] == ["ERROR", "WARNING"], lines  # once, and its end
    assert "OperationalError" in lines[0][1] and "works again" in lines[1][1]
    assert sorted(hub_ids_on(hub_settings)) == sorted(hub_ids)
