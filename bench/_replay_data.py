"""Canonical events for the replay benchmark, written straight into SQLite event stores.

Going through HTTP ingress would take hours for a million events, so the stories of
producers/simulator.py (same families, proportions and event shapes) are turned into
CanonicalEvent objects here the way ingress would: fake subject tokens (``st_`` + 32 base32
characters, like the keyed HMAC ones), every strong identifier's token in ``ids``, a weak token,
the contract's defaults filled in, the Dash score counted, sensitive fields and each subject's
name and date of birth sealed as ``{"$enc": ...}`` dicts of the right size (random bytes:
nothing decrypts them). Every subject carries a weak token, as if agencies sent name, date of
birth and postcode (the simulator sends names only); a few A&E attendances name the victim by
the hospital's own reference only, so the linker finds possible matches too. One clock tick
(hub.clock.ticked) per day is stored, as the hub stores them.

Families start at FAMILIES_PER_DAY, so the mix per family is the same at every size; the events
of all families are stored in the order they would arrive (recorded_at). ``build_staging`` writes
every event once, with its family number, to a staging file; ``make_store`` copies the events of
the first K families (and the ticks up to their last event) into a fresh event store, so the
stores used for the memory figures are nested and have the same families-to-events ratio.
"""

from __future__ import annotations

import base64
import hashlib
import random
import sqlite3
from bisect import bisect_left
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.dialects import sqlite as sqlite_dialect

from hub.adapters.sql.db import create_schema, make_engine
from hub.adapters.sql.events import _event_row
from hub.contract import SENSITIVE
from hub.contract.envelope import CLASS_BY_TYPE
from hub.contract.versions import CURRENT_VERSION
from hub.domain.events import CanonicalEvent, SubjectRef, hub_event_id
from hub.domain.internal import clock_tick
from producers.simulator import AE, DEMO_AGENCIES, family_story, make_families

START = datetime(2024, 1, 1, tzinfo=UTC)
FAMILIES_PER_DAY = 150
AGENCY_REF_ONLY = 0.05  # share of A&E attendances naming the victim by a hospital reference only
TEXT = {  # free text an agency adds (sealed), by event type: (share of events, characters)
    "police.incident": ("circumstances", 0.7, 300),
    "health.attendance": ("clinical_notes", 0.5, 200),
    "needs.identified": ("details", 0.5, 150),
}
COLUMNS = (
    "hub_id", "agency_id", "source_id", "type", "event_time", "recorded_at", "partition_key",
    "content_hash", "body",
)  # fmt: skip
_SQLITE = sqlite_dialect.dialect()
_to_sql_time = DateTime(timezone=True).dialect_impl(_SQLITE).bind_processor(_SQLITE)


def token(kind: str, *values: str) -> str:
    digest = hashlib.sha256("\0".join((kind, *values)).encode()).digest()
    return "st_" + base64.b32encode(digest[:20]).decode().lower()


def _defaults_and_sealed() -> tuple[dict[str, dict[str, Any]], dict[str, tuple[str, ...]]]:
    defaults, sealed = {}, {}
    for event_type, cls in CLASS_BY_TYPE.items():
        model = cls.model_fields["data"].annotation
        fields = model.model_fields  # type: ignore[union-attr]
        defaults[event_type] = {
            name: f.default
            for name, f in fields.items()
            if name != "subjects" and not f.is_required()
        }
        sealed[event_type] = tuple(n for n, f in fields.items() if f.json_schema_extra == SENSITIVE)
    return defaults, sealed


DEFAULTS, SEALED = _defaults_and_sealed()


class Converter:
    """Simulator envelopes → canonical events, as ingress would store them."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.people: dict[str, tuple[str, tuple[str, ...], str]] = {}
        self.n = 0

    def subject(self, s: dict[str, Any], ref_only: bool) -> SubjectRef:
        ids = s["identifiers"]
        nhs = ids["nhs_number"]
        if nhs not in self.people:
            strong = [token("nhs", nhs)]
            if "pnc_id" in ids:
                strong.append(token("pnc", ids["pnc_id"]))
            self.people[nhs] = (strong[0], tuple(strong), token("weak", s["name"], nhs))
        tok, strong_ids, weak = self.people[nhs]
        if ref_only:
            tok, strong_ids = token("agency", AE, "MRN" + nhs), ()
        # ingress seals the name and date of birth sent under the subject's own key
        sealed = self.seal(tok, 48)
        return SubjectRef(tok, s["role"], strong_ids if len(strong_ids) > 1 else (), weak, sealed)

    def seal(self, owner: str, size: int) -> dict[str, str]:
        iv = base64.b64encode(self.rng.randbytes(12)).decode()
        ct = base64.b64encode(self.rng.randbytes(size + 16)).decode()
        return {"$enc": "A256GCM", "kid": owner, "iv": iv, "ct": ct}

    def event(self, agency: str, env: dict[str, Any], recorded_at: datetime) -> CanonicalEvent:
        self.n += 1
        kind, raw = env["type"], env["data"]
        ref_only = kind == "health.attendance" and self.rng.random() < AGENCY_REF_ONLY
        subjects = tuple(self.subject(s, ref_only) for s in raw["subjects"])
        data = {**DEFAULTS[kind], **{k: v for k, v in raw.items() if k != "subjects"}}
        if kind == "risk.dash":
            data["score"] = data["answers"].count("yes")
        if kind in TEXT:
            name, share, chars = TEXT[kind]
            if self.rng.random() < share:
                data[name] = "x" * chars
        owner = next((s.token for s in subjects if s.role == "victim"), subjects[0].token)
        for name in SEALED[kind]:
            if data.get(name) is not None:
                data[name] = self.seal(owner, len(repr(data[name])))
        source_id = f"bench-{self.n:09d}"
        return CanonicalEvent(
            hub_id=hub_event_id(agency, source_id),
            source_id=source_id,
            agency_id=agency,
            agency_type=DEMO_AGENCIES[agency],
            type=kind,
            time=datetime.fromisoformat(env["time"]),
            recorded_at=recorded_at,
            lawful_basis=env["lawfulbasis"],
            consent_ref=None,
            subjects=subjects,
            data=data,
            schema_version=CURRENT_VERSION[kind],
        )


def row(event: CanonicalEvent, family: int) -> tuple[Any, ...]:
    r = _event_row(event, "")
    r["content_hash"] = hashlib.sha256(r["body"].encode()).hexdigest()
    r["event_time"] = _to_sql_time(r["event_time"])
    r["recorded_at"] = _to_sql_time(r["recorded_at"])
    return (family, *(r[c] for c in COLUMNS))


def build_staging(path: Path, events: int, seed: int = 7) -> list[int]:
    """Write at least ``events`` agency events (whole family stories) and the daily clock ticks
    to a staging file; return the running event count after each family."""
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    db.execute(f"CREATE TABLE staging (family INTEGER, {', '.join(COLUMNS)})")
    insert = f"INSERT INTO staging VALUES ({', '.join('?' * (len(COLUMNS) + 1))})"
    rng, convert = random.Random(seed), Converter(seed)
    running: list[int] = []
    chunk = 5000  # families are made in chunks; serial perpetrators link within a chunk
    total, last, family = 0, START, 0
    while total < events:
        batch = []
        for f in make_families(chunk, seed=seed + family, first=6 * family):  # ≤ 6 people each
            start = START + timedelta(days=family / FAMILIES_PER_DAY)
            recorded = start
            for agency, env in family_story(rng, f, start):
                sent = datetime.fromisoformat(env["time"])
                recorded = max(sent, recorded) + timedelta(minutes=rng.randint(5, 36 * 60))
                batch.append(row(convert.event(agency, env, recorded), family))
                total += 1
            last = max(last, recorded)
            running.append(total)
            family += 1
            if total >= events:
                break
        db.executemany(insert, batch)
    day = START
    ticks = []
    while day <= last + timedelta(days=1):
        ticks.append(row(clock_tick(day), -1))
        day += timedelta(days=1)
    db.executemany(insert, ticks)
    db.execute("CREATE INDEX staging_family ON staging (family)")
    db.commit()
    db.close()
    return running


def families_for(running: list[int], events: int) -> int:
    """The number of first families whose stories hold at least ``events`` events."""
    return min(bisect_left(running, events) + 1, len(running))


def make_store(staging: Path, url: str, families: int) -> int:
    """A fresh event store (SQLite file at url) holding the first ``families`` families' events
    and the ticks up to the last of them, in arrival order; returns the number of events."""
    path = url.split("///", 1)[1]
    for suffix in ("", "-wal", "-shm"):
        Path(path + suffix).unlink(missing_ok=True)
    engine = make_engine(url)
    create_schema(engine)
    engine.dispose()
    db = sqlite3.connect(path)
    db.execute("ATTACH DATABASE ? AS st", (str(staging),))
    cols = ", ".join(COLUMNS)
    db.execute(
        f"INSERT INTO events ({cols}) SELECT {cols} FROM st.staging WHERE family BETWEEN 0 AND ? "
        "OR (family = -1 AND recorded_at <= (SELECT max(recorded_at) FROM st.staging "
        "WHERE family BETWEEN 0 AND ?)) ORDER BY recorded_at, hub_id",
        (families - 1, families - 1),
    )
    db.commit()
    n = int(db.execute("SELECT count(*) FROM events").fetchone()[0])
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return n
