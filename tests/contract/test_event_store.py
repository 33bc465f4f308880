"""Contract of the event store, run against every database it supports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, insert, select
from sqlalchemy.exc import IntegrityError

from hub.adapters.memory import InMemoryEventStore
from hub.adapters.sql.events import SqlEventStore
from hub.adapters.sql.schema import outbox
from hub.domain.events import CanonicalEvent
from hub.services.ports import EventStore
from tests.unit.canonical import EVENT_TIME, VICTIM, canonical_event, dash_event

TOPIC = "test.hub.events.v1"


def outbox_rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(outbox)).scalar_one())


def numbered(n: int) -> list[CanonicalEvent]:
    # event times run backwards, so store order and event-time order differ
    return [
        canonical_event(f"TEST-EVENT-{i}", time=EVENT_TIME - timedelta(hours=i)) for i in range(n)
    ]


class EventStoreContract:
    """What every event store does, whatever keeps it."""

    @pytest.fixture
    def store(self) -> EventStore:
        raise NotImplementedError

    # --- append ---------------------------------------------------------------------------

    def test_append_stores_the_event_and_exactly_one_outbox_row(self, store: EventStore) -> None:
        e = dash_event(16)
        result = store.append(e, "hash-1", TOPIC)
        assert (result.hub_id, result.stored, result.same_content) == (e.hub_id, True, True)
        assert store.count() == 1
        assert store.unpublished_count() == 1
        [row] = store.pending_outbox()
        assert (row.topic, row.key) == (TOPIC, VICTIM)
        assert CanonicalEvent.from_json(row.value) == e

    def test_stored_event_reads_back_equal(self, store: EventStore) -> None:
        e = dash_event(9, consent_ref="TEST-C-1")
        store.append(e, "hash-1", TOPIC)
        assert store.get(e.hub_id) == e
        assert store.get("00000000-0000-0000-0000-000000000000") is None

    def test_read_returns_events_in_append_order_with_increasing_seqs(
        self, store: EventStore
    ) -> None:
        appended = numbered(5)
        for e in appended:
            store.append(e, f"hash-{e.source_id}", TOPIC)
        rows = store.read()
        seqs = [seq for seq, _ in rows]
        assert seqs == sorted(seqs) and len(set(seqs)) == 5
        assert [e for _, e in rows] == appended
        assert [e for _, e in store.read(after_seq=seqs[1], limit=2)] == appended[2:4]
        assert store.read(after_seq=seqs[-1]) == []

    def test_read_all_returns_every_event_in_append_order(self, store: EventStore) -> None:
        appended = numbered(5)
        for e in appended:
            store.append(e, f"hash-{e.source_id}", TOPIC)
        assert list(store.read_all(batch=2)) == appended
        assert list(store.read_all()) == appended

    def test_empty_store_reads_nothing(self, store: EventStore) -> None:
        assert store.count() == 0
        assert store.read() == []
        assert list(store.read_all()) == []
        assert store.pending_outbox() == []
        assert store.unpublished_count() == 0

    def test_a_subjects_events_come_oldest_first_by_event_time(self, store: EventStore) -> None:
        appended = numbered(3)  # event times run backwards
        other = canonical_event("TEST-OTHER", victim="st_testvictimsamsample")
        for e in [*appended, other]:
            store.append(e, f"hash-{e.source_id}", TOPIC)
        assert store.for_subject(VICTIM) == appended[::-1]
        assert store.for_subject(VICTIM, limit=2) == appended[::-1][:2]
        assert store.for_subject("st_testnobodyexample") == []

    def test_events_of_given_types_come_in_store_order(self, store: EventStore) -> None:
        first, second = numbered(2)
        dash = dash_event(14)
        for e in (first, dash, second):
            store.append(e, f"hash-{e.source_id}", TOPIC)
        assert list(store.of_types(["police.incident"], batch=1)) == [first, second]
        assert list(store.of_types(["risk.dash", "police.incident"])) == [first, dash, second]
        assert list(store.of_types(["referral.made"])) == []

    # --- repeats ----------------------------------------------------------------------------

    def test_repeat_with_same_content_is_stored_once(self, store: EventStore) -> None:
        e = canonical_event()
        store.append(e, "hash-1", TOPIC)
        again = store.append(e, "hash-1", TOPIC)
        assert (again.hub_id, again.stored, again.same_content) == (e.hub_id, False, True)
        assert store.count() == 1
        assert store.unpublished_count() == 1

    def test_repeat_with_different_content_is_reported_and_not_stored(
        self, store: EventStore
    ) -> None:
        e = canonical_event()
        store.append(e, "hash-1", TOPIC)
        changed = canonical_event(data={"abuse_types": ["economic"]})
        result = store.append(changed, "hash-2", TOPIC)
        assert (result.stored, result.same_content) == (False, False)
        assert store.get(e.hub_id) == e
        assert store.count() == 1
        assert store.unpublished_count() == 1

    def test_same_source_id_from_another_agency_is_another_event(self, store: EventStore) -> None:
        police = canonical_event("TEST-42", agency_id="TEST-POLICE-A")
        health = canonical_event("TEST-42", agency_id="TEST-AE-A", agency_type="health_ae")
        assert store.append(police, "hash-1", TOPIC).stored
        assert store.append(health, "hash-1", TOPIC).stored
        assert store.count() == 2
        assert store.get(health.hub_id) == health

    def test_append_many_stores_a_batch_once_in_order(self, store: EventStore) -> None:
        first, second = numbered(2)
        store.append(first, "hash-first", TOPIC)
        results = store.append_many(
            [
                (first, "hash-first", TOPIC),
                (second, "hash-second", TOPIC),
                (second, "hash-changed", TOPIC),
            ]
        )
        assert [(r.hub_id, r.stored, r.same_content) for r in results] == [
            (first.hub_id, False, True),
            (second.hub_id, True, True),
            (second.hub_id, False, False),
        ]
        assert list(store.read_all()) == [first, second]
        assert store.unpublished_count() == 2

    # --- outbox -----------------------------------------------------------------------------

    def test_outbox_rows_are_pending_until_marked_published(self, store: EventStore) -> None:
        appended = numbered(3)
        for e in appended:
            store.append(e, f"hash-{e.source_id}", TOPIC)
        pending = store.pending_outbox()
        assert [CanonicalEvent.from_json(r.value) for r in pending] == appended
        assert store.unpublished_count() == 3
        assert store.pending_outbox(limit=2) == pending[:2]

        store.mark_published([pending[0].seq, pending[1].seq])
        assert store.unpublished_count() == 1
        assert store.pending_outbox() == [pending[2]]

        store.mark_published([])
        store.mark_published([pending[0].seq])  # publishing again is harmless
        assert store.pending_outbox() == [pending[2]]

        store.mark_published([pending[2].seq])
        assert store.unpublished_count() == 0
        assert store.pending_outbox() == []
        assert store.count() == 3  # publishing never removes events

    # --- time ---------------------------------------------------------------------------------

    def test_times_with_a_non_utc_offset_come_back_as_the_same_instant(
        self, store: EventStore
    ) -> None:
        event_time = datetime(2026, 3, 1, 23, 30, 15, 250, tzinfo=timezone(timedelta(hours=2)))
        recorded_at = datetime(2026, 3, 1, 17, 0, tzinfo=timezone(timedelta(hours=-5)))
        e = canonical_event(time=event_time, recorded_at=recorded_at)
        store.append(e, "hash-1", TOPIC)
        got = store.get(e.hub_id)
        assert got is not None
        assert got.time == datetime(2026, 3, 1, 21, 30, 15, 250, tzinfo=UTC)
        assert got.recorded_at == datetime(2026, 3, 1, 22, 0, tzinfo=UTC)
        [(_, read_back)] = store.read()
        assert read_back.time == event_time


class SqlEventStoreContract(EventStoreContract):
    @pytest.fixture
    def engine(self) -> Engine:
        raise NotImplementedError

    @pytest.fixture
    def store(self, engine: Engine) -> EventStore:
        return SqlEventStore(engine)

    def test_one_append_writes_one_row_in_the_outbox_table(
        self, store: EventStore, engine: Engine
    ) -> None:
        store.append(canonical_event(), "hash-1", TOPIC)
        assert outbox_rows(engine) == store.unpublished_count() == 1

    def test_event_and_outbox_row_are_written_together_or_not_at_all(
        self, store: EventStore, engine: Engine
    ) -> None:
        # An outbox row already claiming event seq 1 makes the outbox insert of the first
        # event fail after its event row was inserted: the event row must be rolled back.
        with engine.begin() as conn:
            conn.execute(insert(outbox).values(event_seq=1, topic=TOPIC, key="k", value="{}"))
        e = canonical_event()
        with pytest.raises(IntegrityError):
            store.append(e, "hash-1", TOPIC)
        assert store.count() == 0
        assert store.get(e.hub_id) is None
        assert outbox_rows(engine) == 1

    def test_a_batch_is_stored_in_one_statement_each_for_events_and_outbox(
        self, store: SqlEventStore, engine: Engine
    ) -> None:
        inserts: list[str] = []

        def on_insert(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if statement.lstrip().upper().startswith("INSERT"):
                inserts.append(statement.split("(")[0].strip())

        appended = numbered(60)
        event.listen(engine, "before_cursor_execute", on_insert)
        try:
            store.append_many([(e, f"hash-{e.source_id}", TOPIC) for e in appended])
        finally:
            event.remove(engine, "before_cursor_execute", on_insert)
        assert inserts == ["INSERT INTO events", "INSERT INTO outbox"]
        # each outbox row carries its own event, in store order
        stored = store.read(0, 100)
        assert [e for _, e in stored] == appended
        assert [
            (r.event_seq, CanonicalEvent.from_json(r.value)) for r in store.pending_outbox()
        ] == stored


class TestInMemoryEventStore(EventStoreContract):
    @pytest.fixture
    def store(self) -> EventStore:
        return InMemoryEventStore()


class TestSqliteEventStore(SqlEventStoreContract):
    @pytest.fixture
    def engine(self, sqlite_engine: Engine) -> Engine:
        return sqlite_engine

    def test_the_resend_check_reads_the_index_not_the_whole_store(
        self, store: SqlEventStore, engine: Engine
    ) -> None:
        reads: list[tuple[str, Any]] = []

        def on_read(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
            if statement.lstrip().upper().startswith("SELECT") and "FROM events" in statement:
                reads.append((statement, parameters))

        event.listen(engine, "before_cursor_execute", on_read)
        try:
            store.append_many([(e, f"hash-{e.source_id}", TOPIC) for e in numbered(3)])
        finally:
            event.remove(engine, "before_cursor_execute", on_read)
        [(statement, parameters)] = reads
        with engine.connect() as conn:
            plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
        [(*_, detail)] = plan
        assert detail.startswith("SEARCH events USING INDEX")
        assert detail.endswith("(agency_id=? AND source_id=?)")


class TestPostgresEventStore(SqlEventStoreContract):
    @pytest.fixture
    def engine(self, postgres_engine: Engine) -> Engine:
        return postgres_engine
