"""A scenario per rule of DOMAIN.md through the real broker: agency events in over HTTP, the
alert out of GET /v1/alerts, for the right victim, once. First contact overdue needs the hub
clock, so this hub checks its deadlines every half second."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from hub.bootstrap import build_services
from hub.settings import Settings
from tests import builders as b
from tests.integration.conftest import RunningHub, running_hub_for, wait_for


@pytest.fixture
def ticking_hub(hub_settings: Settings) -> Iterator[RunningHub]:
    yield from running_hub_for(hub_settings.replace(clock_check_seconds=0.5))


def victim(n: int) -> dict[str, Any]:
    return b.victim(f"99900007{n:02d}", f"Victim{n} Example")


def perp(n: int) -> dict[str, Any]:
    return b.perpetrator(f"TEST-PNC-7{n:02d}", f"Perp{n} Sample")


def child(n: int) -> dict[str, Any]:
    return {"role": "child", "identifiers": {"local_authority_id": f"TEST-CHILD-{n}"}}


def ev(event_type: str, subjects: list[dict[str, Any]], time: str, **data: Any) -> dict[str, Any]:
    basis = "dpa2018-part3" if event_type == "police.incident" else "ukgdpr-6-1-e"
    return b._envelope(event_type, {"subjects": subjects, **data}, time=time, lawfulbasis=basis)


def incident(subjects: list[dict[str, Any]], time: str, **data: Any) -> dict[str, Any]:
    return ev("police.incident", subjects, time, abuse_types=["physical"], **data)


def scenarios() -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """rule → (agency, event) sent to raise it; victim n of rule n (serial: 9 and 12)."""
    return {
        "visible_high_risk": [
            ("idva", b.dash(15, subjects=[victim(1)], time="2026-09-01T10:00:00Z"))
        ],
        "professional_judgement": [("idva", ev(
            "referral.made", [victim(2)], "2026-09-02T10:00:00Z", to="marac",
            professional_judgement=True, concern="TEST concern: escalating threats",
        ))],
        "potential_escalation": [
            ("police", incident([victim(3), perp(3)], "2026-01-10T10:00:00Z")),
            ("health_ae", ev("health.attendance", [victim(3)], "2026-05-10T10:00:00Z",
                             setting="ae", da_question_asked=True, da_disclosed="yes")),
            ("police", incident([victim(3), perp(3)], "2026-09-10T10:00:00Z")),
        ],
        "repeat_marac_case": [
            ("marac", ev("marac.case_heard", [victim(4)], "2026-03-01T10:00:00Z",
                         meeting_date="2026-03-01", area="TEST-AREA")),
            ("police", incident([victim(4), perp(4)], "2026-02-01T10:00:00Z")),
            ("police", incident([victim(4), perp(4)], "2026-08-01T10:00:00Z")),
        ],
        "medium_risk": [("idva", b.dash(7, subjects=[victim(5)], time="2026-09-05T10:00:00Z"))],
        "complex_case": [
            *[("idva", ev("referral.made", [victim(6)], f"2026-0{m}-01T10:00:00Z", to="idva"))
              for m in (2, 4, 6)],
            *[("idva", ev("contact.attempted", [victim(6)], f"2026-0{m}-03T10:00:00Z",
                          method="phone", outcome="no_answer")) for m in (2, 4)],
        ],
        "complex_needs": [("substance_misuse", ev(
            "needs.identified", [victim(7)], "2026-09-07T10:00:00Z", needs=["drug_misuse"]
        ))],
        "toxic_trio": [
            ("police", incident([victim(8), perp(8), child(8)], "2026-09-08T10:00:00Z",
                                children_present=True, children_ages=[6])),
            ("mental_health", ev("needs.identified", [victim(8)], "2026-09-09T10:00:00Z",
                                 needs=["mental_health"])),
            ("substance_misuse", ev("needs.identified", [perp(8)], "2026-09-10T10:00:00Z",
                                    needs=["alcohol_misuse"])),
        ],
        "serial_perpetrator": [
            ("police", incident([victim(9), perp(9)], "2026-07-01T10:00:00Z")),
            ("police", incident([victim(12), perp(9)], "2026-08-01T10:00:00Z")),
        ],
        "children_present": [("police", incident(
            [victim(10), perp(10)], "2026-09-11T10:00:00Z", children_present=True, children_ages=[7]
        ))],
        "first_contact_overdue": [("idva", ev(
            "referral.made", [victim(11)], "2026-10-01T10:00:00Z", to="community_idva"
        ))],
        "risk_downgraded": [
            ("idva", b.dash(16, subjects=[victim(12), perp(12)], time="2026-06-01T10:00:00Z")),
            ("idva", b.dash(8, subjects=[victim(12), perp(12)], time="2026-07-01T10:00:00Z")),
        ],
    }  # fmt: skip


RULES = (
    "visible_high_risk", "professional_judgement", "potential_escalation", "repeat_marac_case",
    "medium_risk", "complex_case", "complex_needs", "toxic_trio", "serial_perpetrator",
    "children_present", "first_contact_overdue", "risk_downgraded",
)  # fmt: skip
AGENCIES = ("police", "idva", "health_ae", "marac", "substance_misuse", "mental_health")


def test_every_rule_raises_its_alert_once_for_the_right_victim(ticking_hub: RunningHub) -> None:
    hub = ticking_hub
    services = build_services(hub.settings)
    keys = {
        kind: services.principals.add(f"TEST-{kind.upper()}-A", "agency_system", kind,
                                      f"TEST-{kind.upper()}-A")[1]
        for kind in AGENCIES
    }  # fmt: skip
    chair = services.principals.add("Chair Example", "person", "marac_chair", None)[1]
    for rule, sends in scenarios().items():
        for agency, event in sends:
            r = hub.http.post(
                "/v1/events", json=event, headers={"Authorization": f"Bearer {keys[agency]}"}
            )
            assert r.status_code == 202, (rule, r.text)
    tokens = services.ingress.tokeniser
    expected = {rule: tokens.token("nhs", f"99900007{n:02d}") for n, rule in enumerate(RULES, 1)}
    expected["serial_perpetrator"] = ""  # about the perpetrator, not one victim
    expected["toxic_trio_children"] = expected["toxic_trio"]  # that scenario has a child

    def alerts() -> list[dict[str, Any]]:
        r = hub.http.get("/v1/alerts", headers={"Authorization": f"Bearer {chair}"},
                         params={"limit": 1000})  # fmt: skip
        assert r.status_code == 200, r.text
        return list(r.json()["alerts"])

    # his two victims are two cases linked through him (issue 15): each raises its own
    count = {rule: 2 if rule == "serial_perpetrator" else 1 for rule in expected}

    def raised() -> bool:
        rules = [a["rule"] for a in alerts()]
        return all(rules.count(rule) >= n for rule, n in count.items())

    wait_for(raised, 90, "an alert per rule (and per case)")
    shown = alerts()
    for rule, token in expected.items():
        mine = [a for a in shown if a["rule"] == rule and a["victim_token"] == token]
        assert len(mine) == count[rule], (rule, [(a["rule"], a["victim_token"]) for a in shown])
        assert mine[0]["reason"] and mine[0]["recommended_action"]
    assert len({a["alert_id"] for a in shown}) == len(shown)  # never a duplicate
