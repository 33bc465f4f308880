"""Engine creation for SQLite and PostgreSQL, and schema setup (Alembic migrations)."""

from __future__ import annotations

import contextlib
import fcntl
import functools
import logging
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Connection, Engine, create_engine, event, text

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
            _private_file(Path(path))
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def _private_file(path: Path) -> None:
    """The database file readable by the owner only (0600 in a 0700 folder), made before
    SQLite opens it: its -wal and -shm files take the same mode."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Never open an existing database file here: closing any descriptor of a file drops every
    # POSIX lock this process holds on it, SQLite's included, and that corrupts the database
    # when another engine of this process has it open. Create it only when it is not there.
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)  # a file from before: chmod takes no lock away


MIGRATIONS = Path(__file__).parent / "migrations"
# Any number, the same in every hub process: PostgreSQL's lock for "migrating now".
_PG_MIGRATION_LOCK = 0x6875625F6462  # "hub_db"


def create_schema(engine: Engine) -> None:
    """Bring the database's tables up to the newest migration (Alembic, head), creating them
    on an empty database and adopting a data folder from before migrations. Cheap when it is
    already current: processes call it at every start."""
    _quiet_alembic()  # before alembic is imported: it logs as it sets itself up
    from alembic import command
    from alembic.config import Config

    with _migration_lock(engine), engine.begin() as conn:
        before = _current(conn)
        if before == _head():
            return
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
        if before is not None:  # a new database is made, not migrated: nothing to say
            log.info("database migrated from %s to %s", before, _head())


def _quiet_alembic() -> None:
    """Alembic says at INFO what it sets up on every start (a dozen lines, on stderr where
    commands print their one-line errors); the hub logs one line when it migrates. An
    operator who sets a level on the "alembic" logger keeps it."""
    alembic_log = logging.getLogger("alembic")
    if alembic_log.level == logging.NOTSET:
        alembic_log.setLevel(logging.WARNING)


def schema_revision(engine: Engine) -> str | None:
    """The migration the database is at (None: never migrated)."""
    with engine.connect() as conn:
        return _current(conn)


def _current(conn: Connection) -> str | None:
    _quiet_alembic()  # before alembic is imported: it logs as it sets itself up
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()


@functools.cache
def _head() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """One process migrates at a time (the API, worker and CLI may start together)."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_MIGRATION_LOCK})
                conn.commit()
        return
    path = engine.url.database
    if engine.dialect.name != "sqlite" or not path or path == ":memory:":
        yield
        return
    with open(f"{path}.migrate-lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
        yield


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
