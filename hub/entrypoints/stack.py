"""Run the hub's processes together: embedded broker (when no cluster is named), worker, API.

The hub owns its children: each runs in its own session (Ctrl-C reaches only the hub, which
stops them in order: worker, then broker) and dies with the hub if the hub is killed.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.adapters.kafka.embedded import EmbeddedBroker, child_process_options, stop_process
from hub.adapters.kafka.topics import ensure_topics
from hub.settings import Settings, env_name

log = logging.getLogger(__name__)


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

    def start(self) -> Settings:
        s = self.settings
        if not s.kafka_bootstrap:
            self.broker = EmbeddedBroker.start(s.data_dir / "logs", s.embedded_broker_port)
            s = s.with_bootstrap(self.broker.bootstrap, embedded=True)
            log.info("embedded broker on %s (pid %s)", self.broker.bootstrap, self.broker.proc.pid)
        self.settings = s
        ensure_topics(s)
        if self.broker is not None:
            # A new embedded broker holds nothing (it keeps memory only): refill its topics
            # from the event store; the worker skips events it had already applied.
            from hub.adapters.sql.db import create_schema, make_engine
            from hub.pipeline.replay import refill

            engine = make_engine(s.effective_database_url)
            create_schema(engine)
            resent = refill(engine)
            republish_checkpoints(s, engine)
            engine.dispose()
            if resent:
                log.info("refilling the new broker with %d stored events", resent)
        self.worker = start_worker(s)
        log.info("worker started (pid %s)", self.worker.pid)
        return s

    def stop(self) -> None:
        if self.worker is not None:
            stop_process(self.worker, "worker", timeout=20)
        if self.broker is not None:
            self.broker.stop()
