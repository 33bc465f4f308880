"""The operator's `hub agencies …` and `hub users …` go through the same service as the
administrator's pages: each change is in the audit log with who (cli:<os user>) and why
(--reason), keys and passwords are shown once and never recorded, and mistakes are one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hub.adapters.audit_wiring import open_audit_store
from hub.adapters.sql.db import create_schema, make_engine
from hub.adapters.sql.logins import SqlLoginStore
from hub.adapters.sql.principals import SqlPrincipalStore
from hub.entrypoints.cli import main
from hub.settings import Settings


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path))
    for name in ("HUB_DATABASE_URL", "HUB_KAFKA_BOOTSTRAP"):
        monkeypatch.delenv(name, raising=False)
    return Settings(data_dir=tmp_path)


def records(settings: Settings) -> list[dict]:
    engine = make_engine(settings.effective_database_url)
    return [json.loads(r.body) for r in open_audit_store(settings, engine, publish=False).records()]


def last_line(capsys: pytest.CaptureFixture[str]) -> str:
    return capsys.readouterr().out.strip().splitlines()[-1]


def test_an_agency_key_rotated_then_revoked_from_the_command_line(settings, capsys) -> None:
    assert main(["agencies", "add", "TEST-POLICE-A", "--type", "police",
                 "--reason", "joins the hub"]) == 0  # fmt: skip
    first = capsys.readouterr().out.splitlines()[1]  # the key, under the line saying so
    engine = make_engine(settings.effective_database_url)
    create_schema(engine)
    store = SqlPrincipalStore(engine)
    assert store.authenticate(first) is not None
    assert main(["agencies", "rotate-key", "TEST-POLICE-A", "--reason", "key leaked"]) == 0
    second = last_line(capsys)
    assert store.authenticate(first) is None and store.authenticate(second) is not None
    assert main(["agencies", "revoke", "TEST-POLICE-A"]) == 0
    assert store.authenticate(second) is None
    assert main(["agencies", "list"]) == 0
    assert "TEST-POLICE-A\tpolice\trevoked" in capsys.readouterr().out
    changes = [b for b in records(settings) if b["outcome"] == "changed"]
    assert [(b["action"], b["reason"]) for b in changes] == [
        ("admin add agency", "joins the hub"),
        ("admin rotate agency key", "key leaked"),
        ("admin revoke agency", "not stated (hub command line)"),
    ]
    assert all(b["principal_id"].startswith("cli:") and b["role"] == "operator" for b in changes)
    assert first not in json.dumps(changes) and second not in json.dumps(changes)


def test_a_user_gets_a_temporary_password_then_is_disabled(settings, capsys) -> None:
    assert main(["users", "add", "Chair Example", "--role", "marac_chair"]) == 0
    capsys.readouterr()
    assert main(["users", "reset-password", "Chair Example", "--reason", "forgotten"]) == 0
    password = last_line(capsys)
    engine = make_engine(settings.effective_database_url)
    logins = SqlLoginStore(engine)
    found = logins.login("Chair Example")
    assert found is not None and found.usable and found.password_hash is not None
    assert found.must_change  # the web pages ask for their own password first
    assert main(["users", "disable", "Chair Example", "--reason", "left"]) == 0
    found = logins.login("Chair Example")
    assert found is not None and not found.usable
    assert main(["users", "list"]) == 0
    assert "Chair Example\tmarac_chair\tdisabled" in capsys.readouterr().out
    assert password not in json.dumps(records(settings))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["agencies", "rotate-key", "TEST-NOBODY"], "no agency system 'TEST-NOBODY'"),
        (["agencies", "add", "TEST-X", "--type", "spaceship"], "Choose an agency type"),
        (["users", "disable", "Nobody"], "no person 'Nobody'"),
        (["agencies", "add", "TEST-X", "--type", "police", "--reason", "x"], "at least 3"),
    ],
)
def test_mistakes_are_one_line_and_exit_2(settings, capsys, args, message) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
