"""Run the `hub` command in-process, as a shell would run it, for tests of its commands.

Spawning `python -m hub` cost a second or more of imports per call; calling `main(argv)` with
the environment and the standard streams swapped in tests the same parsing, settings, exit codes
and output. Tests about processes (signals, the demo, a separate worker or API) still spawn.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

from sqlalchemy import Connection, Engine, event

from hub.entrypoints.cli import main


@dataclass(frozen=True)
class Ran:
    """What a finished command left, named as subprocess.CompletedProcess names it."""

    returncode: int
    stdout: str
    stderr: str


def run_hub(
    *args: str | Path, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> Ran:
    """`hub ARGS` with exactly env as its environment (the test's own when None), in cwd."""
    out, err = io.StringIO(), io.StringIO()
    environ = dict(os.environ if env is None else env)
    with (
        mock.patch.dict(os.environ, environ, clear=True),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
        contextlib.chdir(cwd or Path.cwd()),
        _engines_closed_afterwards(),
    ):
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:  # argparse refuses a command line this way
            code = exc.code if isinstance(exc.code, int) else 2
    return Ran(code, out.getvalue(), err.getvalue())


@contextlib.contextmanager
def _engines_closed_afterwards() -> Iterator[None]:
    """Dispose of every engine the command connected with, as the end of its process would:
    a command leaves its pooled connections open, and garbage-collected open connections
    raise ResourceWarning (an error in this suite) in whichever test happens to run next."""
    engines: set[Engine] = set()

    def seen(connection: Connection) -> None:
        engines.add(connection.engine)

    event.listen(Engine, "engine_connect", seen)
    try:
        yield
    finally:
        event.remove(Engine, "engine_connect", seen)
        for engine in engines:
            engine.dispose()
