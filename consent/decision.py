"""The policy decision: may this recipient see this item, for this purpose, and which fields?

``decide_disclosure`` is pure: the policy, the subject's consent records and the time are
passed in. Its Decision is both what filters the view and what the audit log keeps.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from consent.bases import BASES, OVERRIDE_REASONS, SAFEGUARDING_CONDITION, describe
from consent.policy import SharingPolicy
from consent.records import ConsentRecord

# Fields every shared view carries, whatever the view (none of them is content).
ENVELOPE_FIELDS = ("hub_id", "type", "agency_id")
TIMED_FIELDS = ("time", "subjects")


@dataclass(frozen=True, slots=True)
class Item:
    """Something about to be shown: one stored event, described without its content."""

    hub_id: str
    event_type: str
    agency_id: str
    subjects: tuple[str, ...]
    lawful_basis: str | None
    consent_ref: str | None
    data_fields: tuple[str, ...]
    sealed_fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Recipient:
    principal_id: str
    role: str
    agency_id: str | None


@dataclass(frozen=True, slots=True)
class Override:
    """Sharing without consent under DPA 2018 Sch 1 para 18, decided by a person."""

    reason: str  # a key of OVERRIDE_REASONS
    justification: str
    decided_by: str

    def __post_init__(self) -> None:
        if self.reason not in OVERRIDE_REASONS:
            raise ValueError(f"override reason must be one of {', '.join(OVERRIDE_REASONS)}")
        problem = justification_problem(self.justification)
        if problem is not None:
            raise ValueError(problem)


# An override shares without consent, so an IG officer reviews each one (GET /v1/ig/overrides)
# and must be able to tell from its justification why it was needed: punctuation or a word
# or two does not say that.
JUSTIFICATION_MIN_CHARS = 20
JUSTIFICATION_MIN_WORDS = 3
JUSTIFICATION_MAX_CHARS = 2000
_WORD = re.compile(r"[^\W\d_]{2,}")  # two or more letters, in any alphabet


def justification_problem(text: str) -> str | None:
    """What is wrong with an override's justification, or None when it will do."""
    words = len(_WORD.findall(text))
    stripped = text.strip()
    if len(stripped) > JUSTIFICATION_MAX_CHARS:
        most = JUSTIFICATION_MAX_CHARS
        return f"the justification is {len(stripped)} characters; keep it to {most} or fewer"
    if len(stripped) < JUSTIFICATION_MIN_CHARS or words < JUSTIFICATION_MIN_WORDS:
        return (
            "an override shares without consent and an IG officer reviews it, so its "
            f"justification must say why in words: at least {JUSTIFICATION_MIN_WORDS} words "
            f"and {JUSTIFICATION_MIN_CHARS} characters, e.g. 'victim cannot be reached before "
            "the meeting'"
        )
    return None


@dataclass(frozen=True, slots=True)
class Decision:
    hub_id: str
    outcome: str  # "share" or "refuse"
    view: str | None
    fields: tuple[str, ...]
    basis: str | None
    consent_ref: str | None
    consent_status: str | None
    override: Override | None
    reason: str
    rule_line: int | None

    @property
    def shared(self) -> bool:
        return self.outcome == "share"


def view_fields(view: str, item: Item, opened: Iterable[str] = ()) -> tuple[str, ...]:
    """The fields a view shows; a summary leaves sealed fields out, except those the rule
    opens as facts (``opened``)."""
    if view == "involvement_only":
        return ENVELOPE_FIELDS
    if view == "marker_since":
        return (*ENVELOPE_FIELDS, *TIMED_FIELDS, "marker", "since")
    if view == "occurrence":  # that it happened, when and to whom: no content at all
        return (*ENVELOPE_FIELDS, *TIMED_FIELDS)
    kept = set(opened)
    data = (
        item.data_fields
        if view == "full"
        else tuple(f for f in item.data_fields if f not in item.sealed_fields or f in kept)
    )
    return (*ENVELOPE_FIELDS, *TIMED_FIELDS, *data)


def _refuse(item: Item, reason: str, line: int | None, consent: ConsentRecord | None) -> Decision:
    return Decision(
        item.hub_id, "refuse", None, (), None, item.consent_ref,
        consent.status if consent else None, None, reason, line,
    )  # fmt: skip


def decide_disclosure(
    item: Item,
    recipient: Recipient,
    purpose: str,
    policy: SharingPolicy,
    consents: Mapping[str, ConsentRecord],
    at: datetime,
    override: Override | None = None,
    granted_by: str | None = None,
) -> Decision:
    """Share (which view, on which basis) or refuse (why), for one item. granted_by names the
    answered access request that lifts an "involvement only" view to a summary."""
    own = recipient.agency_id is not None and recipient.agency_id == item.agency_id
    rule = policy.rule_for(item.event_type, recipient.role, purpose, own)
    if rule is None:
        return _refuse(
            item,
            f"no rule of the sharing policy lets '{recipient.role}' see {item.event_type} "
            f"for '{purpose}'",
            None,
            None,
        )
    if rule.refuse is not None:
        return _refuse(item, rule.refuse, rule.line, None)
    assert rule.view is not None
    view = rule.view
    if view == "involvement_only" and granted_by is not None:
        view = "summary"
    fields = view_fields(view, item, rule.opened if view == rule.view else ())
    basis = BASES.get(item.lawful_basis or "")
    granted = f" (more granted on request {granted_by})" if view != rule.view else ""
    if basis is not None and not basis.relies_on_consent:
        return Decision(
            item.hub_id, "share", view, fields, basis.code, None,
            _consent_note(item, consents), None,
            f"shared under {describe(basis.code)}{granted}" + _withdrawn_note(item, consents),
            rule.line,
        )  # fmt: skip
    decision = _on_consent(
        item, recipient, purpose, consents, at, override, view, fields, rule.line
    )
    return replace(decision, reason=decision.reason + granted) if decision.shared else decision


def _on_consent(
    item: Item,
    recipient: Recipient,
    purpose: str,
    consents: Mapping[str, ConsentRecord],
    at: datetime,
    override: Override | None,
    view: str,
    fields: tuple[str, ...],
    line: int,
) -> Decision:
    record = consents.get(item.consent_ref or "")
    problem = None
    if record is None:
        problem = f"it relies on consent {item.consent_ref!r}, of which the hub has no record"
    elif record.status != "given":
        when = f" on {record.withdrawn_at.date().isoformat()}" if record.withdrawn_at else ""
        problem = f"it relies on consent {record.consent_ref}, which was {record.status}{when}"
    elif not record.covers(purpose, recipient.role, recipient.agency_id, item.event_type, at):
        problem = (
            f"consent {record.consent_ref} does not cover '{purpose}' for '{recipient.role}' "
            f"at {at.date().isoformat()}"
        )
    if problem is None:
        assert record is not None
        return Decision(
            item.hub_id, "share", view, fields, "ukgdpr-6-1-a", record.consent_ref, "given",
            None, f"shared with consent {record.consent_ref}", line,
        )  # fmt: skip
    if override is not None:
        return Decision(
            item.hub_id, "share", view, fields, SAFEGUARDING_CONDITION, item.consent_ref,
            record.status if record else None, override,
            f"shared without consent ({OVERRIDE_REASONS[override.reason]}): {problem}", line,
        )  # fmt: skip
    return _refuse(item, f"not shared: {problem}", line, record)


def _subject_consents(item: Item, consents: Mapping[str, ConsentRecord]) -> list[ConsentRecord]:
    return [c for c in consents.values() if c.subject in item.subjects]


def _consent_note(item: Item, consents: Mapping[str, ConsentRecord]) -> str | None:
    statuses = {c.status for c in _subject_consents(item, consents)}
    return "withdrawn" if "withdrawn" in statuses else (statuses.pop() if statuses else None)


def _withdrawn_note(item: Item, consents: Mapping[str, ConsentRecord]) -> str:
    withdrawn = [c.consent_ref for c in _subject_consents(item, consents) if c.withdrawn_at]
    if not withdrawn:
        return ""
    return (
        f"; consent {', '.join(sorted(withdrawn))} was withdrawn, which does not affect this basis"
    )
