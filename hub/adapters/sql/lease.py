"""A lease in the database: of several processes sharing one store, the one holding the lease
does the work (the outbox relay: link and publish), the others wait and take over once it has
lapsed.

One row per lease name. Taking and renewing are one conditional UPDATE (holder is me, or the
lease has expired), atomic on SQLite (one writer) and PostgreSQL (the row is locked and the
condition read again after a concurrent writer commits), so two processes never both succeed.
Times come from the caller's clock: the hosts' clocks must agree to well within the lease
(NTP), and a holder stops working once its own view of the lease has run out.

A holder that died on this host (no process has its pid any more) is not waited for: `hub up`
killed and started again takes the lease at once. Holders are named host:pid:random.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from hub.adapters.sql.db import as_utc
from hub.adapters.sql.schema import relay_lease

LAPSED = datetime(1970, 1, 1, tzinfo=UTC)


def holder_id() -> str:
    """This process, in a way an operator can read: host:pid:random."""
    return f"{socket.gethostname()[:100]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _died_here(holder: str, me: str) -> bool:
    """Is holder a process of this host that is no longer running?"""
    theirs, mine = holder.rsplit(":", 2), me.rsplit(":", 2)
    if len(theirs) != 3 or theirs[0] != mine[0] or not theirs[1].isdigit():
        return False
    try:
        os.kill(int(theirs[1]), 0)  # signal 0: is there such a process
    except ProcessLookupError:
        return True
    except OSError:  # there is, another user's
        return False
    return False


@dataclass(frozen=True)
class LeaseHolder:
    holder: str
    expires_at: datetime


class SqlLease:
    """The lease `name` for `holder`, `length` long each time it is taken or renewed."""

    def __init__(self, engine: Engine, name: str, holder: str, length: timedelta) -> None:
        self._engine = engine
        self._name = name
        self.holder = holder
        self.length = length

    def acquire(self, now: datetime) -> datetime | None:
        """Take or renew the lease at `now`: its new expiry, or None while another holds it."""
        expires = now + self.length
        row = relay_lease.c
        with self._engine.begin() as conn:
            taken = conn.execute(
                update(relay_lease)
                .where(row.name == self._name)
                .where(or_(row.holder == self.holder, row.expires_at <= now))
                .values(holder=self.holder, expires_at=expires)
            ).rowcount
        if taken == 1:
            return expires
        current = self.current()
        if current is not None and _died_here(current.holder, self.holder):
            with self._engine.begin() as conn:
                taken = conn.execute(
                    update(relay_lease)
                    .where(row.name == self._name, row.holder == current.holder)
                    .values(holder=self.holder, expires_at=expires)
                ).rowcount
            return expires if taken == 1 else None
        if current is None:  # the first use of this name
            try:
                with self._engine.begin() as conn:
                    conn.execute(
                        insert(relay_lease).values(
                            name=self._name, holder=self.holder, expires_at=expires
                        )
                    )
            except IntegrityError:  # another process inserted it first: it holds the lease
                return None
            return expires
        return None

    def release(self) -> None:
        """Give the lease up (on an orderly stop), so another process need not wait it out."""
        row = relay_lease.c
        with self._engine.begin() as conn:
            conn.execute(
                update(relay_lease)
                .where(row.name == self._name, row.holder == self.holder)
                .values(expires_at=LAPSED)
            )

    def current(self) -> LeaseHolder | None:
        """Who holds the lease and until when (it may have lapsed); None if never taken."""
        row = relay_lease.c
        with self._engine.connect() as conn:
            found = conn.execute(
                select(row.holder, row.expires_at).where(row.name == self._name)
            ).first()
        if found is None:
            return None
        return LeaseHolder(found.holder, as_utc(found.expires_at))
