"""Poison isolation: no single event can stop the projector or a replay.

An event whose processing raises (a fold or a rule that cannot cope with it: an event time
of year 1 stored before ingress refused them, a bug meeting an unusual payload) is *poison*:
redelivering it fails the same way for ever. ``isolate`` finds such events among a family's
pending events and returns the rest, which are applied; the projector records the poison
ones in ``failed_events`` and on the dead-letter topic, and the family needs attention.

An *infrastructure* fault (the database or the broker gone, a lock timeout) is not poison:
the same batch will succeed once the fault passes, so it is raised for the caller to retry
the batch as before. ``is_infrastructure`` draws that line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from aiokafka.errors import KafkaError as AioKafkaError
from kafka.errors import KafkaError
from sqlalchemy import exc as sa

E = TypeVar("E")
R = TypeVar("R")

# Raised again, never isolated: they say nothing about the event being processed.
INFRASTRUCTURE: tuple[type[BaseException], ...] = (
    sa.OperationalError,  # connection lost, database locked, server shutting down
    sa.InterfaceError,
    sa.DisconnectionError,
    sa.TimeoutError,  # no pooled connection in time
    sa.ResourceClosedError,
    KafkaError,
    AioKafkaError,
    OSError,
    MemoryError,
)

MAX_MESSAGE = 200
# Exception messages quote the values they choke on ('…', "…"); values may be tokens, times or
# payload text, so a failure record keeps the message without them, and without long numbers.
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_NUMBER = re.compile(r"\d{4,}")


def is_infrastructure(exc: BaseException) -> bool:
    """True for faults of the database or broker, which a retry of the same batch outlives."""
    if isinstance(exc, sa.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, INFRASTRUCTURE)


def describe(exc: BaseException) -> tuple[str, str]:
    """(exception type, message) for a failure record: quoted values and long numbers removed,
    so no identifier, date or free text of the event is copied into a table, log or topic."""
    message = _NUMBER.sub("#", _QUOTED.sub("…", str(exc).splitlines()[0] if str(exc) else ""))
    return type(exc).__name__, message[:MAX_MESSAGE]


class Unsettled(Exception):
    """Even without any of its pending events the family cannot be processed: the fault is in
    what it held already (or in the code for every family), not in one event."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(str(cause))
        self.cause = cause


@dataclass(frozen=True)
class Isolated(Generic[E, R]):
    result: R  # attempt(applied)
    applied: list[E]
    failed: list[tuple[E, Exception]]  # each poison item with what it raised


def isolate(attempt: Callable[[list[E]], R], items: Sequence[E]) -> Isolated[E, R]:
    """attempt(items), or, if that raises a poison error, attempt(the items it succeeds with).

    The items are tried one at a time in their order, each added to those that succeeded, so
    an item is set apart only if it fails on top of the good ones before it (slow: only after
    a failure). attempt must have no lasting effect when it raises. Infrastructure faults
    propagate; Unsettled when attempt fails even with no item."""
    try:
        return Isolated(attempt(list(items)), list(items), [])
    except Exception as exc:
        if is_infrastructure(exc):
            raise
    good: list[E] = []
    failed: list[tuple[E, Exception]] = []
    last: list[R] = []  # attempt(good): a failure leaves good as the latest success had it
    for item in items:
        try:
            result = attempt([*good, item])
        except Exception as exc:
            if is_infrastructure(exc):
                raise
            failed.append((item, exc))
            continue
        good.append(item)
        last = [result]
    if last:
        return Isolated(last[0], good, failed)
    try:
        return Isolated(attempt(good), good, failed)
    except Exception as exc:
        if is_infrastructure(exc):
            raise
        raise Unsettled(exc) from exc
