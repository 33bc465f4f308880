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
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from hub.adapters.sql.schema import subject_keys

ERASED = {"$erased": True}


class CryptoError(Exception):
    """A field could not be encrypted or decrypted; the message says why."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class SqlKeyStore:
    """Subject data keys, created on first use, wrapped by the master key."""

    def __init__(self, engine: Engine, master_key: bytes) -> None:
        if len(master_key) != 32:
            raise CryptoError("the master key must be 32 bytes")
        self._engine = engine
        self._master = master_key

    def key_for(self, token: str) -> bytes:
        """The subject's data key, creating it if the subject has none (or was erased)."""
        key = self.existing_key(token)
        if key is not None:
            return key
        new = AESGCM.generate_key(bit_length=256)
        wrapped = _b64(aes_key_wrap(self._master, new))
        now = datetime.now(UTC)
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    insert(subject_keys).values(token=token, wrapped_key=wrapped, created_at=now)
                )
        except IntegrityError:
            # another writer created it first, or the subject was erased: a new key for new data
            with self._engine.begin() as conn:
                conn.execute(
                    update(subject_keys)
                    .where(subject_keys.c.token == token, subject_keys.c.wrapped_key.is_(None))
                    .values(wrapped_key=wrapped, created_at=now)
                )
            key = self.existing_key(token)
            if key is None:
                raise CryptoError(f"no data key could be made for {token}") from None
            return key
        return new

    def existing_key(self, token: str) -> bytes | None:
        with self._engine.connect() as conn:
            wrapped = conn.execute(
                select(subject_keys.c.wrapped_key).where(subject_keys.c.token == token)
            ).scalar_one_or_none()
        if wrapped is None:
            return None
        try:
            return aes_key_unwrap(self._master, base64.b64decode(wrapped))
        except InvalidUnwrap:
            raise CryptoError(
                f"the data key of {token} does not unwrap: wrong master key?"
            ) from None

    def erase(self, token: str) -> bool:
        """Destroy the subject's data key; True if there was one to destroy."""
        now = datetime.now(UTC)
        with self._engine.begin() as conn:
            done = conn.execute(
                update(subject_keys)
                .where(subject_keys.c.token == token, subject_keys.c.wrapped_key.is_not(None))
                .values(wrapped_key=None, erased_at=now)
            ).rowcount
        return bool(done)


class FieldCipher:
    """Encrypts and decrypts individual fields of canonical events."""

    def __init__(self, keys: SqlKeyStore) -> None:
        self.keys = keys

    @staticmethod
    def _aad(hub_id: str, field: str) -> bytes:
        return f"{hub_id}\0{field}".encode()

    def encrypt(self, token: str, hub_id: str, field: str, value: Any) -> dict[str, str]:
        iv = os.urandom(12)
        plaintext = json.dumps(value, separators=(",", ":")).encode()
        ct = AESGCM(self.keys.key_for(token)).encrypt(iv, plaintext, self._aad(hub_id, field))
        return {"$enc": "A256GCM", "kid": token, "iv": _b64(iv), "ct": _b64(ct)}

    def decrypt(self, hub_id: str, field: str, sealed: dict[str, str]) -> Any:
        """The plaintext, or ERASED when it cannot be opened: the subject's key was destroyed
        (or replaced after erasure), or the sealed value was moved from its event or field."""
        key = self.keys.existing_key(sealed["kid"])
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

    def reveal(self, hub_id: str, data: dict[str, Any]) -> dict[str, Any]:
        """data with every encrypted field opened (or marked erased)."""
        return {k: self.decrypt(hub_id, k, v) if is_sealed(v) else v for k, v in data.items()}


def is_sealed(value: Any) -> bool:
    return isinstance(value, dict) and value.get("$enc") == "A256GCM"
