"""Dates and instants in requests: ISO 8601 text only. pydantic on its own reads a number as
seconds since 1970 (``?to=0`` was 1 January 1970, issue 12), which the document does not say
and no one means; these types take exactly what the OpenAPI document states
(``format: date``, ``format: date-time`` as in RFC 3339, with its offset)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})")


def _iso_date(value: Any) -> Any:
    if isinstance(value, date) or (isinstance(value, str) and _DATE.fullmatch(value)):
        return value  # pydantic checks the day exists
    raise ValueError("send a date as ISO 8601 text, e.g. 2026-03-01")


def _iso_instant(value: Any) -> Any:
    if isinstance(value, datetime) or (isinstance(value, str) and _INSTANT.fullmatch(value)):
        return value
    raise ValueError("send an instant as RFC 3339 text with its offset, e.g. 2026-03-01T09:30:00Z")


IsoDate = Annotated[
    date, BeforeValidator(_iso_date), WithJsonSchema({"type": "string", "format": "date"})
]
IsoDateTime = Annotated[
    datetime,
    BeforeValidator(_iso_instant),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
