"""The principals as an administrator sees and changes them: the lists of agency systems
and people with their state, a new API key in place of the old one, and disabling a person.

Creating a principal, revoking its key and the signing keys stay in principals.py; the rules
(who may, what is recorded) are hub/services/admin.py's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, Row, func, select, update

from hub.adapters.sql.db import as_utc
from hub.adapters.sql.principals import Principal, new_api_key
from hub.adapters.sql.schema import principals, signing_keys


@dataclass(frozen=True)
class SigningKeyRow:
    key_id: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class Account:
    principal: Principal
    created_at: datetime
    revoked_at: datetime | None  # the API key no longer works
    login_disabled: bool
    has_password: bool
    signing_keys: tuple[SigningKeyRow, ...] = ()

    @property
    def active(self) -> bool:
        return self.revoked_at is None and not self.login_disabled


def _when(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)


def _account(r: Row[Any], keys: tuple[SigningKeyRow, ...] = ()) -> Account:
    p = Principal(r.principal_id, r.name, r.kind, r.role, r.agency_id, r.area)
    return Account(
        p, as_utc(r.created_at), _when(r.revoked_at), bool(r.login_disabled),
        r.password_hash is not None, keys,
    )  # fmt: skip


class SqlAccounts:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def of_kind(self, kind: str) -> list[Account]:
        """Every principal of this kind (agency_system or person), by name; agency systems
        with their Kafka signing keys."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(principals).where(principals.c.kind == kind).order_by(principals.c.name)
            ).all()
            keys: dict[str, list[SigningKeyRow]] = {}
            if kind == "agency_system":
                for k in conn.execute(select(signing_keys).order_by(signing_keys.c.created_at)):
                    keys.setdefault(k.agency_id, []).append(
                        SigningKeyRow(k.key_id, as_utc(k.created_at), _when(k.revoked_at))
                    )
        return [_account(r, tuple(keys.get(r.agency_id or "", ()))) for r in rows]

    def named(self, name: str) -> Account | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(principals).where(principals.c.name == name)).first()
        return None if row is None else _account(row)

    def new_key(self, principal_id: str) -> str | None:
        """A new API key for an active principal, the old one stopping at once; None when the
        principal is unknown or its key was revoked."""
        key_id, key_hash, key = new_api_key()
        with self._engine.begin() as conn:
            done = conn.execute(
                update(principals)
                .where(principals.c.principal_id == principal_id, principals.c.revoked_at.is_(None))
                .values(key_id=key_id, key_hash=key_hash)
            ).rowcount
        return key if done else None

    def disable(self, principal_id: str) -> bool:
        """A person can no longer log in, and their API key stops; True if they were active.
        Their open sessions end with it (a session needs a usable principal)."""
        with self._engine.begin() as conn:
            done = conn.execute(
                update(principals)
                .where(
                    principals.c.principal_id == principal_id,
                    principals.c.login_disabled.is_(False),
                )
                .values(
                    login_disabled=True,
                    revoked_at=func.coalesce(principals.c.revoked_at, datetime.now(UTC)),
                )
            ).rowcount
        return bool(done)
