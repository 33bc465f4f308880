"""Decisions people take in the hub (alert lifecycle, identity matches) are stored as hub
events by a service (audited first, stored once); the route then answers and wakes the relay
to publish them. An audit failure reaches the app's handler (503, nothing stored)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Response
from starlette.concurrency import run_in_threadpool

from hub.entrypoints.api.deps import Services

T = TypeVar("T")


async def record_decision(
    services: Services, response: Response, decide: Callable[..., tuple[T, bool]], *args: Any
) -> T:
    """Run ``decide(*args)`` (the answer and whether it was a repeat) off the event loop; a
    repeat is answered with Hub-Duplicate, anything new wakes the relay (on the loop: its
    wake-up event is not thread-safe)."""
    out, repeat = await run_in_threadpool(decide, *args)
    if repeat:
        response.headers["Hub-Duplicate"] = "true"
    else:
        services.wake_relay()
    return out
