"""`hub audit …` as an IG officer runs it, against a log an attacker with database access has
tampered with (triggers dropped first). Each command runs in-process, `main(["audit", …])`, on a
real database (SQLite, and PostgreSQL when HUB_TEST_POSTGRES_URL is set)."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, delete, insert, update

from audit.chain import ChainedRecord, canonical_json, chain_next
from audit.schema import audit_checkpoints, audit_head, audit_records
from audit.store import SqlAuditStore, checkpoint_row
from hub.adapters.audit_wiring import open_audit_store
from hub.adapters.sql.db import create_schema, make_engine, scratch_schema
from hub.settings import Settings
from tests.audit_builders import OTHER_KEY, SIGNED_AT, rechain
from tests.audit_tamper import drop_audit_triggers
from tests.cli import Ran, run_hub

RECORDS = 10  # checkpoints at 4 and 8


@dataclass
class Log:
    settings: Settings
    engine: Engine
    store: SqlAuditStore
    records: list[ChainedRecord]
    tmp: Path

    def hub(self, *args: str | Path) -> Ran:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
        env["HUB_DATA_DIR"] = str(self.settings.data_dir)
        env["HUB_DATABASE_URL"] = self.settings.effective_database_url
        return run_hub("audit", *args, env=env, cwd=self.tmp)

    def tamper(self, change: Callable[[Connection, list[ChainedRecord]], None]) -> None:
        with self.engine.begin() as conn:
            drop_audit_triggers(conn)
            change(conn, self.records)


@contextlib.contextmanager
def database_url(kind: str) -> Iterator[str]:
    """ "" (SQLite in the data dir) or a PostgreSQL URL whose schema lives as long as the test."""
    if kind == "sqlite":
        yield ""
        return
    url = os.environ.get("HUB_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("HUB_TEST_POSTGRES_URL not set")
    with scratch_schema(url, "test") as scratch:
        yield scratch


@pytest.fixture(params=["sqlite", "postgresql"])
def log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Log]:
    with database_url(request.param) as url:
        settings = Settings(data_dir=tmp_path / "data", database_url=url, audit_checkpoint_every=4)
        engine = make_engine(settings.effective_database_url)
        create_schema(engine)
        store = open_audit_store(settings, engine)
        for i in range(1, RECORDS + 1):
            store.append({"action": "GET /v1/alerts", "by": "TEST-MARAC-CHAIR", "n": i})
        yield Log(settings, engine, store, list(store.records()), tmp_path)
        engine.dispose()


def shift(conn: Connection, first: int, by: int) -> None:
    """Renumber records from seq `first` on, in an order the primary key allows."""
    seqs = range(RECORDS, first - 1, -1) if by > 0 else range(first, RECORDS + 1)
    for seq in seqs:
        conn.execute(update(audit_records).where(audit_records.c.seq == seq).values(seq=seq + by))


def edit_third(conn: Connection, rs: list[ChainedRecord]) -> None:
    body = rs[2].body.replace("TEST-MARAC-CHAIR", "TEST-NOBODY")
    conn.execute(update(audit_records).where(audit_records.c.seq == 3).values(body=body))


def remove_third(conn: Connection, _rs: list[ChainedRecord]) -> None:
    conn.execute(delete(audit_records).where(audit_records.c.seq == 3))


def swap_third_and_fourth(conn: Connection, _rs: list[ChainedRecord]) -> None:
    for old, new in ((3, -3), (4, 3), (-3, 4)):
        conn.execute(update(audit_records).where(audit_records.c.seq == old).values(seq=new))


def insert_after_second(conn: Connection, rs: list[ChainedRecord]) -> None:
    shift(conn, 3, +1)
    forged = chain_next(2, rs[1].hash, "forged-0000", canonical_json({"by": "TEST-NOBODY"}))
    conn.execute(insert(audit_records).values(forged._asdict()))


def remove_tail(conn: Connection, _rs: list[ChainedRecord]) -> None:
    conn.execute(delete(audit_records).where(audit_records.c.seq > 6))


def remove_tail_and_doctor_head(conn: Connection, rs: list[ChainedRecord]) -> None:
    remove_tail(conn, rs)
    conn.execute(update(audit_head).values(seq=6, hash=rs[5].hash))


def rewrite_from_sixth(conn: Connection, rs: list[ChainedRecord]) -> None:
    edited = [*rs[:5], rs[5]._replace(body=rs[5].body.replace("TEST-MARAC-CHAIR", "TEST-X"))]
    rewritten = rechain([*edited, *rs[6:]], 5)
    conn.execute(delete(audit_records).where(audit_records.c.seq >= 6))
    conn.execute(insert(audit_records), [r._asdict() for r in rewritten[5:]])
    conn.execute(update(audit_head).values(hash=rewritten[-1].hash))


def resign_with_another_key(conn: Connection, rs: list[ChainedRecord]) -> None:
    row = conn.execute(audit_checkpoints.select().where(audit_checkpoints.c.tree_size == 8)).one()
    forged = OTHER_KEY.sign(8, bytes.fromhex(row.root_hash), row.chain_head, SIGNED_AT)
    conn.execute(delete(audit_checkpoints).where(audit_checkpoints.c.tree_size == 8))
    conn.execute(insert(audit_checkpoints).values(checkpoint_row(forged)))


TAMPERING = {
    # name: (tamper, what the one-line verdict names)
    "edited record": (edit_third, "at record 3 ("),
    "removed record": (remove_third, "at record 4 ("),
    "reordered records": (swap_third_and_fourth, "at record 3 ("),
    "inserted record": (insert_after_second, "at record 4 ("),
    "truncated log": (remove_tail, "at record 7 (no id): the chain ends at record 6"),
    "truncated log, head doctored": (remove_tail_and_doctor_head, "at checkpoint at tree size 8"),
    "rewritten with a recomputed chain": (rewrite_from_sixth, "records 5 to 8 were rewritten"),
    "checkpoint signed with another key": (resign_with_another_key, "another key"),
}


def test_an_untouched_log_verifies(log: Log) -> None:
    run = log.hub("verify")
    assert run.returncode == 0, run.stderr
    assert "10 records, chain whole; 2 checkpoints" in run.stdout


@pytest.mark.parametrize(("tamper", "named"), TAMPERING.values(), ids=TAMPERING.keys())
def test_tampering_fails_verification_naming_the_first_bad_record_or_checkpoint(
    log: Log, tamper: Callable[[Connection, list[ChainedRecord]], None], named: str
) -> None:
    log.tamper(tamper)
    run = log.hub("verify")
    assert run.returncode == 1, run.stdout
    assert run.stderr.startswith("audit log FAILED verification at ")
    assert named in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_checkpoints_held_outside_catch_what_the_database_no_longer_shows(log: Log) -> None:
    exported = log.tmp / "checkpoints.json"
    assert log.hub("export-checkpoints", exported).returncode == 0

    def cover_tracks(conn: Connection, rs: list[ChainedRecord]) -> None:
        remove_tail_and_doctor_head(conn, rs)
        conn.execute(delete(audit_checkpoints).where(audit_checkpoints.c.tree_size == 8))

    log.tamper(cover_tracks)
    assert log.hub("verify").returncode == 0  # the database alone is now self-consistent
    run = log.hub("verify", "--checkpoints", exported)
    assert run.returncode == 1
    assert "checkpoint at tree size 8 covers more records than the log holds (6)" in run.stderr


def test_verifying_with_someone_elses_public_key_fails(log: Log) -> None:
    other = log.tmp / "other.hex"
    other.write_text(OTHER_KEY.public_key.public_bytes_raw().hex())
    run = log.hub("verify", "--public-key", other)
    assert run.returncode == 1 and "checkpoint at tree size 4" in run.stderr


def test_a_proof_checks_out_and_a_forged_one_does_not(log: Log) -> None:
    record = log.records[4]
    run = log.hub("prove", record.record_id)
    assert run.returncode == 0, run.stderr
    proof = json.loads(run.stdout)
    assert (proof["leaf_index"], proof["tree_size"], proof["leaf_hash"]) == (4, 8, record.hash)
    good = log.tmp / "proof.json"
    good.write_text(run.stdout)
    pem = log.tmp / "hub-audit.pem"
    pem.write_text(log.hub("public-key").stdout)

    run = log.hub("check-proof", good, "--public-key", pem)
    assert run.returncode == 0, run.stderr
    assert f"record {record.record_id} is leaf 4 of the 8 records" in run.stdout

    forged = log.tmp / "forged.json"
    path = proof["audit_path"]
    path[0] = ("1" if path[0][0] == "0" else "0") + path[0][1:]
    forged.write_text(json.dumps(proof))
    run = log.hub("check-proof", forged, "--public-key", pem)
    assert run.returncode == 1
    assert run.stderr.startswith("proof FAILED: the audit path does not lead")

    other = log.tmp / "other.hex"
    other.write_text(OTHER_KEY.public_key.public_bytes_raw().hex())
    assert log.hub("check-proof", good, "--public-key", other).returncode == 1


def test_a_record_after_the_last_checkpoint_gets_a_new_one(log: Log) -> None:
    run = log.hub("prove", log.records[9].record_id)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["tree_size"] == RECORDS
    assert [c.tree_size for c in log.store.checkpoints()] == [4, 8, 10]


def test_consistency_between_checkpoints(log: Log) -> None:
    run = log.hub("consistency", "4", "8")
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    assert {"old_checkpoint", "new_checkpoint"} <= doc.keys()
    proof = log.tmp / "consistency.json"
    proof.write_text(run.stdout)
    run = log.hub("check-consistency", proof)
    assert run.returncode == 0 and "log of 4 records is a prefix of the log of 8" in run.stdout
    doc["proof"][0] = ("1" if doc["proof"][0][0] == "0" else "0") + doc["proof"][0][1:]
    proof.write_text(json.dumps(doc))
    assert log.hub("check-consistency", proof).returncode == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["prove", "TEST-NO-SUCH-RECORD"], "no audit record has id 'TEST-NO-SUCH-RECORD'"),
        (["consistency", "0", "8"], "must satisfy 1 <= OLD_SIZE <= NEW_SIZE <= 10"),
        (["consistency", "4", "11"], "must satisfy 1 <= OLD_SIZE <= NEW_SIZE <= 10"),
        (["check-proof", "missing.json"], "cannot read missing.json"),
        (["check-proof", "not-json.json"], "not-json.json is not a JSON file"),
        (["check-proof", "checkpoints.json"], "not a hub-audit-inclusion-proof/v1 document"),
        (["verify", "--public-key", "not-json.json"], "holds no Ed25519 public key"),
    ],
)
def test_usage_errors_exit_2_with_one_line_saying_what_is_wrong(
    log: Log, args: list[str], message: str
) -> None:
    (log.tmp / "not-json.json").write_text("TEST not json")
    (log.tmp / "checkpoints.json").write_text('{"format": "hub-audit-checkpoints/v1"}')
    run = log.hub(*args)
    assert run.returncode == 2
    assert run.stderr.startswith("hub: ") and message in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_checkpoint_on_demand_then_verify_against_the_export(log: Log) -> None:
    run = log.hub("checkpoint")
    assert run.returncode == 0 and "checkpoint at tree size 10" in run.stdout
    exported = log.tmp / "checkpoints.json"
    assert "exported 3 checkpoints" in log.hub("export-checkpoints", exported).stdout
    run = log.hub("verify", "--checkpoints", exported)
    assert run.returncode == 0 and "3 checkpoints" in run.stdout  # the export repeats them
