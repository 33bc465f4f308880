"""The sharing policy and the disclosure decision (pure)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime

import pytest

from audit.ig import item_decisions
from consent.bases import SAFEGUARDING_CONDITION
from consent.decision import Item, Override, Recipient, decide_disclosure, view_fields
from consent.policy import PERSON_ROLES, PolicyError, load_policy
from consent.records import ConsentRecord, Provision
from hub.contract import EVENT_TYPES
from hub.domain.agencies import load_agency_types
from hub.services.disclosure import data_fields_of, decision_records

AGENCY_TYPES = load_agency_types()
POLICY = load_policy(None, EVENT_TYPES, AGENCY_TYPES)
ROLES = sorted(PERSON_ROLES | set(AGENCY_TYPES))
PURPOSES = ("marac_case_preparation", "marac_meeting", "safeguarding_review")
AT = datetime(2026, 6, 1, 12, tzinfo=UTC)
VICTIM = "st_testvictimalexexample"


def item(event_type: str, basis: str | None = "ukgdpr-6-1-e", ref: str | None = None) -> Item:
    fields, sealed = data_fields_of(event_type)
    return Item("TEST-HUB-ID", event_type, "TEST-POLICE-A", (VICTIM,), basis, ref, fields, sealed)


def reader(role: str, agency: str | None = None) -> Recipient:
    return Recipient("TEST-PRINCIPAL", role, agency)


def consent(ref: str = "TEST-C-1", withdrawn: bool = False, **scope) -> ConsentRecord:
    return ConsentRecord(
        consent_ref=ref,
        subject=VICTIM,
        provision=Provision(
            permit=scope.get("permit", True),
            purposes=frozenset(scope.get("purposes", PURPOSES)),
            recipients=frozenset(scope.get("recipients", ())),
            event_types=frozenset(),
            start=date(2026, 1, 1),
            end=scope.get("end"),
        ),
        method="verbal",
        recorded_by_role="idva",
        recorded_by_agency="TEST-IDVA-A",
        recorded_at=datetime(2026, 1, 1, tzinfo=UTC),
        withdrawn_at=datetime(2026, 5, 1, tzinfo=UTC) if withdrawn else None,
    )


@pytest.mark.parametrize("event_type", EVENT_TYPES)
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("purpose", (*PURPOSES, "safeguarding_follow_up"))  # + agencies' feed
def test_no_recipient_is_given_a_field_its_view_forbids(event_type, role, purpose) -> None:
    it = item(event_type)
    d = decide_disclosure(it, reader(role), purpose, POLICY, {}, AT)
    if not d.shared:
        assert d.fields == () and d.reason
        return
    rule = POLICY.rule_for(event_type, role, purpose, False)
    assert rule is not None
    assert set(d.fields) == set(view_fields(d.view, it, rule.opened))
    data = set(d.fields) - {"hub_id", "type", "agency_id", "time", "subjects"}
    if d.view == "involvement_only":
        assert data == set()
    if d.view == "marker_since":
        assert data <= {"marker", "since"}
    if d.view == "occurrence":  # that it happened, when and to whom: no content
        assert data == set()
    if d.view != "full":
        assert data & set(it.sealed_fields) <= rule.opened  # only the facts the rule opens
        assert "clinical_notes" not in data and "circumstances" not in data


def test_marac_hears_health_s_safeguarding_facts_but_not_the_clinical_notes() -> None:
    d = decide_disclosure(item("health.attendance"), reader("marac_chair"), PURPOSES[0], POLICY,
                          {}, AT)  # fmt: skip
    assert d.view == "summary"
    assert {"self_harm", "substance_use", "pregnant"} <= set(d.fields)
    assert "clinical_notes" not in d.fields


def test_a_gp_without_need_to_know_learns_involvement_only() -> None:
    d = decide_disclosure(
        item("police.incident"), reader("gp", "TEST-GP-A"), PURPOSES[0], POLICY, {}, AT
    )
    assert d.view == "involvement_only"
    assert d.fields == ("hub_id", "type", "agency_id")


def test_an_agency_sees_its_own_events_whole() -> None:
    d = decide_disclosure(
        item("police.incident"), reader("police", "TEST-POLICE-A"), PURPOSES[0], POLICY, {}, AT
    )
    assert d.view == "full" and "circumstances" in d.fields


def test_a_marker_discloses_since_when_not_the_record_even_to_the_chair() -> None:
    d = decide_disclosure(item("marker.added"), reader("marac_chair"), PURPOSES[0], POLICY, {}, AT)
    assert d.view == "marker_since"


def test_the_chair_sees_health_attendance_without_clinical_detail() -> None:
    d = decide_disclosure(
        item("health.attendance"), reader("marac_chair"), PURPOSES[0], POLICY, {}, AT
    )
    assert d.view == "summary"
    assert "clinical_notes" not in d.fields and "injury" in d.fields


def test_ig_officers_are_refused_case_content_with_a_reason() -> None:
    d = decide_disclosure(item("risk.dash"), reader("ig_officer"), PURPOSES[0], POLICY, {}, AT)
    assert not d.shared and "audit" in d.reason


def test_consent_based_item_needs_a_covering_consent() -> None:
    it = item("referral.made", basis="ukgdpr-6-1-a", ref="TEST-C-1")
    chair = reader("marac_chair")
    assert not decide_disclosure(it, chair, PURPOSES[0], POLICY, {}, AT).shared
    given = decide_disclosure(it, chair, PURPOSES[0], POLICY, {"TEST-C-1": consent()}, AT)
    assert given.shared and given.basis == "ukgdpr-6-1-a" and given.consent_ref == "TEST-C-1"
    narrow = consent(purposes=("marac_meeting",))
    outside = decide_disclosure(it, chair, PURPOSES[0], POLICY, {"TEST-C-1": narrow}, AT)
    assert not outside.shared and "does not cover" in outside.reason
    expired = consent(end=date(2026, 5, 31))
    assert not decide_disclosure(it, chair, PURPOSES[0], POLICY, {"TEST-C-1": expired}, AT).shared


def test_withdrawal_stops_consent_based_sharing_but_not_other_bases() -> None:
    consents = {"TEST-C-1": consent(withdrawn=True)}
    chair = reader("marac_chair")
    on_consent = item("referral.made", basis="ukgdpr-6-1-a", ref="TEST-C-1")
    refused = decide_disclosure(on_consent, chair, PURPOSES[0], POLICY, consents, AT)
    assert not refused.shared
    assert "withdrawn on 2026-05-01" in refused.reason and refused.consent_status == "withdrawn"
    statutory = decide_disclosure(item("risk.dash"), chair, PURPOSES[0], POLICY, consents, AT)
    assert statutory.shared and statutory.basis == "ukgdpr-6-1-e"
    assert "withdrawn, which does not affect this basis" in statutory.reason
    assert statutory.consent_status == "withdrawn"  # the difference is visible to IG


def test_an_override_shares_without_consent_and_says_so() -> None:
    override = Override(
        "asking_would_prejudice_protection", "Risk of escalation if asked.", "TEST-CHAIR"
    )
    it = item("referral.made", basis="ukgdpr-6-1-a", ref="TEST-C-1")
    consents = {"TEST-C-1": consent(withdrawn=True)}
    d = decide_disclosure(it, reader("marac_chair"), PURPOSES[0], POLICY, consents, AT, override)
    assert d.shared and d.basis == SAFEGUARDING_CONDITION and d.override == override
    assert "without consent" in d.reason
    # the audit record keeps every field of the decision, the override's included
    [record] = item_decisions({"decisions": decision_records([d])})
    assert record == {**asdict(d), "fields": list(d.fields)}
    assert record["override"]["justification"] == "Risk of escalation if asked."


@pytest.mark.parametrize(
    ("reason", "justification"),
    [
        ("because", "A long enough justification."),
        ("consent_cannot_be_given", "short"),
        ("consent_cannot_be_given", ".........."),  # ten dots: was accepted
        ("consent_cannot_be_given", "x" * 30),  # one word
        ("consent_cannot_be_given", "12345678901234567890 yes"),  # one word of letters
        ("consent_cannot_be_given", "too short, sorry"),  # three words, 16 characters
        ("consent_cannot_be_given", "word " * 500),  # more than anyone reviews
    ],
)
def test_an_override_needs_a_known_reason_and_a_justification(reason, justification) -> None:
    with pytest.raises(ValueError):
        Override(reason, justification, "TEST-CHAIR")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[[rule]\n", "not valid TOML"),
        ("", "no [[rule]]"),
        ('[[rule]]\nevent_types=["*"]\nroles=["*"]\npurposes=["*"]\nview="most"\n', "unknown view"),
        (
            '[[rule]]\nevent_types=["police.rumour"]\nroles=["*"]\npurposes=["*"]\nview="full"\n',
            "unknown event_types",
        ),
        ('[[rule]]\nevent_types=["*"]\nroles=["*"]\npurposes=["*"]\n', "exactly one of"),
        ('[[rule]]\nevent_types=[]\nroles=["*"]\npurposes=["*"]\nview="full"\n', "non-empty list"),
        (
            '\n\n[[rule]]\nevent_types=["*"]\nroles=["*"]\npurposes=["*"]\nview="full"\ncolour="red"\n',
            "line 3",
        ),
    ],
)
def test_a_bad_policy_file_is_refused_saying_where_and_why(text: str, problem: str) -> None:
    with pytest.raises(PolicyError, match=problem.replace("[", r"\[").replace("]", r"\]")):
        load_policy(text, EVENT_TYPES, AGENCY_TYPES)


def test_an_answered_request_lifts_involvement_to_a_summary_only() -> None:
    gp = reader("gp", "TEST-GP-A")
    d = decide_disclosure(
        item("police.incident"), gp, PURPOSES[0], POLICY, {}, AT, None, "TEST-R-1"
    )
    assert d.view == "summary" and "TEST-R-1" in d.reason
    assert "abuse_types" in d.fields and "circumstances" not in d.fields
    ig = decide_disclosure(
        item("risk.dash"), reader("ig_officer"), PURPOSES[0], POLICY, {}, AT, None, "TEST-R-2"
    )
    assert not ig.shared  # a grant never overrides a refusal rule
