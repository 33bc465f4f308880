"""Writing the alerts read model: the rows a family's rules find, and nothing else.

The projector calls ``upsert_alerts`` with every alert a family meets now (a new alert is
inserted, a changed one updated with a new revision) and then ``withdraw_alerts`` for the
families it settled: a stored alert of theirs that the rules no longer find is deleted. The
rules judge the whole projection, and the projection the live path holds at a given moment
can lack events the store already has or will have (a clock tick overtaking a contact
attempt on another partition, a Marac hearing recorded after the abuse that followed it, a
merge that re-keys a person's alerts). Without the withdrawal those moments left alerts
behind that no rebuild makes again; with it the alerts of a family are always exactly
``evaluate(projection, clock)``, as ``hub replay`` writes them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, or_, select, update

from hub.adapters.sql.db import as_utc
from hub.adapters.sql.schema import alerts, counters, family_redirects
from hub.domain.alerts import AlertStatus
from hub.domain.family import FamilyProjection, alert_status
from hub.domain.rules import Alert

CHUNK = 500

ALERT_CONTENT = (
    "rule", "family_id", "area", "victim_token", "person_ids", "subject_tokens",
    "triggering_event_ids", "event_time", "reason", "recommended_action", "lawful_basis", "due",
    "status", "status_detail",
)  # fmt: skip


def alert_content(a: Alert, status: Any) -> dict[str, Any]:
    state = status.get(a.alert_id) if status else None
    detail = None if state is None else state.to_dict()
    return {
        "rule": a.rule,
        "family_id": a.family_id,
        "area": a.area,
        "victim_token": a.victim_token,
        "person_ids": json.dumps(list(a.person_ids)),
        "subject_tokens": json.dumps(list(a.subject_tokens)),
        "triggering_event_ids": json.dumps(list(a.triggering_event_ids)),
        "event_time": datetime.fromisoformat(a.event_time),
        "reason": a.reason,
        "recommended_action": a.recommended_action,
        "lawful_basis": a.lawful_basis,
        "due": None if a.due is None else datetime.fromisoformat(a.due),
        "status": AlertStatus.NEW if state is None else state.effective(a.triggering_event_ids),
        "status_detail": None if detail is None else json.dumps(detail, sort_keys=True),
    }


def comparable(row: dict[str, Any]) -> dict[str, Any]:
    """An alert row's content (ALERT_CONTENT), its moments in UTC: equal when unchanged."""
    return {
        k: (as_utc(v) if isinstance(v, datetime) else v)
        for k, v in row.items()
        if k in ALERT_CONTENT
    }


def upsert_alerts(
    conn: Connection, found: list[Alert], p: FamilyProjection
) -> list[dict[str, Any]]:
    """Insert new alerts, update changed ones (each with a new revision); return what changed."""
    return upsert_alerts_many(conn, [(found, p)])


def upsert_alerts_many(
    conn: Connection, families: Sequence[tuple[list[Alert], FamilyProjection]]
) -> list[dict[str, Any]]:
    """upsert_alerts for several families in a few statements (one read of the stored
    alerts, one revision reservation, one INSERT and one UPDATE executemany); revisions are
    taken in the order given, as family-by-family calls would take them."""
    latest: dict[str, dict[str, Any]] = {}
    for found, p in families:
        if found:
            status = alert_status(p)
            for a in found:
                latest.pop(a.alert_id, None)  # a later family's word on it stands, in order
                latest[a.alert_id] = alert_content(a, status)
    if not latest:
        return []
    ids = list(latest)
    existing: dict[str, dict[str, Any]] = {}
    for i in range(0, len(ids), CHUNK):
        for r in conn.execute(select(alerts).where(alerts.c.alert_id.in_(ids[i : i + CHUNK]))):
            existing[r.alert_id] = comparable(dict(r._mapping))
    changes = [(a, c) for a, c in latest.items() if existing.get(a) != comparable(c)]
    if not changes:
        return []
    first = take_revisions(conn, len(changes))
    now = datetime.now(UTC)
    out, inserts, updates = [], [], []
    for revision, (aid, content) in enumerate(changes, first):
        row = {**content, "alert_id": aid, "updated_at": now, "revision": revision}
        if aid in existing:
            updates.append({f"v_{k}": v for k, v in row.items()})
        else:
            inserts.append({**row, "raised_at": now})
        out.append({**row, "change": "updated" if aid in existing else "raised"})
    if inserts:
        conn.execute(insert(alerts), inserts)
    if updates:
        columns = [k[2:] for k in updates[0]]
        conn.execute(
            update(alerts)
            .where(alerts.c.alert_id == bindparam("v_alert_id"))
            .values({c: bindparam(f"v_{c}") for c in columns if c != "alert_id"}),
            updates,
        )
    return out


def withdraw_alerts(
    conn: Connection, families: Collection[str], found: Collection[str]
) -> list[dict[str, Any]]:
    """Delete the stored alerts of these families, or of families they absorbed, that are not
    among the alert ids ``found`` for them now; return the deleted rows (change "withdrawn").

    Call it after every family of a batch is settled: an alert that moved to another family
    settled in the same batch (a split) has its new family id by then and is left alone."""
    if not families:
        return []
    stale: list[dict[str, Any]] = []
    ordered = sorted(families)
    for i in range(0, len(ordered), CHUNK):
        part = ordered[i : i + CHUNK]
        absorbed = select(family_redirects.c.old_id).where(family_redirects.c.new_id.in_(part))
        theirs = or_(alerts.c.family_id.in_(part), alerts.c.family_id.in_(absorbed))
        rows = conn.execute(select(alerts).where(theirs))
        stale += [dict(r._mapping) for r in rows if r.alert_id not in found]
    ids = sorted(r["alert_id"] for r in stale)
    for i in range(0, len(ids), CHUNK):
        conn.execute(delete(alerts).where(alerts.c.alert_id.in_(ids[i : i + CHUNK])))
    return [{**r, "change": "withdrawn"} for r in sorted(stale, key=lambda r: r["alert_id"])]


def take_revisions(conn: Connection, n: int) -> int:
    """Reserve n alert revisions; return the first. The row lock orders concurrent writers."""
    top = conn.execute(
        update(counters)
        .where(counters.c.name == "alert_revision")
        .values(value=counters.c.value + n)
        .returning(counters.c.value)
    ).scalar_one_or_none()
    if top is None:
        conn.execute(insert(counters).values(name="alert_revision", value=n))
        top = n
    return int(top) - n + 1


# What a rebuild keeps of an alert it finds again: (content digest, revision, raised_at,
# updated_at). Only a digest of the content is held, so keeping costs little per alert.
Kept = dict[str, tuple[str, int, datetime, datetime]]


def _digest(row: dict[str, Any]) -> str:
    body = json.dumps(comparable(row), sort_keys=True, default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def alerts_kept(conn: Connection) -> Kept:
    """The stored alerts, by id, as ``keep_revisions`` needs them after a rebuild."""
    rows = conn.execute(select(alerts).execution_options(yield_per=10_000))
    return {
        r.alert_id: (_digest(dict(r._mapping)), r.revision, r.raised_at, r.updated_at) for r in rows
    }


def keep_revisions(conn: Connection, kept: Kept) -> int:
    """Give each rebuilt alert back its revision and moments when its content is unchanged
    (and its first raising when it changed), so a rebuild renumbers nothing that did not
    change: readers that follow revisions (the inbox stream, the agencies' feeds and their
    Kafka egress) are not told again of what they were told. Returns how many kept theirs."""
    same, raised = [], []
    for r in conn.execute(select(alerts).execution_options(yield_per=10_000)):
        old = kept.get(r.alert_id)
        if old is None:
            continue
        digest, revision, raised_at, updated_at = old
        if digest == _digest(dict(r._mapping)):
            same.append({"k_id": r.alert_id, "k_rev": revision, "k_raised": raised_at,
                         "k_updated": updated_at})  # fmt: skip
        else:
            raised.append({"k_id": r.alert_id, "k_raised": raised_at})
    where = alerts.c.alert_id == bindparam("k_id")
    for i in range(0, len(same), CHUNK):
        conn.execute(
            update(alerts).where(where).values(
                revision=bindparam("k_rev"), raised_at=bindparam("k_raised"),
                updated_at=bindparam("k_updated"),
            ),
            same[i : i + CHUNK],
        )  # fmt: skip
    for i in range(0, len(raised), CHUNK):
        conn.execute(
            update(alerts).where(where).values(raised_at=bindparam("k_raised")),
            raised[i : i + CHUNK],
        )
    return len(same)
