"""`hub failed …`: the events the projector set apart (hub/pipeline/isolation.py), for the
operator on the hub host. Registered by hub/entrypoints/cli.py.

`hub failed list` shows each one (hub id, family, when, reason, attempts); `hub failed retry`
applies them again through the projector, after a fix. Output holds hub ids, family ids and
exception types only: never an event's content, a token's person or a name.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

EngineFactory = Callable[[Any], Any]  # Settings -> sqlalchemy Engine

EXPLAIN = (
    "Events the projector could not apply are set apart, so that the rest is applied; their "
    "families need attention until a retry (after a fix) or a replay applies them."
)


def register(sub: Any, engine_for: EngineFactory, error: type[Exception]) -> None:
    failed = sub.add_parser(
        "failed", help="events the projector could not apply, and retrying them"
    )
    f_sub = failed.add_subparsers(dest="action", required=True)
    show = f_sub.add_parser("list", help="the events set apart, oldest first", description=EXPLAIN)
    show.add_argument("--all", action="store_true", help="resolved ones too")
    show.set_defaults(func=lambda s, a: _list(engine_for(s), a))
    again = f_sub.add_parser(
        "retry", help="apply events set apart again (after a fix)", description=EXPLAIN
    )
    again.add_argument("hub_ids", nargs="*", metavar="HUB_ID", help="these events")
    again.add_argument("--all", action="store_true", help="every event set apart")
    again.set_defaults(func=lambda s, a: _retry(engine_for(s), s, a, error))


def _list(engine: Any, args: argparse.Namespace) -> int:
    from hub.adapters.sql import failed

    with engine.connect() as conn:
        rows = failed.rows(conn, everything=args.all)
    if not rows:
        print("no events set apart" if not args.all else "no event has ever been set apart")
        return 0
    print("hub id\tfamily\tfirst failed\tlast failed\tattempts\tstatus\treason")
    for r in rows:
        when = (r.first_failed_at, r.last_failed_at)
        first, last = (t.isoformat(timespec="seconds") for t in when)
        reason = f"{r.error_type}: {r.last_error}" if r.last_error else r.error_type
        print(f"{r.hub_id}\t{r.family_id}\t{first}\t{last}\t{r.attempts}\t{r.status}\t{reason}")
    return 0


def _retry(engine: Any, settings: Any, args: argparse.Namespace, error: type[Exception]) -> int:
    from hub.adapters.rules_file import load_area_book
    from hub.pipeline.retry import retry

    if args.all == bool(args.hub_ids):
        raise error("name the events to retry (HUB_ID …) or give --all, not both")
    result = retry(engine, load_area_book(settings), None if args.all else args.hub_ids)
    for hub_id in result.unknown:
        print(f"{hub_id}: not set apart (unknown, or resolved already)")
    for hub_id in result.resolved:
        print(f"{hub_id}: applied; resolved")
    for f in result.failing:
        print(f"{f.hub_id}: failed again in family {f.family_id} ({f.error_type}: {f.message})")
    if result.failing or (result.unknown and not result.resolved):
        return 1
    return 0
