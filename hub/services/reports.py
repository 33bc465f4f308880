"""The repeat report, the weekly central list and the outcomes report for Marac chairs and
coordinators, through the policy point (hub/domain/reports draws them; docs/reports.md
explains the ranking and the measures). GET /v1/reports/* and the report pages
(hub/entrypoints/web/reports.py) both call here, so they screen, answer and audit alike.

Each family is screened as the family view screens it (hub/services/families.py): the report is
drawn from the events the sharing policy shares with the reader, so an event it withholds
(a consent withdrawn, say) counts for nothing. A reader bound to an area sees that area only.
Names come from the sealed vault. The disclosure (the families listed, their people and the
events behind them) is audited before the answer. The outcomes report shows figures only, no
names; its audit record still names the families and people whose events were counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel

from consent.decision import Decision
from hub.adapters.sql.families import iter_family_states
from hub.adapters.sql.principals import Principal
from hub.contract.parse import error_entry
from hub.domain.areas import AreaBook, victim_area
from hub.domain.family import FamilyProjection
from hub.domain.reports import (
    Period,
    ReportError,
    Week,
    central_list,
    outcomes_report,
    repeat_report,
    upto,
)
from hub.services.access import area_in_scope, marac_only
from hub.services.context import HubContext
from hub.services.errors import Unusable
from hub.services.families import ScreenedFamily, screen_family


class Report(BaseModel):
    report: dict[str, Any]
    names: dict[str, dict[str, Any]]  # token → name and date of birth (Marac readers)
    withheld: int  # events left out because the policy does not share them with the reader
    audit_record_id: str | None


def _families(services: HubContext, book: AreaBook, area: str | None) -> Iterator[FamilyProjection]:
    for _fid, state in iter_family_states(services.engine):
        p = FamilyProjection.from_dict(state)
        if area is None or victim_area(p, book).name == area:
            yield p


def _screened(
    services: HubContext, principal: Principal, purpose: str,
    families: Iterable[FamilyProjection],
) -> dict[str, ScreenedFamily]:  # fmt: skip
    policy = services.policy
    return {p.family_id: screen_family(services, policy, principal, purpose, p) for p in families}


def _disclose(
    services: HubContext, principal: Principal, purpose: str, action: str,
    seen: dict[str, ScreenedFamily], listed: set[str], tokens: set[str], report: dict[str, Any],
    named: bool = True,
) -> Report:  # fmt: skip
    """Audit the families listed (their decisions and the people shown, with their names
    unless the report shows figures only), then answer."""
    decisions: list[Decision] = [d for f in sorted(listed) for d in seen[f].decisions]
    record_id = None
    if listed:
        record_id = services.policy.audit(
            principal, purpose, action, decisions, sorted(tokens),
            [d.hub_id for d in decisions if d.shared],
            ["report", "names.name", "names.date_of_birth"] if named else ["report"],
        )  # fmt: skip
    names = services.vault.names(tokens) if tokens and named else {}
    withheld = sum(s.withheld for s in seen.values())
    return Report(report=report, names=names, withheld=withheld, audit_record_id=record_id)


def repeat(
    services: HubContext, principal: Principal, purpose: str,
    area: str | None, min_links: int, as_of: datetime | None,
) -> Report:  # fmt: skip
    """Victims by number of linked perpetrators, perpetrators by number of linked victims."""
    marac_only(principal, "read reports")
    area = area_in_scope(principal, area)
    if as_of is not None and as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=UTC)
    book = services.areas
    seen = _screened(services, principal, purpose, _families(services, book, area))
    visible = [s.projection for s in seen.values()]
    if area is not None:
        visible = [p for p in visible if p.timeline and victim_area(p, book).name == area]
    report = repeat_report(visible, min_links, as_of)
    rows = [*report.victims, *report.perpetrators]
    listed = {r.family_id for r in rows} | {x.family_id for r in rows for x in r.linked}
    tokens = {r.token for r in rows}
    body = report.to_dict() | {"area": area}
    action = "GET /v1/reports/repeat"
    return _disclose(services, principal, purpose, action, seen, listed, tokens, body)


def _unusable(field: str, msg: str, kind: str = "value_error") -> Unusable:
    return Unusable(msg, [error_entry(("query", field), msg, kind)])


def central(
    services: HubContext, principal: Principal, purpose: str,
    area: str | None, week: str | None, top: int,
) -> Report:  # fmt: skip
    """The area's most vulnerable victims and most dangerous perpetrators for the week (an
    ISO week, 2026-W10, or a date in it; this week if None), as of the week's end."""
    marac_only(principal, "read reports")
    chosen = area_in_scope(principal, area)
    if chosen is None:
        raise _unusable("area", "name the Marac area (?area=...)", "missing")
    book = services.areas
    try:
        when = (
            Week.parse(week)
            if week
            else Week.of(book.get(chosen).calendar.local_date(datetime.now(UTC)))
        )
    except ReportError as exc:
        raise _unusable("week", str(exc)) from None
    _start, end = when.bounds(book.get(chosen))
    candidates = (
        p for p in _families(services, book, None) if victim_area(upto(p, end), book).name == chosen
    )
    seen = _screened(services, principal, purpose, candidates)
    result = central_list([s.projection for s in seen.values()], book, chosen, when, top)
    rows = [*result.victims, *result.perpetrators]
    listed = {r.family_id for r in rows}
    tokens = {r.token for r in rows}
    action = "GET /v1/reports/central-list"
    return _disclose(services, principal, purpose, action, seen, listed, tokens, result.to_dict())


def outcomes(
    services: HubContext, principal: Principal, purpose: str,
    area: str | None, start: date | str | None, end: date | str | None,
) -> Report:  # fmt: skip
    """The area's outcomes over the period (default: its window, 12 months, ending today):
    figures only, drawn from the events the policy shares with the reader."""
    marac_only(principal, "read reports")
    chosen = area_in_scope(principal, area)
    if chosen is None:
        raise _unusable("area", "name the Marac area (?area=...)", "missing")
    settings = services.areas.get(chosen)
    today = settings.calendar.local_date(datetime.now(UTC))
    try:
        period = Period.parse(start, end, settings, today)
    except ReportError as exc:
        raise _unusable("end" if "end date" in str(exc) else "start", str(exc)) from None
    book = services.areas
    seen = _screened(services, principal, purpose, _families(services, book, chosen))
    visible = [s.projection for s in seen.values()]
    visible = [p for p in visible if p.timeline and victim_area(p, book).name == chosen]
    result = outcomes_report(visible, settings, period)
    listed = set(result.families)
    tokens = {t for f in listed for t in seen[f].shared_tokens()}
    action = "GET /v1/reports/outcomes"
    return _disclose(
        services, principal, purpose, action, seen, listed, tokens, result.to_dict(), named=False
    )
