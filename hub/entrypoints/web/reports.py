"""The report pages: the repeat report, the weekly central list and the outcomes report as
tables, each with a CSV download of the same rows.

Thin like hub/entrypoints/api/reports.py: both call hub.services.reports (the same screening,
the same area scope and the same "GET /v1/reports/…" audit record). The table and the CSV are
drawn from one list of rows (``Table``), so the download cannot say more or less than the page.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from hub.domain.reports import HEADER, lines
from hub.entrypoints.shared import THROUGH_POLICY_POINT, ServicesDep
from hub.entrypoints.web.rendering import PageError, call_service, page, when, words
from hub.entrypoints.web.session import SessionDep
from hub.services.access import Purpose
from hub.services.reports import Report, central, outcomes, repeat

router = APIRouter(include_in_schema=False, dependencies=[THROUGH_POLICY_POINT])

PURPOSE = Purpose.marac_meeting.value
ROLES = (("victims", "Victim"), ("perpetrators", "Perpetrator"))


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: list[tuple[str, ...]]
    people: bool = True  # rows are people, each linked to their family (else figures)


def _person(report: Report, token: str) -> tuple[str, str]:
    known = report.names.get(token, {})
    return (known.get("name") or "Name not held", known.get("date_of_birth") or "Not held")


def repeat_table(report: Report) -> Table:
    rows: list[tuple[str, ...]] = []
    for key, role in ROLES:
        for r in report.report.get(key, []):
            last = max((x["last"] for x in r["linked"]), default="")
            rows.append((role, *_person(report, r["token"]), str(r["count"]), when(last),
                         r["family_id"]))  # fmt: skip
    header = ("Role", "Name", "Date of birth", "Linked people", "Last linked event", "Family")
    return Table(header, rows)


def central_table(report: Report) -> Table:
    rows: list[tuple[str, ...]] = []
    for key, role in ROLES:
        for r in report.report.get(key, []):
            why = "; ".join(f"{words(f['factor'])} ({f['points']}): {f['detail']}"
                            for f in r["factors"])  # fmt: skip
            rows.append((role, str(r["rank"]), *_person(report, r["token"]), str(r["points"]),
                         why, when(r["latest_abuse_event"]),
                         "Yes" if r["new_this_week"] else "No", r["family_id"]))  # fmt: skip
    header = ("Role", "Rank", "Name", "Date of birth", "Points", "Why", "Latest abuse event",
              "New this week", "Family")  # fmt: skip
    return Table(header, rows)


def outcomes_table(report: Report) -> Table:
    return Table(HEADER, [x.cells() for x in lines(report.report)], people=False)


def _cell(value: str) -> str:
    # a spreadsheet runs a cell that starts like a formula: quote it (CSV injection)
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def csv_download(table: Table, filename: str) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.header)
    writer.writerows([_cell(c) for c in row] for row in table.rows)
    return Response(
        out.getvalue(), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"',
                 "Cache-Control": "no-store"},
    )  # fmt: skip


def _text(request: Request, name: str, limit: int = 40) -> str | None:
    value = (request.query_params.get(name) or "").strip()[:limit]
    return value or None


def _number(request: Request, name: str, default: int, errors: list[dict[str, str]]) -> int:
    raw = request.query_params.get(name) or str(default)
    if not raw.isdigit() or not 1 <= int(raw) <= 100:
        errors.append({"field": name, "message": "Enter a whole number from 1 to 100"})
        return default
    return int(raw)


async def _report(fn: Any, *args: Any, field: str, errors: list[dict[str, str]]) -> Report | None:
    """The service's answer, or None with a form error when a parameter is unusable."""
    try:
        report: Report = await call_service(fn, *args)
    except PageError as exc:
        if exc.status != 422:
            raise
        errors.append({"field": field, "message": exc.message.capitalize()})
        return None
    return report


@router.get("/reports/repeat", response_class=HTMLResponse)
@router.get("/reports/repeat.csv", response_class=HTMLResponse)
async def repeat_page(request: Request, session: SessionDep, services: ServicesDep) -> Response:
    """Victims by linked perpetrators and perpetrators by linked victims, page or CSV."""
    errors: list[dict[str, str]] = []
    area, min_links = _text(request, "area"), _number(request, "min_links", 2, errors)
    args = (services, session.principal, PURPOSE, area, min_links, None)
    report = await _report(repeat, *args, field="area", errors=errors)
    table = repeat_table(report) if report else Table((), [])
    if request.url.path.endswith(".csv") and report is not None and not errors:
        return csv_download(table, "repeat-report.csv")
    return page(
        request, "report.html", 400 if errors else 200, title="Repeat report",
        nav="/reports/repeat", table=table, report=report, errors=errors,
        fields=[("area", "Marac area", area or ""), ("min_links", "Linked at least", min_links)],
        action="/reports/repeat", csv=f"/reports/repeat.csv?{request.url.query}",
    )  # fmt: skip


@router.get("/reports/central-list", response_class=HTMLResponse)
@router.get("/reports/central-list.csv", response_class=HTMLResponse)
async def central_page(request: Request, session: SessionDep, services: ServicesDep) -> Response:
    """The week's most vulnerable victims and most dangerous perpetrators, page or CSV."""
    errors: list[dict[str, str]] = []
    area, week = _text(request, "area"), _text(request, "week", 10)
    top = _number(request, "top", 10, errors)
    # the only unusable things: no area for a reader bound to none, or a week not a week
    field = "area" if area is None and session.principal.area is None else "week"
    args = (services, session.principal, PURPOSE, area, week, top)
    report = await _report(central, *args, field=field, errors=errors)
    table = central_table(report) if report else Table((), [])
    if request.url.path.endswith(".csv") and report is not None and not errors:
        return csv_download(table, f"central-list-{report.report.get('week', 'week')}.csv")
    return page(
        request, "report.html", 400 if errors else 200, title="Weekly central list",
        nav="/reports/central-list", table=table, report=report, errors=errors,
        fields=[("area", "Marac area", area or ""), ("week", "Week (like 2026-W10)", week or ""),
                ("top", "How many of each", top)],
        action="/reports/central-list", csv=f"/reports/central-list.csv?{request.url.query}",
    )  # fmt: skip


@router.get("/reports/outcomes", response_class=HTMLResponse)
@router.get("/reports/outcomes.csv", response_class=HTMLResponse)
async def outcomes_page(request: Request, session: SessionDep, services: ServicesDep) -> Response:
    """The area's outcomes over a period, figures only, page or CSV."""
    errors: list[dict[str, str]] = []
    area = _text(request, "area")
    start, end = _text(request, "start", 10), _text(request, "end", 10)
    args = (services, session.principal, PURPOSE, area, start, end)
    report = await _report(outcomes, *args, field="start", errors=errors)
    for e in errors:  # the message says which field cannot be used
        said = e["message"].lower()
        e["field"] = "area" if "area" in said else "end" if "end date" in said else "start"
    table = outcomes_table(report) if report else Table((), [], people=False)
    if request.url.path.endswith(".csv") and report is not None and not errors:
        body = report.report
        return csv_download(table, f"outcomes-{body['area']}-{body['start']}-{body['end']}.csv")
    return page(
        request, "report.html", 400 if errors else 200, title="Outcomes report",
        nav="/reports/outcomes", table=table, report=report, errors=errors,
        fields=[("area", "Marac area", area or ""),
                ("start", "From (like 2026-01-31)", start or ""),
                ("end", "To (like 2026-12-31)", end or "")],
        action="/reports/outcomes", csv=f"/reports/outcomes.csv?{request.url.query}",
    )  # fmt: skip
