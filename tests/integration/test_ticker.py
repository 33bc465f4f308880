"""The hub clock with several API processes on one store: only the relay lease's holder
checks for passed deadlines, so one tick is stored, not one per process."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from hub.adapters.sql.db import create_schema, make_engine
from hub.adapters.sql.schema import events, family_projections
from hub.domain.internal import CLOCK_TICKED
from hub.pipeline.ticker import Ticker
from tests.integration.conftest import until

pytestmark = pytest.mark.integration

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_a_process_without_the_relay_lease_stores_no_tick_until_it_holds_it(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    create_schema(engine)
    with engine.begin() as conn:  # a family whose deadline (first contact, say) has passed
        conn.execute(
            insert(family_projections).values(
                family_id="fam-test-deadline", membership="m", state="{}",
                next_due=NOW - timedelta(hours=1), updated_at=NOW - timedelta(days=1),
            )
        )  # fmt: skip

    def ticks() -> int:
        with engine.connect() as conn:
            query = select(func.count()).select_from(events).where(events.c.type == CLOCK_TICKED)
            return int(conn.execute(query).scalar() or 0)

    holds = False
    asked: list[bool] = []
    woken: list[bool] = []

    def holds_lease() -> bool:
        asked.append(holds)
        return holds

    ticker = Ticker(
        engine, "hub.events.v1", 0.01, lambda: woken.append(True), now=lambda: NOW,
        active=holds_lease,
    )  # fmt: skip

    async def scenario() -> None:
        nonlocal holds
        running = asyncio.create_task(ticker.run())
        try:
            await until(lambda: len(asked) >= 5, 30, "five checks without the lease")
            assert ticks() == 0 and not woken  # another process holds the lease
            holds = True
            await until(lambda: ticks() == 1, 30, "the tick once the lease is held")
            await until(lambda: bool(woken), 30, "the relay woken for it")
        finally:
            ticker.stop()
            await asyncio.wait_for(running, 30)

    asyncio.run(scenario())
    assert ticks() == 1  # the clock moved past the deadline only once
    engine.dispose()
