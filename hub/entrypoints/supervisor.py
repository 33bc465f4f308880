"""`hub up` keeps its children running: a worker or embedded broker that dies is restarted.

Restarts back off (0.5 s, doubling to 30 s; back to 0.5 s once a child has run for a healthy
minute), so a child that cannot start does not spin. Each death and restart is one clear
line on the console and in <data dir>/logs/hub-up.log: what died, how, when it restarts.

The embedded broker keeps memory only, so a restarted one is a full reset (DESIGN.md, the
Tansu table): the supervisor starts it on the same port (the API's relay keeps its address),
recreates the topics, republishes the audit checkpoints, has the outbox refilled from the
event store, and restarts the worker (its consumer group and offsets are gone).
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hub.entrypoints.stack import Stack

log = logging.getLogger("hub.up")

POLL_SECONDS = 0.2


@dataclass
class Backoff:
    """How long to wait before restarting a child, from how long it last ran."""

    first: float = 0.5
    ceiling: float = 30.0
    healthy_after: float = 60.0
    _next: float | None = field(init=False, default=None)
    _started_at: float | None = field(init=False, default=None)

    def started(self, at: float) -> None:
        self._started_at = at

    def delay(self, died_at: float) -> float:
        ran = died_at - self._started_at if self._started_at is not None else 0.0
        if self._next is None or ran >= self.healthy_after:
            self._next = self.first
        delay: float = self._next
        self._next = min(self._next * 2, self.ceiling)
        return delay


def how_it_ended(returncode: int) -> str:
    """'exited with code 1', 'was killed by SIGKILL'."""
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with code {returncode}"


class Supervisor:
    """Watches a started Stack from a thread and restarts what dies."""

    def __init__(
        self,
        stack: Stack,
        on_broker_reset: Callable[[], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        backoff: Callable[[], Backoff] = Backoff,
    ) -> None:
        self._stack = stack
        self._on_broker_reset = on_broker_reset
        self._clock = clock
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hub-up-supervisor", daemon=True)
        self.worker_backoff = backoff()
        self.broker_backoff = backoff()
        self.restarts = 0

    def start(self) -> None:
        now = self._clock()
        self.worker_backoff.started(now)
        self.broker_backoff.started(now)
        self._thread.start()

    def stop(self) -> None:
        """Stop watching (before the stack stops its children on purpose)."""
        self._halt.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(10)

    def _run(self) -> None:
        while not self._halt.wait(POLL_SECONDS):  # poll the children's exit status
            try:
                self.check()
            except Exception:  # keep supervising; the next pass retries with a longer wait
                log.exception("restarting a child failed")

    def check(self) -> None:
        """One pass: restart the broker (and with it the worker), or the worker, if dead."""
        stack = self._stack
        broker = stack.broker
        if broker is not None and broker.proc.poll() is not None:
            self._restart_broker(broker.proc.pid, broker.proc.returncode)
            return
        worker = stack.worker
        if worker is not None and worker.poll() is not None:
            self._restart_worker(worker.pid, worker.returncode)

    def _wait(self, backoff: Backoff, what: str, pid: int, returncode: int, then: str) -> bool:
        delay = backoff.delay(self._clock())
        self.restarts += 1
        log.error(
            "the %s (pid %s) %s; restarting it in %.1f s%s (restart %d)",
            what, pid, how_it_ended(returncode), delay, then, self.restarts,
        )  # fmt: skip
        return not self._halt.wait(delay)  # False: hub up is stopping, leave it

    def _restart_worker(self, pid: int, returncode: int) -> None:
        if not self._wait(self.worker_backoff, "worker", pid, returncode, ""):
            return
        new = self._stack.restart_worker()
        self.worker_backoff.started(self._clock())
        log.warning("worker restarted (pid %s)", new.pid)

    def _restart_broker(self, pid: int, returncode: int) -> None:
        then = (
            " on the same port, with its topics, refilled from the event store, and a new "
            "worker (the broker keeps memory only)"
        )
        if not self._wait(self.broker_backoff, "embedded broker", pid, returncode, then):
            return
        broker = self._stack.restart_broker(self._on_broker_reset)
        self.broker_backoff.started(self._clock())
        self.worker_backoff.started(self._clock())
        worker = self._stack.worker
        log.warning(
            "embedded broker restarted on %s (pid %s); worker restarted (pid %s)",
            broker.bootstrap, broker.proc.pid, worker.pid if worker else "-",
        )  # fmt: skip
