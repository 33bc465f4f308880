"""A data folder from before families opens: its old read models are dropped (replay makes
them again) and the principals table gains the area column, keeping its rows."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect, text

from hub.adapters.sql.db import create_schema, make_engine


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
