"""Reports for Marac chairs and coordinators, through the policy point (hub/domain/reports.py
draws them; docs/reports.md explains the ranking).

- ``GET /v1/reports/repeat``: victims by number of linked perpetrators, perpetrators by
  number of linked victims, across families;
- ``GET /v1/reports/central-list?area=&week=``: the week's most vulnerable victims and most
  dangerous perpetrators in a Marac area.

Each family is screened as the family view screens it (hub/services/families.py): the report is
drawn from the events the sharing policy shares with the reader, so an event it withholds
(a consent withdrawn, say) counts for nothing. A reader bound to an area sees that area only.
Names come from the sealed vault. The disclosure (the families listed, their people and the
events behind them) is audited before the answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from consent.decision import Decision
from hub.adapters.sql.families import iter_family_states
from hub.adapters.sql.principals import Principal
from hub.contract.parse import error_entry
from hub.domain.areas import AreaBook, victim_area
from hub.domain.family import FamilyProjection
from hub.domain.reports import ReportError, Week, central_list, repeat_report, upto
from hub.entrypoints.api.alerts import AREA
from hub.entrypoints.api.deps import PolicyDep, PrincipalDep, Services, ServicesDep
from hub.entrypoints.api.params import IsoDateTime
from hub.services.access import Purpose, area_in_scope, marac_only
from hub.services.disclosure import PolicyPoint
from hub.services.errors import Unusable
from hub.services.families import ScreenedFamily, screen_family

router = APIRouter(prefix="/v1/reports", tags=["reports"])

RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid API key"},
    403: {"description": "Only Marac chairs and coordinators (of the area) read reports"},
    422: {"description": "A parameter is not usable; the detail says which and why"},
    503: {"description": "The disclosure could not be audited, so nothing is shown"},
}


class Report(BaseModel):
    report: dict[str, Any]
    names: dict[str, dict[str, Any]]  # token → name and date of birth (Marac readers)
    withheld: int  # events left out because the policy does not share them with the reader
    audit_record_id: str | None


def _families(services: Services, book: AreaBook, area: str | None) -> Iterator[FamilyProjection]:
    for _fid, state in iter_family_states(services.engine):
        p = FamilyProjection.from_dict(state)
        if area is None or victim_area(p, book).name == area:
            yield p


def _screened(
    services: Services, policy: PolicyPoint, principal: Principal, purpose: str,
    families: Iterable[FamilyProjection],
) -> dict[str, ScreenedFamily]:  # fmt: skip
    return {p.family_id: screen_family(services, policy, principal, purpose, p) for p in families}


def _disclose(
    services: Services, policy: PolicyPoint, principal: Principal, purpose: str, action: str,
    seen: dict[str, ScreenedFamily], listed: set[str], tokens: set[str], report: dict[str, Any],
) -> Report:  # fmt: skip
    """Audit the families listed (their decisions and the people shown), then answer."""
    decisions: list[Decision] = [d for f in sorted(listed) for d in seen[f].decisions]
    record_id = None
    if listed:
        record_id = policy.audit(
            principal, purpose, action, decisions, sorted(tokens),
            [d.hub_id for d in decisions if d.shared],
            ["report", "names.name", "names.date_of_birth"],
        )  # fmt: skip
    names = services.vault.names(tokens) if tokens else {}
    withheld = sum(s.withheld for s in seen.values())
    return Report(report=report, names=names, withheld=withheld, audit_record_id=record_id)


def _repeat(
    services: Services, policy: PolicyPoint, principal: Principal, purpose: str,
    area: str | None, min_links: int, as_of: datetime | None,
) -> Report:  # fmt: skip
    book = services.areas
    seen = _screened(services, policy, principal, purpose, _families(services, book, area))
    visible = [s.projection for s in seen.values()]
    if area is not None:
        visible = [p for p in visible if p.timeline and victim_area(p, book).name == area]
    report = repeat_report(visible, min_links, as_of)
    rows = [*report.victims, *report.perpetrators]
    listed = {r.family_id for r in rows} | {x.family_id for r in rows for x in r.linked}
    tokens = {r.token for r in rows}
    body = report.to_dict() | {"area": area}
    action = "GET /v1/reports/repeat"
    return _disclose(services, policy, principal, purpose, action, seen, listed, tokens, body)


def _central(
    services: Services, policy: PolicyPoint, principal: Principal, purpose: str,
    area: str, week: Week, top: int,
) -> Report:  # fmt: skip
    book = services.areas
    _start, end = week.bounds(book.get(area))
    candidates = (
        p for p in _families(services, book, None) if victim_area(upto(p, end), book).name == area
    )
    seen = _screened(services, policy, principal, purpose, candidates)
    result = central_list([s.projection for s in seen.values()], book, area, week, top)
    rows = [*result.victims, *result.perpetrators]
    listed = {r.family_id for r in rows}
    tokens = {r.token for r in rows}
    action = "GET /v1/reports/central-list"
    body = result.to_dict()
    return _disclose(services, policy, principal, purpose, action, seen, listed, tokens, body)


def _unusable(field: str, msg: str, kind: str = "value_error") -> Unusable:
    return Unusable(msg, [error_entry(("query", field), msg, kind)])


@router.get("/repeat", response_model=Report, responses=RESPONSES)
async def get_repeat_report(
    principal: PrincipalDep,
    services: ServicesDep,
    policy: PolicyDep,
    area: str | None = Query(None, pattern=AREA, description="only families of this area"),
    min_links: int = Query(2, ge=1, le=100, description="list people with this many links"),
    as_of: Annotated[
        IsoDateTime | None, Query(description="count events before this instant")
    ] = None,
    purpose: Purpose = Purpose.marac_meeting,
) -> Report:
    """Victims by number of linked perpetrators, perpetrators by number of linked victims."""
    marac_only(principal, "read reports")
    area = area_in_scope(principal, area)
    if as_of is not None and as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=UTC)
    return await asyncio.to_thread(
        _repeat, services, policy, principal, purpose.value, area, min_links, as_of
    )


@router.get("/central-list", response_model=Report, responses=RESPONSES)
async def get_central_list(
    principal: PrincipalDep,
    services: ServicesDep,
    policy: PolicyDep,
    area: str | None = Query(None, pattern=AREA, description="the Marac area (yours if set)"),
    week: str | None = Query(
        None, max_length=10, description="ISO week (2026-W10) or a date in it; default this week"
    ),
    top: int = Query(10, ge=1, le=100, description="how many victims and perpetrators"),
    purpose: Purpose = Purpose.marac_meeting,
) -> Report:
    """The area's most vulnerable victims and most dangerous perpetrators for the week, as of
    the week's end (docs/reports.md explains the ranking)."""
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
    return await asyncio.to_thread(
        _central, services, policy, principal, purpose.value, chosen, when, top
    )
