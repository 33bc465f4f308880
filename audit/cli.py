"""`hub audit …` subcommands. Registered by hub/cli.py; each returns an exit code."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from audit.store import SqlAuditStore

EngineFactory = Callable[[Any], Any]  # Settings -> sqlalchemy Engine


def register(sub: Any, engine_for: EngineFactory) -> None:
    audit = sub.add_parser("audit", help="the disclosure audit log")
    actions = audit.add_subparsers(dest="action", required=True)

    def verify(settings: Any, _args: argparse.Namespace) -> int:
        return cmd_verify(SqlAuditStore(engine_for(settings)))

    actions.add_parser(
        "verify", help="check the hash chain; exit 1 naming the first bad record"
    ).set_defaults(func=verify)


def cmd_verify(store: SqlAuditStore) -> int:
    result = store.verify()
    if result.ok:
        print(f"audit log verified: {result.records} records, chain whole")
        return 0
    print(
        f"audit log FAILED verification at record {result.bad_seq}"
        f" ({result.bad_record_id or 'no id'}): {result.problem}",
        file=sys.stderr,
    )
    return 1
