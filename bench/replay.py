"""Replay benchmark: `hub replay` over 1,000,000 stored events beside the raw consume rate of
the same events on the embedded broker, measured in one run, and the memory replay uses.

Writes bench/results/replay.json. Steps, on this machine:
1. data: N canonical events (bench/_replay_data.py: the simulator's families, ingress's shapes,
   fake tokens, one clock tick a day) in arrival order, in SQLite event stores of about N/4,
   N/2 and N events (the first K families each, so events per family stay the same).
2. replay from the store: hub.pipeline.replay.rebuild (what `hub replay` runs: linker over every
   event, then every family folded and its rules run) in a child process per store, which
   reports its rate, peak RSS (VmHWM) and the size of the derived tables. Memory per million
   families comes from a least-squares line through (families, peak RSS) and the residuals
   tell whether growth is linear. That is with the first of --jobs fold processes (default 1,
   then the CPU count); the largest store is replayed again, from a copy made before, with
   each other --jobs value, and its digest compared (replay_from_store.by_jobs, with the load
   average before and after each, since the machine may be shared).
3. raw: the N events' stored JSON produced to one topic (keyed by family id, as the relay
   does), then consumed with aiokafka and nothing decoded, in several rounds; the best round
   is the baseline (the ratio is the least favourable to replay).
4. replay from the topic: a child consumes the topic as the worker does (same consumer
   options as raw), decodes, and folds each batch with the worker's projector into the
   largest store's projections (linker tables kept, projections and alerts emptied); its
   state digest is compared with the store replay's.
Quick checks (results go to TMPDIR, not bench/results): `python -m bench.replay --events 10000
--no-topic`; `--events 20000` runs every step. Scratch space for the full run: about 8 GB.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench._replay_data import build_staging, families_for, make_store

RESULTS = Path(__file__).parent / "results"
FULL = 1_000_000  # issue 4: at least a million events
TARGET_RATIO = 0.5  # replay at half the raw consume rate or better (issue 4)
LINEAR_WITHIN = 0.10  # every size's peak RSS within 10 % of the fitted line
BATCH = 5000
CONSUMER = {"fetch_max_wait_ms": 50, "max_partition_fetch_bytes": 4 << 20}
# what the worker's projector writes (the linker's tables stay, as after a broker refill)
PROJECTION_TABLES = {"family_projections", "victim_projections", "alerts", "clock"}


def vm(field: str) -> int:
    """A /proc/self/status figure in bytes (VmRSS now, VmHWM the peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def _settings(url: str) -> Any:
    from hub.settings import load_settings

    return load_settings({"HUB_DATABASE_URL": url, "HUB_DATA_DIR": str(Path(url[10:]).parent)})


def _rules_arg(func: Any, settings: Any) -> Any:
    """What the replay code takes as its second argument today (area book, or older forms)."""
    wanted = " ".join(str(p.annotation) for p in inspect.signature(func).parameters.values())
    if "AreaBook" in wanted:
        from hub.adapters.rules_file import load_area_book

        return load_area_book(settings)
    if "RuleSettings" in wanted:
        from hub.domain.rules import RuleSettings

        return RuleSettings(dash_high_risk=settings.dash_high_risk)
    return settings


def derived_sizes(path: str) -> dict[str, Any]:
    """Rows and bytes on disk (tables with their indexes) of what replay makes, by table."""
    db = sqlite3.connect(path)
    out: dict[str, Any] = {}
    names = db.execute(
        "SELECT tbl_name, name FROM sqlite_schema WHERE tbl_name NOT IN ('events', 'outbox') "
        "AND type IN ('table', 'index') AND name NOT LIKE 'sqlite_%schema'"
    ).fetchall()
    for table, name in names:
        size = db.execute("SELECT sum(pgsize) FROM dbstat WHERE name = ?", (name,)).fetchone()[0]
        entry = out.setdefault(table, {"rows": 0, "bytes": 0})
        entry["bytes"] += int(size or 0)
        if name == table:
            entry["rows"] = int(db.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])
    db.close()
    return {t: v for t, v in out.items() if v["rows"]}


def loadavg() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def child_store(url: str, jobs: int = 1) -> dict[str, Any]:
    import resource

    from hub.adapters.sql.db import make_engine
    from hub.pipeline.replay import rebuild, state_digest

    engine = make_engine(url)
    arg = _rules_arg(rebuild, _settings(url))
    # older replay code takes no jobs (the bench also runs on earlier commits)
    kw = {"jobs": jobs} if "jobs" in inspect.signature(rebuild).parameters else {}
    baseline, load_before, cpu = vm("VmRSS"), loadavg(), time.process_time()
    result = rebuild(engine, arg, **kw)
    peak, load_after, cpu = vm("VmHWM"), loadavg(), time.process_time() - cpu
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "jobs": kw.get("jobs", 1),
        "loadavg_before": load_before,
        "loadavg_after": load_after,
        # the fold processes: CPU seconds, and the largest one's peak RSS (ru_maxrss is in KiB)
        "cpu_s": round(cpu, 1),  # this process's, comparable on a busy machine
        "fold_processes_cpu_s": round(children.ru_utime + children.ru_stime, 1),
        "fold_process_peak_rss_bytes": children.ru_maxrss * 1024,
        "events": result.events,
        "seconds": round(result.seconds, 2),
        "events_per_s": round(result.events / result.seconds, 1),
        "families": getattr(result, "families", getattr(result, "projections", 0)),
        "alerts": result.alerts,
        "rss_before_bytes": baseline,
        "peak_rss_bytes": peak,
        "derived_tables": derived_sizes(url[10:]),
        "digest": state_digest(engine),
    }


async def consume(bootstrap: str, topic: str, expect: int, apply: Any = None) -> float:
    """Seconds to read ``expect`` records from the start of the topic; with ``apply``, each
    batch is decoded and handed to it (in a thread, as the worker does), else nothing is."""
    from aiokafka import AIOKafkaConsumer

    from hub.domain.events import CanonicalEvent

    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest", **CONSUMER
    )
    await consumer.start()
    t0, got = time.perf_counter(), 0
    try:
        while got < expect:
            batch = await consumer.getmany(timeout_ms=1000, max_records=BATCH)
            got += sum(len(rs) for rs in batch.values())
            if apply is not None and batch:
                evs = [CanonicalEvent.from_json(r.value) for rs in batch.values() for r in rs]
                await asyncio.to_thread(apply, evs)
        return time.perf_counter() - t0
    finally:
        await consumer.stop()


def child_topic(url: str, bootstrap: str, topic: str, expect: int) -> dict[str, Any]:
    from sqlalchemy import inspect, text

    from hub.adapters.sql.db import make_engine
    from hub.pipeline import projector as readmodels
    from hub.pipeline.replay import state_digest

    engine = make_engine(url)
    cls = getattr(readmodels, "FamilyProjector", None) or readmodels.Projector
    projector = cls(engine, _rules_arg(cls.__init__, _settings(url)))
    with engine.begin() as conn:
        for table in PROJECTION_TABLES & set(inspect(conn).get_table_names()):
            conn.execute(text(f'DELETE FROM "{table}"'))
        consumer = getattr(readmodels, "CONSUMER", "")  # the projector's tracking rows only
        conn.execute(text("DELETE FROM processed_events WHERE consumer = :c"), {"c": consumer})
    baseline = vm("VmRSS")
    seconds = asyncio.run(consume(bootstrap, topic, expect, projector.apply_batch))
    return {
        "events": expect,
        "seconds": round(seconds, 2),
        "events_per_s": round(expect / seconds, 1),
        "projector": cls.__name__,
        "batch": BATCH,
        "rss_before_bytes": baseline,
        "peak_rss_bytes": vm("VmHWM"),
        "digest": state_digest(engine),
    }


def run_child(*args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.replay", "--child", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"replay child {args[0]} failed:\n{out.stderr[-4000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


async def produce(bootstrap: str, topic: str, path: str) -> tuple[float, int]:
    from aiokafka import AIOKafkaProducer

    from hub.contract.kafka_clients import producer_tuning

    db = sqlite3.connect(path)
    try:
        family = dict(db.execute("SELECT token, family_id FROM subject_tokens"))
    except sqlite3.OperationalError:  # a store without the linker's tables: key by victim
        family = {}
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=5, max_batch_size=256 << 10, **producer_tuning(True)
    )
    await producer.start()
    t0, after, size = time.perf_counter(), 0, 0
    while rows := db.execute(
        "SELECT seq, partition_key, body FROM events WHERE seq > ? ORDER BY seq LIMIT 20000",
        (after,),
    ).fetchall():
        after = rows[-1][0]
        futures = [
            await producer.send(topic, body.encode(), key=family.get(key, key).encode())
            for _, key, body in rows
        ]
        await asyncio.gather(*futures)
        size += sum(len(body) for _, _, body in rows)
    seconds = time.perf_counter() - t0
    await producer.stop()
    db.close()
    return seconds, size


def memory_fit(points: list[dict[str, Any]]) -> dict[str, Any]:
    """Least-squares peak RSS = a + b * families; linear when every point lies near the line."""
    xs = [p["families"] for p in points]
    ys = [p["peak_rss_bytes"] for p in points]
    n, mx, my = len(xs), sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx if sxx else 0.0
    a = my - b * mx
    worst = max(abs(y - (a + b * x)) / y for x, y in zip(xs, ys, strict=True))
    return {
        "what": "peak RSS of the replay process = fixed + per_family * families (least squares)",
        "points": n,
        "fixed_mb": round(a / 2**20, 1),
        "mb_per_million_families": round(b * 1e6 / 2**20, 1),
        "bytes_per_family": round(b),
        "largest_residual_fraction": round(worst, 4),
        "linear_within": LINEAR_WITHIN,
        "linear": worst <= LINEAR_WITHIN,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    from hub.adapters.kafka.embedded import EmbeddedBroker
    from hub.adapters.kafka.topics import ensure_topics
    from hub.settings import Settings

    work = Path(tempfile.mkdtemp(prefix="hub-bench-replay-", dir=args.dir))
    out: dict[str, Any] = {
        "measured_at": datetime.now(UTC).isoformat(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }
    try:
        t0 = time.perf_counter()
        running = build_staging(work / "staging.db", args.events)
        stores = []
        for size in sorted({round(args.events * f) for f in args.fractions} | {args.events}):
            url = f"sqlite:///{work / f'store-{size}.db'}"
            stores.append((url, make_store(work / "staging.db", url, families_for(running, size))))
        (work / "staging.db").unlink()
        out["generate_seconds"] = round(time.perf_counter() - t0, 1)
        by_size = []
        first, *others = args.jobs
        for url, n in stores:
            if (url, n) == stores[-1] and others:  # replayed again from the same start
                copy_db(url[10:], work / "pristine.db")
            log(f"{n} events stored; replaying them from the store, {first} fold process(es)")
            by_size.append(run_child("store", url, str(first)))
            if (url, n) != stores[-1]:
                Path(url[10:]).unlink()
        full = by_size[-1]
        by_jobs = [_jobs_figures(full, full["digest"])]
        for jobs in others:
            copy_db(work / "pristine.db", url[10:])
            log(f"{n} events again, {jobs} fold process(es)")
            by_jobs.append(_jobs_figures(run_child("store", url, str(jobs)), full["digest"]))
        out |= {"events": n, "families": full["families"], "alerts": full["alerts"]}

        broker = EmbeddedBroker.start(work / "broker")
        try:
            settings = Settings(kafka_bootstrap=broker.bootstrap, topic_prefix="bench.")
            ensure_topics(settings)
            topic = settings.topic("hub.events.v1")
            produce_s, size = asyncio.run(produce(broker.bootstrap, topic, url[10:]))
            raw = [asyncio.run(consume(broker.bootstrap, topic, n)) for _ in range(args.rounds)]
            raw_rate = n / min(raw)
            log(f"raw consume {[round(n / s) for s in raw]} msgs/s")
            out["raw_broker_aiokafka"] = {
                "topic_partitions": settings.topic_partitions,
                "bytes_per_message": round(size / n),
                "produce_msgs_per_s": round(n / produce_s, 1),
                "consume_msgs_per_s": round(raw_rate, 1),
                "consume_rounds_msgs_per_s": [round(n / s, 1) for s in raw],
            }
            ratio = full["events_per_s"] / raw_rate
            out["replay_from_store"] = {
                "what": "hub.pipeline.replay.rebuild as `hub replay` runs it, largest store",
                "events_per_s": full["events_per_s"],
                "seconds": full["seconds"],
                "ratio_to_raw_consume": round(ratio, 3),
                "target_ratio": TARGET_RATIO,
                "target_met": ratio >= TARGET_RATIO,
                "jobs": first,
                "by_jobs": [
                    {**j, "ratio_to_raw_consume": round(j["events_per_s"] / raw_rate, 3)}
                    for j in by_jobs
                ],
            }
            if args.topic:
                log("replaying the topic through the worker's projector")
                topic_run = run_child("topic", url, broker.bootstrap, topic, str(n))
                ratio = topic_run["events_per_s"] / raw_rate
                out["replay_from_topic"] = {
                    "what": "consume the topic, decode, fold batches with the worker's projector",
                    **{k: v for k, v in topic_run.items() if k != "digest"},
                    "ratio_to_raw_consume": round(ratio, 3),
                    "target_met": ratio >= TARGET_RATIO,
                    "same_state_as_store_replay": topic_run["digest"] == full["digest"],
                }
        finally:
            broker.stop()
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    out["memory"] = memory(by_size)
    return out


def copy_db(source: str | Path, target: str | Path) -> None:
    """A consistent copy of an SQLite file in WAL mode (its -wal included), over target."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def _jobs_figures(run: dict[str, Any], digest: str) -> dict[str, Any]:
    """One replay of the largest store: its fold processes, rate, load and digest check."""
    keys = ("jobs", "events_per_s", "seconds", "cpu_s", "peak_rss_bytes", "fold_processes_cpu_s",
            "fold_process_peak_rss_bytes", "loadavg_before", "loadavg_after")  # fmt: skip
    return {k: run[k] for k in keys if k in run} | {"same_state": run["digest"] == digest}


def memory(by_size: list[dict[str, Any]]) -> dict[str, Any]:
    fit = memory_fit(by_size)
    for p in by_size:  # growth: peak RSS minus RSS just before the replay started
        p.pop("digest")
        growth = p["peak_rss_bytes"] - p["rss_before_bytes"]
        derived = sum(t["bytes"] for t in p["derived_tables"].values())
        p |= {
            "peak_rss_mb": round(p["peak_rss_bytes"] / 2**20, 1),
            "growth_mb": round(growth / 2**20, 1),
            "growth_mb_per_million_families": round(growth / p["families"] * 1e6 / 2**20),
            "derived_mb_on_disk": round(derived / 2**20, 1),
            "derived_mb_on_disk_per_million_families": round(derived / p["families"] * 1e6 / 2**20),
        }
    small = min(p["events"] for p in by_size) < 50_000
    return {
        "note": "stores under 50,000 events measure batch buffers more than families: "
        "read the slope of a full run only"
        if small
        else "",
        "mb_per_million_families": fit["mb_per_million_families"],
        "fixed_mb": fit["fixed_mb"],
        "target": "stated, and growing linearly with families",
        "target_met": fit["linear"],
        "fit": fit,
        "by_size": by_size,
    }


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def log(message: str) -> None:
    print(f"[bench.replay {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=FULL)
    p.add_argument("--fractions", type=float, nargs="+", default=[0.25, 0.5])
    p.add_argument("--rounds", type=int, default=3, help="raw consume rounds (best counts)")
    p.add_argument("--dir", default=None, help="where the scratch stores go (default: TMPDIR)")
    p.add_argument("--keep", action="store_true", help="keep the scratch folder")
    p.add_argument(
        "--no-topic", dest="topic", action="store_false", help="skip the replay from the topic"
    )
    p.add_argument(
        "--out",
        help="default: bench/results/replay.json for 1,000,000 events or more, else a file in "
        "TMPDIR (a quick check never overwrites the recorded figures)",
    )
    p.add_argument(
        "--jobs",
        type=int,
        nargs="+",
        default=None,
        help="fold processes of `hub replay --jobs`: the first for every store, each other "
        "for the largest store again (default: 1, then the CPUs this process may use)",
    )
    p.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "store":
            result = child_store(rest[0], *map(int, rest[1:]))
        else:
            result = child_topic(*rest[:3], int(rest[3]))
        print(json.dumps(result))
        return
    if args.jobs is None:
        args.jobs = list(dict.fromkeys([1, _cpus()]))
    result = run(args)
    quick = Path(tempfile.gettempdir()) / "hub-bench-replay-quick.json"
    out = Path(args.out) if args.out else RESULTS / "replay.json" if args.events >= FULL else quick
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
