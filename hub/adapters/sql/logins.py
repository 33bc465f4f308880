"""People's web logins: argon2 password hashes, failed attempts, lock-outs and sessions.

Only the storage lives here; the rules (how many failures lock, for how long, when a session
ends) are hub/services/logins.py's, with the time passed in. A session's cookie holds 256
random bits; the table keeps their SHA-256, so reading the database opens no session.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, Row, insert, select, update

from hub.adapters.sql.db import as_utc
from hub.adapters.sql.principals import Principal
from hub.adapters.sql.schema import principals, web_sessions

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Checked when a name is unknown, so an unknown name costs the same time as a wrong password.
# Written out rather than hashed at import: an argon2 hash costs every process that imports
# this module (API, each CLI command) about 0.2 s of CPU at start. A verify costs what the
# parameters in the hash say, so tests/unit/test_logins.py checks they are the hasher's own.
_DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$dKNnW9RQMlgvabT+N/NR8g"
    "$3v3dkUAjN7aUE4XB/oq2Yjr0KuJWuF4EMUYw/wpUjWc"
)


def _principal(r: Row[Any]) -> Principal:
    return Principal(r.principal_id, r.name, r.kind, r.role, r.agency_id, r.area)


@dataclass(frozen=True)
class LoginRecord:
    principal: Principal
    password_hash: str | None
    failed_logins: int
    locked_until: datetime | None
    usable: bool  # a person, not disabled, API key not revoked
    must_change: bool = False  # a temporary password: change it before any other page


@dataclass(frozen=True)
class SessionRecord:
    session_hash: str
    principal: Principal
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime
    ended_at: datetime | None
    usable: bool
    must_change: bool = False  # the person's password is a temporary one


def session_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def password_matches(password_hash: str | None, password: str) -> bool:
    """True when password is the one hashed; always spends an argon2 check."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


class SqlLoginStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def set_password(self, name: str, password: str, temporary: bool = False) -> bool:
        """Give the person named a new password (and clear a lock-out); a temporary one must
        be changed before any page works. False if no such person."""
        with self._engine.begin() as conn:
            done = conn.execute(
                update(principals)
                .where(principals.c.name == name, principals.c.kind == "person")
                .values(
                    password_hash=_hasher.hash(password),
                    failed_logins=0,
                    locked_until=None,
                    password_must_change=temporary,
                )
            ).rowcount
        return bool(done)

    def change_own_password(self, principal_id: str, password: str) -> None:
        """The person's own new password: no longer a temporary one."""
        with self._engine.begin() as conn:
            conn.execute(
                update(principals)
                .where(principals.c.principal_id == principal_id)
                .values(password_hash=_hasher.hash(password), password_must_change=False)
            )

    def password_hash_of(self, principal_id: str) -> str | None:
        with self._engine.connect() as conn:
            found = conn.execute(
                select(principals.c.password_hash).where(principals.c.principal_id == principal_id)
            ).scalar()
        return None if found is None else str(found)

    def login(self, name: str) -> LoginRecord | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(principals).where(principals.c.name == name)).first()
        if row is None:
            return None
        usable = row.kind == "person" and not row.login_disabled and row.revoked_at is None
        locked = None if row.locked_until is None else as_utc(row.locked_until)
        return LoginRecord(
            _principal(row), row.password_hash, row.failed_logins, locked, usable,
            bool(row.password_must_change),
        )  # fmt: skip

    def record_failure(self, principal_id: str, failed: int, locked_until: datetime | None) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                update(principals)
                .where(principals.c.principal_id == principal_id)
                .values(failed_logins=failed, locked_until=locked_until)
            )

    def record_success(self, principal_id: str, password: str, old_hash: str) -> None:
        """Clear the failures; rehash when the library's parameters have grown since."""
        values: dict[str, object] = {"failed_logins": 0, "locked_until": None}
        if _hasher.check_needs_rehash(old_hash):
            values["password_hash"] = _hasher.hash(password)
        with self._engine.begin() as conn:
            conn.execute(
                update(principals).where(principals.c.principal_id == principal_id).values(values)
            )

    def start_session(self, principal_id: str, now: datetime) -> tuple[str, str]:
        """A new session: (cookie token, CSRF token)."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        with self._engine.begin() as conn:
            conn.execute(
                insert(web_sessions).values(
                    session_hash=session_hash(token), principal_id=principal_id,
                    csrf_token=csrf, created_at=now, last_seen_at=now,
                )
            )  # fmt: skip
        return token, csrf

    def session(self, token: str) -> SessionRecord | None:
        j = web_sessions.join(principals, web_sessions.c.principal_id == principals.c.principal_id)
        with self._engine.connect() as conn:
            row = conn.execute(
                select(web_sessions, principals).select_from(j)
                .where(web_sessions.c.session_hash == session_hash(token))
            ).first()  # fmt: skip
        if row is None:
            return None
        usable = not row.login_disabled and row.revoked_at is None
        ended = None if row.ended_at is None else as_utc(row.ended_at)
        return SessionRecord(
            row.session_hash, _principal(row), row.csrf_token, as_utc(row.created_at),
            as_utc(row.last_seen_at), ended, usable, bool(row.password_must_change),
        )  # fmt: skip

    def touch(self, hashed: str, now: datetime) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                update(web_sessions)
                .where(web_sessions.c.session_hash == hashed)
                .values(last_seen_at=now)
            )

    def end_session(self, hashed: str, now: datetime) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                update(web_sessions)
                .where(web_sessions.c.session_hash == hashed, web_sessions.c.ended_at.is_(None))
                .values(ended_at=now)
            )
