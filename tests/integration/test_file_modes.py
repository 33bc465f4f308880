"""What the hub writes to disk is the owner's alone: the database and its WAL 0600 in a 0700
folder, like the keys, and the keys in their own folder when HUB_KEY_DIR says so."""

from __future__ import annotations

import stat
from pathlib import Path

from fastapi.testclient import TestClient

from hub.contract.examples import EXAMPLES
from hub.entrypoints.api.app import create_app
from hub.entrypoints.logs import logging_to_file
from hub.settings import Settings
from tests.integration.conftest import Api


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_database_wal_log_and_keys_are_the_owners_alone(tmp_path: Path) -> None:
    data, keys = tmp_path / "data", tmp_path / "secrets" / "hub-keys"
    app = create_app(Settings(data_dir=data, key_dir=keys))
    with TestClient(app) as client:
        api = Api(client, app.state.services)
        agency = api.key("TEST-POLICE-A", "agency_system", "police", "TEST-POLICE-A")
        r = api.client.post("/v1/events", json=EXAMPLES["police.incident"], headers=agency)
        assert r.status_code == 202, r.text
        with logging_to_file(data) as log_file:
            pass
        written = [data / "hub.db", *data.glob("hub.db-wal"), log_file]
        assert (data / "hub.db-wal") in written  # WAL mode: the log of the database exists
        assert {p.name: mode(p) for p in written} == {p.name: 0o600 for p in written}
        assert mode(data) == 0o700
        assert sorted(p.name for p in keys.iterdir()) and mode(keys) == 0o700
        assert all(mode(k) == 0o600 for k in keys.iterdir())
        assert not (data / "keys").exists()  # the keys are not beside the database
