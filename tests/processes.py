"""Processes on this machine, found through /proc (Linux): for tests that must prove no
process of theirs is left behind."""

from __future__ import annotations

import os
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
