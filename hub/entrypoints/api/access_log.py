"""Access log lines without query values: uvicorn writes each request's path with its query
string, and query strings can carry free text (an override's justification, sent there by an
old client and refused) or identifiers. The filter keeps the parameter names, so a log still
says what was asked, and replaces every value with "[hidden]"."""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl

ACCESS_LOGGER = "uvicorn.access"
# A name that is not a plain parameter name may be free text too: hidden as well.
PARAMETER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")
HIDDEN = "[hidden]"  # ASCII: access logs may go to a non-UTF-8 stream


def without_query_values(path: str) -> str:
    """'/p?a=1&b=x' → '/p?a=[hidden]&b=[hidden]' (plain names kept)."""
    base, sep, query = path.partition("?")
    if not sep:
        return path
    names = [
        name if PARAMETER_NAME.fullmatch(name) else HIDDEN
        for name, _value in parse_qsl(query, keep_blank_values=True)
    ]
    return base + "?" + "&".join(f"{n}={HIDDEN}" for n in names)


class QueryValuesHidden(logging.Filter):
    """Rewrites uvicorn's access record ('%s - "%s %s HTTP/%s" %d': client, method, path
    with query, version, status) before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (args[0], args[1], without_query_values(args[2]), *args[3:])
        return True


def hide_query_values() -> None:
    """Install the filter on uvicorn's access logger (once; logging config keeps filters)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, QueryValuesHidden) for f in logger.filters):
        logger.addFilter(QueryValuesHidden())
