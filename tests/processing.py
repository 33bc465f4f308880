"""What the relay and the worker do to stored events, run in-process for tests without a
broker: link in store order, then project."""

from __future__ import annotations

import random
from typing import Any

from hub.domain.areas import load_areas
from hub.pipeline.linking import Linker
from hub.pipeline.projector import FamilyProjector


def process_stored(services: Any, batch: int = 1000, shuffle: int | None = None) -> list[Any]:
    """Link every stored event, then project them (shuffled with a seed, to test that order
    does not matter); return the alert rows inserted or changed."""
    rows = services.ingress.store.read(0, 1_000_000)
    linker = Linker(services.engine)
    for i in range(0, len(rows), batch):
        linker.link(rows[i : i + batch])
    evs = [e for _, e in rows]
    if shuffle is not None:
        random.Random(shuffle).shuffle(evs)
    projector = FamilyProjector(services.engine, load_areas())
    changed: list[Any] = []
    for i in range(0, len(evs), batch):
        changed += projector.apply_batch(evs[i : i + batch])
    return changed
