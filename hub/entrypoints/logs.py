"""Where the `hub` command's log lines go.

Every command logs to the console (stderr). `hub up` and `hub demo` also write everything to
`<data dir>/hub.log` (0600) and keep the Kafka clients' lines off the console: kafka-python,
aiokafka and faust/mode log dozens of INFO lines about connections and metadata at start,
which buried the hub's own lines (issue 11). Their errors still reach the console.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Top-level logger names of the Kafka clients and the stream-processing library.
CLIENT_LOGGERS = frozenset({"kafka", "aiokafka", "faust", "mode"})
LOG_FILE = "hub.log"


def configure_console(level: str) -> None:
    """The hub's log lines on stderr at level; httpx's per-request lines only as warnings."""
    logging.basicConfig(level=level, format=FORMAT)
    logging.getLogger("httpx").setLevel(logging.WARNING)


class _HubLinesOnly(logging.Filter):
    """Lets through the hub's own records, and the clients' errors."""

    def filter(self, record: logging.LogRecord) -> bool:
        client = record.name.partition(".")[0] in CLIENT_LOGGERS
        return not client or record.levelno >= logging.ERROR


@contextlib.contextmanager
def logging_to_file(data_dir: Path) -> Iterator[Path]:
    """While open, every record also goes to data_dir/hub.log (0600), and the console handlers
    leave out the clients' chatter."""
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = data_dir / LOG_FILE
    # Created 0600 (log lines may name agencies and topics; chmod as well for an older file).
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
    path.chmod(0o600)
    root = logging.getLogger()
    console, hub_lines = list(root.handlers), _HubLinesOnly()
    for handler in console:
        handler.addFilter(hub_lines)
    to_file = logging.FileHandler(path, encoding="utf-8")
    to_file.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(to_file)
    try:
        yield path
    finally:
        root.removeHandler(to_file)
        to_file.close()
        for handler in console:
            handler.removeFilter(hub_lines)
