"""What every CSV adapter shares: reading a row's cells, and saying which cell is wrong.

An adapter turns one exported row into zero or more event envelopes, or into a
``RowProblem`` naming the row and column to fix; it never guesses a value it cannot read.
Dates and times in exports are local (Europe/London) and become UTC instants with an offset.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Europe/London")
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._:\-]")


class CellError(ValueError):
    """A cell holds a value the adapter cannot read; the message says what it expects."""

    def __init__(self, column: str, msg: str) -> None:
        super().__init__(f"{column}: {msg}")
        self.column = column
        self.msg = msg


@dataclass(frozen=True)
class RowProblem:
    """A row that could not be turned into events (reported as rejected, reason 'unmappable')."""

    line: int
    column: str
    msg: str

    def as_error(self) -> dict[str, Any]:
        return {"path": f"row {self.line}, column {self.column!r}", "msg": self.msg, "type": "csv"}


@dataclass(frozen=True)
class Mapped:
    line: int
    events: list[dict[str, Any]]


RowMapper = Callable[["Row", "Context"], list[dict[str, Any]]]


@dataclass(frozen=True)
class Context:
    """What an adapter needs beyond the row: who sends, as which source."""

    agency: str
    source: str


class Row:
    """One CSV row with typed readers; a missing column reads as blank."""

    def __init__(self, cells: Mapping[str, str | None]) -> None:
        self._cells = {k.strip(): (v or "").strip() for k, v in cells.items() if k is not None}

    def text(self, column: str) -> str | None:
        return self._cells.get(column) or None

    def required(self, column: str) -> str:
        value = self.text(column)
        if value is None:
            raise CellError(column, "is empty; every row needs it")
        return value

    def yes_no(self, column: str) -> bool | None:
        """Y/Yes/True/1 or N/No/False/0; blank, U or Unknown read as not known (None)."""
        value = (self.text(column) or "").lower()
        if value in ("y", "yes", "true", "1"):
            return True
        if value in ("n", "no", "false", "0"):
            return False
        if value in ("", "u", "unknown", "not known", "not recorded"):
            return None
        raise CellError(column, "write Y, N or Unknown")

    def flag(self, column: str) -> bool:
        return self.yes_no(column) is True

    def date(self, column: str) -> date | None:
        """DD/MM/YYYY (as UK systems export) or YYYY-MM-DD."""
        value = self.text(column)
        if value is None:
            return None
        for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
            try:
                return datetime.strptime(value, fmt).date()
            except ValueError:
                continue
        raise CellError(column, "write the date as DD/MM/YYYY (or YYYY-MM-DD)")

    def time(self, column: str) -> time:
        """HH:MM or HH:MM:SS, 24-hour; blank reads as midnight."""
        value = self.text(column)
        if value is None:
            return time(0, 0)
        for fmt in ("%H:%M", "%H:%M:%S"):
            try:
                return datetime.strptime(value, fmt).time()
            except ValueError:
                continue
        raise CellError(column, "write the time as HH:MM (24-hour)")

    def instant(self, date_column: str, time_column: str) -> str:
        """The local date and time of two cells as a UTC instant (ISO 8601 with Z)."""
        day = self.date(date_column)
        if day is None:
            raise CellError(date_column, "is empty; every row needs it")
        local = datetime.combine(day, self.time(time_column), tzinfo=LOCAL)
        return local.astimezone(UTC).isoformat().replace("+00:00", "Z")

    def items(self, column: str) -> list[str]:
        """A list cell: items separated by ';' (or '|')."""
        value = self.text(column) or ""
        return [p.strip() for p in re.split(r"[;|]", value) if p.strip()]

    def choices(self, column: str, mapping: Mapping[str, str]) -> list[str]:
        """Each listed item mapped through mapping (case-insensitive)."""
        out = []
        for item in self.items(column):
            key = item.lower()
            if key not in mapping:
                known = ", ".join(sorted({k.title() for k in mapping}))
                raise CellError(column, f"{item!r} is not known; use: {known}")
            out.append(mapping[key])
        return out


def event_id(prefix: str, reference: str, suffix: str = "") -> str:
    """A stable event id from the record's own reference, so re-sending a file is a no-op."""
    return _ID_UNSAFE.sub("-", f"{prefix}-{reference}{suffix}")[:128]


def person(
    role: str, row: Row, names: tuple[str, str, str], ids: Mapping[str, str]
) -> dict[str, Any] | None:
    """A subject from the (forename, surname, date of birth) columns and the identifier
    columns given as {identifier field: column}; None when the row names no identifier."""
    found = {field: row.text(column) for field, column in ids.items()}
    identifiers = {k: v.replace(" ", "") if k == "nhs_number" else v for k, v in found.items() if v}
    if not identifiers:
        return None
    forename, surname, dob = names
    subject: dict[str, Any] = {"role": role, "identifiers": identifiers}
    if name := " ".join(filter(None, (row.text(forename), row.text(surname)))):
        subject["name"] = name
    if born := row.date(dob):
        subject["date_of_birth"] = born.isoformat()
    return subject


def envelope(
    event_type: str,
    ident: str,
    when: str,
    data: dict[str, Any],
    ctx: Context,
    lawful_basis: str,
    case_ref: str | None,
) -> dict[str, Any]:
    env: dict[str, Any] = {
        "specversion": "1.0",
        "id": ident,
        "source": ctx.source,
        "type": event_type,
        "time": when,
        "lawfulbasis": lawful_basis,
        "data": data,
    }
    if case_ref:
        env["subject"] = case_ref[:128]
    return env


def map_rows(
    rows: Iterable[Mapping[str, str | None]], mapper: RowMapper, ctx: Context, first_line: int = 2
) -> Iterator[Mapped | RowProblem]:
    """Each row's events or its problem; line numbers count the header as line 1."""
    for line, cells in enumerate(rows, first_line):
        try:
            yield Mapped(line, mapper(Row(cells), ctx))
        except CellError as exc:
            yield RowProblem(line, exc.column, exc.msg)


def read_csv(path: Path, mapper: RowMapper, ctx: Context) -> Iterator[Mapped | RowProblem]:
    """Rows of a CSV export (UTF-8, with or without a byte-order mark, header row first)."""
    with path.open(newline="", encoding="utf-8-sig") as f:
        yield from map_rows(csv.DictReader(f), mapper, ctx)
