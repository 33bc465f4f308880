"""Information-governance queries over audit records: pure functions, no storage.

The records are the bodies hub.services.disclosure.PolicyPoint.audit writes (time, action,
principal,
role, agency, purpose, subjects, fields, lawful bases, overrides, decisions, items, outcome);
the adapter (audit.igstore) reads them from the store and the case events from the event
store, and hands them here. Everything here works on subject tokens: the log holds no
personal data in clear, and neither does anything derived from it.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from audit.chain import ChainedRecord

__all__ = [
    "CASE_CLOSERS",
    "CASE_OPENERS",
    "DECISIONS",
    "DISCLOSED",
    "EVERYTHING",
    "IG_QUERY",
    "AuditEntry",
    "CaseBook",
    "CaseEvent",
    "Criteria",
    "OutsideCase",
    "decision_of",
    "entries_of",
    "is_override",
    "item_decisions",
    "outside_open_case",
    "overrides",
    "sar_csv",
    "sar_rows",
    "select",
    "summary",
]

DISCLOSED = "disclosed"  # the outcome of a record that showed something
IG_QUERY = "ig query"  # the outcome of an IG officer's own query of the log
CASE_OPENERS = frozenset({"referral.made", "marac.case_heard"})
CASE_CLOSERS = frozenset({"case.closed"})


class AuditEntry(NamedTuple):
    """One audit record, its body parsed."""

    seq: int
    record_id: str
    body: Mapping[str, Any]

    @property
    def time(self) -> datetime:
        return datetime.fromisoformat(str(self.body["time"]))

    @property
    def subjects(self) -> list[str]:
        return list(self.body.get("subjects") or [])

    @property
    def disclosed(self) -> bool:
        return self.body.get("outcome") == DISCLOSED


def entries_of(records: Iterable[ChainedRecord]) -> Iterator[AuditEntry]:
    for r in records:
        yield AuditEntry(r.seq, r.record_id, json.loads(r.body))


@dataclass(frozen=True)
class Criteria:
    """Which records to select; None matches anything. since is inclusive, until exclusive."""

    subject: str | None = None
    principal: str | None = None
    agency: str | None = None
    purpose: str | None = None
    basis: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        for name in ("since", "until"):  # a time without an offset is taken as UTC
            value: datetime | None = getattr(self, name)
            if value is not None and value.tzinfo is None:
                object.__setattr__(self, name, value.replace(tzinfo=UTC))

    def matches(self, entry: AuditEntry) -> bool:
        body = entry.body
        if self.subject is not None and self.subject not in entry.subjects:
            return False
        if self.principal is not None and body.get("principal_id") != self.principal:
            return False
        if self.agency is not None and body.get("agency_id") != self.agency:
            return False
        if self.purpose is not None and body.get("purpose") != self.purpose:
            return False
        if self.basis is not None and self.basis not in (body.get("lawful_bases") or []):
            return False
        return self._in_period(entry.time)

    def _in_period(self, time: datetime) -> bool:
        return (self.since is None or time >= self.since) and (
            self.until is None or time < self.until
        )


EVERYTHING = Criteria()  # no filter


def select(entries: Iterable[AuditEntry], criteria: Criteria) -> list[AuditEntry]:
    return [e for e in entries if criteria.matches(e)]


def item_decisions(body: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """The record's decisions, one per item with its ``hub_id``, in the order written.

    The hub writes decisions grouped by kind, each kind once with the ``hub_ids`` it was
    decided for (hub.services.disclosure.decision_records); records written before that hold
    one decision per item with its ``hub_id``. Both read back alike here."""
    for d in body.get("decisions") or []:
        ids = d.get("hub_ids")
        if ids is None:
            yield dict(d)
            continue
        kind = {k: v for k, v in d.items() if k != "hub_ids"}
        for hub_id in ids:
            yield {"hub_id": hub_id, **kind}


def is_override(entry: AuditEntry) -> bool:
    """The record shared something without consent under DPA 2018 Sch 1 para 18."""
    decisions: Sequence[Mapping[str, Any]] = entry.body.get("decisions") or []
    return any(d.get("outcome") == "share" and d.get("override") for d in decisions)


DECISIONS = ("shared", "refused", "overridden")  # what an IG officer filters by


def decision_of(entry: AuditEntry) -> str:
    """shared, refused, overridden (shared without consent, Sch 1 para 18), or other (an IG
    query, an access request, an operator's report: records that decided nothing)."""
    if is_override(entry):
        return "overridden"
    outcome = entry.body.get("outcome")
    if outcome == DISCLOSED:
        return "shared"
    return "refused" if outcome == "refused" else "other"


def overrides(entries: Iterable[AuditEntry], criteria: Criteria = EVERYTHING) -> list[AuditEntry]:
    return [e for e in entries if is_override(e) and criteria.matches(e)]


# --- open cases ----------------------------------------------------------------------------


class CaseEvent(NamedTuple):
    """A referral, a Marac hearing or a closure: what opens and closes a subject's case."""

    type: str
    time: datetime  # when it happened (event time)
    subjects: tuple[str, ...]
    recorded_at: datetime | None = None  # when the hub stored it (None: at its event time)


class CaseBook:
    """For each subject, whether the hub held an open case for it at a given moment.

    At time t a subject has an open case when the event store then held (recorded at or
    before t) a referral.made or marac.case_heard about it and no case.closed about it that
    happened later (by event time) than that opener. Judging by what the store held, not by
    event time alone, matters: a referral recorded months late did not justify a read made
    before it reached the hub.
    """

    def __init__(self, events: Iterable[CaseEvent]) -> None:
        marks: dict[str, list[tuple[datetime, bool, datetime]]] = defaultdict(list)
        for event in events:
            if event.type in CASE_OPENERS or event.type in CASE_CLOSERS:
                held = event.recorded_at or event.time
                for token in event.subjects:
                    marks[token].append((event.time, event.type in CASE_OPENERS, held))
        # by event time; at equal times the closure counts as later than the opener
        self._marks = {t: sorted(m, key=lambda x: (x[0], not x[1])) for t, m in marks.items()}

    def open_at(self, token: str, time: datetime) -> bool:
        state = False
        for _when, opens, held in self._marks.get(token, ()):
            if held <= time:
                state = opens
        return state


class OutsideCase(NamedTuple):
    entry: AuditEntry
    subjects: tuple[str, ...]  # the subjects read that had no open case at the time


def outside_open_case(
    entries: Iterable[AuditEntry], cases: CaseBook, criteria: Criteria = EVERYTHING
) -> list[OutsideCase]:
    """Disclosures that showed something about a subject with no open case at that time."""
    flagged = []
    for entry in entries:
        if not entry.disclosed or not criteria.matches(entry):
            continue
        closed = tuple(s for s in entry.subjects if not cases.open_at(s, entry.time))
        if closed:
            flagged.append(OutsideCase(entry, closed))
    return flagged


# --- the subject access report -------------------------------------------------------------

SAR_COLUMNS = (
    "when", "outcome", "who_role", "who_agency", "action", "purpose", "fields",
    "lawful_bases", "consent_status", "overrides", "others_in_same_read", "record_id",
)  # fmt: skip


def sar_rows(
    entries: Iterable[AuditEntry], token: str, describe: Callable[[str], str] = str
) -> list[dict[str, Any]]:
    """One row per record naming this subject, oldest first, in words a person can read
    (a record's decisions are read per kind: what they share is all a row needs).

    Who is a role and agency, never a staff member's identity; other people named in the same
    record are counted, never named. describe turns a basis or override code into words.
    """
    rows = []
    for e in sorted(select(entries, Criteria(subject=token)), key=lambda x: x.seq):
        body = e.body
        decisions: Sequence[Mapping[str, Any]] = body.get("decisions") or []
        statuses = sorted({str(d["consent_status"]) for d in decisions if d.get("consent_status")})
        rows.append(
            {
                "when": str(body["time"]),
                "outcome": str(body.get("outcome", "")),
                "who_role": str(body.get("role", "")),
                "who_agency": str(body.get("agency_id") or "(none: a hub role)"),
                "action": _action_for_subject(str(body.get("action", "")), token),
                "purpose": str(body.get("purpose", "")),
                "fields": list(body.get("fields") or []),
                "lawful_bases": [describe(b) for b in body.get("lawful_bases") or []],
                "consent_status": statuses,
                "overrides": [
                    f"{describe(o['reason'])}: {o['justification']}"
                    for o in body.get("overrides") or []
                ],
                "others_in_same_read": len(set(e.subjects) - {token}),
                "record_id": e.record_id,
            }
        )
    return rows


def _action_for_subject(action: str, token: str) -> str:
    # an action names at most the token it read (GET /v1/subjects/{token}/events); keep it
    # only when that is the requester's own token
    return action if token in action or "/subjects/st_" not in action else "(another read)"


def sar_csv(rows: Iterable[Mapping[str, Any]]) -> str:
    """The report as CSV (lists joined with '; '), one row per record, a header first."""
    out = io.StringIO()
    writer = csv.DictWriter(out, SAR_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {k: "; ".join(map(str, v)) if isinstance(v, list) else v for k, v in row.items()}
        )
    return out.getvalue()


def summary(entry: AuditEntry) -> dict[str, Any]:
    """A record as an IG officer reads it in a listing (tokens and codes only)."""
    body = entry.body
    return {
        "seq": entry.seq,
        "record_id": entry.record_id,
        "time": body.get("time"),
        "action": body.get("action"),
        "outcome": body.get("outcome"),
        "principal_id": body.get("principal_id"),
        "role": body.get("role"),
        "agency_id": body.get("agency_id"),
        "purpose": body.get("purpose"),
        "subjects": entry.subjects,
        "fields": list(body.get("fields") or []),
        "lawful_bases": list(body.get("lawful_bases") or []),
        "overrides": [
            {"reason": o.get("reason"), "justification": o.get("justification"),
             "decided_by": o.get("decided_by")}
            for o in body.get("overrides") or []
        ],
    }  # fmt: skip
