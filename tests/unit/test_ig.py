"""IG queries, case status, the subject access report and the anomaly report: pure functions
over constructed audit records."""

from __future__ import annotations

import csv
import io
import json
import statistics
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from audit.anomalies import modified_z_scores, repeated_reads_without_case, volume_outliers
from audit.ig import (
    AuditEntry,
    CaseBook,
    CaseEvent,
    Criteria,
    decision_of,
    item_decisions,
    outside_open_case,
    overrides,
    sar_csv,
    sar_rows,
    select,
)

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ALEX = "st_" + "a" * 32
SAM = "st_" + "b" * 32
OVERRIDE = {
    "reason": "consent_cannot_reasonably_be_obtained",
    "justification": "TEST justification: cannot be reached before the meeting.",
    "decided_by": "p-chair",
}


def entry(
    seq: int,
    *,
    minutes: float = 0,
    principal: str = "p-chair",
    role: str = "marac_chair",
    agency: str | None = None,
    purpose: str = "marac_case_preparation",
    subjects: tuple[str, ...] = (ALEX,),
    bases: tuple[str, ...] = ("ukgdpr-6-1-e",),
    outcome: str = "disclosed",
    override: dict[str, str] | None = None,
    consent_status: str | None = None,
) -> AuditEntry:
    decision = {
        "hub_id": f"TEST-ITEM-{seq}", "outcome": "share" if outcome == "disclosed" else "refuse",
        "view": "summary", "fields": ["marker"], "basis": bases[0] if bases else None,
        "consent_ref": None, "consent_status": consent_status, "override": override,
        "reason": "TEST", "rule_line": 1,
    }  # fmt: skip
    body = {
        "time": (T0 + timedelta(minutes=minutes)).isoformat(),
        "action": f"GET /v1/subjects/{subjects[0]}/events" if subjects else "GET /v1/alerts",
        "principal_id": principal, "principal_kind": "person", "role": role,
        "agency_id": agency, "purpose": purpose, "subjects": sorted(subjects),
        "fields": ["marker", "since"], "lawful_bases": list(bases),
        "overrides": [override] if override else [], "decisions": [decision],
        "items": [f"TEST-ITEM-{seq}"], "outcome": outcome,
    }  # fmt: skip
    return AuditEntry(seq, f"rec-{seq}", body)


def seqs(entries: list[AuditEntry]) -> list[int]:
    return [e.seq for e in entries]


# --- queries -------------------------------------------------------------------------------


def test_each_criterion_selects_only_matching_records() -> None:
    log = [
        entry(1),
        entry(2, subjects=(SAM,)),
        entry(3, principal="p-gp", role="gp", agency="TEST-GP-A"),
        entry(4, purpose="safeguarding_review"),
        entry(5, bases=("ukgdpr-6-1-a",)),
        entry(6, subjects=(ALEX, SAM)),
    ]
    assert seqs(select(log, Criteria(subject=SAM))) == [2, 6]
    assert seqs(select(log, Criteria(principal="p-gp"))) == [3]
    assert seqs(select(log, Criteria(agency="TEST-GP-A"))) == [3]
    assert seqs(select(log, Criteria(purpose="safeguarding_review"))) == [4]
    assert seqs(select(log, Criteria(basis="ukgdpr-6-1-a"))) == [5]
    assert seqs(select(log, Criteria(subject=ALEX, basis="ukgdpr-6-1-e"))) == [1, 3, 4, 6]
    assert seqs(select(log, Criteria())) == [1, 2, 3, 4, 5, 6]


def test_a_time_without_offset_is_taken_as_utc() -> None:
    log = [entry(1, minutes=0), entry(2, minutes=60)]
    naive = Criteria(since=datetime(2026, 3, 1, 9, 30))
    assert seqs(select(log, naive)) == [2]


@given(
    st.lists(st.integers(0, 10_000), max_size=30),
    st.integers(0, 10_000),
    st.integers(0, 10_000),
    st.integers(0, 10_000),
)
def test_time_windows_split_a_period_without_gap_or_overlap(
    minutes: list[int], a: int, b: int, c: int
) -> None:
    a, b, c = sorted((a, b, c))
    log = [entry(i, minutes=m) for i, m in enumerate(minutes, 1)]
    at = [T0 + timedelta(minutes=x) for x in (a, b, c)]
    whole = seqs(select(log, Criteria(since=at[0], until=at[2])))
    halves = seqs(select(log, Criteria(since=at[0], until=at[1])))
    halves += seqs(select(log, Criteria(since=at[1], until=at[2])))
    assert sorted(halves) == whole
    assert whole == [i for i, m in enumerate(minutes, 1) if a <= m < c]


def test_overrides_are_the_records_that_shared_without_consent() -> None:
    log = [
        entry(1),
        entry(2, override=OVERRIDE, bases=("ukgdpr-9-2-g+dpa2018-sch1-para18",)),
        entry(3, override=OVERRIDE, outcome="refused"),  # asked for, but nothing was shared
    ]
    assert seqs(overrides(log)) == [2]
    assert seqs(overrides(log, Criteria(until=T0 - timedelta(days=1)))) == []


# --- open cases ----------------------------------------------------------------------------


def case(kind: str, days: float, *tokens: str) -> CaseEvent:
    return CaseEvent(kind, T0 + timedelta(days=days), tokens)


def grouped(e: AuditEntry) -> AuditEntry:
    """The same record with its decisions grouped by kind, as the hub writes them now."""
    kinds: dict[str, dict[str, object]] = {}
    for d in e.body["decisions"]:
        kind = {k: v for k, v in d.items() if k != "hub_id"}
        kinds.setdefault(json.dumps(kind, sort_keys=True), {**kind, "hub_ids": []})
        kinds[json.dumps(kind, sort_keys=True)]["hub_ids"].append(d["hub_id"])  # type: ignore[attr-defined]
    return e._replace(body={**e.body, "decisions": list(kinds.values())})


def test_decisions_grouped_by_kind_read_back_per_item_and_answer_the_same_queries() -> None:
    shared = entry(1, override=OVERRIDE, consent_status="withdrawn")
    per_item = shared._replace(body={**shared.body, "decisions": [
        {**shared.body["decisions"][0], "hub_id": f"TEST-ITEM-{n}"} for n in (1, 2, 3)
    ] + [{**shared.body["decisions"][0], "hub_id": "TEST-ITEM-4", "outcome": "refuse",
          "override": None, "consent_status": "withdrawn"}]})  # fmt: skip
    compact = grouped(per_item)
    assert len(compact.body["decisions"]) == 2  # two kinds of decision over four items
    assert list(item_decisions(compact.body)) == list(item_decisions(per_item.body))
    assert [d["hub_id"] for d in item_decisions(compact.body)] == [
        "TEST-ITEM-1", "TEST-ITEM-2", "TEST-ITEM-3", "TEST-ITEM-4"
    ]  # fmt: skip
    assert decision_of(compact) == decision_of(per_item) == "overridden"
    assert sar_rows([compact], ALEX) == sar_rows([per_item], ALEX)
    assert sar_rows([compact], ALEX)[0]["consent_status"] == ["withdrawn"]


def test_a_case_opens_with_a_referral_or_hearing_and_closes_with_case_closed() -> None:
    book = CaseBook(
        [
            case("referral.made", 1, ALEX),
            case("case.closed", 5, ALEX),
            case("marac.case_heard", 9, ALEX, SAM),
            case("risk.dash", 0, SAM),  # not a case event
        ]
    )
    at = T0.__add__
    assert not book.open_at(ALEX, at(timedelta(days=0)))
    assert book.open_at(ALEX, at(timedelta(days=1)))
    assert book.open_at(ALEX, at(timedelta(days=4)))
    assert not book.open_at(ALEX, at(timedelta(days=5)))
    assert book.open_at(ALEX, at(timedelta(days=9)))
    assert not book.open_at(SAM, at(timedelta(days=8)))
    assert book.open_at(SAM, at(timedelta(days=10)))
    assert not book.open_at("st_" + "c" * 32, at(timedelta(days=10)))


def test_a_case_is_open_only_once_the_hub_holds_its_referral() -> None:
    late = CaseEvent("referral.made", T0, (ALEX,), recorded_at=T0 + timedelta(days=30))
    closed_late = CaseEvent("case.closed", T0 + timedelta(days=2), (ALEX,), T0 + timedelta(days=40))
    book = CaseBook([late, closed_late])
    assert not book.open_at(ALEX, T0 + timedelta(days=10))  # happened, but not yet known
    assert book.open_at(ALEX, T0 + timedelta(days=30))
    assert not book.open_at(ALEX, T0 + timedelta(days=40))


def test_reads_without_an_open_case_are_flagged_with_the_subjects_concerned() -> None:
    book = CaseBook([case("referral.made", 0, ALEX)])
    log = [
        entry(1, minutes=60, subjects=(ALEX,)),
        entry(2, minutes=60, subjects=(ALEX, SAM)),
        entry(3, minutes=60, subjects=(SAM,), outcome="refused"),  # nothing shown
        entry(4, minutes=-60, subjects=(ALEX,)),  # before the referral
    ]
    flagged = outside_open_case(log, book)
    assert [(f.entry.seq, f.subjects) for f in flagged] == [(2, (SAM,)), (4, (ALEX,))]


# --- the subject access report -------------------------------------------------------------


def describe(code: str) -> str:
    return {"ukgdpr-6-1-e": "UK GDPR Art 6(1)(e) public task"}.get(code, f"<{code}>")


def test_the_report_says_who_when_what_why_and_on_which_basis_without_naming_others() -> None:
    log = [
        entry(1, principal="p-gp-7", role="gp", agency="TEST-GP-A", consent_status="given"),
        entry(2, subjects=(ALEX, SAM), override=OVERRIDE),
        entry(3, subjects=(SAM,)),
    ]
    rows = sar_rows(log, ALEX, describe)
    assert [r["record_id"] for r in rows] == ["rec-1", "rec-2"]
    first, second = rows
    assert (first["who_role"], first["who_agency"]) == ("gp", "TEST-GP-A")
    assert first["when"] == T0.isoformat() and first["purpose"] == "marac_case_preparation"
    assert first["fields"] == ["marker", "since"] and first["consent_status"] == ["given"]
    assert first["lawful_bases"] == ["UK GDPR Art 6(1)(e) public task"]
    assert second["others_in_same_read"] == 1
    assert second["overrides"] == [
        "<consent_cannot_reasonably_be_obtained>: " + OVERRIDE["justification"]
    ]
    text = json.dumps(rows)
    assert SAM not in text, "another person's token leaked into the report"
    assert "p-gp-7" not in text and "p-chair" not in text, "a staff member's id leaked"


def test_the_csv_report_has_one_row_per_record_and_readable_lists() -> None:
    rows = sar_rows([entry(1), entry(2, override=OVERRIDE)], ALEX, describe)
    parsed = list(csv.DictReader(io.StringIO(sar_csv(rows))))
    assert [r["record_id"] for r in parsed] == ["rec-1", "rec-2"]
    assert parsed[0]["fields"] == "marker; since"
    assert parsed[1]["overrides"].startswith("<consent_cannot_reasonably_be_obtained>:")


# --- anomalies -----------------------------------------------------------------------------


def reads_by(principal: str, n: int, role: str = "gp", subjects: int = 1) -> list[AuditEntry]:
    return [
        entry(
            0, principal=principal, role=role,
            subjects=(f"st_{i % subjects:032d}",),
        )
        for i in range(n)
    ]  # fmt: skip


def test_modified_z_scores_follow_iglewicz_hoaglin() -> None:
    # median 3, MAD 1: z = 0.6745 * (x - 3)
    assert [round(z, 4) for z in modified_z_scores([1, 2, 3, 4, 5])] == [
        -1.349, -0.6745, 0.0, 0.6745, 1.349,
    ]  # fmt: skip
    # MAD 0 (most values alike): the mean absolute deviation stands in
    assert modified_z_scores([5, 5, 5, 5, 25])[-1] > 3.5
    assert modified_z_scores([4, 4, 4]) == [0.0, 0.0, 0.0]


def test_a_principal_far_above_their_peers_in_volume_and_breadth_is_flagged() -> None:
    log: list[AuditEntry] = []
    for name, n in (("p-gp-1", 4), ("p-gp-2", 5), ("p-gp-3", 6), ("p-gp-4", 5), ("p-gp-5", 4)):
        log += reads_by(name, n, subjects=2)
    log += reads_by("p-gp-6", 60, subjects=2)  # many reads, but of the same two people
    log += reads_by("p-chair-1", 200, role="marac_chair")  # another role: not their peer
    found = volume_outliers(log)
    assert [(o.principal_id, o.measure, o.value) for o in found] == [("p-gp-6", "volume", 60)]
    assert found[0].peer_median == 5.0 and found[0].score > 3.5


def test_breadth_counts_distinct_subjects() -> None:
    log: list[AuditEntry] = []
    for i in range(5):
        log += reads_by(f"p-hs-{i}", 10, role="housing", subjects=1 + i % 2)
    log += reads_by("p-hs-wide", 10, role="housing", subjects=2)
    wide = [
        entry(0, principal="p-hs-wide", role="housing", subjects=(f"st_w{i:031d}",))
        for i in range(20)
    ]
    found = volume_outliers(log + wide)
    assert {(o.principal_id, o.measure) for o in found} == {
        ("p-hs-wide", "volume"), ("p-hs-wide", "breadth"),
    }  # fmt: skip


def test_too_few_peers_refusals_and_periods_are_respected() -> None:
    two = reads_by("p-a", 1) + reads_by("p-b", 500)
    assert volume_outliers(two) == []  # two principals are not a peer group
    log = reads_by("p-a", 5) + reads_by("p-b", 5) + reads_by("p-c", 5)
    refused = [entry(0, principal="p-c", role="gp", outcome="refused") for _ in range(100)]
    assert volume_outliers(log + refused) == []  # refused reads showed nothing
    later = Criteria(since=T0 + timedelta(days=1))
    assert volume_outliers(log + reads_by("p-c", 100), later) == []


# Counts up to 100 give every shape of peer group that larger ones do (ties, a MAD of 0, far
# outliers; the score is scale-free) at a tenth of the audit records per example.
@given(st.lists(st.integers(0, 100), min_size=3, max_size=25))
def test_nobody_at_or_below_the_median_is_ever_flagged(counts: list[int]) -> None:
    log = [e for i, n in enumerate(counts) for e in reads_by(f"p-{i}", n)]
    peers = [n for n in counts if n > 0]  # a principal who read nothing is in no peer group
    for outlier in volume_outliers(log):
        assert outlier.measure == "volume"  # each read the same one subject: breadth is 1
        assert outlier.peer_median == statistics.median(peers)
        assert outlier.value > statistics.median(peers)


@given(st.integers(3, 30), st.integers(1, 50))
def test_identical_peers_are_never_flagged(peers: int, n: int) -> None:
    log = [e for i in range(peers) for e in reads_by(f"p-{i}", n)]
    assert volume_outliers(log) == []


def test_repeated_reads_of_one_subject_without_an_open_case_are_reported() -> None:
    book = CaseBook([case("referral.made", 1, SAM)])
    log = [
        *(entry(i, principal="p-gp-1", role="gp", subjects=(ALEX,), minutes=i) for i in range(3)),
        *(entry(10 + i, principal="p-gp-2", role="gp", subjects=(ALEX,)) for i in range(2)),
        *(entry(20 + i, principal="p-gp-1", role="gp", subjects=(SAM,), minutes=2000)
          for i in range(5)),  # SAM's case was open then
    ]  # fmt: skip
    [found] = repeated_reads_without_case(log, book)
    assert (found.principal_id, found.subject, found.reads) == ("p-gp-1", ALEX, 3)
    assert found.record_ids == ("rec-0", "rec-1", "rec-2")
