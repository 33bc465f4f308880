"""FeedFollower: an agency system follows its feed from the hub (``GET /v1/feed``, docs/feed.md)
with a cursor that survives restarts.

The cursor lives in a small file, written (atomically: a temporary file, then a rename) only
after the items of a page have been handed over, so a crash in between hands the page over
again: at least once. Handle items by ``(item_id, version)`` and nothing is done twice;
``write_csv`` does that for a CSV an agency can import (one row per item, its latest version).

    follower = FeedFollower("https://hub.example", api_key, Path("feed.cursor"))
    follower.poll(lambda items: write_csv(items, Path("feed.csv")))
"""

from __future__ import annotations

import csv
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx

from hub.contract.feed import FeedItem, FeedPage
from producers.results import HubAuthError, HubProtocolError, HubUnavailable

Handler = Callable[[list[FeedItem]], None]
COLUMNS = list(FeedItem.model_fields)


class FeedFollower:
    def __init__(
        self, base_url: str, api_key: str, cursor_file: Path, *,
        client: httpx.Client | None = None, page_size: int = 500, timeout: float = 30.0,
    ) -> None:  # fmt: skip
        self.cursor_file = cursor_file
        self._page_size = page_size
        self._http = client or httpx.Client(base_url=base_url, timeout=timeout)
        self._auth = {"Authorization": f"Bearer {api_key}"}

    @property
    def cursor(self) -> str | None:
        """Where the last handled page ended (None: from the start)."""
        try:
            return self.cursor_file.read_text("utf-8").strip() or None
        except FileNotFoundError:
            return None

    def _save(self, cursor: str) -> None:
        tmp = self.cursor_file.with_name(self.cursor_file.name + ".tmp")
        tmp.write_text(cursor, "utf-8")
        os.replace(tmp, self.cursor_file)

    def page(self) -> FeedPage:
        params: dict[str, str | int] = {"limit": self._page_size}
        if self.cursor:
            params["cursor"] = self.cursor
        try:
            r = self._http.get("/v1/feed", params=params, headers=self._auth)
        except httpx.TransportError as exc:
            raise HubUnavailable(f"the hub did not answer: {exc}") from exc
        if r.status_code in (401, 403):
            raise HubAuthError(f"the hub refused the key ({r.status_code}): {r.text}")
        if r.status_code >= 500:
            raise HubUnavailable(f"the hub answered {r.status_code}: {r.text}")
        if r.status_code != 200:
            raise HubProtocolError(f"the hub answered {r.status_code}: {r.text}")
        return FeedPage.model_validate_json(r.content)

    def poll(self, handle: Handler) -> int:
        """Hand over every page ready now, saving the cursor after each; how many items."""
        count = 0
        while True:
            page = self.page()
            if page.items:
                handle(page.items)
            self._save(page.cursor)
            count += len(page.items)
            if not page.more:
                return count

    def follow(self, handle: Handler, every: float = 30.0, rounds: int | None = None) -> None:
        """Poll every ``every`` seconds (``rounds`` times, or until interrupted)."""
        done = 0
        while rounds is None or done < rounds:
            self.poll(handle)
            done += 1
            if rounds is None or done < rounds:
                time.sleep(every)  # the pace of polling, not synchronisation


def write_csv(items: Sequence[FeedItem], path: Path) -> None:
    """Merge items into a CSV, one row per item id holding its latest version (rows kept in
    the order first seen); lists are written as ';'-separated text."""
    rows: dict[str, dict[str, str]] = {}
    if path.exists():
        with path.open(newline="", encoding="utf-8") as f:
            rows = {r["item_id"]: r for r in csv.DictReader(f)}
    for item in items:
        rows[item.item_id] = _row(item)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, COLUMNS)
        writer.writeheader()
        writer.writerows(rows.values())
    os.replace(tmp, path)


def _row(item: FeedItem) -> dict[str, str]:
    out = {}
    for key, value in item.model_dump(mode="json").items():
        if isinstance(value, list):
            value = ";".join(
                f"{v['role']}:{v['token']}" if isinstance(v, dict) else str(v) for v in value
            )
        out[key] = "" if value is None else str(value)
    return out
