"""`hub up` and `hub demo` keep the Kafka clients' chatter off the console, in a 0600 log file."""

from __future__ import annotations

import io
import logging
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.entrypoints.logs import logging_to_file


@pytest.fixture
def console() -> Iterator[io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield out
    root.removeHandler(handler)
    root.setLevel(level)


def test_client_chatter_goes_to_the_file_and_the_hub_s_lines_to_both(
    tmp_path: Path, console: io.StringIO
) -> None:
    with logging_to_file(tmp_path / "data") as path:
        logging.getLogger("kafka.net.selector").info("TEST client chatter")
        logging.getLogger("aiokafka.consumer").warning("TEST client warning")
        logging.getLogger("hub.entrypoints.stack").info("TEST hub line")
        logging.getLogger("kafka.producer").error("TEST client error")
    shown, kept = console.getvalue(), path.read_text()
    assert "TEST client chatter" not in shown and "TEST client warning" not in shown
    assert "TEST hub line" in shown and "TEST client error" in shown  # errors still show
    for line in ("TEST client chatter", "TEST client warning", "TEST hub line"):
        assert line in kept
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_older_log_file_is_made_private_and_the_console_is_restored_afterwards(
    tmp_path: Path, console: io.StringIO
) -> None:
    old = tmp_path / "hub.log"
    old.write_text("earlier run\n")
    old.chmod(0o644)
    with logging_to_file(tmp_path):
        pass
    assert stat.S_IMODE(old.stat().st_mode) == 0o600
    assert old.read_text() == "earlier run\n"  # appended to, never truncated
    logging.getLogger("kafka.net.selector").info("TEST after the command")
    assert "TEST after the command" in console.getvalue()
    assert "TEST after the command" not in old.read_text()


def test_json_lines_are_one_object_per_record_with_the_error_type(tmp_path: Path) -> None:
    import json

    from hub.entrypoints.logs import formatter

    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter("json"))
    logger = logging.getLogger("hub.test.json")
    logger.addHandler(handler)
    try:
        logger.warning("two\nlines for %s", "TEST-POLICE-A")
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["message"] == "two\nlines for TEST-POLICE-A"  # escaped: one line
    assert (first["level"], first["logger"]) == ("WARNING", "hub.test.json")
    assert second["error"] == "ValueError" and "boom" in second["traceback"]
