"""The key caches bound how long a revoked key keeps working, measured on a fake clock; a
subject's data key is cached, but never served once erased, whichever process erased it."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi import HTTPException
from fastapi.security import HTTPAuthorizationCredentials

from hub.adapters.crypto.ciphers import ERASED, FieldCipher, SqlKeyStore
from hub.adapters.sql.db import create_schema, make_engine
from hub.adapters.sql.principals import KeyCache, Principal, SqlPrincipalStore
from hub.entrypoints.api.deps import authenticate
from hub.services.kafka_ingress import CachedDirectory

TTL = 30.0


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    create_schema(engine)
    yield engine
    engine.dispose()


def _authenticate(services: SimpleNamespace, api_key: str) -> Principal:
    """The real dependency, as a request without the guard in front reaches it."""
    credentials = HTTPAuthorizationCredentials(scheme="Bearer", credentials=api_key)
    request = SimpleNamespace(scope={})
    return asyncio.run(authenticate(request, services, credentials))  # type: ignore[arg-type]


def test_a_revoked_api_key_stops_working_within_the_ttl(engine) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock()
    store = SqlPrincipalStore(engine)
    principal, api_key = store.add(
        "TEST-POLICE-A system", "agency_system", "police", "TEST-POLICE-A"
    )
    services = SimpleNamespace(principals=store, key_cache=KeyCache(TTL, timer=clock))
    assert _authenticate(services, api_key) == principal

    assert store.revoke(principal.principal_id)
    clock.now += TTL - 1
    assert _authenticate(services, api_key) == principal  # cached: the bound, not sooner
    clock.now += 2
    with pytest.raises(HTTPException) as refused:
        _authenticate(services, api_key)
    assert refused.value.status_code == 401


def test_the_key_cache_keeps_a_hash_of_the_key_not_the_key() -> None:
    cache = KeyCache(TTL, timer=FakeClock())
    principal = Principal("p1", "TEST-POLICE-A system", "agency_system", "police", "TEST-POLICE-A")
    cache.put("hubk_abc_s3cret", principal)
    assert cache.get("hubk_abc_s3cret") == principal
    assert "hubk_abc_s3cret" not in repr(vars(cache))
    assert cache.get("hubk_abc_other") is None


class Directory:
    """Signing identities an administrator can change; counts the look-ups."""

    def __init__(self) -> None:
        self.keys: dict[str, list[bytes]] = {}
        self.asked = 0

    def signing_identity(self, agency_id: str) -> tuple[Principal, list[bytes]] | None:
        self.asked += 1
        keys = self.keys.get(agency_id)
        if not keys:
            return None
        return Principal("p1", agency_id, "agency_system", "police", agency_id), keys


def test_a_revoked_signing_key_stops_working_within_the_ttl() -> None:
    clock, directory = FakeClock(), Directory()
    directory.keys["TEST-POLICE-A"] = [b"k" * 32]
    cached = CachedDirectory(directory, ttl_seconds=TTL, miss_seconds=5, timer=clock)
    assert cached.signing_identity("TEST-POLICE-A") is not None

    directory.keys["TEST-POLICE-A"] = []  # revoked
    clock.now += TTL - 1
    assert cached.signing_identity("TEST-POLICE-A") is not None
    clock.now += 2
    assert cached.signing_identity("TEST-POLICE-A") is None


def test_a_newly_registered_signing_key_is_accepted_after_the_short_miss_ttl() -> None:
    clock, directory = FakeClock(), Directory()
    cached = CachedDirectory(directory, ttl_seconds=TTL, miss_seconds=5, timer=clock)
    assert cached.signing_identity("TEST-POLICE-A") is None
    directory.keys["TEST-POLICE-A"] = [b"k" * 32]
    clock.now += 4
    assert cached.signing_identity("TEST-POLICE-A") is None
    assert directory.asked == 1  # the miss was cached
    clock.now += 2
    assert cached.signing_identity("TEST-POLICE-A") is not None


def test_an_erased_subjects_data_key_is_never_served_from_a_cache(engine) -> None:  # type: ignore[no-untyped-def]
    master = os.urandom(32)
    api_keys, cli_keys = SqlKeyStore(engine, master), SqlKeyStore(engine, master)
    cipher = FieldCipher(api_keys)  # e.g. the API process, which has opened this field before
    sealed = cipher.encrypt("tok_TEST_ALEX", "hub-1", "notes", "Alex Example")
    assert cipher.decrypt("hub-1", "notes", sealed) == "Alex Example"

    assert cli_keys.erase("tok_TEST_ALEX")  # `hub subjects erase`, another process
    assert cipher.decrypt("hub-1", "notes", sealed) == ERASED
