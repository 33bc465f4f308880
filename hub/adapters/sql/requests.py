"""Access requests: asking the holding agency for more than "involvement only"."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert, or_, select, update

from hub.adapters.sql.db import as_utc
from hub.adapters.sql.schema import access_requests


@dataclass(frozen=True)
class AccessRequest:
    request_id: str
    requester_id: str
    requester_role: str
    requester_agency: str | None
    subject: str
    items: tuple[str, ...]
    holding_agency: str
    purpose: str
    reason: str
    status: str
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None

    def view(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["items"] = list(self.items)
        return out


def _row(r: Any) -> AccessRequest:
    return AccessRequest(
        r.request_id, r.requester_id, r.requester_role, r.requester_agency, r.subject,
        tuple(json.loads(r.item_ids)), r.holding_agency, r.purpose, r.reason, r.status,
        as_utc(r.created_at), r.decided_by, r.decided_at and as_utc(r.decided_at),
        r.decision_reason,
    )  # fmt: skip


class SqlAccessRequests:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def open(self, **fields: Any) -> AccessRequest:
        row = {
            **{k: v for k, v in fields.items() if k != "items"},
            "item_ids": json.dumps(sorted(fields["items"])),
            "request_id": str(uuid.uuid4()),
            "status": "open",
            "created_at": datetime.now(UTC),
        }
        with self._engine.begin() as conn:
            conn.execute(insert(access_requests).values(**row))
        found = self.get(row["request_id"])
        assert found is not None
        return found

    def get(self, request_id: str) -> AccessRequest | None:
        with self._engine.connect() as conn:
            r = conn.execute(
                select(access_requests).where(access_requests.c.request_id == request_id)
            ).first()
        return None if r is None else _row(r)

    def decide(self, request_id: str, grant: bool, by: str, reason: str) -> bool:
        """Record the answer to an open request; False if it was not open any more."""
        with self._engine.begin() as conn:
            done = conn.execute(
                update(access_requests)
                .where(
                    access_requests.c.request_id == request_id,
                    access_requests.c.status == "open",
                )
                .values(
                    status="granted" if grant else "refused",
                    decided_by=by,
                    decided_at=datetime.now(UTC),
                    decision_reason=reason,
                )
            ).rowcount
        return bool(done)

    def visible_to(
        self, principal_id: str, agency: str | None, all_open: bool
    ) -> list[AccessRequest]:
        """Requests a person made, those addressed to their agency, and (for Marac chairs and
        coordinators) every open one."""
        c = access_requests.c
        conditions = [c.requester_id == principal_id]
        if agency:
            conditions.append(c.holding_agency == agency)
        if all_open:
            conditions.append(c.status == "open")
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(access_requests).where(or_(*conditions)).order_by(c.created_at)
            ).all()
        return [_row(r) for r in rows]

    def every(self, limit: int = 500) -> list[AccessRequest]:
        """Every request, open ones first (oldest first), then the latest answered: the IG
        officer's queue."""
        c = access_requests.c
        open_first = (c.status != "open", c.created_at)
        with self._engine.connect() as conn:
            rows = conn.execute(select(access_requests).order_by(*open_first).limit(limit)).all()
        answered = sorted((_row(r) for r in rows if r.status != "open"),
                          key=lambda r: r.decided_at or r.created_at, reverse=True)  # fmt: skip
        return [_row(r) for r in rows if r.status == "open"] + answered

    def granted_items(self, principal_id: str) -> dict[str, str]:
        """hub id → request id, for every item granted to this person."""
        c = access_requests.c
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(c.request_id, c.item_ids).where(
                    c.requester_id == principal_id, c.status == "granted"
                )
            ).all()
        return {hub_id: rid for rid, items in rows for hub_id in json.loads(items)}
