"""A bad rules file stops the hub at start, with one line naming the file, line and problem."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize("command", [["serve"], ["worker"], ["replay"]])
def test_a_bad_rules_file_stops_the_hub_naming_the_line(tmp_path: Path, command: list[str]) -> None:
    rules = tmp_path / "areas.toml"
    rules.write_text("[default]\nwindow_days = 365\n\n[TEST-NORTH]\ndash_high_risk = 30\n")
    env = {**os.environ, "HUB_DATA_DIR": str(tmp_path / "data"), "HUB_RULES_FILE": str(rules)}
    env["HUB_KAFKA_BOOTSTRAP"] = "127.0.0.1:1"  # never reached: the check comes first
    result = subprocess.run(
        [sys.executable, "-m", "hub", *command], env=env, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert str(rules) in line and "line 5" in line and "dash_high_risk" in line
