"""Page benchmark: server-side render time of the chair's two heaviest pages, beside the
framework's own floor measured in the same run. Writes bench/results/pages.json.

1. family: one victim's case with 50 people (three perpetrators, ten children, household
   members) and 2,000 events over ten years, sent through POST /v1/events:batch as agencies
   send them, linked and projected in-process (what the relay and worker do); then
   GET /families/{id} as a logged-in chair, R times: p50 and p95 (issue 13's target: p95 ≤ 200 ms),
   and the first view (with nothing of the family yet in the process's memory) apart.
2. inbox: 10,000 open alerts in the chair's area (rows written straight into the alerts read
   model, each triggered by one of the family's real stored events, so the sharing policy
   screens real events); GET /alerts (first page and a deep page), R times each.
3. floor: GET /healthz through the same in-process client, R times: what any request costs here.

Every request goes through the whole app (session, policy point, audit on a real SQLite log),
so the figures include the audit append each page view writes.

    python -m bench.pages [--people 50] [--events 2000] [--alerts 10000] [--repeats 40]
    python -m bench.pages --family-only [--profile DIR]   # the family page alone, not saved

--family-only skips the floor and the inbox (and writes no results file unless --out is
given); --profile DIR also writes cProfile stats (CPU time) of the first (cold) family view and of
five warm ones to DIR/family_cold.prof and DIR/family_warm.prof.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import random
import re
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import insert

from hub.adapters.sql.families import family_id_of_token
from hub.adapters.sql.logins import SqlLoginStore
from hub.adapters.sql.schema import alerts
from hub.domain.areas import load_areas
from hub.entrypoints.api.app import create_app
from hub.entrypoints.web import rendering
from hub.pipeline.linking import Linker
from hub.pipeline.projector import FamilyProjector
from hub.settings import Settings
from producers.simulator import (
    AE,
    CSC,
    DEMO_AGENCIES,
    IDVA,
    POLICE,
    FakeFamily,
    FakePerson,
    dash,
    envelope,
    police_incident,
)

RESULTS = Path(__file__).parent / "results"
AREA = "TEST-AREA"
PASSWORD = "TEST-bench-pages-password"


def big_family(people: int) -> tuple[FakeFamily, list[FakePerson]]:
    """A victim, three perpetrators, up to ten children and household members: people in all."""
    made = [FakePerson(f"Bench Person{n}", f"999{8_000_000 + n:07d}", None) for n in range(people)]
    victim = made[0]
    perps = [
        FakePerson(p.name, p.nhs_number, f"TEST{8_000_000 + i:08d}")
        for i, p in enumerate(made[1:4], 1)
    ]
    children = made[4:14]
    household = made[14:]
    family = FakeFamily(victim, perps[0], tuple(children), perps[1], "high")
    return family, [*perps, *household]


def family_events(people: int, count: int) -> list[tuple[str, dict[str, Any]]]:
    rng = random.Random(50)
    family, others = big_family(people)
    perps, household = others[:3], others[3:]
    start = datetime.now(UTC) - timedelta(days=3650)
    victim = family.victim.subject("victim")
    out: list[tuple[str, dict[str, Any]]] = []

    def rel(agency: str, other: dict[str, Any], relation: str) -> None:
        data = {"subjects": [victim, other], "relation": relation}
        out.append(
            (agency, envelope("relationship.declared", start, data, f"urn:hub:agency:{agency}"))
        )

    for i, p in enumerate(perps):
        rel(POLICE, p.subject("perpetrator", True), "partner" if i == 0 else "ex_partner")
    for c in family.children:
        rel(CSC, c.subject("child"), "parent_child")
    for h in household:
        rel(CSC, h.subject("household_member"), "household")
    step = timedelta(days=3650) / count
    for n in range(count - len(out)):
        t = start + step * (n + 1)
        kind = n % 10
        if kind < 6:
            perp = perps[n % len(perps)]
            out.append((POLICE, police_incident(rng, family, t, perp=perp)))
        elif kind < 8:
            out.append((IDVA, dash(rng, family, t, rng.randint(4, 20))))
        else:
            data = {
                "subjects": [victim], "setting": "ae", "injury": True,
                "da_question_asked": True, "da_disclosed": "no", "pregnant": False,
                "substance_use": False,
            }  # fmt: skip
            out.append((AE, envelope("health.attendance", t, data, f"urn:hub:agency:{AE}")))
    return out


def timed(call: Callable[[], Any], repeats: int) -> dict[str, float]:
    took = []
    cpu = time.process_time()  # the whole process: client, event loop and thread pool
    for _ in range(repeats):
        began = time.perf_counter()
        call()
        took.append((time.perf_counter() - began) * 1000)
    cpu_ms = (time.process_time() - cpu) * 1000 / repeats
    took.sort()
    return {
        # CPU per request: what the wall-clock figures would be on an idle machine, roughly
        "cpu_ms_per_request": round(cpu_ms, 2),
        "p50_ms": round(statistics.median(took), 2),
        "p95_ms": round(took[min(len(took) - 1, int(len(took) * 0.95))], 2),
        "max_ms": round(took[-1], 2),
        "repeats": repeats,
    }


def ok(client: TestClient, url: str) -> Callable[[], None]:
    def call() -> None:
        r = client.get(url)
        if r.status_code != 200:
            raise RuntimeError(f"GET {url} answered {r.status_code}: {r.text[:300]}")

    return call


def seed_alerts(services: Any, family_id: str, count: int) -> None:
    """count open alerts in AREA, each triggered by one of the family's stored events."""
    stored = [e for _, e in services.ingress.store.read(0, 1_000_000)]
    now = datetime.now(UTC)
    rows = []
    for n in range(count):
        e = stored[n % len(stored)]
        rows.append({
            "alert_id": str(uuid.UUID(int=n + 1)), "rule": "visible_high_risk",
            "family_id": family_id, "area": AREA, "victim_token": e.subjects[0].token,
            "person_ids": "[]", "subject_tokens": json.dumps([e.subjects[0].token]),
            "triggering_event_ids": json.dumps([e.hub_id]),
            "event_time": e.time, "raised_at": now, "updated_at": now,
            "reason": "Bench alert", "recommended_action": "Refer to Marac",
            "lawful_basis": None, "due": now + timedelta(hours=n % 500),
            "status": "new", "status_detail": None, "revision": n + 1,
        })  # fmt: skip
    with services.engine.begin() as conn:
        for i in range(0, len(rows), 1000):
            conn.execute(insert(alerts), rows[i : i + 1000])


class ProfiledApp:
    """The app, with the requests made while ``profile`` is set profiled (cProfile) on the
    event loop's thread, services included: they run inline there instead of in the thread
    pool (cProfile sees one thread). Timings taken while profiling are not the figures."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.profile: cProfile.Profile | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        profile = self.profile
        if profile is None or scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def inline(fn: Callable[..., Any], *args: Any) -> Any:
            return fn(*args)

        real = rendering.run_in_threadpool
        rendering.run_in_threadpool = inline  # type: ignore[assignment]
        profile.enable()
        try:
            await self.app(scope, receive, send)
        finally:
            profile.disable()
            rendering.run_in_threadpool = real


def profiled(app: ProfiledApp, call: Callable[[], Any], path: Path | None) -> float:
    """Milliseconds call took; with a path, its requests' cProfile stats written there."""
    # CPU time of the profiled thread, not wall-clock: on a shared machine the wall clock
    # mostly measures the other work
    app.profile = cProfile.Profile(time.thread_time) if path is not None else None
    began = time.perf_counter()
    try:
        call()
    finally:
        profile, app.profile = app.profile, None
    took = round((time.perf_counter() - began) * 1000, 2)
    if profile is not None and path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        profile.dump_stats(path)
    return took


def run(
    people: int, events: int, alert_count: int, repeats: int, out: Path | None,
    family_only: bool = False, profile_dir: Path | None = None,
) -> dict[str, Any]:  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="hub-bench-pages-") as tmp:
        settings = Settings(data_dir=Path(tmp))
        app = create_app(settings)
        services = app.state.services
        wrapped = ProfiledApp(app)
        with TestClient(wrapped) as client:
            keys = {
                name: services.principals.add(name, "agency_system", kind, name)[1]
                for name, kind in DEMO_AGENCIES.items()
            }
            sent = family_events(people, events)
            began = time.perf_counter()
            for agency in keys:
                mine = [e for a, e in sent if a == agency]
                for i in range(0, len(mine), 500):
                    body = "\n".join(json.dumps(e) for e in mine[i : i + 500])
                    r = client.post(
                        "/v1/events:batch", content=body,
                        headers={"Authorization": f"Bearer {keys[agency]}",
                                 "Content-Type": "application/x-ndjson"},
                    )  # fmt: skip
                    if r.status_code != 200 or r.json()["accepted"] != len(mine[i : i + 500]):
                        raise RuntimeError(f"batch refused: {r.text[:300]}")
            ingest_s = time.perf_counter() - began
            rows = services.ingress.store.read(0, 1_000_000)
            began = time.perf_counter()
            Linker(services.engine).link(rows)
            FamilyProjector(services.engine, load_areas()).apply_batch([e for _, e in rows])
            project_s = time.perf_counter() - began
            # the API process never holds the sent and stored events themselves: drop them,
            # so the garbage collector walks what a serving process holds, not the seed data
            del rows, sent
            victim_token = services.ingress.tokeniser.token(
                "nhs", big_family(people)[0].victim.nhs_number
            )
            family_id = family_id_of_token(services.engine, victim_token)
            if family_id is None:
                raise RuntimeError("the bench family was not projected")

            services.principals.add("bench-chair", "person", "marac_chair", None, AREA)
            SqlLoginStore(services.engine).set_password("bench-chair", PASSWORD)
            form = client.get("/login").text
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
            assert csrf is not None
            client.post("/login", data={"csrf_token": csrf.group(1), "name": "bench-chair",
                                        "password": PASSWORD}, follow_redirects=False)  # fmt: skip
            got: list[Any] = []
            # the first view parses the stored projection and the events' decision inputs;
            # later views find them in memory (hub.adapters.sql.family_cache, PolicyPoint.held)
            first_view_ms = profiled(
                wrapped,
                lambda: got.append(client.get(f"/families/{family_id}")),
                profile_dir / "family_cold.prof" if profile_dir else None,
            )
            page = got[0]
            shown = len(re.findall(r'<li data-person="', page.text))
            if page.status_code != 200 or shown != people:
                raise RuntimeError(f"family page: {page.status_code}, {shown} people shown")

            if profile_dir is not None:
                warm = ok(client, f"/families/{family_id}")
                profiled(
                    wrapped, lambda: [warm() for _ in range(5)], profile_dir / "family_warm.prof"
                )
            floor = timed(ok(client, "/healthz"), repeats)
            family = timed(ok(client, f"/families/{family_id}"), repeats)
            if not family_only:
                seed_alerts(services, family_id, alert_count)
                first = timed(ok(client, "/alerts"), repeats)
                deep = timed(ok(client, f"/alerts?page={alert_count // 50 // 2}"), repeats)
    result: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "cpu": platform.processor() or platform.machine(),
            "cores": os.cpu_count(),
            # other work on the machine when the run ended: the figures are wall-clock times
            "loadavg_1_5_15": list(os.getloadavg()),
        },
        "sizes": {"people": people, "events": events, "open_alerts": alert_count},
        "setup": {"ingest_s": round(ingest_s, 1), "link_and_project_s": round(project_s, 1)},
        "floor_healthz": floor,
        "family_page_first_view_ms": first_view_ms,
        "family_page": family,
        "targets": {"family_page_p95_ms": 200, "inbox_p95_ms": 200},
    }
    if not family_only:
        result |= {"inbox_first_page": first, "inbox_middle_page": deep}
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--family-only", action="store_true", help="the family page only (no inbox)"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        metavar="DIR",
        help="write cProfile stats of a cold and a warm family view to DIR",
    )
    args = parser.parse_args(argv)
    out = args.out or (None if args.family_only else RESULTS / "pages.json")
    result = run(
        args.people, args.events, args.alerts, args.repeats, out, args.family_only, args.profile
    )
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
