"""`hub agencies signing-key`: register an agency's own public key, generate one, revoke it;
mistakes end with one line and exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.adapters.sql.db import create_schema, make_engine
from hub.adapters.sql.principals import SqlPrincipalStore
from hub.contract.signing import (
    generate_private_key,
    public_key_pem,
    raw_public_key,
    signing_key_id,
)
from hub.entrypoints.cli import main
from hub.settings import Settings


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path))
    for name in ("HUB_DATABASE_URL", "HUB_KAFKA_BOOTSTRAP"):
        monkeypatch.delenv(name, raising=False)
    assert main(["agencies", "add", "TEST-POLICE-A", "--type", "police"]) == 0
    return tmp_path


def store(data_dir: Path) -> SqlPrincipalStore:
    engine = make_engine(Settings(data_dir=data_dir).effective_database_url)
    create_schema(engine)
    return SqlPrincipalStore(engine)


def test_register_an_agencys_own_key_then_revoke_it(data_dir: Path, capsys) -> None:
    public = raw_public_key(generate_private_key())
    pem = data_dir / "agency.pub.pem"
    pem.write_bytes(public_key_pem(public))
    assert main(["agencies", "signing-key", "TEST-POLICE-A", "--public-key", str(pem)]) == 0
    assert f"signing key {signing_key_id(public)} registered" in capsys.readouterr().out
    principal, keys = store(data_dir).signing_identity("TEST-POLICE-A")  # type: ignore[misc]
    assert (principal.role, keys) == ("police", [public])

    assert (
        main(["agencies", "signing-key", "TEST-POLICE-A", "--revoke", signing_key_id(public)]) == 0
    )
    assert store(data_dir).signing_identity("TEST-POLICE-A") is None


def test_a_generated_key_is_shown_once_and_only_its_public_half_kept(data_dir, capsys) -> None:
    assert main(["agencies", "signing-key", "TEST-POLICE-A"]) == 0
    out = capsys.readouterr().out
    assert "-----BEGIN PRIVATE KEY-----" in out
    _principal, keys = store(data_dir).signing_identity("TEST-POLICE-A")  # type: ignore[misc]
    assert len(keys) == 1 and len(keys[0]) == 32


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["TEST-NOBODY"], "no agency system 'TEST-NOBODY'"),
        (["TEST-POLICE-A", "--public-key", "/nonexistent.pem"], "No such file"),
        (["TEST-POLICE-A", "--revoke", "0000000000000000"], "no active signing key"),
    ],
)
def test_mistakes_are_one_line_and_exit_2(data_dir, capsys, args, message) -> None:
    assert main(["agencies", "signing-key", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
