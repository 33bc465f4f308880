"""Principals (agency systems and people) and their API keys, stored hashed.

A key reads ``hubk_<key id>_<secret>``; the store keeps the key id and SHA-256 of the secret.
The secret is 256 random bits, so a fast hash is enough (no password stretching needed).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from cachetools import TTLCache
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from hub.adapters.sql.schema import principals, signing_keys


class PrincipalError(ValueError):
    """A principal cannot be created as asked; the message says why."""


@dataclass(frozen=True)
class Principal:
    principal_id: str
    name: str
    kind: str  # "agency_system" or "person"
    # systems: their agency type; people: a consent.policy.PERSON_ROLES entry, or a
    # practitioner's agency type
    role: str
    agency_id: str | None
    area: str | None = None  # a Marac chair's or coordinator's area: they see only its alerts


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_api_key() -> tuple[str, str, str]:
    """A fresh API key: (key id, the hash the store keeps, the key shown once)."""
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    return key_id, _hash(secret), f"hubk_{key_id}_{secret}"


class SqlPrincipalStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(
        self, name: str, kind: str, role: str, agency_id: str | None, area: str | None = None
    ) -> tuple[Principal, str]:
        """Create a principal and return it with its API key (shown once, never stored)."""
        key_id, key_hash, key = new_api_key()
        p = Principal(str(uuid.uuid4()), name, kind, role, agency_id, area)
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    insert(principals).values(
                        principal_id=p.principal_id,
                        name=name,
                        kind=kind,
                        role=role,
                        agency_id=agency_id,
                        area=area,
                        key_id=key_id,
                        key_hash=key_hash,
                        created_at=datetime.now(UTC),
                    )
                )
        except IntegrityError:
            raise PrincipalError(f"a principal named {name!r} already exists") from None
        return p, key

    def authenticate(self, api_key: str) -> Principal | None:
        """The principal holding this key, or None for an unknown, malformed or revoked key."""
        parts = api_key.split("_", 2)
        if len(parts) != 3 or parts[0] != "hubk":
            return None
        _, key_id, secret = parts
        with self._engine.connect() as conn:
            row = conn.execute(
                select(principals).where(
                    principals.c.key_id == key_id, principals.c.revoked_at.is_(None)
                )
            ).first()
        if row is None or not hmac.compare_digest(row.key_hash, _hash(secret)):
            return None
        return Principal(row.principal_id, row.name, row.kind, row.role, row.agency_id, row.area)

    def revoke(self, principal_id: str) -> bool:
        """Revoke the principal's API key; True if it was active. A cached key keeps working
        for at most KeyCache's TTL."""
        with self._engine.begin() as conn:
            done = conn.execute(
                update(principals)
                .where(principals.c.principal_id == principal_id, principals.c.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
            ).rowcount
        return bool(done)

    # --- signing keys of agency systems that write straight to Kafka -------------------------

    def agency_system(self, agency_id: str) -> Principal | None:
        """The active agency-system principal of agency_id, if any."""
        with self._engine.connect() as conn:
            row = conn.execute(
                select(principals)
                .where(
                    principals.c.agency_id == agency_id,
                    principals.c.kind == "agency_system",
                    principals.c.revoked_at.is_(None),
                )
                .order_by(principals.c.created_at)
            ).first()
        if row is None:
            return None
        return Principal(row.principal_id, row.name, row.kind, row.role, row.agency_id)

    def add_signing_key(self, agency_id: str, key_id: str, public_key: bytes) -> None:
        """Register an agency's raw Ed25519 public key under key_id."""
        if self.agency_system(agency_id) is None:
            raise PrincipalError(
                f"no agency system {agency_id!r}; add it first with `hub agencies add`"
            )
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    insert(signing_keys).values(
                        key_id=key_id,
                        agency_id=agency_id,
                        public_key=base64.b64encode(public_key).decode(),
                        created_at=datetime.now(UTC),
                    )
                )
        except IntegrityError:
            raise PrincipalError(f"signing key {key_id} is already registered") from None

    def revoke_signing_key(self, agency_id: str, key_id: str) -> bool:
        """Stop accepting signatures by this key; False when no such active key."""
        with self._engine.begin() as conn:
            done = conn.execute(
                update(signing_keys)
                .where(
                    signing_keys.c.agency_id == agency_id,
                    signing_keys.c.key_id == key_id,
                    signing_keys.c.revoked_at.is_(None),
                )
                .values(revoked_at=datetime.now(UTC))
            )
        return bool(done.rowcount)

    def signing_identity(self, agency_id: str) -> tuple[Principal, list[bytes]] | None:
        """The agency's principal and its active raw public keys; None when either is missing."""
        principal = self.agency_system(agency_id)
        if principal is None:
            return None
        with self._engine.connect() as conn:
            keys = conn.execute(
                select(signing_keys.c.public_key).where(
                    signing_keys.c.agency_id == agency_id, signing_keys.c.revoked_at.is_(None)
                )
            ).scalars()
            raw = [base64.b64decode(k) for k in keys]
        return (principal, raw) if raw else None


class KeyCache:
    """Recently authenticated keys, so a busy agency system is not looked up per request.

    Keyed by the SHA-256 of the whole key (the key itself is not kept); an entry lives
    ``ttl_seconds`` by ``timer`` (monotonic; tests pass a fake clock), which bounds how long a
    revoked key keeps working. Full, it forgets the least recently used key.
    """

    def __init__(
        self,
        ttl_seconds: float = 30.0,
        max_entries: int = 10_000,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self._entries: TTLCache[str, Principal] = TTLCache(max_entries, ttl_seconds, timer=timer)

    def get(self, api_key: str) -> Principal | None:
        found: Principal | None = self._entries.get(_hash(api_key))
        return found

    def put(self, api_key: str, principal: Principal) -> None:
        self._entries[_hash(api_key)] = principal

    def forget(self, principal_id: str) -> None:
        """Drop the principal's cached keys, so a revoked or rotated key stops at once in
        this process (other processes' caches still keep it for up to their TTL)."""
        for hashed, principal in list(self._entries.items()):
            if principal.principal_id == principal_id:
                self._entries.pop(hashed, None)
