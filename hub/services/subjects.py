"""What the hub holds about a person, as the reader may see it: each event decided by the
policy point (with a recorded Sch 1 para 18 override when a Marac reader gives one) and
audited before the answer."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from consent.bases import OVERRIDE_REASONS
from consent.decision import Override
from consent.policy import MARAC_ROLES
from hub.adapters.sql.principals import Principal
from hub.contract.parse import error_entry
from hub.services.access import require_case_reader, require_subjects_in_area
from hub.services.context import HubContext
from hub.services.errors import Forbidden, Unusable


class SubjectEvents(BaseModel):
    subject: str
    events: list[dict[str, Any]]
    withheld: int
    refusals: list[str]
    audit_record_id: str | None


def override_of(
    principal: Principal, reason: str | None, justification: str | None
) -> Override | None:
    """The override the reader asks for, if any (Marac chairs and coordinators only)."""
    if reason is None:
        return None
    if principal.role not in MARAC_ROLES:
        raise Forbidden("only a Marac chair or coordinator may override")
    try:
        return Override(reason, justification or "", principal.principal_id)
    except ValueError as exc:
        field = "reason" if reason not in OVERRIDE_REASONS else "justification"
        raise Unusable(
            str(exc), [error_entry(("override", field), str(exc), "value_error")]
        ) from None


def subject_events(
    services: HubContext, principal: Principal, purpose: str, token: str,
    override_reason: str | None, justification: str | None,
) -> SubjectEvents:  # fmt: skip
    """The events held about this subject, each filtered to the fields the policy allows;
    refused items are counted, not shown (raises AuditError: nothing shown). Refused
    outright (audited) to readers the policy shows nothing and to readers of another area."""
    action = f"GET /v1/subjects/{token}/events"
    require_case_reader(services, principal, purpose, action, [token])
    override = override_of(principal, override_reason, justification)
    require_subjects_in_area(services, principal, purpose, action, [token])
    policy = services.policy
    held = services.ingress.store.for_subject(token)
    decisions = policy.decide(principal, purpose, held, override)
    shown = [policy.view(e, d) for e, d in zip(held, decisions, strict=True) if d.shared]
    record_id = None
    if held:
        record_id = policy.audit(
            principal, purpose, action, decisions, [token],
            [d.hub_id for d in decisions if d.shared],
        )  # fmt: skip
    refusals = sorted({d.reason for d in decisions if not d.shared})
    return SubjectEvents(
        subject=token, events=shown, withheld=len(held) - len(shown), refusals=refusals,
        audit_record_id=record_id,
    )  # fmt: skip
