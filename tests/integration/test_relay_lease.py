"""Two outbox relays on one store (two API processes on one database), on SQLite and
PostgreSQL: only the lease holder links and publishes; when it stops, or dies without a word,
the other takes over, and every event reaches the topic exactly as with one relay. A holder
that cannot renew its lease publishes nothing until it holds it again."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from hub.adapters.kafka.topics import EVENTS, ensure_topics
from hub.adapters.sql.db import create_schema, make_engine
from hub.adapters.sql.events import SqlEventStore
from hub.adapters.sql.lease import SqlLease
from hub.pipeline.relay import OutboxRelay
from hub.settings import Settings
from tests.integration.conftest import until
from tests.integration.test_relay_recovery import hub_ids_on, store_events

pytestmark = pytest.mark.integration

LEASE = timedelta(seconds=3)  # short, so that a takeover after a crash comes soon


def relay_for(engine: Engine, settings: Settings, holder: str) -> OutboxRelay:
    lease = SqlLease(engine, "outbox", holder, LEASE)
    return OutboxRelay(SqlEventStore(engine), settings.kafka_bootstrap, True, 0.05, lease=lease)


@pytest.mark.parametrize("ending", ["stops", "dies"])
def test_one_relay_publishes_and_the_other_takes_over_when_it_ends(
    any_db_engine: Engine, hub_settings: Settings, ending: str
) -> None:
    ensure_topics(hub_settings)
    store = SqlEventStore(any_db_engine)
    topic = hub_settings.topic(EVENTS)
    relays = {
        name: relay_for(any_db_engine, hub_settings, f"test-host-{name}:{n}:{name}")
        for n, name in enumerate(("a", "b"), 1)
    }
    stored: list[str] = []

    async def scenario() -> None:
        running = {name: asyncio.create_task(r.run()) for name, r in relays.items()}
        try:
            stored.extend(store_events(store, topic, 1, 5))

            # a relay counts a batch once its rows are marked: wait for both
            def out(n: int) -> bool:
                return store.unpublished_count() == 0 and sum_published() == n

            def sum_published() -> int:
                return sum(r.published for r in relays.values())

            await until(lambda: out(5), 60, "the first events out")
            holders = [n for n, r in relays.items() if r.state()["lease"] == "held"]
            assert len(holders) == 1, {n: r.state() for n, r in relays.items()}
            holder, other = holders[0], ({"a", "b"} - set(holders)).pop()
            assert (relays[holder].published, relays[other].published) == (5, 0)
            assert relays[other].state()["lease"] == "standby"

            if ending == "stops":  # an orderly stop gives the lease up
                relays[holder].stop()
                await asyncio.wait_for(running[holder], 30)
            else:  # a crash: the lease is left to lapse
                running[holder].cancel()
                await asyncio.gather(running[holder], return_exceptions=True)
            stored.extend(store_events(store, topic, 6, 5))
            await until(lambda: out(10), 60, "the later events out")
            assert (relays[holder].published, relays[other].published) == (5, 5)
            assert relays[other].state()["lease"] == "held"
        finally:
            for name, relay in relays.items():
                relay.stop()
                if not running[name].done():
                    await asyncio.wait_for(running[name], 30)

    asyncio.run(scenario())
    assert Counter(hub_ids_on(hub_settings)) == Counter(stored)  # each once, as with one relay


class LeaseTableAway(SqlLease):
    """A lease whose database stops answering while `away` is set."""

    away = False
    refused = 0

    def acquire(self, now: datetime) -> datetime | None:
        if self.away:
            self.refused += 1
            raise OperationalError("UPDATE relay_lease", {}, ConnectionError("database away"))
        return super().acquire(now)


def test_a_holder_that_cannot_renew_publishes_nothing_until_it_holds_the_lease_again(
    tmp_path: Path, hub_settings: Settings
) -> None:
    ensure_topics(hub_settings)
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    create_schema(engine)
    store, topic = SqlEventStore(engine), hub_settings.topic(EVENTS)
    lease = LeaseTableAway(engine, "outbox", "test-host-a:1:a", LEASE)
    relay = OutboxRelay(store, hub_settings.kafka_bootstrap, True, 0.05, lease=lease)
    stored: list[str] = []

    async def scenario() -> None:
        running = asyncio.create_task(relay.run())
        try:
            stored.extend(store_events(store, topic, 1, 1))
            await until(lambda: store.unpublished_count() == 0, 60, "the first event out")
            lease.away = True
            await until(lambda: lease.refused >= 1, 30, "a renewal to fail")
            stored.extend(store_events(store, topic, 2, 3))
            relay.wake()
            refused = lease.refused
            await until(lambda: lease.refused >= refused + 2, 30, "two more rounds")
            assert store.unpublished_count() == 3  # not without the lease
            lease.away = False
            await until(lambda: store.unpublished_count() == 0, 60, "the rest out")
        finally:
            relay.stop()
            await asyncio.wait_for(running, 30)

    asyncio.run(scenario())
    assert Counter(hub_ids_on(hub_settings)) == Counter(stored)
