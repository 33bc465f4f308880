"""Contract of the store of subject data keys, run against SQL and the in-memory fake."""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import Engine, event

from hub.adapters.crypto.ciphers import ERASED, FieldCipher, SqlKeyStore
from hub.adapters.crypto.vault import seal_field
from hub.adapters.memory import InMemoryKeyStore
from hub.adapters.sql.events import SqlEventStore
from hub.domain.events import CanonicalEvent, Unsealed
from hub.services.ports import KeyStore
from tests.unit.canonical import canonical_event

ALEX = "st_testvictimalexexample"
SAM = "st_testperpetratorsamsample"
TOPIC = "test.hub.events.v1"


class KeyStoreContract:
    @pytest.fixture
    def keys(self) -> KeyStore:
        raise NotImplementedError

    def test_a_subject_keeps_one_key_made_on_first_use(self, keys: KeyStore) -> None:
        assert keys.existing_key(ALEX) is None
        key = keys.key_for(ALEX)
        assert len(key) == 32
        assert keys.key_for(ALEX) == keys.existing_key(ALEX) == key
        assert keys.key_for(SAM) != key

    def test_erasure_destroys_the_key_once(self, keys: KeyStore) -> None:
        assert keys.erase(ALEX) is False  # nothing to destroy
        old = keys.key_for(ALEX)
        assert keys.erase(ALEX) is True
        assert keys.existing_key(ALEX) is None
        assert keys.erase(ALEX) is False
        assert keys.key_for(ALEX) != old  # new data gets a new key; the old data stays shut


class TestInMemoryKeyStore(KeyStoreContract):
    @pytest.fixture
    def keys(self) -> KeyStore:
        return InMemoryKeyStore()


class TestSqliteKeyStore(KeyStoreContract):
    @pytest.fixture
    def keys(self, sqlite_engine: Engine) -> KeyStore:
        return SqlKeyStore(sqlite_engine, os.urandom(32))


class TestPostgresKeyStore(KeyStoreContract):
    @pytest.fixture
    def keys(self, postgres_engine: Engine) -> KeyStore:
        return SqlKeyStore(postgres_engine, os.urandom(32))


def _sealed_events(n: int, prefix: str = "TEST-AE") -> list[CanonicalEvent]:
    """n health attendances, each about a victim of its own, with notes and a name to seal."""
    out = []
    for i in range(n):
        victim = f"st_testvictim{i:05d}"
        e = canonical_event(
            f"{prefix}-{i}",
            type="health.attendance",
            agency_id="TEST-AE-A",
            agency_type="ae",
            victim=victim,
            perpetrators=(),
            data={"clinical_notes": Unsealed(victim, "clinical_notes", "Example notes")},
        )
        identity = {"name": f"Alex Example {i}", "date_of_birth": "1990-01-01"}
        subject = replace(e.subjects[0], sealed=Unsealed(victim, seal_field(victim), identity))
        out.append(replace(e, subjects=(subject,)))
    return out


class SqlKeyStoreContract:
    """What the cache in front of the SQL key store keeps: no round trip per sealed field,
    and never an erased key, whichever process erased it."""

    @pytest.fixture
    def engine(self) -> Engine:
        raise NotImplementedError

    def test_a_batch_is_sealed_with_a_few_key_statements_not_one_per_field(
        self, engine: Engine
    ) -> None:
        cipher = FieldCipher(SqlKeyStore(engine, os.urandom(32)))
        store = SqlEventStore(engine, sealer=cipher)
        statements: list[str] = []

        def on_keys(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if "subject_keys" in statement or "key_erasures" in statement:
                statements.append(statement)

        event.listen(engine, "before_cursor_execute", on_keys)
        try:
            first = _sealed_events(200)  # 400 sealed fields, 200 new subjects
            store.append_many([(e, f"h{i}", TOPIC) for i, e in enumerate(first)])
            counts = [len(statements)]
            for again in ("TEST-AE-AGAIN", "TEST-AE-LATER"):  # the same subjects
                statements.clear()
                later = _sealed_events(200, again)
                store.append_many([(e, f"{again}{i}", TOPIC) for i, e in enumerate(later)])
                counts.append(len(statements))
        finally:
            event.remove(engine, "before_cursor_execute", on_keys)
        # the erasure count with the keys, then the new keys written (RETURNING what went
        # in, so nothing is read back); then the keys, committed, are read once into the
        # cache; then every key comes from the cache and only the count is read
        assert counts == [2, 1, 1]
        stored = store.read(0, 1000)
        assert len(stored) == 600
        e = stored[-1][1]
        assert cipher.reveal(e.hub_id, e.data)["clinical_notes"] == "Example notes"

    def test_an_erased_key_is_never_served_from_a_cache(self, engine: Engine) -> None:
        master = os.urandom(32)
        api_keys, cli_keys = SqlKeyStore(engine, master), SqlKeyStore(engine, master)
        cipher = FieldCipher(api_keys)  # the API process: it sealed and opened this before
        store = SqlEventStore(engine, sealer=cipher)
        [first] = _sealed_events(1)
        store.append(first, "h1", TOPIC)
        old = api_keys.existing_key(first.victim_token)
        stored = store.get(first.hub_id)
        assert old is not None and stored is not None
        assert cipher.reveal(first.hub_id, stored.data)["clinical_notes"] == "Example notes"

        assert cli_keys.erase(first.victim_token)  # `hub subjects erase`, another process
        assert api_keys.existing_key(first.victim_token) is None
        assert cipher.reveal(first.hub_id, stored.data)["clinical_notes"] == ERASED
        # new data about the erased subject is sealed under a new key, never the old one
        [later] = _sealed_events(1, "TEST-AE-LATER")
        store.append(later, "h2", TOPIC)
        new = api_keys.existing_key(first.victim_token)
        assert new is not None and new != old
        assert cipher.reveal(first.hub_id, stored.data)["clinical_notes"] == ERASED

    def test_an_erasure_in_this_process_bites_at_once(self, engine: Engine) -> None:
        keys = SqlKeyStore(engine, os.urandom(32))
        old = keys.key_for(ALEX)
        assert keys.existing_key(ALEX) == old  # cached now
        assert keys.erase(ALEX)
        assert keys.existing_key(ALEX) is None
        assert keys.key_for(ALEX) != old

    def test_a_key_made_in_a_rolled_back_transaction_is_not_kept(self, engine: Engine) -> None:
        keys = SqlKeyStore(engine, os.urandom(32))
        with pytest.raises(RuntimeError), engine.begin() as conn:
            made = keys.keys_in(conn, [ALEX])[ALEX]
            raise RuntimeError("the batch failed after sealing")
        assert keys.existing_key(ALEX) is None
        kept = keys.key_for(ALEX)
        assert kept != made
        assert SqlKeyStore(engine, keys._master).existing_key(ALEX) == kept

    def test_an_unsealed_value_cannot_be_stored_without_a_sealer(self, engine: Engine) -> None:
        store = SqlEventStore(engine)
        with pytest.raises(TypeError):
            store.append(_sealed_events(1)[0], "h1", TOPIC)
        assert store.count() == 0


class TestSqliteSqlKeyStore(SqlKeyStoreContract):
    @pytest.fixture
    def engine(self, sqlite_engine: Engine) -> Engine:
        return sqlite_engine


class TestPostgresSqlKeyStore(SqlKeyStoreContract):
    @pytest.fixture
    def engine(self, postgres_engine: Engine) -> Engine:
        return postgres_engine
