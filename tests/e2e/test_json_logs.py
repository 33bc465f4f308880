"""HUB_LOG_FORMAT=json over a whole run: `hub demo` (embedded broker, worker, API, simulated
agencies, a chair reading alerts) writes one JSON object per log line, and no line of any
log, nor the console, holds a simulated person's name or identifier."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from producers.simulator import demo_stream

SEED, FAMILIES = 7, 2


def people_in_clear() -> set[str]:
    """Every name and identifier the demo's agencies send (the same seed, the same people)."""
    clear: set[str] = set()
    for _agency, event in demo_stream(FAMILIES, seed=SEED):
        for subject in event["data"].get("subjects", []):
            clear.add(subject["name"])
            clear.update(subject.get("identifiers", {}).values())
    return clear


def test_a_demo_run_logs_json_lines_without_names_or_identifiers(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo-data"
    env = {
        **os.environ,
        "HUB_DATA_DIR": str(data_dir),
        "HUB_API_PORT": "0",
        "HUB_LOG_FORMAT": "json",
        "HUB_LOG_LEVEL": "INFO",
    }
    env.pop("HUB_KAFKA_BOOTSTRAP", None)
    command = ["demo", "--duration", "15", "--families", str(FAMILIES), "--seed", str(SEED)]
    result = subprocess.run(
        [sys.executable, "-m", "hub", *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ALERT visible_high_risk" in result.stdout  # the whole path ran

    [run_dir] = data_dir.glob("demo/*")
    logs = {
        path: path.read_text("utf-8")
        for path in (run_dir / "hub.log", run_dir / "logs" / "worker.log")
    }
    for path, text in logs.items():
        lines = [line for line in text.splitlines() if line.strip()]
        assert lines, f"{path} is empty"
        for line in lines:
            record = json.loads(line)  # every line one JSON object
            assert {"time", "level", "logger", "message"} <= record.keys(), line
    loggers = {json.loads(line)["logger"] for line in logs[run_dir / "hub.log"].splitlines()}
    assert any(name.startswith("hub.") for name in loggers), loggers

    everything = "\n".join([*logs.values(), result.stdout, result.stderr])
    clear = people_in_clear()
    assert len(clear) >= 6  # names, NHS numbers and PNC ids of two families
    leaked = sorted(c for c in clear if c in everything)
    assert leaked == [], f"in clear in the logs: {leaked}"
