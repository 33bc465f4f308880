"""Is the hub ready to do its job: store, publish, process? The answer /readyz gives.

`/healthz` says only that the API process is up. Readiness checks what an accepted event
needs to become an alert: the database answers, the broker is reachable, a worker is alive
(its heartbeat is fresh), and neither the relay nor the worker is further behind than the
limits below. Each check names what is wrong, so an operator (or a load balancer) knows.

The API runs the checks in the background every ``HUB_READINESS_INTERVAL_SECONDS`` (the
``ReadinessMonitor``) and answers /readyz and the lag gauges of /metrics from the latest
result: a probe or a scrape never waits on a database that has gone away, and a hundred
probes cost one query round. A result older than three intervals counts as not ready (the
checks themselves are stuck), so an outage is seen within about one interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from hub.adapters.sql import failed, progress
from hub.adapters.sql.progress import PROJECTOR
from hub.settings import Settings


@dataclass(frozen=True)
class ReadinessLimits:
    # Longest an accepted event may wait in the outbox before readiness fails. After a broker
    # restart the whole store is queued again, so readiness fails until the refill is done.
    relay_lag_seconds: float = 30.0
    # Longest a published event may wait for the worker to apply it.
    worker_lag_seconds: float = 60.0
    # A worker beats every few seconds (hub.pipeline.worker); older than this, it is gone.
    heartbeat_seconds: float = 15.0
    # How long to wait for the broker's port to answer.
    broker_connect_seconds: float = 0.5

    @classmethod
    def from_settings(cls, settings: Settings) -> ReadinessLimits:
        return cls(
            relay_lag_seconds=settings.ready_relay_lag_seconds,
            worker_lag_seconds=settings.ready_worker_lag_seconds,
        )


@dataclass
class Readiness:
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return all(c["ok"] for c in self.checks.values())

    @property
    def failing(self) -> list[str]:
        return [name for name, c in self.checks.items() if not c["ok"]]

    def body(self) -> dict[str, Any]:
        return {
            "status": "ready" if self.ready else "not ready",
            "failing": self.failing,
            "checks": self.checks,
        }


def broker_reachable(bootstrap: str, timeout: float) -> str | None:
    """None when one of the bootstrap addresses accepts a connection, else why not."""
    problems = []
    for address in filter(None, (a.strip() for a in bootstrap.split(","))):
        host, _, port = address.rpartition(":")
        try:
            with socket.create_connection((host, int(port)), timeout=timeout):
                return None
        except (OSError, ValueError) as exc:
            problems.append(f"{address}: {exc}")
    return "; ".join(problems) or "no bootstrap address"


def _age(now: datetime, moment: datetime | None) -> float | None:
    return None if moment is None else round(max(0.0, (now - moment).total_seconds()), 3)


def check(
    engine: Engine,
    relay_state: dict[str, Any] | None,
    bootstrap: str,
    now: datetime,
    limits: ReadinessLimits | None = None,
    probe: Callable[[str, float], str | None] = broker_reachable,
) -> Readiness:
    """Every readiness check, at `now` (blocking: call it off the event loop).

    relay_state is this process's outbox relay's `state()`, None when it runs no relay."""
    limits = limits or ReadinessLimits()
    r = Readiness()
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        r.checks["database"] = {"ok": False, "detail": f"the database does not answer: {exc}"}
        return r  # every other check reads the database
    r.checks["database"] = {"ok": True}
    # a lost broker does not end the checks: the lags it causes are what an operator watches
    problem = (
        probe(bootstrap, limits.broker_connect_seconds)
        if bootstrap
        else "no broker configured (HUB_KAFKA_BOOTSTRAP)"
    )
    if problem is None and relay_state is not None and not relay_state["broker_ok"]:
        problem = f"the outbox relay cannot publish: {relay_state['error']}"
    r.checks["broker"] = {"ok": problem is None, "bootstrap": bootstrap}
    if problem is not None:
        r.checks["broker"]["detail"] = problem

    backlog = progress.relay_backlog(engine)
    lag = _age(now, backlog.oldest) or 0.0
    r.checks["relay"] = {
        "ok": relay_state is not None and lag <= limits.relay_lag_seconds,
        "unsent": backlog.waiting,
        "lag_seconds": lag,
        "limit_seconds": limits.relay_lag_seconds,
    }
    if relay_state is None:
        r.checks["relay"]["detail"] = "this API process runs no outbox relay"

    beat = _age(now, progress.newest_heartbeat(engine))
    alive = beat is not None and beat <= limits.heartbeat_seconds
    behind = progress.worker_backlog(engine, PROJECTOR)
    worker_lag = _age(now, behind.oldest) or 0.0
    r.checks["worker"] = {
        "ok": alive and worker_lag <= limits.worker_lag_seconds,
        "heartbeat_age_seconds": beat,
        "unapplied": behind.waiting,
        "lag_seconds": worker_lag,
        "limit_seconds": limits.worker_lag_seconds,
        # poison events wait for an operator (`hub failed list`); they do not make the hub
        # unready, but whoever watches readiness should see them
        "set_apart": failed.unresolved_count(engine),
    }
    if not alive:
        r.checks["worker"]["detail"] = (
            "no worker has ever beaten" if beat is None else f"no worker heartbeat for {beat:.0f} s"
        )
    return r


# A result older than this many intervals means the checks themselves are stuck.
STALE_AFTER_INTERVALS = 3


class ReadinessMonitor:
    """Runs ``check`` every interval off the event loop and keeps the latest answer."""

    def __init__(
        self,
        run_check: Callable[[], Readiness],
        interval: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._run_check = run_check
        self._interval = interval
        self._clock = clock
        self._latest: tuple[float, Readiness] | None = None
        self._first = asyncio.Event()
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        while not self._stopping.is_set():
            result = await asyncio.to_thread(self._run_check)
            self._latest = (self._clock(), result)
            self._first.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._interval)

    def stop(self) -> None:
        self._stopping.set()

    async def current(self, first_wait: float = 10.0) -> Readiness:
        """The latest answer (waiting for the first, up to first_wait seconds)."""
        if self._latest is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._first.wait(), first_wait)
        return self.latest()

    def latest(self) -> Readiness:
        if self._latest is None:
            return _unready("checks", "the readiness checks have not finished yet")
        at, result = self._latest
        age = self._clock() - at
        if age > STALE_AFTER_INTERVALS * self._interval:
            return _unready("checks", f"the readiness checks have not finished for {age:.0f} s")
        return result


def _unready(name: str, detail: str) -> Readiness:
    r = Readiness()
    r.checks[name] = {"ok": False, "detail": detail}
    return r
