"""Alerts for Marac chairs and coordinators: which the reader may see (every triggering event
shared), shown with names after the audit record. The routes (hub/entrypoints/api/alerts.py,
alert_stream.py) parse and answer; the rules of who sees what are in their docstrings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel

from consent.decision import Decision
from hub.adapters.sql.alerts import AlertQuery, count_alerts, current_revision
from hub.adapters.sql.alerts import list_alerts as query_alerts
from hub.adapters.sql.principals import Principal
from hub.contract.parse import error_entry
from hub.domain.alerts import StoredAlert
from hub.services.access import area_in_scope
from hub.services.context import HubContext
from hub.services.disclosure import PolicyPoint
from hub.services.errors import Unusable

# "new" includes "reopened" (dismissed, then a triggering event arrived after the dismissal)
Status = Literal["new", "reopened", "acknowledged", "on_agenda", "dismissed"]


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


@dataclass
class ScreenedAlerts:
    """Alerts the reader may see, the decisions that say so, and why others were withheld."""

    shown: list[StoredAlert]
    decisions: list[Decision]
    refusals: list[str]


def screen_alerts(
    services: HubContext,
    policy: PolicyPoint,
    principal: Principal,
    purpose: str,
    alerts: Sequence[StoredAlert],
) -> ScreenedAlerts:
    """Keep the alerts whose every triggering event the policy shares with the reader. The
    hub's own events (clock, decisions) hold nothing an agency shared, so they are not asked
    about; an alert with no agency trigger left is withheld."""
    out = ScreenedAlerts([], [], [])
    refusals: set[str] = set()
    # every trigger read in one go and decided once (alerts share triggers): per alert, one
    # read per trigger and one decision call each made a page of alerts take seconds
    stored = policy.held(i for a in alerts for i in a.triggering_event_ids)
    agency_items = [h.item for h in stored.values() if h.agency_type != "hub"]
    decided = dict(
        zip(
            (i.hub_id for i in agency_items),
            policy.decide_items(principal, purpose, agency_items) if agency_items else [],
            strict=True,
        )
    )
    for alert in alerts:
        triggers = [stored[i] for i in alert.triggering_event_ids if i in stored]
        held = [h.item for h in triggers if h.agency_type != "hub"]
        verdicts = [decided[i.hub_id] for i in held]
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
    services: HubContext,
    policy: PolicyPoint,
    principal: Principal,
    purpose: str,
    action: str,
    screened: ScreenedAlerts,
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


def alert_query(
    principal: Principal,
    area: str | None,
    status_: str | None,
    rule: str | None,
    date_from: date | None,
    date_to: date | None,
    limit: int,
    offset: int = 0,
    urgent_first: bool = False,
) -> AlertQuery:
    if date_from is not None and date_to is not None and date_to < date_from:
        msg = "'to' is before 'from'; give an earlier 'from' or a later 'to'"
        raise Unusable(msg, [error_entry(("query", "to"), msg, "date_order")])
    return AlertQuery(
        area=area_in_scope(principal, area), status=status_, rule=rule,
        date_from=date_from, date_to=date_to, limit=limit, offset=offset,
        urgent_first=urgent_first,
    )  # fmt: skip


def list_alerts(
    services: HubContext, principal: Principal, purpose: str, q: AlertQuery
) -> AlertList:
    """Alerts, latest event first, each shown only if the reader may see every event that
    triggered it; the disclosure is audited before the answer (raises AuditError)."""
    revision = current_revision(services.engine)
    rows = query_alerts(services.engine, q)
    screened = screen_alerts(services, services.policy, principal, purpose, rows)
    shown, record_id = disclose(
        services, services.policy, principal, purpose, "GET /v1/alerts", screened
    )
    return AlertList(
        alerts=shown, withheld=len(rows) - len(shown), refusals=screened.refusals,
        revision=revision, audit_record_id=record_id,
    )  # fmt: skip


def count_matching(services: HubContext, q: AlertQuery) -> int:
    """How many alerts match q's filters in the reader's scope (a page count for paging;
    withheld ones included, as each page says how many it withholds)."""
    return count_alerts(services.engine, q)
