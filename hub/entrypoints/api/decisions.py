"""Decisions people take in the hub (alert lifecycle, identity matches) are stored as hub
events: audited first, stored once, then the relay is woken to publish them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from fastapi import Response

from audit.chain import AuditError
from hub.entrypoints.api.alerts import audit_unavailable
from hub.entrypoints.api.deps import Services

T = TypeVar("T")


async def record_decision(
    services: Services, response: Response, decide: Callable[[], tuple[T, bool]]
) -> T:
    """Run ``decide`` (returns the answer and whether it was a repeat) off the event loop;
    503 if the audit log could not be written; a repeat is answered with Hub-Duplicate."""
    try:
        out, repeat = await asyncio.to_thread(decide)
    except AuditError:
        raise audit_unavailable() from None
    if repeat:
        response.headers["Hub-Duplicate"] = "true"
    elif services.relay is not None:
        services.relay.wake()
    return out
