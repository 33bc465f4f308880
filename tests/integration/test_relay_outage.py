"""The outbox relay reports a broker outage once when it starts and once when it ends, however
often it retries meanwhile (it used to log about 20 error lines a second)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from hub.adapters.kafka.embedded import EmbeddedBroker, free_port
from hub.adapters.sql.db import create_schema, make_engine
from hub.adapters.sql.events import SqlEventStore
from hub.pipeline.relay import OutboxRelay
from tests.integration.conftest import until

pytestmark = pytest.mark.integration


def test_an_outage_is_one_line_and_its_end_another(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    create_schema(engine)
    port = free_port()
    relay = OutboxRelay(SqlEventStore(engine), f"127.0.0.1:{port}", True, poll_seconds=0.05)
    brokers: list[EmbeddedBroker] = []

    async def scenario() -> None:
        running = asyncio.create_task(relay.run())
        try:
            await until(lambda: relay.failures >= 5, 60, "five failed attempts")
            assert not relay.state()["broker_ok"]
            brokers.append(await asyncio.to_thread(EmbeddedBroker.start, tmp_path, port))
            await until(lambda: relay.state()["broker_ok"], 60, "the relay to reconnect")
        finally:
            relay.stop()
            await asyncio.wait_for(running, 30)

    try:
        with caplog.at_level(logging.INFO):
            asyncio.run(scenario())
    finally:
        for b in brokers:
            b.stop()
    relay_lines = [r for r in caplog.records if r.name == "hub.pipeline.relay"]
    assert [r.levelname for r in relay_lines] == ["ERROR", "WARNING"], relay_lines
    assert "cannot reach the broker" in relay_lines[0].getMessage()
    assert "is back after" in relay_lines[1].getMessage()
    # aiokafka's own error for the attempt that revealed the outage, then none while it lasts
    client_errors = [r for r in caplog.records
                     if r.name.startswith("aiokafka") and r.levelno >= logging.ERROR]  # fmt: skip
    assert len(client_errors) <= 1, client_errors
