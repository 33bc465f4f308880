"""`hub up`'s supervisor: bounded backoff, a clear line per death, the right restart."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import pytest

from hub.entrypoints.supervisor import Backoff, Supervisor, how_it_ended


def test_backoff_doubles_to_its_ceiling_and_resets_after_a_healthy_run() -> None:
    b = Backoff(first=0.5, ceiling=30.0, healthy_after=60.0)
    b.started(0.0)
    delays = [b.delay(died_at=1.0) for _ in range(9)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    b.started(100.0)
    assert b.delay(died_at=159.0) == 30.0  # ran under a minute: still backing off
    b.started(200.0)
    assert b.delay(died_at=260.0) == 0.5  # a healthy minute: start again from the first


def test_how_a_child_ended_is_said_in_words() -> None:
    assert how_it_ended(-9) == "was killed by SIGKILL"
    assert how_it_ended(1) == "exited with code 1"


@dataclass
class FakeProcess:
    pid: int
    returncode: int | None = None

    def poll(self) -> int | None:
        return self.returncode


@dataclass
class FakeBroker:
    proc: FakeProcess
    bootstrap: str = "127.0.0.1:9092"


@dataclass
class FakeStack:
    """Records restarts instead of starting processes."""

    broker: FakeBroker | None
    worker: FakeProcess | None
    calls: list[str] = field(default_factory=list)

    def restart_worker(self) -> FakeProcess:
        self.calls.append("worker")
        self.worker = FakeProcess(pid=self.worker.pid + 1 if self.worker else 1)
        return self.worker

    def restart_broker(self, refill_by: Any) -> FakeBroker:
        self.calls.append(f"broker refill_by={refill_by is not None}")
        self.broker = FakeBroker(FakeProcess(pid=500))
        self.worker = FakeProcess(pid=600)
        return self.broker


def supervisor(stack: FakeStack) -> Supervisor:
    return Supervisor(stack, on_broker_reset=lambda: None,  # type: ignore[arg-type]
                      backoff=lambda: Backoff(first=0.0, ceiling=0.0))  # fmt: skip


def test_a_dead_worker_is_restarted_with_a_line_saying_what_died(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stack = FakeStack(FakeBroker(FakeProcess(100)), FakeProcess(200, returncode=-9))
    with caplog.at_level(logging.WARNING, logger="hub.up"):
        supervisor(stack).check()
    assert stack.calls == ["worker"]
    lines = [r.getMessage() for r in caplog.records]
    assert any("worker (pid 200) was killed by SIGKILL; restarting it" in line for line in lines)
    assert any("worker restarted (pid 201)" in line for line in lines)


def test_a_dead_broker_is_a_full_reset_that_restarts_the_worker_too() -> None:
    stack = FakeStack(FakeBroker(FakeProcess(100, returncode=-9)), FakeProcess(200))
    supervisor(stack).check()
    assert stack.calls == ["broker refill_by=True"]  # restart_broker restarts the worker


def test_live_children_are_left_alone_and_a_stopping_hub_restarts_nothing() -> None:
    stack = FakeStack(FakeBroker(FakeProcess(100)), FakeProcess(200))
    supervisor(stack).check()
    assert stack.calls == []
    stack.worker = FakeProcess(200, returncode=1)
    stopping = supervisor(stack)
    stopping.stop()  # hub up stops its children on purpose: they must stay stopped
    stopping.check()
    assert stack.calls == []
