"""`hub demo --duration N` on the embedded defaults: alerts appear, it stops by itself, no
broker or worker process outlives it, and the console shows the hub's own lines only.

A fixed seed makes the simulated events the same every run: two families whose stories include
a visible-high-risk Dash score, sent in about five seconds, so fifteen seconds leave the worker
as much time to raise the alert as the twenty seconds four random families had."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

from tests.processes import processes_mentioning


def test_demo_raises_alerts_audits_reads_and_leaves_no_process(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo-data"
    env = {**os.environ, "HUB_DATA_DIR": str(data_dir), "HUB_API_PORT": "0"}
    env.pop("HUB_KAFKA_BOOTSTRAP", None)
    result = subprocess.run(
        [sys.executable, "-m", "hub", "demo", "--duration", "15", "--families", "2", "--seed", "7"],
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
    assert re.search(r"Marac chair's pages at http://127\.0\.0\.1:\d+/ \(user demo-chair", out)
    assert "audit log verified" in out
    for clear in ("Example", "Sample", "999000"):  # fake names and NHS numbers stay off screen
        assert clear not in out
    assert processes_mentioning(str(data_dir)) == []

    # Quiet by default: the Kafka clients' lines went to the 0600 log file, not the console.
    console = out + result.stderr
    assert CLIENT_LINE.search(console) is None, CLIENT_LINE.search(console)
    [log_file] = data_dir.glob("demo/*/hub.log")
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600
    assert CLIENT_LINE.search(log_file.read_text())  # kept, where they can be read


# A log line's logger name, as the hub formats it ("… INFO kafka.net.selector: …").
CLIENT_LINE = re.compile(r" (kafka|aiokafka|faust|mode)(\.\w+)*: ")
