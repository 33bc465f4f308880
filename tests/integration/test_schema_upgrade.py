"""A data folder from before families opens: its old read models are dropped (replay makes
them again) and the principals table gains the area column, keeping its rows."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from hub.adapters.sql.db import create_schema, make_engine, schema_revision, scratch_schema
from hub.adapters.sql.schema import metadata


def test_a_data_folder_from_before_families_is_brought_up_to_date(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE alerts (alert_id VARCHAR(36) PRIMARY KEY, rule TEXT)"))
        conn.execute(text("CREATE TABLE victim_projections (victim_token TEXT PRIMARY KEY)"))
        conn.execute(text(
            "CREATE TABLE principals (principal_id VARCHAR(64) PRIMARY KEY, name TEXT, kind TEXT,"
            " role TEXT, agency_id TEXT, key_id TEXT, key_hash TEXT, created_at TIMESTAMP,"
            " revoked_at TIMESTAMP)"
        ))  # fmt: skip
        conn.execute(text("INSERT INTO principals (principal_id, name) VALUES ('p1', 'Chair')"))
    create_schema(engine)
    tables = inspect(engine)
    assert "family_id" in {c["name"] for c in tables.get_columns("alerts")}
    assert "victim_projections" not in tables.get_table_names()
    assert "area" in {c["name"] for c in tables.get_columns("principals")}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM principals")).scalars().all() == ["Chair"]


def _differences(engine: Engine) -> list[object]:
    """What Alembic's autogenerate would change to make the database match schema.py."""
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), metadata)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hub.db'}"
        return
    url = os.environ.get("HUB_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("HUB_TEST_POSTGRES_URL is not set")
    with scratch_schema(url, "test") as scratch:
        yield scratch


def test_the_migrations_make_exactly_the_tables_the_code_uses(database_url: str) -> None:
    engine = make_engine(database_url)
    assert schema_revision(engine) is None
    create_schema(engine)
    assert schema_revision(engine) is not None
    assert _differences(engine) == []  # a change to schema.py needs a migration
    create_schema(engine)  # every start: nothing to do the second time
    assert _differences(engine) == []
    engine.dispose()


def test_a_data_folder_from_before_migrations_is_adopted(database_url: str) -> None:
    engine = make_engine(database_url)
    metadata.create_all(engine)  # how the hub made its tables before migrations
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO clock (name, at) VALUES ('hub', '2026-01-05 09:00:00')"))
    create_schema(engine)
    assert schema_revision(engine) is not None
    assert _differences(engine) == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM clock")).scalars().all() == ["hub"]
    engine.dispose()


def test_hub_db_upgrade_migrates_the_configured_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from hub.entrypoints.cli import main

    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("HUB_DATABASE_URL", raising=False)
    assert main(["db", "upgrade"]) == 0
    first = capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'hub.db'}")
    revision = schema_revision(engine)
    engine.dispose()
    assert first == f"database at migration {revision} (was None)\n"
    assert capsys.readouterr().out == f"database at migration {revision}\n"
