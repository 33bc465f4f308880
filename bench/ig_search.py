"""IG search benchmark: the disclosures search over N audit records (default 1,000,000), p95
against the 300 ms target of issue 14. Writes bench/results/ig_search.json.

1. build: N chained records (audit.chain.chain_next) shaped like the hub's disclosures, with
   fake tokens: 500 readers in 5 roles and 20 agencies, 50,000 subjects, three purposes, three
   bases, a year of times; 10 % refused and 1 % overridden (Sch 1 para 18). Written to a fresh
   SQLite database (the hub's schema and the audit tables) in bulk.
2. back-fill: SqlAuditIndex.catch_up over all of them, as a hub started on an old log does.
3. search: Q searches through SqlAuditIndex.search (the query the page runs, first page of
   50), drawn from a mix: by subject, by reader, by agency over a month, overrides by basis,
   by role and purpose, decision alone, and no filter; each timed alone; p50, p95, max.

`.venv/bin/python -m bench.ig_search --records 100000` is a quick check.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from audit.chain import GENESIS_HASH, canonical_json, chain_next
from audit.schema import audit_head, audit_records, create_audit_schema
from hub.adapters.sql.audit_index import IndexQuery, SqlAuditIndex
from hub.adapters.sql.db import create_schema, make_engine

RESULTS = Path(__file__).parent / "results"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
ROLES = ("marac_chair", "gp", "police", "idva", "children_social_care")
PURPOSES = ("marac_case_preparation", "safeguarding_review", "marac_meeting")
BASES = ("ukgdpr-6-1-e", "dpa2018-part3", "ukgdpr-9-2-g+dpa2018-sch1-para18")


def token(i: int) -> str:
    return f"st_{i:032d}"


def body(rng: random.Random, n: int, i: int) -> dict[str, Any]:
    reader = rng.randrange(500)
    role = ROLES[reader % len(ROLES)]
    roll = rng.random()
    overridden, refused = roll < 0.01, 0.01 <= roll < 0.11
    basis = BASES[2] if overridden else rng.choice(BASES[:2])
    override = {"reason": "consent_cannot_reasonably_be_obtained",
                "justification": "TEST: cannot be reached before the meeting",
                "decided_by": f"p_{reader:08x}"}  # fmt: skip
    decision = {"hub_id": str(uuid.UUID(int=i)), "outcome": "refuse" if refused else "share",
                "view": "summary", "fields": ["marker"], "basis": None if refused else basis,
                "override": override if overridden else None}  # fmt: skip
    return {
        "time": (T0 + timedelta(seconds=i * 365 * 86400 // n)).isoformat(),
        "action": "GET /v1/subjects/st_x/events", "principal_id": f"p_{reader:08x}",
        "principal_kind": "person", "role": role,
        "agency_id": None if role == "marac_chair" else f"TEST-AGENCY-{reader % 20:02d}",
        "purpose": rng.choice(PURPOSES), "subjects": [token(rng.randrange(50_000))],
        "fields": [] if refused else ["marker", "since"],
        "lawful_bases": [] if refused else [basis],
        "overrides": [override] if overridden else [], "decisions": [decision],
        "items": [decision["hub_id"]], "outcome": "refused" if refused else "disclosed",
    }  # fmt: skip


def build(url: str, n: int, seed: int) -> float:
    engine = make_engine(url)
    create_schema(engine)
    create_audit_schema(engine)
    rng = random.Random(seed)
    started = time.perf_counter()
    prev, batch = GENESIS_HASH, []
    with engine.begin() as conn:
        for i in range(1, n + 1):
            rid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            text = canonical_json({**body(rng, n, i), "record_id": rid})
            rec = chain_next(i - 1, prev, rid, text)
            prev = rec.hash
            batch.append(rec._asdict())
            if len(batch) == 50_000 or i == n:
                conn.execute(insert(audit_records), batch)
                batch = []
        conn.execute(insert(audit_head).values(id=1, seq=n, hash=prev, frontier=""))
    engine.dispose()
    return time.perf_counter() - started


def queries(rng: random.Random, count: int) -> list[tuple[str, IndexQuery]]:
    def month() -> tuple[datetime, datetime]:
        start = T0 + timedelta(days=rng.randrange(330))
        return start, start + timedelta(days=30)

    makers = [
        ("subject", lambda: IndexQuery(subject=token(rng.randrange(50_000)))),
        ("reader", lambda: IndexQuery(principal_id=f"p_{rng.randrange(500):08x}")),
        ("agency+month", lambda: IndexQuery(
            agency_id=f"TEST-AGENCY-{rng.randrange(20):02d}", since=month()[0],
            until=month()[0] + timedelta(days=30))),
        ("overrides by basis", lambda: IndexQuery(basis=BASES[2], decision="overridden")),
        ("role+purpose", lambda: IndexQuery(role=rng.choice(ROLES), purpose=rng.choice(PURPOSES))),
        ("refused", lambda: IndexQuery(decision="refused")),
        ("month", lambda: IndexQuery(since=month()[0], until=month()[1])),
        ("everything", lambda: IndexQuery()),
    ]  # fmt: skip
    return [(name, make()) for name, make in (rng.choice(makers) for _ in range(count))]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--records", type=int, default=1_000_000)
    p.add_argument("--searches", type=int, default=400)
    p.add_argument("--seed", type=int, default=14)
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="hub-bench-ig-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'hub.db'}"
        build_s = build(url, args.records, args.seed)
        index = SqlAuditIndex(make_engine(url))
        started = time.perf_counter()
        indexed = index.catch_up()
        backfill_s = time.perf_counter() - started
        assert indexed == args.records, (indexed, args.records)
        rng = random.Random(args.seed + 1)
        for _name, q in queries(rng, 20):  # warm the page cache as a running hub has it
            index.search(q)
        timings: dict[str, list[float]] = {}
        for name, q in queries(rng, args.searches):
            t = time.perf_counter()
            index.search(q)
            timings.setdefault(name, []).append((time.perf_counter() - t) * 1000)
    every = [ms for values in timings.values() for ms in values]
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {platform.python_version()}, SQLite",
        "records": args.records,
        "build_seconds": round(build_s, 1),
        "backfill_seconds": round(backfill_s, 1),
        "backfill_records_per_second": round(args.records / backfill_s),
        "searches": len(every),
        "p50_ms": round(statistics.median(every), 2),
        "p95_ms": round(percentile(every, 95), 2),
        "max_ms": round(max(every), 2),
        "target_p95_ms": 300,
        "by_kind_p95_ms": {k: round(percentile(v, 95), 2) for k, v in sorted(timings.items())},
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "ig_search.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
