"""Adapters from typical agency exports to hub events (docs/adapters.md).

Each adapter maps one CSV row to zero or more event envelopes, or to a ``RowProblem`` that
names the row and the column to fix.
"""

from __future__ import annotations

from producers.adapters.ae import attendance_events
from producers.adapters.base import Context, Mapped, RowMapper, RowProblem, map_rows, read_csv
from producers.adapters.police import incident_events

ADAPTERS: dict[str, RowMapper] = {
    "police-incidents": incident_events,
    "ae-attendances": attendance_events,
}

__all__ = ["ADAPTERS", "Context", "Mapped", "RowMapper", "RowProblem", "map_rows", "read_csv"]
