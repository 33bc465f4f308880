"""Where the `hub` command's log lines go.

Every command logs to the console (stderr). `hub up` and `hub demo` also write everything to
`<data dir>/hub.log` (0600) and keep the Kafka clients' lines off the console: kafka-python,
aiokafka and faust/mode log dozens of INFO lines about connections and metadata at start,
which buried the hub's own lines (issue 11). Their errors still reach the console.

``HUB_LOG_FORMAT=json`` writes each record as one JSON object on one line (time, level,
logger, process, message, and the exception's type and traceback when there is one), for a
log collector; uvicorn's lines then go through the same handlers. What the hub logs holds
tokens, hub ids, agency ids and counts, never a name or an identifier in clear (a test scans
the logs of a whole demo run for the simulated people's names and identifiers).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Top-level logger names of the Kafka clients and the stream-processing library.
CLIENT_LOGGERS = frozenset({"kafka", "aiokafka", "faust", "mode"})
LOG_FILE = "hub.log"


class JsonLines(logging.Formatter):
    """One JSON object per record, on one line (newlines inside are escaped by JSON)."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "process": record.process,
            "message": record.getMessage(),
        }
        if record.exc_info and record.exc_info[0] is not None:
            line["error"] = record.exc_info[0].__name__
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def formatter(log_format: str = "text") -> logging.Formatter:
    """The formatter for HUB_LOG_FORMAT: text (FORMAT) or json (JsonLines)."""
    return JsonLines() if log_format == "json" else logging.Formatter(FORMAT)


def configure_console(level: str, log_format: str = "text") -> None:
    """The hub's log lines on stderr at level; httpx's per-request lines only as warnings."""
    logging.basicConfig(level=level, format=FORMAT)
    for handler in logging.getLogger().handlers:
        handler.setFormatter(formatter(log_format))
    logging.getLogger("httpx").setLevel(logging.WARNING)


def uvicorn_log_config(log_format: str) -> dict[str, object] | None:
    """uvicorn's own logging setup for text (its default), none for json: its loggers then
    reach the root handlers configured above, in JSON."""
    if log_format != "json":
        from uvicorn.config import LOGGING_CONFIG

        return LOGGING_CONFIG
    return None


class _HubLinesOnly(logging.Filter):
    """Lets through the hub's own records, and the clients' errors."""

    def filter(self, record: logging.LogRecord) -> bool:
        client = record.name.partition(".")[0] in CLIENT_LOGGERS
        return not client or record.levelno >= logging.ERROR


def dict_config(level: str, log_format: str) -> dict[str, object] | None:
    """A logging.config dictionary for a process that configures logging itself (faust's
    worker): JSON lines on stdout; None for text (faust's own format)."""
    if log_format != "json":
        return None
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonLines}},
        "handlers": {
            "out": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stdout",
            }
        },
        "root": {"level": level, "handlers": ["out"]},
    }


@contextlib.contextmanager
def logging_to_file(data_dir: Path, log_format: str = "text") -> Iterator[Path]:
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
    to_file.setFormatter(formatter(log_format))
    root.addHandler(to_file)
    try:
        yield path
    finally:
        root.removeHandler(to_file)
        to_file.close()
        for handler in console:
            handler.removeFilter(hub_lines)
