"""A small progress bar for stderr (no dependency): redrawn at most ten times a second."""

from __future__ import annotations

import time
from typing import TextIO

WIDTH = 30


class Progress:
    def __init__(self, total: int, stream: TextIO, enabled: bool, label: str = "sending") -> None:
        self.total = max(total, 1)
        self.done = 0
        self._stream = stream
        self._enabled = enabled
        self._label = label
        self._drawn_at = 0.0

    def advance(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if self._enabled and (now - self._drawn_at >= 0.1 or self.done >= self.total):
            self._drawn_at = now
            self._draw()

    def _draw(self) -> None:
        filled = int(WIDTH * min(self.done, self.total) / self.total)
        bar = "#" * filled + "-" * (WIDTH - filled)
        pct = 100 * min(self.done, self.total) // self.total
        self._stream.write(f"\r{self._label} [{bar}] {self.done}/{self.total} ({pct}%)")
        self._stream.flush()

    def finish(self) -> None:
        if self._enabled:
            self._draw()
            self._stream.write("\n")
            self._stream.flush()
