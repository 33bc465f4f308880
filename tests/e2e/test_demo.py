"""`hub demo --duration N` on the embedded defaults: alerts appear, it stops by itself, and no
broker or worker process outlives it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def processes_mentioning(marker: str) -> list[int]:
    """PIDs of processes whose environment or command line contains marker."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            blob = (entry / "environ").read_bytes() + (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if marker.encode() in blob:
            found.append(int(entry.name))
    return found


def test_demo_raises_alerts_audits_reads_and_leaves_no_process(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo-data"
    env = {**os.environ, "HUB_DATA_DIR": str(data_dir), "HUB_API_PORT": "0"}
    env.pop("HUB_KAFKA_BOOTSTRAP", None)
    result = subprocess.run(
        [sys.executable, "-m", "hub", "demo", "--duration", "20", "--families", "4"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "ALERT visible_high_risk" in out  # the demo's families include high-risk Dash scores
    assert "→ 202" in out
    assert "chair sees" in out
    assert "audit log verified" in out
    for clear in ("Example", "Sample", "999000"):  # fake names and NHS numbers stay off screen
        assert clear not in out
    assert processes_mentioning(str(data_dir)) == []
