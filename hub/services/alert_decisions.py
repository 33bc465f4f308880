"""Decisions on alerts (acknowledge, put on the agenda, dismiss), each stored as a hub event.

hub/domain/alert_lifecycle.py holds the transitions and why a decision is stored at most once.
A reader may act only on an alert of their area that the policy would show them (every
triggering event shared). Acting rests on reading the alert, so the decision is audited
before it is stored (AuditError and nothing stored if it cannot be).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel

from hub.adapters.kafka import topics
from hub.adapters.sql.alerts import get_alert
from hub.adapters.sql.families import events_by_id
from hub.adapters.sql.principals import Principal
from hub.domain import alert_lifecycle as lifecycle
from hub.services.access import marac_only, require_area
from hub.services.alerts import screen_alerts
from hub.services.context import HubContext
from hub.services.errors import Conflict, Forbidden, NotFound


class Decided(BaseModel):
    alert_id: str
    action: str
    hub_id: str
    status: str  # what the alert's status becomes once the worker applies the decision


def decide(
    services: HubContext, principal: Principal, alert_id: str, verb: str, purpose: str,
    extra: dict[str, Any],
) -> tuple[Decided, bool]:  # fmt: skip
    """Check, audit, store the decision event; (answer, was it a repeat). Raises NotFound,
    Forbidden, Conflict, or AuditError (nothing stored)."""
    marac_only(principal, "act on alerts")
    policy = services.policy
    alert = get_alert(services.engine, alert_id)
    if alert is None:
        raise NotFound(f"no alert {alert_id}")
    action = f"POST /v1/alerts/{alert_id}/{verb}"
    require_area(services, principal, purpose, action, [alert.area], alert.subject_tokens)
    screened = screen_alerts(services, policy, principal, purpose, [alert])
    if not screened.shown:
        raise Forbidden(
            "this alert rests on events the sharing policy does not show you, so you cannot "
            "act on it: " + "; ".join(screened.refusals),
        )
    store = services.ingress.store
    pending = [e for i in lifecycle.pending_ids(alert_id, alert.revision) if (e := store.get(i))]
    mine = next((e for e in pending if e.type == lifecycle.ACTIONS[verb].event_type), None)
    now = datetime.now(UTC)
    stored = events_by_id(services.engine, list(alert.triggering_event_ids))
    triggers = [stored[i] for i in alert.triggering_event_ids if i in stored]
    subject = lifecycle.acting_subject(alert.victim_token, alert.subject_tokens, triggers)
    event = lifecycle.alert_decision_event(
        verb, alert_id, alert.revision, subject, principal.principal_id, principal.role, now, extra
    )
    if mine is not None and lifecycle.alert_decision_hash(mine) == lifecycle.alert_decision_hash(
        event
    ):
        # the same person sending the same decision again (a retry): the same answer
        return Decided(
            alert_id=alert_id, action=verb, hub_id=mine.hub_id,
            status=lifecycle.ACTIONS[verb].status,
        ), True  # fmt: skip
    current, detail = lifecycle.alert_status_now(alert.status, alert.status_detail, pending)
    meeting = extra.get("meeting_date")
    try:
        lifecycle.check(
            verb, current, detail, None if meeting is None else date.fromisoformat(meeting)
        )
    except lifecycle.LifecycleConflict as exc:
        raise Conflict(str(exc)) from None
    # Audited before it is stored (fail closed): acting on an alert rests on reading it.
    policy.audit(
        principal, purpose, action, screened.decisions,
        list(alert.subject_tokens), [alert_id, event.hub_id], ["alert_id", "status"],
        f"alert {verb}",
    )  # fmt: skip
    result = store.append(
        event, lifecycle.alert_decision_hash(event), services.settings.topic(topics.EVENTS)
    )
    if not result.stored and not result.same_content:
        raise Conflict(
            "someone else took this decision on this alert a moment ago; read it again",
        )
    return Decided(
        alert_id=alert_id, action=verb, hub_id=event.hub_id, status=lifecycle.ACTIONS[verb].status
    ), not result.stored  # fmt: skip
