"""Family projections kept parsed in memory for the family view, each checked against its
stored row on every read.

A large family's stored state is megabytes of JSON (2,000 events: 3 MB); parsing it and
rebuilding its timeline took a third of a family page's time, on every view. The cache keeps
the parsed projection with the version it was read at, the row's (updated_at, membership):
every write of a projection sets updated_at afresh (hub.pipeline.settle, hub.pipeline.replay),
so each read asks the database for that version (one small query, no state) and parses the
state again only when it moved. What a reader's view derives from a projection can be kept
with it (``CachedFamily.memo``) and goes when the projection changes.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select

from hub.adapters.sql.families import current_family_id
from hub.adapters.sql.schema import family_projections
from hub.domain.family import FamilyProjection

# Timeline entries kept in all (a 2,000-event family holds ~6 MB parsed); least recently
# read families go first.
MAX_ENTRIES = 100_000
MEMO_SIZE = 4  # derived views kept per family (readers who see it differently)


@dataclass
class CachedFamily:
    """A current family's projection as stored at ``version``, and what was derived from it."""

    family_id: str
    version: tuple[Any, ...]
    projection: FamilyProjection
    memo: OrderedDict[Any, Any] = field(default_factory=OrderedDict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def remembered(self, key: Any) -> Any | None:
        with self.lock:
            found = self.memo.get(key)
            if found is not None:
                self.memo.move_to_end(key)
            return found

    def remember(self, key: Any, value: Any) -> None:
        with self.lock:
            self.memo[key] = value
            while len(self.memo) > MEMO_SIZE:
                self.memo.popitem(last=False)


@dataclass(frozen=True)
class FamilyFound:
    """Where a family id leads: its projection (current id), or the id it was merged into."""

    family_id: str
    current: CachedFamily | None
    moved_to: str | None


class FamilyCache:
    def __init__(self, engine: Engine, max_entries: int = MAX_ENTRIES) -> None:
        self._engine = engine
        self._max = max_entries
        self._kept: OrderedDict[str, CachedFamily] = OrderedDict()
        self._entries = 0  # timeline entries kept in all (what max_entries bounds)
        self._lock = threading.Lock()

    def find(self, family_id: str) -> FamilyFound | None:
        """The family's projection (from memory when its stored version has not moved), or
        where a merged id now points; None if unknown."""
        c = family_projections.c
        with self._engine.connect() as conn:
            version = conn.execute(
                select(c.updated_at, c.membership).where(c.family_id == family_id)
            ).first()
            if version is not None:
                with self._lock:
                    kept = self._kept.get(family_id)
                    if kept is not None and kept.version == tuple(version):
                        self._kept.move_to_end(family_id)
                        return FamilyFound(family_id, kept, None)
                row = conn.execute(
                    select(c.updated_at, c.membership, c.state).where(c.family_id == family_id)
                ).first()
        if version is None or row is None:
            current = current_family_id(self._engine, family_id)
            return None if current == family_id else FamilyFound(family_id, None, current)
        read = CachedFamily(
            family_id, (row[0], row[1]), FamilyProjection.from_dict(json.loads(row[2]))
        )
        self._keep(read)
        return FamilyFound(family_id, read, None)

    def _keep(self, read: CachedFamily) -> None:
        with self._lock:
            older = self._kept.pop(read.family_id, None)
            if older is not None:
                self._entries -= _size(older)
            self._kept[read.family_id] = read
            self._entries += _size(read)
            while len(self._kept) > 1 and self._entries > self._max:
                _, dropped = self._kept.popitem(last=False)
                self._entries -= _size(dropped)


def _size(family: CachedFamily) -> int:
    return len(family.projection.timeline)
