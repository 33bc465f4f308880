"""Signed checkpoints: what the hub signs verifies with its key, and nothing else does."""

from __future__ import annotations

import dataclasses
import stat
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from audit.checkpoint import (
    Checkpoint,
    CheckpointSigner,
    load_checkpoint_public_key,
    public_key_pem,
    signature_problem,
    signed_text,
)
from audit.errors import CheckpointError
from hub.adapters.audit_wiring import load_or_create_signer, load_signer

SIGNED_AT = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
ROOT = bytes.fromhex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")
HEAD = "ab" * 32


@pytest.fixture
def signer() -> CheckpointSigner:
    return CheckpointSigner.from_seed(bytes(range(32)))


@pytest.fixture
def checkpoint(signer: CheckpointSigner) -> Checkpoint:
    return signer.sign(1000, ROOT, HEAD, SIGNED_AT)


def test_a_checkpoint_verifies_with_the_signing_key(
    signer: CheckpointSigner, checkpoint: Checkpoint
) -> None:
    assert (checkpoint.tree_size, checkpoint.root_hash, checkpoint.chain_head) == (
        1000,
        ROOT.hex(),
        HEAD,
    )
    assert checkpoint.time == "2026-03-01T10:00:00+00:00"
    assert checkpoint.key_id == signer.key_id and len(signer.key_id) == 16
    assert signature_problem(checkpoint, signer.public_key) is None


def test_the_signature_covers_the_documented_text(
    signer: CheckpointSigner, checkpoint: Checkpoint
) -> None:
    text = signed_text(1000, ROOT.hex(), HEAD, "2026-03-01T10:00:00+00:00")
    assert text == (
        b"hub-audit-checkpoint/v1\n1000\n"
        + ROOT.hex().encode()
        + b"\n"
        + HEAD.encode()
        + b"\n2026-03-01T10:00:00+00:00\n"
    )
    signer.public_key.verify(bytes.fromhex(checkpoint.signature), text)  # raises if not


def test_time_is_recorded_in_utc() -> None:
    signer = CheckpointSigner.from_seed(bytes(32))
    cp = signer.sign(1, ROOT, HEAD, SIGNED_AT.astimezone(timezone(timedelta(hours=2))))
    assert cp.time == "2026-03-01T10:00:00+00:00"
    with pytest.raises(ValueError, match="timezone-aware"):
        signer.sign(1, ROOT, HEAD, datetime(2026, 3, 1, 10, 0))


def test_another_key_does_not_verify_it(checkpoint: Checkpoint) -> None:
    other = CheckpointSigner.from_seed(bytes(32))
    problem = signature_problem(checkpoint, other.public_key)
    assert problem is not None and "another key" in problem
    # even when the key id is made to match the wrong key, the signature itself fails
    relabelled = dataclasses.replace(checkpoint, key_id=other.key_id)
    problem = signature_problem(relabelled, other.public_key)
    assert problem is not None and "does not verify" in problem


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("tree_size", 999),
        ("root_hash", "00" * 32),
        ("chain_head", "cd" * 32),
        ("time", "2026-03-01T10:00:01+00:00"),
        ("signature", "00" * 64),
    ],
)
def test_any_edited_field_breaks_the_signature(
    signer: CheckpointSigner, checkpoint: Checkpoint, field: str, value: object
) -> None:
    edited = dataclasses.replace(checkpoint, **{field: value})
    problem = signature_problem(edited, signer.public_key)
    assert problem is not None and "does not verify" in problem


def test_json_round_trip_and_malformed_documents(checkpoint: Checkpoint) -> None:
    assert Checkpoint.from_dict(checkpoint.to_dict()) == checkpoint
    for field, value, message in [
        ("tree_size", -1, "'tree_size' must be a whole number"),
        ("tree_size", True, "'tree_size' must be a whole number"),
        ("root_hash", "XYZ", "'root_hash' must be 64 hex digits"),
        ("signature", "ab" * 32, "'signature' must be 128 hex digits"),
        ("time", 5, "'time' must be a string"),
    ]:
        with pytest.raises(CheckpointError, match=message):
            Checkpoint.from_dict({**checkpoint.to_dict(), field: value})
    with pytest.raises(CheckpointError, match="JSON object"):
        Checkpoint.from_dict([checkpoint.to_dict()])


def test_the_key_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "audit-checkpoint.key"
    assert load_signer(path) is None  # looking does not create
    assert not path.exists()
    first = load_or_create_signer(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = load_signer(path)
    assert again is not None and again.key_id == first.key_id


def test_a_damaged_key_file_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "audit-checkpoint.key"
    path.write_bytes(b"short")
    with pytest.raises(CheckpointError, match="restore it from backup"):
        load_or_create_signer(path)


def test_the_public_key_exports_as_pem_and_reads_back(
    tmp_path: Path, signer: CheckpointSigner, checkpoint: Checkpoint
) -> None:
    pem = tmp_path / "hub-audit.pem"
    pem.write_text(public_key_pem(signer.public_key))
    assert pem.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    assert signature_problem(checkpoint, load_checkpoint_public_key(pem)) is None
    raw = tmp_path / "hub-audit.hex"
    raw.write_text(signer.public_key.public_bytes_raw().hex() + "\n")
    assert signature_problem(checkpoint, load_checkpoint_public_key(raw)) is None


def test_unusable_public_key_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="cannot read public key file"):
        load_checkpoint_public_key(tmp_path / "missing.pem")
    not_a_key = tmp_path / "not-a-key.pem"
    not_a_key.write_text("TEST NOT A KEY")
    with pytest.raises(CheckpointError, match="no Ed25519 public key"):
        load_checkpoint_public_key(not_a_key)
    too_short = tmp_path / "short.hex"
    too_short.write_text("abcd")  # hex, but 2 bytes, not 32
    with pytest.raises(CheckpointError, match="no Ed25519 public key"):
        load_checkpoint_public_key(too_short)
