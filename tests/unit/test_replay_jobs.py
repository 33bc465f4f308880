"""How many processes `hub replay` folds in by default: the CPUs it may really use."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hub.pipeline.replay_fold import default_jobs
from tests.cli import run_hub

AFFINITY = len(os.sched_getaffinity(0))


@pytest.mark.parametrize(
    ("cpu_max", "expected"),
    [
        ("max 100000\n", AFFINITY),  # no container limit: every CPU it may run on
        ("50000 100000\n", 1),  # half a CPU: one process, never zero
        ("150000 100000\n", min(2, AFFINITY)),  # a CPU and a half: rounded up
        (f"{100000 * AFFINITY + 1} 100000\n", AFFINITY),  # a limit above the CPUs it has
    ],
)
def test_a_container_cpu_limit_caps_the_fold_processes(
    tmp_path: Path, cpu_max: str, expected: int
) -> None:
    (tmp_path / "cpu.max").write_text(cpu_max)
    assert default_jobs(tmp_path / "cpu.max") == expected


def test_without_cgroup_v2_the_affinity_decides(tmp_path: Path) -> None:
    assert default_jobs(tmp_path / "absent") == AFFINITY


@pytest.mark.parametrize("jobs", ["0", "-1", "two"])
def test_a_number_of_processes_below_one_is_refused_with_what_to_give(
    tmp_path: Path, jobs: str
) -> None:
    ran = run_hub("replay", "--jobs", jobs, env={"HUB_DATA_DIR": str(tmp_path)})
    assert ran.returncode == 2
    assert "--jobs" in ran.stderr and "a whole number of at least 1" in ran.stderr
    assert list(tmp_path.iterdir()) == []  # refused before any database was opened
