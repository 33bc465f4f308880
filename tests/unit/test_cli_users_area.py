"""`hub users add --area`: a Marac chair or coordinator of one area; the key authenticates to a
principal that carries the area."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.adapters.sql.db import create_schema, make_engine
from hub.adapters.sql.principals import SqlPrincipalStore
from hub.entrypoints.cli import main
from hub.settings import Settings


@pytest.fixture
def principals(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SqlPrincipalStore:
    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path))
    for name in ("HUB_DATABASE_URL", "HUB_KAFKA_BOOTSTRAP"):
        monkeypatch.delenv(name, raising=False)
    engine = make_engine(Settings(data_dir=tmp_path).effective_database_url)
    create_schema(engine)
    return SqlPrincipalStore(engine)


def test_a_chair_of_one_area(principals: SqlPrincipalStore, capsys) -> None:
    args = ["users", "add", "North Chair Example", "--role", "marac_chair", "--area", "TEST-AREA"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "for Marac area TEST-AREA" in out
    key = out.strip().splitlines()[-1]
    principal = principals.authenticate(key)
    assert principal is not None and principal.area == "TEST-AREA"
    assert principal.role == "marac_chair"


def test_a_chair_without_an_area_sees_every_area(principals: SqlPrincipalStore, capsys) -> None:
    assert main(["users", "add", "Chair Example", "--role", "marac_coordinator"]) == 0
    principal = principals.authenticate(capsys.readouterr().out.strip().splitlines()[-1])
    assert principal is not None and principal.area is None


def test_an_area_is_for_marac_roles_only(principals: SqlPrincipalStore, capsys) -> None:
    args = ["users", "add", "GP Example", "--role", "gp", "--agency", "TEST-GP-A"]
    assert main([*args, "--area", "TEST-AREA"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "An area is for Marac chairs and coordinators" in err
