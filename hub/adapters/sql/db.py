"""Engine creation for SQLite and PostgreSQL, and schema setup."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, event, inspect, text

from hub.adapters.sql.schema import metadata

log = logging.getLogger(__name__)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # WAL: the API, relay and worker processes read while another writes.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def as_utc(value: datetime) -> datetime:
    """A datetime read back from the database, as UTC: SQLite returns them without their
    offset, and the hub stores UTC only."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def make_engine(url: str) -> Engine:
    """An engine for url, with SQLite tuned for several processes sharing one file."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


# Read models from before families (session 1): derived, so they are dropped and made again
# (`hub replay` refills them); the principals table gains a column.
_OLD_DERIVED = ("victim_projections", "alerts")


def create_schema(engine: Engine) -> None:
    """Create missing tables; bring a data folder from before families up to date."""
    existing = inspect(engine)
    names = set(existing.get_table_names())
    if "alerts" in names and "family_id" not in {c["name"] for c in existing.get_columns("alerts")}:
        log.warning("read models predate families: dropping them; run `hub replay` to rebuild")
        with engine.begin() as conn:
            for table in _OLD_DERIVED:
                conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
    if "principals" in names and "area" not in {
        c["name"] for c in existing.get_columns("principals")
    }:
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE principals ADD COLUMN area VARCHAR(64)"))
    metadata.create_all(engine)


@contextmanager
def scratch_schema(url: str, prefix: str = "scratch") -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a new, empty schema, dropped on exit: lets tests
    and benchmarks share one server (and each other's company) without seeing each other."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        separator = "&" if "?" in url else "?"
        yield f"{url}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
