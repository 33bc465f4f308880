"""Contract of the relay lease, on SQLite and PostgreSQL: one holder at a time, renewed by its
holder, taken by another once lapsed or given up, never by two. Times are a fixed clock."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from hub.adapters.sql.lease import SqlLease, holder_id

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
LENGTH = timedelta(seconds=30)


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest) -> Engine:
    return request.getfixturevalue(f"{request.param}_engine")  # type: ignore[no-any-return]


def lease(engine: Engine, holder: str) -> SqlLease:
    return SqlLease(engine, "outbox", holder, LENGTH)


def test_the_first_to_ask_holds_it_and_the_other_waits(engine: Engine) -> None:
    a, b = lease(engine, "host-a:101:aaaa"), lease(engine, "host-b:102:bbbb")
    assert a.acquire(T0) == T0 + LENGTH
    assert b.acquire(T0 + timedelta(seconds=1)) is None
    assert a.current() is not None and a.current() == b.current()
    assert b.current().holder == "host-a:101:aaaa"  # type: ignore[union-attr]


def test_the_holder_renews_and_the_other_takes_over_only_once_it_lapsed(engine: Engine) -> None:
    a, b = lease(engine, "host-a:101:aaaa"), lease(engine, "host-b:102:bbbb")
    a.acquire(T0)
    assert a.acquire(T0 + timedelta(seconds=20)) == T0 + timedelta(seconds=50)  # renewed
    assert b.acquire(T0 + timedelta(seconds=49)) is None  # still a's
    assert b.acquire(T0 + timedelta(seconds=50)) == T0 + timedelta(seconds=80)  # lapsed
    assert a.acquire(T0 + timedelta(seconds=51)) is None  # a lost it: it must stand by
    assert b.current().holder == "host-b:102:bbbb"  # type: ignore[union-attr]


def test_a_holder_that_gives_it_up_is_followed_at_once(engine: Engine) -> None:
    a, b = lease(engine, "host-a:101:aaaa"), lease(engine, "host-b:102:bbbb")
    a.acquire(T0)
    b.release()  # only the holder can give it up
    assert b.acquire(T0 + timedelta(seconds=1)) is None
    a.release()
    assert b.acquire(T0 + timedelta(seconds=1)) == T0 + timedelta(seconds=31)


def test_a_holder_that_died_on_this_host_is_not_waited_for(engine: Engine) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    me = holder_id()
    host = me.rsplit(":", 2)[0]
    lease(engine, f"{host}:{dead.stdout.strip()}:dead").acquire(T0)
    assert lease(engine, me).acquire(T0 + timedelta(seconds=1)) == T0 + timedelta(seconds=31)
    # a live process of this host (this one), or one of another host, is waited for
    lease(engine, me).release()
    lease(engine, f"other-host:{dead.stdout.strip()}:gone").acquire(T0 + timedelta(seconds=2))
    assert lease(engine, me).acquire(T0 + timedelta(seconds=3)) is None


def test_of_many_asking_at_once_exactly_one_holds_it(engine: Engine) -> None:
    contenders = [lease(engine, f"host-{i}:{1000 + i}:c{i}") for i in range(8)]
    results: list[datetime | None] = [None] * len(contenders)
    start = threading.Barrier(len(contenders))

    def ask(i: int) -> None:
        start.wait()
        results[i] = contenders[i].acquire(T0)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(contenders))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [c.holder for c, r in zip(contenders, results, strict=True) if r is not None]
    assert len(winners) == 1
    assert contenders[0].current().holder == winners[0]  # type: ignore[union-attr]
