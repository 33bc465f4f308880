"""Run the hub's processes together: embedded broker (when no cluster is named), worker, API.

The hub owns its children: each runs in its own session (Ctrl-C reaches only the hub, which
stops them in order: worker, then broker) and dies with the hub if the hub is killed. Under
`hub up` a supervisor (hub.entrypoints.supervisor) restarts a child that dies. Stopping is
bounded: a worker gets WORKER_STOP_SECONDS (it exits by itself a little sooner), then SIGKILL.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.adapters.kafka.embedded import EmbeddedBroker, child_process_options, stop_process
from hub.adapters.kafka.topics import ensure_topics
from hub.entrypoints.logs import formatter
from hub.settings import Settings, env_name

log = logging.getLogger(__name__)

WORKER_STOP_SECONDS = 4.0  # the worker's own grace (hub.pipeline.worker) is 3 s
BROKER_STOP_SECONDS = 3.0


def child_env(settings: Settings) -> dict[str, str]:
    """The process environment with every setting as its HUB_* variable, derived from the
    model so that a new setting reaches the children without anyone remembering to add it.
    Paths are made absolute (a child may resolve them from elsewhere); unset ones are sent
    empty, which reads back as the default."""
    env = dict(os.environ)
    for name, value in settings.model_dump().items():
        env[env_name(name)] = _as_env(value)
    env[env_name("database_url")] = settings.effective_database_url
    return env


def _as_env(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Path):
        return str(value.resolve())
    return str(value)


def start_worker(settings: Settings) -> subprocess.Popen[bytes]:
    log_path = settings.data_dir / "logs" / "worker.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "hub", "worker"],
            env=child_env(settings),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            **child_process_options(),
        )


def republish_checkpoints(settings: Settings, engine: Any) -> int:
    """Send every signed audit checkpoint to a new broker, so outside parties can still read
    them from hub.audit.checkpoints."""
    from audit.schema import create_audit_schema
    from audit.store import SqlAuditStore
    from hub.adapters.audit_wiring import checkpoint_publisher

    publisher = checkpoint_publisher(settings)
    if publisher is None:
        return 0
    create_audit_schema(engine)
    checkpoints = SqlAuditStore(engine).checkpoints()
    if checkpoints:
        publisher.send_all(checkpoints)
    return len(checkpoints)


@dataclass
class Stack:
    """Broker (embedded or external) plus one worker process."""

    settings: Settings
    broker: EmbeddedBroker | None = None
    worker: subprocess.Popen[bytes] | None = None
    extra: list[Any] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _supervisor: Any = field(default=None, repr=False)

    def start(self) -> Settings:
        s = self.settings
        if not s.kafka_bootstrap:
            self.broker = EmbeddedBroker.start(s.data_dir / "logs", s.embedded_broker_port)
            s = s.with_bootstrap(self.broker.bootstrap, embedded=True)
            log.info("embedded broker on %s (pid %s)", self.broker.bootstrap, self.broker.proc.pid)
        self.settings = s
        ensure_topics(s)
        if self.broker is not None:
            self._after_new_broker(None)
        self.worker = start_worker(s)
        log.info("worker started (pid %s)", self.worker.pid)
        return s

    def _after_new_broker(self, refill_by: Callable[[], None] | None) -> None:
        """A new embedded broker holds nothing (it keeps memory only): refill its topics from
        the event store (the worker skips events it had already applied), by the running
        relay when there is one, so that it never marks a row sent to the lost broker."""
        from hub.adapters.sql.db import create_schema, make_engine
        from hub.pipeline.replay import refill

        engine = make_engine(self.settings.effective_database_url)
        try:
            create_schema(engine)
            if refill_by is not None:
                refill_by()
            elif resent := refill(engine):
                log.info("refilling the new broker with %d stored events", resent)
            republish_checkpoints(self.settings, engine)
        finally:
            engine.dispose()

    def supervise(self, on_broker_reset: Callable[[], None] | None = None) -> None:
        """Restart children that die, until stop(); on_broker_reset asks the relay to refill."""
        from hub.entrypoints.supervisor import Supervisor

        path = self.settings.data_dir / "logs" / "hub-up.log"
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))  # owner only
        path.chmod(0o600)
        handler = logging.FileHandler(path)
        handler.setFormatter(formatter(self.settings.log_format))
        logging.getLogger("hub.up").addHandler(handler)
        self.extra.append(handler)
        self._supervisor = Supervisor(self, on_broker_reset)
        self._supervisor.start()

    def restart_worker(self) -> subprocess.Popen[bytes]:
        with self._lock:
            if self.worker is not None:
                stop_process(self.worker, "worker", timeout=WORKER_STOP_SECONDS)
            self.worker = start_worker(self.settings)
            return self.worker

    def restart_broker(self, refill_by: Callable[[], None] | None) -> EmbeddedBroker:
        """Replace a dead embedded broker on the same port; then topics, refill, worker."""
        assert self.broker is not None
        with self._lock:
            if self.worker is not None:  # its group and offsets died with the broker
                stop_process(self.worker, "worker", timeout=WORKER_STOP_SECONDS)
            self.broker = EmbeddedBroker.start(self.settings.data_dir / "logs", self.broker.port)
            ensure_topics(self.settings)
            self._after_new_broker(refill_by)
            self.worker = start_worker(self.settings)
            return self.broker

    def stop(self) -> None:
        if self._supervisor is not None:
            self._supervisor.stop()
        with self._lock:
            if self.worker is not None:
                stop_process(self.worker, "worker", timeout=WORKER_STOP_SECONDS)
            if self.broker is not None:
                stop_process(self.broker.proc, "embedded broker", timeout=BROKER_STOP_SECONDS)
        for handler in self.extra:
            if isinstance(handler, logging.Handler):
                logging.getLogger("hub.up").removeHandler(handler)
                handler.close()
