"""The hub's retry loops (tenacity) keep their bounds and backoff, retry only what is worth
retrying, and log no personal data; sleeps are recorded, never slept."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest
from aiokafka.errors import KafkaConnectionError
from sqlalchemy.exc import OperationalError

from hub.adapters.kafka.binding import RawRecord
from hub.adapters.sql.db import create_schema, make_engine
from hub.adapters.sql.events import SqlEventStore
from hub.pipeline.kafka_ingress import handle_with_retry, publish_with_retry
from hub.pipeline.relay import OutboxRelay
from hub.services.kafka_ingress import Outcome


class Sleeps(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


RECORD = RawRecord(value=b'{"name": "Alex Example"}', headers=(), key=None, topic="t")


class FlakyHandler:
    def __init__(self, failures: int, error: Exception) -> None:
        self.failures, self.error, self.calls = failures, error, 0

    def handle_batch(self, records: list[RawRecord], _now: Any) -> list[Outcome]:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return [Outcome(r, "accepted") for r in records]


def test_a_batch_waits_for_the_database_with_growing_backoff(
    caplog: pytest.LogCaptureFixture,
) -> None:
    down = OperationalError("INSERT … 'Alex Example'", {}, Exception("database is locked"))
    handler, sleeps = FlakyHandler(7, down), Sleeps()
    outcomes = asyncio.run(handle_with_retry(handler, [RECORD], sleep=sleeps))  # type: ignore[arg-type]
    assert [o.status for o in outcomes] == ["accepted"]
    assert sleeps == [0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 10.0]  # doubling, at most 10 s
    assert "OperationalError" in caplog.text
    assert "Alex Example" not in caplog.text  # the database's message may quote values


def test_a_fault_that_is_not_the_infrastructures_is_not_retried() -> None:
    handler, sleeps = FlakyHandler(1, ValueError("a bug")), Sleeps()
    with pytest.raises(ValueError, match="a bug"):
        asyncio.run(handle_with_retry(handler, [RECORD], sleep=sleeps))  # type: ignore[arg-type]
    assert (handler.calls, sleeps) == (1, [])


class FlakyTopic:
    """A faust topic whose broker refuses the first sends."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.sent: list[bytes | None] = []

    async def send(self, *, value: bytes | None, **_kw: Any) -> asyncio.Future[None]:
        if self.failures:
            self.failures -= 1
            raise KafkaConnectionError("broker away")
        self.sent.append(value)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


def test_rejections_are_sent_again_until_the_broker_takes_them() -> None:
    topic, sleeps = FlakyTopic(2), Sleeps()
    refused = [Outcome(RECORD, "rejected", reason="invalid")]
    asyncio.run(publish_with_retry(topic, refused, sleep=sleeps))
    assert topic.sent == [RECORD.value]
    assert sleeps == [0.2, 0.4]


def test_the_relay_backs_off_while_the_broker_is_away_and_stops_when_told(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    create_schema(engine)
    sleeps = Sleeps()

    async def sleep(seconds: float) -> None:
        await sleeps(seconds)
        if len(sleeps) == 8:
            relay.stop()

    relay = OutboxRelay(SqlEventStore(engine), "127.0.0.1:1", embedded=False, sleep=sleep)
    connects: list[int] = []

    async def unreachable() -> Any:
        connects.append(1)
        raise KafkaConnectionError("no broker at 127.0.0.1:1")

    relay._new_producer = unreachable  # type: ignore[method-assign]
    with caplog.at_level(logging.WARNING):
        asyncio.run(relay.run())
    assert sleeps == [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0]  # doubling, at most 5 s
    assert len(connects) == 9  # a new connection each time
    assert caplog.text.count("outbox relay could not publish") == 8
    engine.dispose()
