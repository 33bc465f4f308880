"""Example: follow your agency's feed from the hub into a CSV your case system can import.

    HUB_API_KEY=hubk_... python producers/examples/feed_to_csv.py \\
        --hub https://hub.example --csv marac-actions.csv --cursor feed.cursor [--every 60]

One row per item (an action, a hearing to flag your file, a notice), its latest version; the
cursor file lets it resume where it stopped after a restart. Items name people by subject
token only. To move an action on, send marac.action.updated with the row's action_id.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from producers.feed_client import FeedFollower, write_csv


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hub", required=True, help="the hub's address, e.g. https://hub.example")
    ap.add_argument("--csv", type=Path, required=True, help="the CSV to write (merged)")
    ap.add_argument("--cursor", type=Path, required=True, help="where the cursor is kept")
    ap.add_argument("--every", type=float, default=0, help="poll every N seconds (0: once)")
    args = ap.parse_args(argv)
    key = os.environ.get("HUB_API_KEY")
    if not key:
        ap.error("set HUB_API_KEY to your agency system's key")
    follower = FeedFollower(args.hub, key, args.cursor)
    rounds = None if args.every > 0 else 1
    follower.follow(lambda items: write_csv(items, args.csv), args.every or 1, rounds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
