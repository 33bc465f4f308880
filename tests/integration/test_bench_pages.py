"""The page benchmark stays runnable: a small run through the whole app renders the family
with every one of its people and pages through the seeded alerts, and writes its figures."""

from __future__ import annotations

import json
from pathlib import Path

from bench import pages


def test_a_small_page_bench_run_writes_its_figures(tmp_path: Path) -> None:
    out = tmp_path / "pages.json"
    pages.run(people=20, events=80, alert_count=120, repeats=2, out=out)
    written = json.loads(out.read_text())
    assert written["sizes"] == {"people": 20, "events": 80, "open_alerts": 120}
    for part in ("floor_healthz", "family_page", "inbox_first_page", "inbox_middle_page"):
        assert written[part]["repeats"] == 2 and written[part]["p95_ms"] > 0
