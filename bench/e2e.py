"""End-to-end benchmark: the hub's live path beside the raw broker, measured in one run.

Writes bench/results/e2e.json. Phases, all on this machine against one embedded broker:
1. raw: aiokafka produce then consume of the same canonical-event bytes the hub publishes;
2. ingest: N events over HTTP (concurrent clients) → 202; events/s through ingress;
3. live path: time from the first send until the worker has projected all N events;
4. latency: high-risk Dash events sent open-loop at a stated rate; latency is the alert's
   raised_at (worker clock) minus the moment the client sent the event (same machine clock).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import func, select

from hub.adapters.kafka.embedded import EmbeddedBroker, free_port, stop_process
from hub.adapters.kafka.topics import ensure_topics
from hub.adapters.sql.schema import alerts, processed_events
from hub.bootstrap import build_services
from hub.contract.kafka_clients import producer_tuning
from hub.entrypoints.stack import child_env, start_worker
from hub.pipeline.projector import CONSUMER as PROJECTOR
from hub.settings import Settings
from producers.simulator import dash, make_families

RESULTS = Path(__file__).parent / "results"


def sample_events(n: int, yes: int, block: int) -> list[dict[str, Any]]:
    """n Dash events, one per fake family; each block of people is distinct (< 200k each)."""
    rng = random.Random(block)
    fams = make_families(n, seed=block, first=block * 200_000)
    t = datetime(2026, 2, 1, tzinfo=UTC)
    return [dash(rng, f, t, yes) for f in fams]


async def raw_broker(bootstrap: str, payloads: list[bytes]) -> dict[str, float]:
    topic = f"bench.raw.{int(time.time())}"
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, **producer_tuning(True))
    await producer.start()
    t0 = time.perf_counter()
    futures = [
        await producer.send(topic, p, key=str(i % 64).encode()) for i, p in enumerate(payloads)
    ]
    await asyncio.gather(*futures)
    produce_s = time.perf_counter() - t0
    await producer.stop()
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=50,
    )
    await consumer.start()
    t0, got = time.perf_counter(), 0
    while got < len(payloads):
        batch = await consumer.getmany(timeout_ms=1000, max_records=5000)
        got += sum(len(v) for v in batch.values())
    consume_s = time.perf_counter() - t0
    await consumer.stop()
    return {
        "messages": len(payloads),
        "bytes_per_message": round(statistics.mean(len(p) for p in payloads)),
        "produce_msgs_per_s": round(len(payloads) / produce_s, 1),
        "consume_msgs_per_s": round(len(payloads) / consume_s, 1),
    }


# The load generator uses aiohttp: on 2 cores it shares the CPU with the hub, and httpx costs
# several times more CPU per request, which would measure the client instead of the hub.


async def _post(session: aiohttp.ClientSession, base: str, key: str, event: dict[str, Any]) -> None:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    async with session.post(f"{base}/v1/events", data=json.dumps(event), headers=headers) as r:
        if r.status != 202:
            raise RuntimeError(f"ingress answered {r.status}: {await r.text()}")


async def post_all(base: str, key: str, items: list[dict[str, Any]], concurrency: int) -> float:
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)

    async def client_loop(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            await _post(session, base, key, queue.get_nowait())

    t0 = time.perf_counter()
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(client_loop(session) for _ in range(concurrency)))
    return time.perf_counter() - t0


async def post_batches(base: str, key: str, items: list[dict[str, Any]], size: int) -> float:
    """Send items through POST /v1/events:batch, two batches in flight; seconds taken."""
    batches = [items[i : i + size] for i in range(0, len(items), size)]
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/x-ndjson"}

    async def one(session: aiohttp.ClientSession, batch: list[dict[str, Any]]) -> None:
        body = "\n".join(json.dumps(e) for e in batch)
        async with session.post(f"{base}/v1/events:batch", data=body, headers=headers) as r:
            result = await r.json()
            if r.status != 200 or result["accepted"] != len(batch):
                raise RuntimeError(f"batch answered {r.status}: {str(result)[:300]}")

    t0 = time.perf_counter()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=2)) as session:
        pending = list(batches)

        async def lane() -> None:
            while pending:
                await one(session, pending.pop(0))

        await asyncio.gather(lane(), lane())
    return time.perf_counter() - t0


async def paced(base: str, key: str, items: list[dict[str, Any]], rate: float) -> dict[str, Any]:
    """Send items on an open-loop schedule of `rate`/s from a fixed pool of senders.

    Each event's send time is its scheduled time, so when the hub falls behind, the time
    an event waited for a free sender counts in its latency (no coordinated omission).
    """
    senders = 32
    queue: asyncio.Queue[tuple[float, dict[str, Any]]] = asyncio.Queue()
    start_wall, start = time.time() + 0.05, time.perf_counter() + 0.05
    for i, event in enumerate(items):
        queue.put_nowait((i / rate, event))
    sent: dict[str, float] = {}

    async def sender(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            offset, event = queue.get_nowait()
            delay = start + offset - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)  # open-loop schedule of the load generator
            sent[event["id"]] = start_wall + offset
            await _post(session, base, key, event)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=senders)) as session:
        await asyncio.gather(*(sender(session) for _ in range(senders)))
    elapsed = time.perf_counter() - start
    return {"sent": sent, "achieved_rate": len(items) / elapsed}


def count(engine: Any, table: Any) -> int:
    """Rows of a table; for processed_events, the events the worker's projector applied."""
    query = select(func.count()).select_from(table)
    if table is processed_events:
        query = query.where(processed_events.c.consumer == PROJECTOR)
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def wait_count(engine: Any, table: Any, n: int, timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while count(engine, table) < n:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {count(engine, table)} of {n} rows after {timeout} s")
        time.sleep(0.01)  # polling the read model with a deadline
    return time.perf_counter()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="hub-bench-"))
    broker = EmbeddedBroker.start(tmp / "logs")
    settings = Settings(
        data_dir=tmp / "data", relay_poll_seconds=0.05, log_level="WARNING"
    ).with_bootstrap(broker.bootstrap, embedded=True)
    ensure_topics(settings)
    services = build_services(settings)
    key = services.principals.add("TEST-IDVA-BENCH", "agency_system", "idva", "TEST-IDVA-BENCH")[1]
    engine = services.engine
    port = free_port()
    api = subprocess.Popen(
        [sys.executable, "-m", "hub", "serve"],
        env=child_env(settings) | {"HUB_API_PORT": str(port), "HUB_LOG_LEVEL": "WARNING"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker = start_worker(settings)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)  # waiting for the API to bind, with a deadline
        # warm-up: the worker joins its group and the first event crosses the path
        asyncio.run(post_all(base, key, sample_events(20, 3, block=49), 4))
        wait_count(engine, processed_events, 20, 60)

        ingest_items = sample_events(args.events, 9, block=1)
        payloads = [services.ingress.store.read(0, 1)[0][1].to_json().encode()] * args.events
        raw = asyncio.run(raw_broker(broker.bootstrap, payloads))

        t0 = time.perf_counter()
        ingest_s = asyncio.run(post_all(base, key, ingest_items, args.concurrency))
        done = wait_count(engine, processed_events, 20 + args.events, 300)
        live_s = done - t0

        batch_items = sample_events(args.events, 9, block=2)
        t0 = time.perf_counter()
        batch_s = asyncio.run(post_batches(base, key, batch_items, args.batch_size))
        done = wait_count(engine, processed_events, 20 + 2 * args.events, 300)
        batch_live_s = done - t0

        latency = []
        for n, rate in enumerate(args.rates):
            items = sample_events(int(rate * args.seconds), 16, block=10 + n)
            alerts_before = count(engine, alerts)
            paced_result = asyncio.run(paced(base, key, items, rate))
            wait_count(engine, alerts, alerts_before + len(items), 300)
            lat = alert_latencies(engine, paced_result["sent"])  # type: ignore[arg-type]
            latency.append(
                {
                    "requested_rate_per_s": rate,
                    "events": len(items),
                    "achieved_send_rate_per_s": round(paced_result["achieved_rate"], 1),  # type: ignore[arg-type]
                    "p50_ms": round(pct(lat, 0.50) * 1000, 1),
                    "p99_ms": round(pct(lat, 0.99) * 1000, 1),
                    "max_ms": round(max(lat) * 1000, 1),
                }
            )
    finally:
        stop_process(worker, "worker", 20)
        stop_process(api, "api", 20)
        broker.stop()

    ingest_rate = args.events / ingest_s
    live_rate = args.events / live_s
    return {
        "measured_at": datetime.now(UTC).isoformat(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "raw_broker_aiokafka": raw,
        "ingest_http": {
            "events": args.events,
            "concurrency": args.concurrency,
            "events_per_s": round(ingest_rate, 1),
        },
        "live_path": {
            "events": args.events,
            "events_per_s": round(live_rate, 1),
            "ratio_to_raw_produce": round(live_rate / raw["produce_msgs_per_s"], 3),
            "target_ratio": 0.25,
        },
        "ingest_http_batch": {
            "events": args.events,
            "batch_size": args.batch_size,
            "concurrency": 2,
            "events_per_s": round(args.events / batch_s, 1),
            "ratio_to_raw_produce": round(args.events / batch_s / raw["produce_msgs_per_s"], 3),
        },
        "live_path_batch_ingest": {
            "what": "first batch sent until every event is projected",
            "events_per_s": round(args.events / batch_live_s, 1),
            "ratio_to_raw_produce": round(
                args.events / batch_live_s / raw["produce_msgs_per_s"], 3
            ),
        },
        "alert_latency": {
            "what": "alert raised_at minus client send time, open-loop sends at each rate",
            "target_p99_ms_at_1000_per_s": 250,
            "by_rate": latency,
        },
    }


def alert_latencies(engine: Any, sent: dict[str, float]) -> list[float]:
    from hub.adapters.sql.schema import events

    with engine.connect() as conn:
        rows = conn.execute(
            select(events.c.source_id, alerts.c.raised_at)
            .join(alerts, alerts.c.triggering_event_ids.contains(events.c.hub_id))
            .where(events.c.source_id.in_(list(sent)))
        ).all()
    return [
        (raised if raised.tzinfo else raised.replace(tzinfo=UTC)).timestamp() - sent[source]
        for source, raised in rows
    ]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=5000)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--batch-size", type=int, default=500)
    p.add_argument(
        "--rates",
        type=float,
        nargs="+",
        default=[100.0, 250.0, 400.0, 1000.0],
        help="open-loop send rates (events/s) at which alert latency is measured",
    )
    p.add_argument("--seconds", type=float, default=4.0, help="seconds of sending per rate")
    p.add_argument("--database-url", default="", help="default: SQLite in a temporary folder")
    args = p.parse_args()
    result = run(args)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "e2e.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
