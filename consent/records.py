"""Consent records per subject, shaped like a FHIR Consent, folded from consent events."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, Protocol


# What the fold reads of a consent event, said here as Protocols so that consent needs nothing
# of hub: hub's CanonicalEvent has these members.
class NamedSubject(Protocol):
    @property
    def token(self) -> str: ...


class ConsentEvent(Protocol):
    @property
    def type(self) -> str: ...
    @property
    def time(self) -> datetime: ...
    @property
    def agency_id(self) -> str: ...
    @property
    def source_id(self) -> str: ...
    @property
    def consent_ref(self) -> str | None: ...
    @property
    def subjects(self) -> Sequence[NamedSubject]: ...
    @property
    def data(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class Provision:
    """What the consent permits (or denies): purposes, recipients, event types, a period.
    An empty recipients or event_types set means any."""

    permit: bool
    purposes: frozenset[str]
    recipients: frozenset[str]
    event_types: frozenset[str]
    start: date
    end: date | None


@dataclass(frozen=True)
class ConsentRecord:
    consent_ref: str
    subject: str
    provision: Provision
    method: str
    recorded_by_role: str
    recorded_by_agency: str
    recorded_at: datetime
    withdrawn_at: datetime | None = None

    @property
    def status(self) -> str:
        if self.withdrawn_at is not None:
            return "withdrawn"
        return "given" if self.provision.permit else "refused"

    def covers(
        self, purpose: str, role: str, agency: str | None, event_type: str, at: datetime
    ) -> bool:
        """Whether this consent, while given, permits sharing this event with this reader.
        Recipients may name a role, an agency, or "marac" (its chairs and coordinators)."""
        p = self.provision
        in_period = p.start <= at.date() and (p.end is None or at.date() <= p.end)
        names = {role, agency, "marac" if role.startswith("marac_") else None}
        return (
            in_period
            and purpose in p.purposes
            and (not p.recipients or bool(names & p.recipients))
            and (not p.event_types or event_type in p.event_types)
        )


def fold_consents(events: Iterable[ConsentEvent]) -> dict[str, ConsentRecord]:
    """Consent records by reference, from consent.recorded and consent.withdrawn events in
    any order (a withdrawal seen before its consent still applies)."""
    records: dict[str, ConsentRecord] = {}
    withdrawals: dict[str, datetime] = {}
    for e in events:
        if e.type == "consent.recorded":
            ref = e.consent_ref or e.source_id
            scope = e.data["scope"]
            records[ref] = ConsentRecord(
                consent_ref=ref,
                subject=e.subjects[0].token,
                provision=Provision(
                    permit=e.data["decision"] == "given",
                    purposes=frozenset(scope["purposes"]),
                    recipients=frozenset(scope.get("recipients", [])),
                    event_types=frozenset(scope.get("event_types", [])),
                    start=e.time.date(),
                    end=date.fromisoformat(e.data["valid_until"])
                    if e.data.get("valid_until")
                    else None,
                ),
                method=e.data["method"],
                recorded_by_role=e.data["recorded_by_role"],
                recorded_by_agency=e.agency_id,
                recorded_at=e.time,
            )
        elif e.type == "consent.withdrawn":
            ref = e.data["consent_ref"]
            withdrawals[ref] = min(e.time, withdrawals.get(ref, e.time))
    return {ref: replace(r, withdrawn_at=withdrawals.get(ref)) for ref, r in records.items()}
