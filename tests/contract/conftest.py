"""Database engines for the contract suites: SQLite always, PostgreSQL when configured.

PostgreSQL runs each test in a schema of its own (dropped afterwards), so tests sharing one
server, in parallel or with other suites, never see each other's rows.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from hub.adapters.sql.db import create_schema, make_engine, scratch_schema


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    create_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_engine() -> Iterator[Engine]:
    url = os.environ.get("HUB_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("HUB_TEST_POSTGRES_URL not set")
    with scratch_schema(url, "test") as scratch:
        engine = make_engine(scratch)
        try:
            create_schema(engine)
            yield engine
        finally:
            engine.dispose()
