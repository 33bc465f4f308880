"""Suite-wide settings: hypothesis without a wall-clock deadline, and the integration marker.

Deadlines belong in benchmarks: on a busy 2-core machine a property example that takes 300 ms
is slow, not wrong, and a suite that fails on load stops good work from landing. The profile is
loaded for every run (developers and CI alike), so no test sets a deadline of its own.

`integration` marks every test that starts a broker or a process, or uses a database beyond an
in-process SQLite file; `make test-unit` leaves them out (`-m "not integration"`).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("hub", deadline=None)
settings.load_profile("hub")

TESTS = Path(__file__).parent
# Whole folders whose tests start brokers, processes or servers, or use their fixtures.
INTEGRATION_FOLDERS = (TESTS / "integration", TESTS / "e2e")
# Fixtures that reach a real PostgreSQL server (the contract suites run on it when configured).
SERVER_FIXTURES = {"postgres_engine", "postgres_url"}


def _is_integration(item: pytest.Item) -> bool:
    path = Path(item.path)
    if any(path.is_relative_to(folder) for folder in INTEGRATION_FOLDERS):
        return True
    return bool(SERVER_FIXTURES & set(getattr(item, "fixturenames", ())))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _is_integration(item):
            item.add_marker(pytest.mark.integration)
