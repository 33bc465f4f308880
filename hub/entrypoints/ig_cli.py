"""`hub ig …`: the IG officer's queries, reports and exports. Registered by hub/entrypoints/cli.py.

Listings print one JSON object per line (tokens and codes, no personal data in clear). Each
command first writes its own audit record (principal "cli:<OS user>", outcome "ig query"), so
looking at the log is itself on the log; if that write fails the command stops (exit 2).
"""

from __future__ import annotations

import argparse
import functools
import getpass
import json
import sys
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from audit.errors import AuditError
from audit.ig import SAR_COLUMNS, Criteria
from audit.igstore import IgReports, ig_query_record
from consent.policy import PersonRole
from hub.adapters.audit_wiring import open_audit_store
from hub.adapters.sql.audit_index import SqlAuditIndex
from hub.adapters.sql.events import SqlEventStore

EngineFactory = Callable[[Any], Any]  # Settings -> sqlalchemy Engine
Command = Callable[[IgReports, argparse.Namespace], int]


def register(sub: Any, engine_for: EngineFactory) -> None:
    ig = sub.add_parser("ig", help="information governance: who saw what, when, why")
    actions = ig.add_subparsers(dest="action", required=True)

    def add(name: str, command: Command, help_: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = actions.add_parser(name, help=help_)
        parser.set_defaults(func=functools.partial(_run, command, engine_for, name))
        return parser

    p = add("sar", cmd_sar, "subject access report: every disclosure about one subject")
    p.add_argument("token", help="the subject token, st_…")
    p.add_argument("--format", choices=("json", "csv"), default="json")
    p.add_argument("--out", type=Path, help="write the report here (default: standard output)")
    p = add("disclosures", cmd_disclosures, "audit records matching every filter given")
    p.add_argument("--subject", help="subject token, st_…")
    p.add_argument("--principal", help="the reader's principal id")
    p.add_argument("--agency", help="the reader's agency, e.g. TEST-POLICE-A")
    p.add_argument("--purpose", help="e.g. marac_case_preparation")
    p.add_argument("--basis", help="lawful basis code, e.g. ukgdpr-6-1-e")
    _period(p)
    _period(add("overrides", cmd_overrides, "shared without consent (DPA 2018 Sch 1 para 18)"))
    _period(add("outside-case", cmd_outside_case, "reads of subjects with no open case"))
    _period(add("anomalies", cmd_anomalies, "unusual volume or breadth; repeated reads"))
    p = add("export-fhir", cmd_export_fhir, "every record as a FHIR R4 AuditEvent (NDJSON)")
    p.add_argument("file", type=Path)


def _period(p: argparse.ArgumentParser) -> None:
    p.add_argument("--since", type=_instant, help="from (inclusive), ISO date or date-time")
    p.add_argument("--until", type=_instant, help="to (exclusive), ISO date or date-time")


def _instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO date or date-time (e.g. 2026-03-01 or 2026-03-01T09:00Z)"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _criteria(args: argparse.Namespace) -> Criteria:
    names = ("subject", "principal", "agency", "purpose", "basis", "since", "until")
    return Criteria(**{n: getattr(args, n, None) for n in names})


def _run(command: Command, engine_for: EngineFactory, name: str, settings: Any, args: Any) -> int:
    try:
        engine = engine_for(settings)
        store = open_audit_store(settings, engine)
        subject = args.token if name == "sar" else getattr(args, "subject", None)
        subjects = [subject] if subject else []
        store.append(
            ig_query_record(
                f"cli:{_os_user()}", "operator", PersonRole.IG_OFFICER, None,
                f"hub ig {name}", subjects, list(SAR_COLUMNS) if name == "sar" else [],
            )
        )  # fmt: skip
        finder = SqlAuditIndex(engine)  # open_audit_store has caught the index up
        return command(IgReports(store, SqlEventStore(engine), finder=finder), args)
    except AuditError as exc:
        print(f"hub: {exc}", file=sys.stderr)
        return 2


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no USER: a container, say
        return "unknown"


def _print_lines(rows: Iterable[dict[str, Any]]) -> int:
    for row in rows:
        print(json.dumps(row, default=str, ensure_ascii=False))
    return 0


def _write(path: Path | None, text: str) -> None:
    if path is None:
        sys.stdout.write(text)
        return
    try:
        path.write_text(text, "utf-8")
    except OSError as exc:
        raise AuditError(f"cannot write {path}: {exc.strerror}") from None


def cmd_sar(reports: IgReports, args: argparse.Namespace) -> int:
    if not args.token.startswith("st_"):
        raise AuditError(f"{args.token!r} is not a subject token (they start 'st_')")
    if args.format == "csv":
        text = reports.subject_access_csv(args.token)
    else:
        text = json.dumps(reports.subject_access_report(args.token), indent=2) + "\n"
    _write(args.out, text)
    if args.out is not None:
        print(f"subject access report for {args.token} written to {args.out}")
    return 0


def cmd_disclosures(reports: IgReports, args: argparse.Namespace) -> int:
    return _print_lines(reports.disclosures(_criteria(args)))


def cmd_overrides(reports: IgReports, args: argparse.Namespace) -> int:
    return _print_lines(reports.overrides(_criteria(args)))


def cmd_outside_case(reports: IgReports, args: argparse.Namespace) -> int:
    return _print_lines(reports.outside_case(_criteria(args)))


def cmd_anomalies(reports: IgReports, args: argparse.Namespace) -> int:
    print(json.dumps(reports.anomalies(_criteria(args)), indent=2))
    return 0


def cmd_export_fhir(reports: IgReports, args: argparse.Namespace) -> int:
    count = 0
    try:
        with args.file.open("w", encoding="utf-8") as out:
            for line in reports.fhir_lines():
                out.write(line + "\n")
                count += 1
    except OSError as exc:
        raise AuditError(f"cannot write {args.file}: {exc.strerror}") from None
    print(f"exported {count} audit records as FHIR AuditEvents to {args.file}")
    return 0
