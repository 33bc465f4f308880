"""Contract of the store of subject data keys, run against SQL and the in-memory fake."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import Engine

from hub.adapters.crypto.ciphers import SqlKeyStore
from hub.adapters.memory import InMemoryKeyStore
from hub.services.ports import KeyStore

ALEX = "st_testvictimalexexample"
SAM = "st_testperpetratorsamsample"


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
