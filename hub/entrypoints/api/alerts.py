"""Alerts for Marac chairs and coordinators, through the policy point.

- ``GET /v1/alerts`` (here): a filtered list (area, status, rule, event-time dates);
- ``GET /v1/alerts/stream`` (alert_stream.py): new and changed alerts, live;
- ``POST /v1/alerts/{alert_id}/acknowledge | agenda | dismiss`` (alert_actions.py): the
  lifecycle, each decision stored as a hub event that the worker turns into the status.

Who sees what, on every one of them:
- Only Marac chairs and coordinators (consent.policy MARAC_ROLES). One whose principal has an
  area (``hub users add --area``) sees and acts on that area's alerts only; asking for another
  area is a 403 that says so. One without an area sees every area.
- An alert is shown only when the sharing policy lets the reader see every event that
  triggered it; otherwise it is counted as withheld, with the refusals' reasons. People are
  shown by token and, because the reader may see every triggering event, by name (from the
  sealed vault; None when it holds no name or the person was erased). So names go with every
  alert shown, and a reader who may not see all the triggers sees neither alert nor names.
- Every answer that shows alerts is audited first (503 and nothing shown if it cannot be).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel

from audit.chain import AuditError
from consent.decision import Decision
from consent.policy import MARAC_ROLES
from hub.adapters.sql.alerts import AlertQuery, current_revision
from hub.adapters.sql.alerts import list_alerts as query_alerts
from hub.adapters.sql.principals import Principal
from hub.contract.parse import error_entry
from hub.domain.alerts import StoredAlert
from hub.domain.events import CanonicalEvent
from hub.entrypoints.api.deps import PolicyDep, PrincipalDep, Services, ServicesDep
from hub.services.disclosure import PolicyPoint

router = APIRouter(prefix="/v1", tags=["alerts"])


class Purpose(StrEnum):
    marac_case_preparation = "marac_case_preparation"
    marac_meeting = "marac_meeting"
    safeguarding_review = "safeguarding_review"


# "new" includes "reopened" (dismissed, then a triggering event arrived after the dismissal)
Status = Literal["new", "reopened", "acknowledged", "on_agenda", "dismissed"]
RULE = r"^[a-z][a-z0-9_]{0,63}$"
AREA = r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$"


class PersonOut(BaseModel):
    token: str
    name: str | None = None


class AlertOut(BaseModel):
    alert_id: str
    rule: str
    family_id: str
    area: str
    victim_token: str
    subject_tokens: list[str]
    person_ids: list[str]
    people: list[PersonOut]
    triggering_event_ids: list[str]
    event_time: datetime
    raised_at: datetime
    updated_at: datetime
    reason: str
    recommended_action: str
    lawful_basis: str | None
    due: datetime | None
    status: str
    status_detail: dict[str, Any]
    revision: int


class AlertList(BaseModel):
    alerts: list[AlertOut]
    withheld: int
    refusals: list[str]
    revision: int  # connect the stream with Last-Event-ID (or ?after=) set to this
    audit_record_id: str | None


AUDIT_UNAVAILABLE = (
    "the audit log cannot be written just now, so nothing is shown; try again shortly and "
    "tell the hub's administrator if it persists"
)


def audit_unavailable() -> HTTPException:
    return HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, AUDIT_UNAVAILABLE)


def marac_only(principal: Principal, what: str = "read alerts") -> None:
    if principal.kind != "person" or principal.role not in MARAC_ROLES:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"role '{principal.role}' may not {what}; alerts go to Marac chairs and coordinators",
        )


def area_in_scope(principal: Principal, asked: str | None) -> str | None:
    """The area the reader may look at: their own when they have one (asking for another is
    a 403), else what they asked for (None: every area)."""
    if principal.area is None:
        return asked
    if asked is None or asked == principal.area:
        return principal.area
    raise HTTPException(
        status.HTTP_403_FORBIDDEN,
        f"you act for Marac area '{principal.area}'; alerts of area '{asked}' go to that "
        "area's chair and coordinator",
    )


@dataclass
class Screened:
    """Alerts the reader may see, the decisions that say so, and why others were withheld."""

    shown: list[StoredAlert]
    decisions: list[Decision]
    refusals: list[str]
    triggers: dict[str, list[CanonicalEvent]]


def screen(
    services: Services,
    policy: PolicyPoint,
    principal: Principal,
    purpose: str,
    alerts: Sequence[StoredAlert],
) -> Screened:
    """Keep the alerts whose every triggering event the policy shares with the reader. The
    hub's own events (clock, decisions) hold nothing an agency shared, so they are not asked
    about; an alert with no agency trigger left is withheld."""
    store = services.ingress.store
    out = Screened([], [], [], {})
    refusals: set[str] = set()
    for alert in alerts:
        triggers = [e for i in alert.triggering_event_ids if (e := store.get(i)) is not None]
        out.triggers[alert.alert_id] = triggers
        held = [e for e in triggers if e.agency_type != "hub"]
        verdicts = policy.decide(principal, purpose, held) if held else []
        if held and all(d.shared for d in verdicts):
            out.shown.append(alert)
            out.decisions.extend(verdicts)
        else:
            refusals |= {d.reason for d in verdicts if not d.shared}
    out.refusals = sorted(refusals)
    return out


def alert_out(a: StoredAlert, names: dict[str, dict[str, str | None]]) -> AlertOut:
    return AlertOut(
        alert_id=a.alert_id, rule=a.rule, family_id=a.family_id, area=a.area,
        victim_token=a.victim_token, subject_tokens=list(a.subject_tokens),
        person_ids=list(a.person_ids),
        people=[PersonOut(token=t, name=names.get(t, {}).get("name")) for t in a.subject_tokens],
        triggering_event_ids=list(a.triggering_event_ids), event_time=a.event_time,
        raised_at=a.raised_at, updated_at=a.updated_at, reason=a.reason,
        recommended_action=a.recommended_action, lawful_basis=a.lawful_basis, due=a.due,
        status=a.status, status_detail=a.status_detail, revision=a.revision,
    )  # fmt: skip


AUDITED_FIELDS = sorted(set(AlertOut.model_fields) | {"people.name"})


def disclose(
    services: Services,
    policy: PolicyPoint,
    principal: Principal,
    purpose: str,
    action: str,
    screened: Screened,
) -> tuple[list[AlertOut], str | None]:
    """The alerts as shown, with names, after the audit record (raises AuditError)."""
    if not screened.shown:
        return [], None
    tokens = [t for a in screened.shown for t in a.subject_tokens]
    record_id = policy.audit(
        principal, purpose, action, screened.decisions, tokens,
        [a.alert_id for a in screened.shown], AUDITED_FIELDS,
    )  # fmt: skip
    names = services.vault.names(tokens)
    return [alert_out(a, names) for a in screened.shown], record_id


Area = Annotated[str | None, Query(pattern=AREA, description="a Marac area; yours if you have one")]
Rule = Annotated[str | None, Query(pattern=RULE, description="e.g. visible_high_risk")]
From = Annotated[date | None, Query(alias="from", description="event time on or after (UTC day)")]
To = Annotated[date | None, Query(alias="to", description="event time on or before (UTC day)")]
StatusQ = Annotated[Status | None, Query(alias="status")]


def alert_query(
    principal: Principal,
    area: str | None,
    status_: str | None,
    rule: str | None,
    date_from: date | None,
    date_to: date | None,
    limit: int,
) -> AlertQuery:
    if date_from is not None and date_to is not None and date_to < date_from:
        msg = "'to' is before 'from'; give an earlier 'from' or a later 'to'"
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, [error_entry(("query", "to"), msg, "date_order")]
        )
    return AlertQuery(
        area=area_in_scope(principal, area), status=status_, rule=rule,
        date_from=date_from, date_to=date_to, limit=limit,
    )  # fmt: skip


READ_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid API key"},
    403: {"description": "Only Marac chairs and coordinators, each for their own area"},
    503: {"description": "The disclosure could not be audited, so nothing is shown"},
}


@router.get("/alerts", response_model=AlertList, responses=READ_RESPONSES)
async def get_alerts(
    principal: PrincipalDep,
    services: ServicesDep,
    policy: PolicyDep,
    purpose: Purpose = Purpose.marac_case_preparation,
    area: Area = None,
    status_: StatusQ = None,
    rule: Rule = None,
    date_from: From = None,
    date_to: To = None,
    limit: int = Query(100, ge=1, le=1000),
) -> AlertList:
    """Alerts, latest event first, filtered; each shown only if the reader may see every
    event that triggered it. The disclosure is audited before the answer."""
    marac_only(principal)
    q = alert_query(principal, area, status_, rule, date_from, date_to, limit)
    revision = await asyncio.to_thread(current_revision, services.engine)
    rows = await asyncio.to_thread(query_alerts, services.engine, q)
    screened = await asyncio.to_thread(screen, services, policy, principal, purpose.value, rows)
    try:
        shown, record_id = await asyncio.to_thread(
            disclose, services, policy, principal, purpose.value, "GET /v1/alerts", screened
        )
    except AuditError:
        raise audit_unavailable() from None
    return AlertList(
        alerts=shown, withheld=len(rows) - len(shown), refusals=screened.refusals,
        revision=revision, audit_record_id=record_id,
    )  # fmt: skip
