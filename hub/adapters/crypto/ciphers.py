"""Encryption of sensitive fields with per-subject data keys (AES-256-GCM), wrapped by a
master key (AES key wrap, RFC 3394) and held in the SQL key store.

Erasing a subject destroys its wrapped key: every field encrypted under it, in the event
store and in every Kafka copy, becomes unreadable, and nothing else changes.

An encrypted field is stored as {"$enc": "A256GCM", "kid": <subject token>, "iv", "ct"}
(base64); the associated data binds it to its event and field, so it cannot be moved.
"""

from __future__ import annotations

import base64
import json
import os
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from cachetools import LRUCache
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap
from sqlalchemy import Connection, Engine, bindparam, insert, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite

from hub.adapters.sql.schema import key_erasures, subject_keys
from hub.domain.events import CanonicalEvent, Unsealed

ERASED = {"$erased": True}
_CHUNK = 500  # tokens per IN (...) list


class CryptoError(Exception):
    """A field could not be encrypted or decrypted; the message says why."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class SqlKeyStore:
    """Subject data keys, created on first use, wrapped by the master key.

    Keys are cached as stored (wrapped), in a bounded LRU, so sealing a batch costs one
    query for the keys not seen lately rather than one per field. Every use first reads the
    erasure count (``key_erasures``, one row, bumped in the transaction that erases a key)
    and forgets the whole cache when it moved: a key erased by any process is never served
    from a cache (the count comes in the same statement as the first keys read, so a batch
    whose keys are all cached costs one round trip). A key made here is cached only once it
    is read back committed, so a rolled-back batch cannot leave a key in the cache that the
    database never kept.
    """

    def __init__(self, engine: Engine, master_key: bytes, cache_size: int = 100_000) -> None:
        if len(master_key) != 32:
            raise CryptoError("the master key must be 32 bytes")
        self._engine = engine
        self._master = master_key
        self._lock = threading.Lock()
        self._cache: LRUCache[str, str] = LRUCache(maxsize=cache_size)
        self._erasures: int | None = None  # the erasure count the cache is valid under

    def key_for(self, token: str) -> bytes:
        """The subject's data key, creating it if the subject has none (or was erased)."""
        with self._engine.begin() as conn:
            return self.keys_in(conn, [token])[token]

    def existing_key(self, token: str) -> bytes | None:
        return self.existing_keys([token]).get(token)

    def existing_keys(self, tokens: Iterable[str]) -> dict[str, bytes]:
        """The data keys the subjects have now (an erased or unknown one is left out)."""
        with self._engine.connect() as conn:
            return self.keys_in(conn, tokens, create=False)

    def keys_in(
        self, conn: Connection, tokens: Iterable[str], *, create: bool = True
    ) -> dict[str, bytes]:
        """Each subject's data key, inside the caller's transaction: from the cache, one
        query for the rest and, with create, new keys for subjects without one (or erased),
        written in that transaction, so they commit or roll back with what they seal."""
        wanted = set(tokens)
        with self._lock:
            valid_under = self._erasures
            wrapped = {t: w for t in wanted if (w := self._cache.get(t)) is not None}
        # the erasure count comes with the first read of the keys (one round trip); the
        # cached keys taken above are used only if it has not moved since they were cached
        erasures, found, erased = self._read(conn, sorted(wanted - wrapped.keys()))
        with self._lock:
            if erasures != self._erasures:
                self._cache.clear()
                self._erasures = erasures
            self._cache.update(found)  # read in one snapshot with the count they are valid under
        if erasures != valid_under and wrapped:
            _, again, erased_since = self._read(conn, sorted(wrapped))
            wrapped, erased = again, erased | erased_since
        wrapped |= found
        absent = sorted(wanted - wrapped.keys())
        if create and absent:
            wrapped |= self._create(conn, absent, erased)
        return {t: self._unwrap(t, w) for t, w in wrapped.items()}

    def erase(self, token: str) -> bool:
        """Destroy the subject's data key; True if there was one to destroy."""
        now = datetime.now(UTC)
        with self._engine.begin() as conn:
            done = conn.execute(
                update(subject_keys)
                .where(subject_keys.c.token == token, subject_keys.c.wrapped_key.is_not(None))
                .values(wrapped_key=None, erased_at=now)
            ).rowcount
            if done:
                counted = conn.execute(
                    update(key_erasures)
                    .where(key_erasures.c.id == 1)
                    .values(count=key_erasures.c.count + 1)
                ).rowcount
                if not counted:
                    conn.execute(insert(key_erasures).values(id=1, count=1))
        with self._lock:
            self._cache.pop(token, None)
        return bool(done)

    @staticmethod
    def _read(conn: Connection, tokens: list[str]) -> tuple[int, dict[str, str], set[str]]:
        """The erasure count, the stored wrapped keys of these tokens, and the tokens whose
        key was erased; the count and the first tokens in one statement."""
        found: dict[str, str] = {}
        erased: set[str] = set()
        erasures = 0
        for i in range(0, max(len(tokens), 1), _CHUNK):
            query = _READ_KEYS if i == 0 else _READ_MORE_KEYS
            for count, token, wrapped in conn.execute(query, {"t": tokens[i : i + _CHUNK]}):
                erasures = int(count or 0) if i == 0 else erasures
                if token is None:  # the count's row when no token has a key
                    continue
                if wrapped is None:
                    erased.add(token)
                else:
                    found[token] = wrapped
        return erasures, found, erased

    def _create(self, conn: Connection, tokens: list[str], erased: set[str]) -> dict[str, str]:
        """New keys for these tokens in one statement each for new and erased subjects; a
        writer that gave one a key first keeps it (its key is read back and used)."""
        now = datetime.now(UTC)
        made = {t: _b64(aes_key_wrap(self._master, AESGCM.generate_key(256))) for t in tokens}
        fresh = [
            {"token": t, "wrapped_key": w, "created_at": now}
            for t, w in made.items()
            if t not in erased
        ]
        stored: dict[str, str] = {}
        if fresh:
            inserted = conn.execute(_INSERT_KEYS[conn.dialect.name == "postgresql"], fresh)
            stored = {t: made[t] for t in inserted.scalars()}
        renewed = [{"t": t, "w": w, "at": now} for t, w in made.items() if t in erased]
        if renewed:
            conn.execute(_RENEW_KEYS, renewed)
        if others := sorted(set(tokens) - stored.keys()):  # renewed, or made by another writer
            stored |= self._read(conn, others)[1]
        lost = set(tokens) - stored.keys()
        if lost:
            raise CryptoError(f"no data key could be made for {', '.join(sorted(lost))}")
        return stored

    def _unwrap(self, token: str, wrapped: str) -> bytes:
        try:
            return aes_key_unwrap(self._master, base64.b64decode(wrapped))
        except InvalidUnwrap:
            raise CryptoError(
                f"the data key of {token} does not unwrap: wrong master key?"
            ) from None


_ERASURES = select(key_erasures.c.count).where(key_erasures.c.id == 1).scalar_subquery()
_ONE_ROW = select(literal(1).label("one")).subquery()
_KEYS_OF = subject_keys.c.token.in_(bindparam("t", expanding=True))
# the count on every row, and on one row of NULLs when no token has a key (an outer join
# of a one-row table), so the count always comes back
_READ_KEYS = select(_ERASURES, subject_keys.c.token, subject_keys.c.wrapped_key).select_from(
    _ONE_ROW.outerjoin(subject_keys, _KEYS_OF)
)
_READ_MORE_KEYS = select(
    literal(None).label("count"), subject_keys.c.token, subject_keys.c.wrapped_key
).where(_KEYS_OF)
# INSERT of new subject keys that leaves a token another writer gave a key alone; RETURNING
# names the keys that went in (one multi-row statement), so only a lost race is read back
_INSERT_KEYS = {
    is_pg: dialect.insert(subject_keys)
    .on_conflict_do_nothing(index_elements=["token"])
    .returning(subject_keys.c.token)
    for is_pg, dialect in ((True, postgresql), (False, sqlite))
}
_RENEW_KEYS = (
    update(subject_keys)
    .where(subject_keys.c.token == bindparam("t"), subject_keys.c.wrapped_key.is_(None))
    .values(wrapped_key=bindparam("w"), created_at=bindparam("at"))
)


class FieldCipher:
    """Encrypts and decrypts individual fields of canonical events."""

    def __init__(self, keys: SqlKeyStore) -> None:
        self.keys = keys

    @staticmethod
    def _aad(hub_id: str, field: str) -> bytes:
        return f"{hub_id}\0{field}".encode()

    def encrypt(self, token: str, hub_id: str, field: str, value: Any) -> dict[str, str]:
        return self._seal(self.keys.key_for(token), hub_id, Unsealed(token, field, value))

    def seal_in(self, conn: Connection, events: Sequence[CanonicalEvent]) -> list[CanonicalEvent]:
        """The events with every Unsealed value sealed, the keys read (or made) in the
        caller's transaction: the event store's, so a new key commits with its data."""
        tokens = {u.token for e in events for u in _unsealed(e)}
        if not tokens:
            return list(events)
        keys = self.keys.keys_in(conn, tokens)
        # one call for every IV of the batch: each os.urandom call releases the GIL, which
        # the writer thread then waits to get back while requests are being served
        pool = os.urandom(12 * sum(1 for e in events for _ in _unsealed(e)))
        ivs = iter([pool[i : i + 12] for i in range(0, len(pool), 12)])
        out = []
        for e in events:
            if not any(True for _ in _unsealed(e)):
                out.append(e)
                continue
            data = {
                k: self._seal(keys[v.token], e.hub_id, v, next(ivs))
                if isinstance(v, Unsealed)
                else v
                for k, v in e.data.items()
            }
            subjects = tuple(
                replace(s, sealed=self._seal(keys[s.sealed.token], e.hub_id, s.sealed, next(ivs)))
                if isinstance(s.sealed, Unsealed)
                else s
                for s in e.subjects
            )
            out.append(replace(e, data=data, subjects=subjects))
        return out

    def _seal(
        self, key: bytes, hub_id: str, value: Unsealed, iv: bytes | None = None
    ) -> dict[str, str]:
        iv = os.urandom(12) if iv is None else iv
        plaintext = json.dumps(value.value, separators=(",", ":")).encode()
        ct = AESGCM(key).encrypt(iv, plaintext, self._aad(hub_id, value.field))
        return {"$enc": "A256GCM", "kid": value.token, "iv": _b64(iv), "ct": _b64(ct)}

    def decrypt(
        self,
        hub_id: str,
        field: str,
        sealed: dict[str, str],
        keys: Mapping[str, bytes] | None = None,
    ) -> Any:
        """The plaintext, or ERASED when it cannot be opened: the subject's key was destroyed
        (or replaced after erasure), or the sealed value was moved from its event or field.
        keys: the subjects' current keys (``opening_keys``) when opening many at once."""
        kid = sealed["kid"]
        key = (self.opening_keys([sealed]) if keys is None else keys).get(kid)
        if key is None:
            return ERASED
        try:
            plaintext = AESGCM(key).decrypt(
                base64.b64decode(sealed["iv"]),
                base64.b64decode(sealed["ct"]),
                self._aad(hub_id, field),
            )
        except InvalidTag:
            # a key made after erasure cannot open what was sealed before it
            return ERASED
        return json.loads(plaintext)

    def opening_keys(self, sealed: Iterable[dict[str, str]]) -> dict[str, bytes]:
        """The current keys of the subjects these sealed values name, in one look-up."""
        return self.keys.existing_keys({s["kid"] for s in sealed})

    def reveal(self, hub_id: str, data: dict[str, Any]) -> dict[str, Any]:
        """data with every encrypted field opened (or marked erased)."""
        keys = self.opening_keys(v for v in data.values() if is_sealed(v))
        return {k: self.decrypt(hub_id, k, v, keys) if is_sealed(v) else v for k, v in data.items()}


def _unsealed(event: CanonicalEvent) -> Iterator[Unsealed]:
    yield from (v for v in event.data.values() if isinstance(v, Unsealed))
    yield from (s.sealed for s in event.subjects if isinstance(s.sealed, Unsealed))


def is_sealed(value: Any) -> bool:
    return isinstance(value, dict) and value.get("$enc") == "A256GCM"
