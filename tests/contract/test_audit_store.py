"""Contract of the audit store, run against every database it supports."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine, delete, func, select, update

from audit.chain import GENESIS_HASH, AuditError
from audit.store import SqlAuditStore
from hub.store.schema import audit_head, audit_records


def disclosure(n: int) -> dict[str, object]:
    return {"action": "alerts.list", "by": "TEST-MARAC-CHAIR", "victim": "st_testalex", "n": n}


def edited(value: str) -> str:
    """The value with one character changed (hex digits and uuids stay well-formed)."""
    if "TEST-MARAC-CHAIR" in value:
        return value.replace("TEST-MARAC-CHAIR", "TEST-NOBODY")
    return ("1" if value[0] == "0" else "0") + value[1:]


class AuditStoreContract:
    @pytest.fixture
    def engine(self) -> Engine:
        raise NotImplementedError

    @pytest.fixture
    def store(self, engine: Engine) -> SqlAuditStore:
        s = SqlAuditStore(engine)
        s.ensure_head()
        return s

    def append_n(self, store: SqlAuditStore, n: int) -> list[str]:
        return [store.append(disclosure(i)).record_id for i in range(1, n + 1)]

    def test_empty_log_verifies(self, store: SqlAuditStore) -> None:
        assert store.head() == (0, GENESIS_HASH)
        result = store.verify()
        assert result.ok and result.records == 0

    def test_appended_records_verify_and_keep_what_was_said(self, store: SqlAuditStore) -> None:
        first = store.append(disclosure(1))
        last = store.append(disclosure(2))
        assert (first.seq, last.seq) == (1, 2)
        assert last.prev_hash == first.hash
        assert store.head() == (2, last.hash)
        assert list(store.records()) == [first, last]
        assert json.loads(first.body) == {**disclosure(1), "record_id": first.record_id}
        result = store.verify()
        assert result.ok, result.problem
        assert result.records == 2

    def test_records_are_read_in_batches_without_gaps(self, store: SqlAuditStore) -> None:
        ids = self.append_n(store, 7)
        assert [r.record_id for r in store.records(batch=3)] == ids

    def test_concurrent_appends_form_one_unbroken_chain(self, store: SqlAuditStore) -> None:
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
        result = store.verify()
        assert result.ok, result.problem
        assert result.records == threads * per_thread

    @pytest.mark.parametrize("column", ["body", "hash", "prev_hash", "record_id"])
    def test_any_edited_column_fails_verification_naming_the_record(
        self, store: SqlAuditStore, engine: Engine, column: str
    ) -> None:
        self.append_n(store, 5)
        third = audit_records.c.seq == 3
        with engine.begin() as conn:
            old = conn.execute(select(audit_records.c[column]).where(third)).scalar_one()
            conn.execute(update(audit_records).where(third).values({column: edited(old)}))
        result = store.verify()
        assert not result.ok
        assert result.bad_seq == 3

    def test_deleted_middle_record_fails_verification(
        self, store: SqlAuditStore, engine: Engine
    ) -> None:
        self.append_n(store, 5)
        with engine.begin() as conn:
            conn.execute(delete(audit_records).where(audit_records.c.seq == 3))
        result = store.verify()
        assert not result.ok
        assert result.bad_seq == 4

    def test_deleted_last_record_is_caught_by_the_head(
        self, store: SqlAuditStore, engine: Engine
    ) -> None:
        self.append_n(store, 5)
        with engine.begin() as conn:
            conn.execute(delete(audit_records).where(audit_records.c.seq == 5))
        result = store.verify()
        assert not result.ok
        assert result.bad_seq == 5

    def test_ensure_head_is_idempotent(self, store: SqlAuditStore, engine: Engine) -> None:
        store.ensure_head()
        self.append_n(store, 2)
        head = store.head()
        store.ensure_head()
        assert store.head() == head
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(audit_head)).scalar_one() == 1
        assert store.verify().ok
        assert store.append(disclosure(3)).seq == 3

    def test_append_without_a_head_fails_closed(self, engine: Engine) -> None:
        store = SqlAuditStore(engine)
        with pytest.raises(AuditError, match="could not be written"):
            store.append(disclosure(1))
        assert list(store.records()) == []


class TestSqliteAuditStore(AuditStoreContract):
    @pytest.fixture
    def engine(self, sqlite_engine: Engine) -> Engine:
        return sqlite_engine


class TestPostgresAuditStore(AuditStoreContract):
    @pytest.fixture
    def engine(self, postgres_engine: Engine) -> Engine:
        return postgres_engine
