"""Contract of the audit store, run against every database it supports."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine, delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from audit.chain import GENESIS_HASH, AuditError
from audit.checkpoint import Checkpoint
from audit.errors import CheckpointError
from audit.merkle import root
from audit.publish import InMemoryPublisher
from audit.schema import audit_checkpoints, audit_head, audit_records, create_audit_schema
from audit.store import SqlAuditStore
from tests.audit_builders import HUB_KEY, SIGNED_AT
from tests.audit_tamper import drop_audit_triggers

KEY = HUB_KEY.public_key
EVERY = 4


def disclosure(n: int) -> dict[str, object]:
    return {"action": "alerts.list", "by": "TEST-MARAC-CHAIR", "victim": "st_testalex", "n": n}


def edited(value: str) -> str:
    """The value with one character changed (hex digits and uuids stay well-formed)."""
    if "TEST-MARAC-CHAIR" in value:
        return value.replace("TEST-MARAC-CHAIR", "TEST-NOBODY")
    return ("1" if value[0] == "0" else "0") + value[1:]


class FailingPublisher:
    def publish(self, checkpoint: Checkpoint) -> None:
        raise ConnectionError("TEST broker unreachable")


class AuditStoreContract:
    @pytest.fixture
    def engine(self) -> Engine:
        raise NotImplementedError

    @pytest.fixture
    def published(self) -> InMemoryPublisher:
        return InMemoryPublisher()

    @pytest.fixture
    def store(self, engine: Engine, published: InMemoryPublisher) -> SqlAuditStore:
        create_audit_schema(engine)
        create_audit_schema(engine)  # idempotent: every process runs it at start
        s = SqlAuditStore(engine, HUB_KEY, EVERY, published, clock=lambda: SIGNED_AT)
        s.ensure_head()
        return s

    def append_n(self, store: SqlAuditStore, n: int) -> list[str]:
        return [store.append(disclosure(i)).record_id for i in range(1, n + 1)]

    def test_empty_log_verifies(self, store: SqlAuditStore) -> None:
        assert store.head() == (0, GENESIS_HASH)
        result = store.verify(KEY)
        assert result.ok and result.records == 0

    def test_appended_records_verify_and_keep_what_was_said(self, store: SqlAuditStore) -> None:
        first = store.append(disclosure(1))
        last = store.append(disclosure(2))
        assert (first.seq, last.seq) == (1, 2)
        assert last.prev_hash == first.hash
        assert store.head() == (2, last.hash)
        assert list(store.records()) == [first, last]
        assert store.find(last.record_id) == last and store.find("TEST-NO-SUCH-ID") is None
        assert json.loads(first.body) == {**disclosure(1), "record_id": first.record_id}
        result = store.verify(KEY)
        assert result.ok, result.problem
        assert result.records == 2

    def test_records_are_read_in_batches_without_gaps(self, store: SqlAuditStore) -> None:
        ids = self.append_n(store, 7)
        assert [r.record_id for r in store.records(batch=3)] == ids
        assert [r.record_id for b in store.record_batches(6, batch=4) for r in b] == ids[:6]

    def test_a_checkpoint_is_signed_with_every_nth_record(
        self, store: SqlAuditStore, published: InMemoryPublisher
    ) -> None:
        self.append_n(store, 2 * EVERY + 1)
        records = list(store.records())
        checkpoints = store.checkpoints()
        assert [c.tree_size for c in checkpoints] == [EVERY, 2 * EVERY]
        for cp in checkpoints:
            assert cp.chain_head == records[cp.tree_size - 1].hash
            leaves = [bytes.fromhex(r.hash) for r in records[: cp.tree_size]]
            assert cp.root_hash == root(leaves).hex()
        assert published.published == checkpoints
        result = store.verify(KEY)
        assert result.ok and result.checkpoints == 2

    def test_a_checkpoint_on_demand_is_written_once(
        self, store: SqlAuditStore, published: InMemoryPublisher
    ) -> None:
        self.append_n(store, EVERY + 1)
        cp = store.checkpoint()
        assert cp.tree_size == EVERY + 1
        assert store.checkpoint() == cp  # asked again at the same size: the same checkpoint
        assert store.latest_checkpoint() == cp == store.checkpoint_at(EVERY + 1)
        assert [c.tree_size for c in published.published] == [EVERY, EVERY + 1]
        assert store.verify(KEY).checkpoints == 2

    def test_without_a_signing_key_there_are_no_checkpoints(self, engine: Engine) -> None:
        create_audit_schema(engine)
        store = SqlAuditStore(engine, checkpoint_every=1)
        store.ensure_head()
        self.append_n(store, 3)
        assert store.checkpoints() == []
        with pytest.raises(CheckpointError, match="no signing key"):
            store.checkpoint()

    def test_a_publisher_failure_does_not_fail_the_append(self, engine: Engine) -> None:
        create_audit_schema(engine)
        store = SqlAuditStore(engine, HUB_KEY, 1, FailingPublisher())
        store.ensure_head()
        assert store.append(disclosure(1)).seq == 1
        assert [c.tree_size for c in store.checkpoints()] == [1]

    def test_concurrent_appends_form_one_unbroken_chain(
        self, store: SqlAuditStore, published: InMemoryPublisher
    ) -> None:
        threads, per_thread = 4, 25
        start = threading.Barrier(threads)

        def appender(t: int) -> None:
            start.wait(timeout=30)
            for i in range(per_thread):
                store.append({"thread": t, "n": i, "by": "TEST-IG-OFFICER"})

        with ThreadPoolExecutor(threads) as pool:
            for future in [pool.submit(appender, t) for t in range(threads)]:
                future.result()  # re-raises an appender's error

        records = list(store.records())
        assert [r.seq for r in records] == list(range(1, threads * per_thread + 1))
        written = {(b["thread"], b["n"]) for b in (json.loads(r.body) for r in records)}
        assert written == {(t, i) for t in range(threads) for i in range(per_thread)}
        result = store.verify(KEY)
        assert result.ok, result.problem
        assert result.records == threads * per_thread
        assert result.checkpoints == threads * per_thread // EVERY
        assert sorted(c.tree_size for c in published.published) == [
            c.tree_size for c in store.checkpoints()
        ]

    def test_parallel_verification_gives_the_same_verdict(
        self, store: SqlAuditStore, engine: Engine
    ) -> None:
        """Segments of 8 records, checked by two processes reading by seq range."""
        self.append_n(store, 30)
        parallel = store.verify(KEY, jobs=2, bits=3)
        assert parallel == store.verify(KEY, bits=3) == store.verify(KEY)
        assert parallel.ok and parallel.checkpoints == 30 // EVERY
        with engine.begin() as conn:
            drop_audit_triggers(conn)
            conn.execute(delete(audit_records).where(audit_records.c.seq == 17))  # segment start
        parallel = store.verify(KEY, jobs=2, bits=3)
        assert parallel == store.verify(KEY)
        assert (parallel.bad_seq, parallel.records) == (18, 16)

    # --- the database refuses changes --------------------------------------------------------

    @pytest.mark.parametrize(
        "statement",
        [
            "UPDATE audit_records SET body = 'TEST' WHERE seq = 2",
            "UPDATE audit_records SET seq = seq + 100",
            "DELETE FROM audit_records WHERE seq = 2",
            "DELETE FROM audit_records",
            "UPDATE audit_checkpoints SET root_hash = chain_head WHERE tree_size = 4",
            "DELETE FROM audit_checkpoints",
        ],
    )
    def test_audit_records_and_checkpoints_are_append_only(
        self, store: SqlAuditStore, engine: Engine, statement: str
    ) -> None:
        self.append_n(store, EVERY + 1)
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
        assert store.verify(KEY).ok
        assert len(list(store.records())) == EVERY + 1

    @pytest.mark.parametrize(
        "statement",
        [
            "UPDATE audit_head SET seq = 2, hash = :hash2",  # rewind to an earlier record
            "UPDATE audit_head SET seq = 6, hash = :hash5",  # skip ahead to a made-up end
            "UPDATE audit_head SET hash = :hash2",
            "UPDATE audit_head SET frontier = ''",
            "DELETE FROM audit_head",
        ],
    )
    def test_the_head_only_moves_forward_through_the_store(
        self, store: SqlAuditStore, engine: Engine, statement: str
    ) -> None:
        records = [store.append(disclosure(i)) for i in range(1, 6)]
        hashes = {"hash2": records[1].hash, "hash5": records[4].hash}
        with pytest.raises(DBAPIError, match="audit_head"), engine.begin() as conn:
            conn.execute(text(statement), {k: v for k, v in hashes.items() if f":{k}" in statement})
        assert store.head() == (5, records[4].hash)
        assert store.verify(KEY).ok

    # --- an attacker drops the triggers: verification still catches them ------------------

    @pytest.mark.parametrize("column", ["body", "hash", "prev_hash", "record_id"])
    def test_any_edited_column_fails_verification_naming_the_record(
        self, store: SqlAuditStore, engine: Engine, column: str
    ) -> None:
        self.append_n(store, 5)
        third = audit_records.c.seq == 3
        with engine.begin() as conn:
            drop_audit_triggers(conn)
            old = conn.execute(select(audit_records.c[column]).where(third)).scalar_one()
            conn.execute(update(audit_records).where(third).values({column: edited(old)}))
        result = store.verify(KEY)
        assert not result.ok
        assert result.bad_seq == 3

    def test_deleted_middle_record_fails_verification(
        self, store: SqlAuditStore, engine: Engine
    ) -> None:
        self.append_n(store, 5)
        with engine.begin() as conn:
            drop_audit_triggers(conn)
            conn.execute(delete(audit_records).where(audit_records.c.seq == 3))
        result = store.verify(KEY)
        assert not result.ok
        assert result.bad_seq == 4

    def test_deleted_last_record_is_caught_by_the_head(
        self, store: SqlAuditStore, engine: Engine
    ) -> None:
        self.append_n(store, 5)
        with engine.begin() as conn:
            drop_audit_triggers(conn)
            conn.execute(delete(audit_records).where(audit_records.c.seq == 5))
        result = store.verify(KEY)
        assert not result.ok
        assert result.bad_seq == 5

    def test_a_removed_tail_with_a_doctored_head_is_caught_by_a_checkpoint(
        self, store: SqlAuditStore, engine: Engine
    ) -> None:
        self.append_n(store, 2 * EVERY + 2)
        sixth = list(store.records())[5]
        with engine.begin() as conn:
            drop_audit_triggers(conn)
            conn.execute(delete(audit_records).where(audit_records.c.seq > 6))
            conn.execute(update(audit_head).values(seq=6, hash=sixth.hash))
        result = store.verify(KEY)
        assert not result.ok
        assert (result.bad_seq, result.bad_checkpoint) == (7, 2 * EVERY)

    def test_a_doctored_merkle_frontier_shows_at_the_next_checkpoint(
        self, store: SqlAuditStore, engine: Engine
    ) -> None:
        self.append_n(store, EVERY + 1)
        with engine.begin() as conn:
            drop_audit_triggers(conn)
            frontier = conn.execute(select(audit_head.c.frontier)).scalar_one()
            conn.execute(update(audit_head).values(frontier=edited(frontier)))
        self.append_n(store, EVERY)
        result = store.verify(KEY)
        assert not result.ok and result.bad_checkpoint == 2 * EVERY

    def test_ensure_head_is_idempotent(self, store: SqlAuditStore, engine: Engine) -> None:
        store.ensure_head()
        self.append_n(store, 2)
        head = store.head()
        store.ensure_head()
        assert store.head() == head
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(audit_head)).scalar_one() == 1
        assert store.verify(KEY).ok
        assert store.append(disclosure(3)).seq == 3

    def test_append_without_a_head_fails_closed(self, engine: Engine) -> None:
        create_audit_schema(engine)
        store = SqlAuditStore(engine)
        with pytest.raises(AuditError, match="could not be written"):
            store.append(disclosure(1))
        assert list(store.records()) == []
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(audit_checkpoints)).scalar() == 0

    def test_audit_tables_of_the_old_format_are_refused(self, engine: Engine) -> None:
        with engine.begin() as conn:
            conn.execute(
                text("CREATE TABLE audit_head (id INTEGER PRIMARY KEY, seq BIGINT, hash TEXT)")
            )
        with pytest.raises(AuditError, match="predate Merkle checkpoints"):
            create_audit_schema(engine)


class TestSqliteAuditStore(AuditStoreContract):
    @pytest.fixture
    def engine(self, sqlite_engine: Engine) -> Engine:
        return sqlite_engine


class TestPostgresAuditStore(AuditStoreContract):
    @pytest.fixture
    def engine(self, postgres_engine: Engine) -> Engine:
        return postgres_engine

    def test_truncate_is_refused(self, store: SqlAuditStore, engine: Engine) -> None:
        self.append_n(store, EVERY)
        for table in ("audit_records", "audit_checkpoints", "audit_head"):
            with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {table}"))
        assert store.verify(KEY).ok
