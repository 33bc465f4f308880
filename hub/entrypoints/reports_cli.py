"""`hub reports …`: the repeat report, the weekly central list and the outcomes report, for the
operator on the hub host. Registered by hub/entrypoints/cli.py.

These commands read the read models in SQL directly, not through the API's policy point:
they are for the operator of the hub host, who holds the database anyway. They show tokens
and person ids, never names, and each writes its own audit record first (principal
"cli:<OS user>"), so running a report is on the log; if that write fails nothing is shown.
Marac chairs and coordinators use the API (GET /v1/reports/…) or consumers/weekly_list.py.
"""

from __future__ import annotations

import argparse
import getpass
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

OPERATOR_NOTE = (
    "An operator tool for the hub host: it reads the SQL read models directly (not through "
    "the API's policy point), shows tokens and person ids, never names, and writes an audit "
    "record before it prints. Marac chairs and coordinators use GET /v1/reports/... instead."
)

EngineFactory = Callable[[Any], Any]  # Settings -> sqlalchemy Engine


def register(sub: Any, engine_for: EngineFactory, error: type[Exception]) -> None:
    reports = sub.add_parser("reports", help="repeat report and weekly central list (operator)")
    r_sub = reports.add_subparsers(dest="action", required=True)

    repeat = r_sub.add_parser(
        "repeat",
        help="victims by number of linked perpetrators; perpetrators by number of victims",
        description=OPERATOR_NOTE,
    )
    repeat.add_argument("--min-links", type=int, default=2, help="list people with this many")
    repeat.add_argument("--area", help="only families of this Marac area")
    repeat.add_argument("--as-of", help="count events before this instant (ISO 8601)")
    repeat.add_argument("--json", action="store_true", help="print the report as JSON")
    repeat.set_defaults(func=lambda s, a: _repeat(engine_for(s), s, a, error))

    central = r_sub.add_parser(
        "central-list",
        help="the week's most vulnerable victims and most dangerous perpetrators per area",
        description=OPERATOR_NOTE + " The ranking is explained in docs/reports.md.",
    )
    central.add_argument("--area", help="the Marac area (default: every configured area)")
    central.add_argument("--week", help="ISO week (2026-W10) or a date in it; default this week")
    central.add_argument("--top", type=int, default=10, help="how many of each (default 10)")
    central.add_argument("--json", action="store_true", help="print the lists as JSON")
    central.set_defaults(func=lambda s, a: _central(engine_for(s), s, a, error))

    outcomes = r_sub.add_parser(
        "outcomes",
        help="an area's outcomes over a period: first contact, support, repeats, actions, exit",
        description=OPERATOR_NOTE + " The measures are explained in docs/reports.md.",
    )
    outcomes.add_argument("--area", help="the Marac area (default: every configured area)")
    outcomes.add_argument("--start", help="first day of the period (default: a window back)")
    outcomes.add_argument("--end", help="last day of the period (default: today)")
    outcomes.add_argument("--json", action="store_true", help="print the figures as JSON")
    outcomes.set_defaults(func=lambda s, a: _outcomes(engine_for(s), s, a, error))


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no USER: a container, say
        return "unknown"


def _audit(
    settings: Any, engine: Any, action: str, subjects: list[str], error: type[Exception]
) -> None:
    """The operator's own audit record, before anything is printed."""
    from audit.errors import AuditError
    from hub.adapters.audit_wiring import open_audit_store

    try:
        _append(open_audit_store(settings, engine, publish=False), action, subjects)
    except AuditError as exc:
        raise error(f"the audit log cannot be written ({exc}), so nothing is shown") from None


def _append(store: Any, action: str, subjects: list[str]) -> None:
    store.append(
        {
            "time": datetime.now(UTC).isoformat(),
            "action": action,
            "principal_id": f"cli:{_os_user()}",
            "principal_kind": "operator",
            "role": "operator",
            "agency_id": None,
            "purpose": "marac_meeting",
            "subjects": sorted(set(subjects)),
            "fields": ["report"],
            "lawful_bases": [],
            "overrides": [],
            "decisions": [],
            "items": [],
            "outcome": "operator report",
        }
    )


def _projections(engine: Any) -> list[Any]:
    from hub.adapters.sql.families import iter_family_states
    from hub.domain.family import FamilyProjection

    return [FamilyProjection.from_dict(state) for _fid, state in iter_family_states(engine)]


def _book(settings: Any, error: type[Exception]) -> Any:
    from hub.adapters.rules_file import load_area_book
    from hub.domain.areas import AreaSettingsError

    try:
        return load_area_book(settings)
    except AreaSettingsError as exc:
        raise error(str(exc)) from None


def _repeat(engine: Any, settings: Any, args: argparse.Namespace, error: type[Exception]) -> int:
    from hub.domain.areas import victim_area
    from hub.domain.reports import ReportError, repeat_report

    as_of = None
    if args.as_of:
        try:
            as_of = datetime.fromisoformat(args.as_of)
        except ValueError:
            raise error(f"--as-of {args.as_of!r} is not an ISO 8601 time") from None
        as_of = as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC)
    families = _projections(engine)
    if args.area:
        book = _book(settings, error)
        families = [p for p in families if victim_area(p, book).name == args.area]
    try:
        report = repeat_report(families, args.min_links, as_of)
    except ReportError as exc:
        raise error(str(exc)) from None
    rows = [*report.victims, *report.perpetrators]
    _audit(settings, engine, "hub reports repeat", [r.token for r in rows], error)
    if args.json:
        print(json.dumps(report.to_dict() | {"area": args.area}, indent=2))
        return 0
    for title, found, counts, other in (
        ("Victims by linked perpetrators", report.victims, report.victims_by_count, "perp"),
        ("Perpetrators by linked victims", report.perpetrators, report.perpetrators_by_count,
         "victim"),
    ):  # fmt: skip
        spread = ", ".join(f"{n}: {k}" for n, k in sorted(counts.items()))
        print(f"{title} (at least {report.min_links}; everyone by count: {spread or 'none'})")
        for r in found:
            linked = ", ".join(f"{x.person_id} ({x.events} events)" for x in r.linked)
            print(f"  {r.token}  family {r.family_id}  {len(r.linked)} {other}s: {linked}")
        print()
    return 0


def _central(engine: Any, settings: Any, args: argparse.Namespace, error: type[Exception]) -> int:
    from consumers.weekly_list import format_central_list
    from hub.domain.reports import ReportError, Week, central_list

    book = _book(settings, error)
    areas = [args.area] if args.area else book.names()
    families = _projections(engine)
    lists = []
    try:
        for area in areas:
            settings_of = book.get(area)
            week = (
                Week.parse(args.week)
                if args.week
                else Week.of(settings_of.calendar.local_date(datetime.now(UTC)))
            )
            lists.append(central_list(families, book, area, week, args.top))
    except ReportError as exc:
        raise error(str(exc)) from None
    tokens = [r.token for cl in lists for r in (*cl.victims, *cl.perpetrators)]
    _audit(settings, engine, "hub reports central-list", tokens, error)
    if args.json:
        print(json.dumps([cl.to_dict() for cl in lists], indent=2))
        return 0
    print("\n\n".join(format_central_list(cl.to_dict()) for cl in lists))
    return 0


def _outcomes(engine: Any, settings: Any, args: argparse.Namespace, error: type[Exception]) -> int:
    from hub.domain.areas import victim_area
    from hub.domain.reports import (
        Period,
        ReportError,
        lines,
        outcomes_report,
        primary_tokens,
    )

    book = _book(settings, error)
    families = _projections(engine)
    reports = []
    try:
        for area in [args.area] if args.area else book.names():
            of_area = book.get(area)
            today = of_area.calendar.local_date(datetime.now(UTC))
            period = Period.parse(args.start, args.end, of_area, today)
            mine = [p for p in families if victim_area(p, book).name == area]
            reports.append((outcomes_report(mine, of_area, period), mine))
    except ReportError as exc:
        raise error(str(exc)) from None
    counted = {f for r, _mine in reports for f in r.families}
    tokens = [t for _r, mine in reports for p in mine if p.family_id in counted
              for t in primary_tokens(p).values()]  # fmt: skip
    _audit(settings, engine, "hub reports outcomes", tokens, error)
    if args.json:
        print(json.dumps([r.to_dict() for r, _mine in reports], indent=2))
        return 0
    for r, _mine in reports:
        body = r.to_dict()
        print(f"Outcomes for {r.area}, {body['start']} to {body['end']} "
              f"({body['families_counted']} families counted)")  # fmt: skip
        for line in lines(body):
            share = f" of {line.out_of} ({line.share or 'none'})" if line.out_of else ""
            print(f"  {line.section}: {line.measure}: {line.number}{share}")
        print()
    return 0
