"""IG reports from the stores: reads the audit records and the case events, hands them to the
pure queries (audit.ig, audit.anomalies, audit.fhir). Used by `hub ig …` and /v1/ig/….

The pure functions filter every entry they are given. Which entries they are given is the
finder's choice (RecordFinder): the hub passes its SQL index of the log
(hub.adapters.sql.audit_index), which reads only the records of one subject, or of one
period, or only disclosures, along an index; without a finder every record is read. A finder
may hand over more than matches (never less), so both ways give the same answers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from audit.anomalies import repeated_reads_without_case, volume_outliers
from audit.chain import ChainedRecord
from audit.fhir import to_audit_event
from audit.ig import (
    CASE_CLOSERS,
    CASE_OPENERS,
    DISCLOSED,
    EVERYTHING,
    IG_QUERY,
    AuditEntry,
    CaseBook,
    CaseEvent,
    Criteria,
    entries_of,
    outside_open_case,
    overrides,
    sar_csv,
    sar_rows,
    select,
    summary,
)
from audit.store import SqlAuditStore
from consent.bases import BASES, OVERRIDE_REASONS, SAFEGUARDING_CONDITION

IG_PURPOSE = "information_governance"


# What the reports read of the hub's event store, said here as Protocols so that audit needs
# nothing of hub: hub's SqlEventStore and CanonicalEvent have these members.
class NamedSubject(Protocol):
    @property
    def token(self) -> str: ...


class StoredEvent(Protocol):
    @property
    def type(self) -> str: ...
    @property
    def time(self) -> datetime: ...
    @property
    def recorded_at(self) -> datetime: ...
    @property
    def subjects(self) -> Sequence[NamedSubject]: ...


class RecordFinder(Protocol):
    def matching(
        self, *, subject: str | None = None, since: datetime | None = None,
        until: datetime | None = None, outcome: str | None = None,
    ) -> Iterable[ChainedRecord]:  # fmt: skip
        """At least every record naming subject, in [since, until), of that outcome (None:
        any), in seq order."""
        ...


class EventSource(Protocol):
    def of_types(self, types: Sequence[str]) -> Iterable[StoredEvent]:
        """Every stored event of these types, in store order."""
        ...


def describe(code: str) -> str:
    """A basis, condition or override reason code in words (unknown codes as they are)."""
    if code in BASES:
        return f"{BASES[code].law} {BASES[code].label}"
    if code == SAFEGUARDING_CONDITION:
        return "UK GDPR Art 9(2)(g) and DPA 2018 Sch 1 para 18: safeguarding without consent"
    return OVERRIDE_REASONS.get(code, code)


class IgReports:
    def __init__(
        self, audit: SqlAuditStore, events: EventSource, hub_id: str = "hub",
        finder: RecordFinder | None = None,
    ) -> None:  # fmt: skip
        self._audit = audit
        self._events = events
        self._hub_id = hub_id
        self._finder = finder

    def entries(self) -> list[AuditEntry]:
        return list(entries_of(self._audit.records()))

    def candidates(self, criteria: Criteria, outcome: str | None = None) -> list[AuditEntry]:
        """The entries that may match criteria (and outcome): through the finder when there
        is one, else all of them. Callers still filter: this only narrows what is read."""
        if self._finder is None:
            return self.entries()
        found = self._finder.matching(
            subject=criteria.subject, since=criteria.since, until=criteria.until, outcome=outcome
        )
        return list(entries_of(found))

    def between(self, since: datetime | None, until: datetime | None) -> list[AuditEntry]:
        """The entries of a period (since inclusive, until exclusive), in log order."""
        criteria = Criteria(since=since, until=until)
        return select(self.candidates(criteria), criteria)

    def cases(self) -> CaseBook:
        types = sorted(CASE_OPENERS | CASE_CLOSERS)
        return CaseBook(
            CaseEvent(e.type, e.time, tuple(s.token for s in e.subjects), e.recorded_at)
            for e in self._events.of_types(types)
        )

    def disclosures(self, criteria: Criteria) -> list[dict[str, Any]]:
        return [summary(e) for e in select(self.candidates(criteria), criteria)]

    def overrides(self, criteria: Criteria = EVERYTHING) -> list[dict[str, Any]]:
        return [summary(e) for e in overrides(self.candidates(criteria), criteria)]

    def outside_case(self, criteria: Criteria = EVERYTHING) -> list[dict[str, Any]]:
        return [
            summary(f.entry) | {"without_open_case": list(f.subjects)}
            for f in outside_open_case(self.candidates(criteria, DISCLOSED), self.cases(), criteria)
        ]

    def anomalies(self, criteria: Criteria = EVERYTHING) -> dict[str, Any]:
        entries = self.candidates(criteria, DISCLOSED)  # both measures count disclosures only
        return {
            "outliers": [o._asdict() for o in volume_outliers(entries, criteria)],
            "repeated_reads_without_case": [
                r._asdict() | {"record_ids": list(r.record_ids)}
                for r in repeated_reads_without_case(entries, self.cases(), criteria)
            ],
        }

    def subject_access_report(self, token: str) -> dict[str, Any]:
        return {
            "subject": token,
            "generated_at": datetime.now(UTC).isoformat(),
            "about": "every recorded disclosure of, or request about, this person's "
            "information held by the hub: who (role and agency), when, which fields, why, "
            "on which basis, consent status and any override of consent",
            "records": sar_rows(self.candidates(Criteria(subject=token)), token, describe),
        }

    def subject_access_csv(self, token: str) -> str:
        return sar_csv(sar_rows(self.candidates(Criteria(subject=token)), token, describe))

    def fhir_lines(self) -> Iterator[str]:
        """Every record as one FHIR R4 AuditEvent per line (NDJSON), in log order."""
        for entry in entries_of(self._audit.records()):
            yield json.dumps(to_audit_event(entry, self._hub_id), separators=(",", ":"))


def ig_query_record(
    principal_id: str, kind: str, role: str, agency_id: str | None, action: str,
    subjects: list[str], fields: list[str],
) -> dict[str, Any]:  # fmt: skip
    """The audit body of an IG officer's own query: the same shape as a disclosure's."""
    return {
        "time": datetime.now(UTC).isoformat(),
        "action": action,
        "principal_id": principal_id,
        "principal_kind": kind,
        "role": role,
        "agency_id": agency_id,
        "purpose": IG_PURPOSE,
        "subjects": sorted(set(subjects)),
        "fields": sorted(fields),
        "lawful_bases": [],
        "overrides": [],
        "decisions": [],
        "items": [],
        "outcome": IG_QUERY,
    }
