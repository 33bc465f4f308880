"""Administering the hub: agency systems and their keys, people and their logins. The
administrator's pages (hub/entrypoints/web/admin.py) and the `hub agencies …` / `hub users …`
commands both call this, so a change is checked and recorded the same way from either.

Who may. A person with the role ``admin`` (consent.policy.PersonRole.ADMIN; the sharing policy
shows them no case content), or the operator at the hub's host through the `hub` command
(``operator``: whoever can run it can read the key files anyway). Anyone else is refused
(Forbidden), and the refusal is written to the audit log first, as a refused disclosure is.

What is recorded. Every change is an audit record (the disclosure record's shape, outcome
``changed``; hub.services.disclosure.PolicyPoint.audit) naming who (principal, role, agency),
what (``action``, the ``target`` principal, and in ``fields`` what about it changed) and why
(``reason``, required). The record is written before the change, so nothing changes unrecorded
(AuditError: nothing done); a change that then fails on a race (the name was taken meanwhile)
gets a second record, outcome ``failed``. Keys and passwords are never recorded.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Engine

from consent.policy import MARAC_ROLES, PERSON_ROLES, PersonRole
from hub.adapters.sql.accounts import Account, SigningKeyRow, SqlAccounts
from hub.adapters.sql.logins import SqlLoginStore
from hub.adapters.sql.principals import KeyCache, Principal, PrincipalError, SqlPrincipalStore
from hub.contract import signing
from hub.domain.agencies import AgencyType
from hub.services.access import REFUSED
from hub.services.errors import Conflict, Forbidden, NotFound, Unusable
from hub.services.logins import MIN_PASSWORD
from hub.services.ports import AuditLog

PURPOSE = "hub_administration"
CHANGED, FAILED = "changed", "failed"
_AGENCY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,63}")
T = TypeVar("T")


def operator(user: str) -> Principal:
    """The operator at the hub's host, as the `hub` command acts."""
    return Principal(f"cli:{user}", f"cli:{user}", "operator", "operator", None)


def invalid(field: str, message: str) -> Unusable:
    return Unusable(message, [{"loc": [field], "path": field, "msg": message, "type": "value"}])


def checked_reason(reason: str) -> str:
    reason = reason.strip()
    if len(reason) < 3:
        raise invalid("reason", "Enter why you are making this change (at least 3 characters)")
    if len(reason) > 2000:
        raise invalid("reason", "The reason must be 2000 characters or fewer")
    return reason


def temporary_password() -> str:
    """A password shown once to the administrator, for the person to log in with."""
    return secrets.token_urlsafe(12)  # 16 characters, 96 random bits


class Administration:
    def __init__(
        self, engine: Engine, audit: AuditLog, key_cache: KeyCache,
        agency_types: Mapping[str, AgencyType],
    ) -> None:  # fmt: skip
        self.principals, self.accounts = SqlPrincipalStore(engine), SqlAccounts(engine)
        self.logins, self._audit = SqlLoginStore(engine), audit
        self.key_cache, self.agency_types = key_cache, agency_types

    # --- who may, and the record ------------------------------------------------------------

    def require_admin(self, actor: Principal, action: str) -> None:
        """Refuse (audited, then Forbidden) anyone but an administrator or the operator."""
        if actor.kind == "operator" or (actor.kind == "person" and actor.role == PersonRole.ADMIN):
            return
        self.record(actor, action, None, [], None, REFUSED)
        raise Forbidden(f"role '{actor.role}' may not administer the hub; ask a hub administrator")

    def record(
        self, actor: Principal, action: str, target: Account | Principal | None,
        fields: list[str], reason: str | None, outcome: str,
    ) -> None:  # fmt: skip
        p = target.principal if isinstance(target, Account) else target
        self._audit.append(
            {
                "time": datetime.now(UTC).isoformat(),
                "action": action,
                "principal_id": actor.principal_id,
                "principal_kind": actor.kind,
                "role": actor.role,
                "agency_id": actor.agency_id,
                "purpose": PURPOSE,
                "subjects": [],
                "fields": sorted(fields),
                "lawful_bases": [],
                "overrides": [],
                "decisions": [],
                "items": [],
                "outcome": outcome,
                "target": None if p is None else {"principal_id": p.principal_id, "kind": p.kind,
                                                  "role": p.role, "agency_id": p.agency_id},
                "reason": reason,
            }
        )  # fmt: skip

    def _target(self, actor: Principal, action: str, name: str, kind: str, reason: str) -> Change:
        """Check who asks, the reason and the principal named: the change to make to it."""
        self.require_admin(actor, action)
        return Change(self, actor, action, self._existing(name, kind), checked_reason(reason))

    def _existing(self, name: str, kind: str) -> Account:
        found = self.accounts.named(name)
        if found is None or found.principal.kind != kind:
            what = "agency system" if kind == "agency_system" else "person"
            raise NotFound(f"no {what} {name!r} is registered; check the name in the list")
        return found

    def _unused(self, name: str) -> None:
        if self.accounts.named(name) is not None:
            raise invalid("name", f"{name!r} is taken: choose another name")

    # --- agency systems ---------------------------------------------------------------------

    def agencies(self, actor: Principal) -> list[Account]:
        self.require_admin(actor, "admin list agencies")
        return self.accounts.of_kind("agency_system")

    def add_agency(
        self, actor: Principal, name: str, agency_type: str, reason: str
    ) -> tuple[Principal, str]:
        """Register an agency system; its API key is returned once and never stored."""
        action = "admin add agency"
        self.require_admin(actor, action)
        name, reason = name.strip(), checked_reason(reason)
        if not _AGENCY_NAME.fullmatch(name):
            raise invalid(
                "name",
                "Enter the agency's id: 2 to 64 letters, digits, '.', '-' "
                "or '_', starting with a letter or digit, like TEST-POLICE-A",
            )
        if agency_type not in self.agency_types:
            known = ", ".join(self.agency_types)
            raise invalid("type", f"Choose an agency type (one of: {known})")
        self._unused(name)
        change = Change(self, actor, action, Principal("(new)", name, "agency_system",
                                                        agency_type, name), reason)  # fmt: skip
        return change.make(["api_key"], self.principals.add, name, "agency_system", agency_type,
                           name)  # fmt: skip

    def rotate_agency_key(self, actor: Principal, name: str, reason: str) -> str:
        """A new API key for the agency; the old one stops at once (shown once)."""
        change = self._target(actor, "admin rotate agency key", name, "agency_system", reason)
        if change.account.revoked_at is not None:
            raise Conflict(f"agency {name}'s key is revoked; add the agency again under a new name")
        key = change.make(["api_key"], self.accounts.new_key, change.principal_id)
        if key is None:  # revoked between the look-up and the change
            raise Conflict(f"agency {name}'s key was revoked meanwhile; nothing changed")
        self.key_cache.forget(change.principal_id)
        return key

    def revoke_agency(self, actor: Principal, name: str, reason: str) -> None:
        """The agency's API key stops (HTTP, and Kafka-direct: no active principal)."""
        change = self._target(actor, "admin revoke agency", name, "agency_system", reason)
        if change.account.revoked_at is not None:
            raise Conflict(f"agency {name}'s key is already revoked")
        change.make(["api_key"], self.principals.revoke, change.principal_id)
        self.key_cache.forget(change.principal_id)

    def add_signing_key(self, actor: Principal, name: str, public_key: bytes, reason: str) -> str:
        """Register the Ed25519 public key the agency signs Kafka-direct messages with
        (PEM or base64 of the raw key); returns its key id."""
        change = self._target(actor, "admin add signing key", name, "agency_system", reason)
        try:
            raw = signing.load_signing_public_key(public_key)
        except signing.SigningKeyError as exc:
            raise invalid("public_key", str(exc)) from None
        key_id = signing.signing_key_id(raw)
        change.make(["signing_key"], self.principals.add_signing_key, name, key_id, raw)
        return key_id

    def revoke_signing_key(self, actor: Principal, name: str, key_id: str, reason: str) -> None:
        change = self._target(actor, "admin revoke signing key", name, "agency_system", reason)
        if not any(k.key_id == key_id and k.revoked_at is None for k in self._keys_of(name)):
            raise NotFound(f"agency {name} has no active signing key {key_id}")
        change.make(["signing_key"], self.principals.revoke_signing_key, name, key_id)

    def _keys_of(self, name: str) -> list[SigningKeyRow]:
        found = [a for a in self.accounts.of_kind("agency_system") if a.principal.name == name]
        return list(found[0].signing_keys) if found else []

    # --- people -----------------------------------------------------------------------------

    def people(self, actor: Principal) -> list[Account]:
        self.require_admin(actor, "admin list people")
        return self.accounts.of_kind("person")

    def roles(self) -> list[str]:
        """The roles a person may have: the hub's own, then practitioners' agency types."""
        return [*sorted(PERSON_ROLES), *self.agency_types]

    def add_person(
        self, actor: Principal, name: str, role: str, agency: str | None, area: str | None,
        reason: str, password: str | None = None, temporary: bool = False,
    ) -> tuple[Principal, str]:  # fmt: skip
        """Register a person: their API key is returned (shown once); with a password they
        can log in to the pages (a temporary one they must change first)."""
        action = "admin add person"
        self.require_admin(actor, action)
        name, reason = name.strip(), checked_reason(reason)
        agency, area = (agency or "").strip() or None, (area or "").strip() or None
        if not 1 <= len(name) <= 200 or "/" in name or not name.isprintable():
            raise invalid("name", "Enter the person's user name: up to 200 characters, no '/'")
        if role not in PERSON_ROLES and role not in self.agency_types:
            raise invalid("role", f"Choose a role (one of: {', '.join(self.roles())})")
        if role in self.agency_types and agency is None:
            raise invalid("agency", f"A {role} practitioner acts for an agency: enter it")
        if password is not None and len(password) < MIN_PASSWORD:
            raise invalid("password", f"Choose a password of at least {MIN_PASSWORD} characters")
        if area is not None and role not in MARAC_ROLES:
            raise invalid("area", "An area is for Marac chairs and coordinators only "
                          "(their alerts and agenda)")  # fmt: skip
        self._unused(name)
        change = Change(self, actor, action, Principal("(new)", name, "person", role, agency,
                                                        area), reason)  # fmt: skip
        fields = ["api_key", "role"] + (["password"] if password else [])
        added = change.make(fields, self.principals.add, name, "person", role, agency, area)
        if password is not None:
            self.logins.set_password(name, password, temporary)
        return added

    def set_password(
        self, actor: Principal, name: str, password: str, reason: str, temporary: bool = False
    ) -> None:
        """Give a person a password they chose (the operator types it), or a temporary one
        they must change before any page works; clears a lock-out."""
        change = self._target(actor, "admin set password", name, "person", reason)
        if len(password) < MIN_PASSWORD:
            raise invalid("password", f"Choose a password of at least {MIN_PASSWORD} characters")
        change.make(["password"], self.logins.set_password, name, password, temporary)

    def reset_password(self, actor: Principal, name: str, reason: str) -> str:
        """A new temporary password for the person (shown once), to be changed at their next
        login; clears a lock-out."""
        password = temporary_password()
        self.set_password(actor, name, password, reason, temporary=True)
        return password

    def disable_person(self, actor: Principal, name: str, reason: str) -> None:
        """The person can no longer log in (open sessions end) and their API key stops."""
        change = self._target(actor, "admin disable person", name, "person", reason)
        if change.principal_id == actor.principal_id:
            raise Conflict("you cannot disable yourself; ask another administrator")
        if change.account.login_disabled:
            raise Conflict(f"{name} is already disabled")
        change.make(["login", "api_key"], self.accounts.disable, change.principal_id)
        self.key_cache.forget(change.principal_id)


@dataclass(frozen=True)
class Change:
    """One change an administrator makes to one principal, with why: make() records it in
    the audit log, then makes it (a later failure is recorded too)."""

    admin: Administration
    actor: Principal
    action: str
    target: Account | Principal  # a Principal for one not yet created
    reason: str

    @property
    def account(self) -> Account:
        assert isinstance(self.target, Account), "a principal not yet created has no account"
        return self.target

    @property
    def principal_id(self) -> str:
        return self.account.principal.principal_id

    def make(self, fields: list[str], do: Callable[..., T], *args: Any) -> T:
        """Record the change (fields: what about the target changes), then do(*args)."""
        record = self.admin.record
        record(self.actor, self.action, self.target, fields, self.reason, CHANGED)
        try:
            return do(*args)
        except PrincipalError as exc:
            record(self.actor, self.action, self.target, fields, self.reason, FAILED)
            raise Conflict(str(exc)) from None
