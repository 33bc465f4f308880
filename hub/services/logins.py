"""People logging in to the web pages: the rules, with the time passed in.

- A wrong password counts a failure; ``max_failures`` in a row lock the login for
  ``lockout`` (a locked login refuses even the right password until then, so guessing on
  is pointless). The right password clears the count.
- An unknown name, a wrong password and a login without a password get the same message, so
  the page does not tell which names exist; a locked login says it is locked and until when.
- A session ends at logout, after ``idle`` without a request, or ``lifetime`` after login.
- A temporary password (one an administrator made) must be changed before any other page
  works: the session says so (``must_change_password``), and ``change_password`` clears it.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from hub.adapters.metrics import LOGIN_FAILURES
from hub.adapters.sql.logins import SessionRecord, SqlLoginStore, password_matches
from hub.adapters.sql.principals import Principal
from hub.settings import Settings


class LoginRefused(Exception):
    """The login did not succeed; str(error) is what the page shows."""


WRONG = "Enter a correct user name and password"


@dataclass(frozen=True)
class LoginRules:
    max_failures: int
    lockout: timedelta
    idle: timedelta
    lifetime: timedelta

    @classmethod
    def from_settings(cls, s: Settings) -> LoginRules:
        return cls(
            s.web_login_max_failures, timedelta(minutes=s.web_lockout_minutes),
            timedelta(minutes=s.web_session_idle_minutes),
            timedelta(hours=s.web_session_max_hours),
        )  # fmt: skip


@dataclass(frozen=True)
class WebSession:
    principal: Principal
    session_hash: str
    csrf_token: str
    must_change_password: bool = False  # logged in with a temporary password

    def csrf_ok(self, sent: str | None) -> bool:
        return sent is not None and hmac.compare_digest(sent.encode(), self.csrf_token.encode())


def log_in(
    store: SqlLoginStore, rules: LoginRules, name: str, password: str, now: datetime
) -> tuple[Principal, str, str]:
    """(principal, session token, CSRF token), or LoginRefused saying why."""
    try:
        return _log_in(store, rules, name, password, now)
    except LoginRefused:
        LOGIN_FAILURES.inc()
        raise


def _log_in(
    store: SqlLoginStore, rules: LoginRules, name: str, password: str, now: datetime
) -> tuple[Principal, str, str]:
    found = store.login(name)
    if found is None or not found.usable:
        password_matches(None, password)  # the same cost as a real check
        raise LoginRefused(WRONG)
    if found.locked_until is not None and found.locked_until > now:
        raise LoginRefused(
            f"This login is locked after {rules.max_failures} wrong passwords. Try again after "
            f"{found.locked_until:%H:%M} UTC, or ask the hub administrator to set a new password"
        )
    if found.password_hash is None or not password_matches(found.password_hash, password):
        failed = found.failed_logins + 1
        if failed >= rules.max_failures:
            store.record_failure(found.principal.principal_id, 0, now + rules.lockout)
        else:
            store.record_failure(found.principal.principal_id, failed, None)
        raise LoginRefused(WRONG)
    store.record_success(found.principal.principal_id, password, found.password_hash)
    token, csrf = store.start_session(found.principal.principal_id, now)
    return found.principal, token, csrf


def _live(s: SessionRecord, rules: LoginRules, now: datetime) -> bool:
    return (
        s.usable and s.ended_at is None and now - s.last_seen_at <= rules.idle
        and now - s.created_at <= rules.lifetime
    )  # fmt: skip


def current_session(
    store: SqlLoginStore, rules: LoginRules, token: str | None, now: datetime
) -> WebSession | None:
    """The live session for this cookie token (and it is kept alive), or None: ended, idle
    too long, too old, or unknown. An expired session is ended for good."""
    if not token:
        return None
    s = store.session(token)
    if s is None:
        return None
    if not _live(s, rules, now):
        if s.ended_at is None:
            store.end_session(s.session_hash, now)
        return None
    store.touch(s.session_hash, now)
    return WebSession(s.principal, s.session_hash, s.csrf_token, s.must_change)


def log_out(store: SqlLoginStore, session: WebSession, now: datetime) -> None:
    store.end_session(session.session_hash, now)


MIN_PASSWORD = 12


class PasswordRefused(Exception):
    """The new password was not set; ``errors`` say which field to fix and how."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(e["message"] for e in errors))
        self.errors = errors


def change_password(
    store: SqlLoginStore, session: WebSession, current: str, new: str, again: str
) -> None:
    """The person sets their own password, giving the one they logged in with; a temporary
    password is then no longer one. PasswordRefused names each field to fix."""
    errors = []
    if not current:
        errors.append({"field": "current", "message": "Enter the password you logged in with"})
    elif not password_matches(store.password_hash_of(session.principal.principal_id), current):
        errors.append({"field": "current", "message": "The password you logged in with is "
                       "not right: enter it as you typed it to log in"})  # fmt: skip
    if len(new) < MIN_PASSWORD:
        errors.append(
            {
                "field": "password",
                "message": f"Choose a password of at least {MIN_PASSWORD} characters",
            }
        )
    elif new == current:
        errors.append(
            {
                "field": "password",
                "message": "Choose a new password, not the one you logged in with",
            }
        )
    if not errors and again != new:
        errors.append({"field": "again", "message": "Type the same new password twice"})
    if errors:
        raise PasswordRefused(errors)
    store.change_own_password(session.principal.principal_id, new)
