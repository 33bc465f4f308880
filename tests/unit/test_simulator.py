"""The simulator's families: every event is one the hub accepts from the agency sending it,
nothing is dated after `now`, and the mix covers what the rules look for."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from hub.contract.parse import parse_event
from hub.domain.agencies import load_agency_types, refusal_to_send
from producers.simulator import DASH_YES, DEMO_AGENCIES, Mix, demo_stream, make_families

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_every_simulated_event_is_valid_and_allowed_for_its_sender() -> None:
    types = load_agency_types()
    stream = demo_stream(120, seed=11, now=NOW)
    for agency, event in stream:
        incoming = parse_event(event, 64 * 1024)
        assert refusal_to_send(types[DEMO_AGENCIES[agency]], incoming.type) is None
        assert incoming.time <= NOW
    assert len({e["id"] for _, e in stream}) == len(stream)


def test_the_stream_holds_every_kind_of_story_the_rules_need() -> None:
    stream = demo_stream(120, seed=11, now=NOW)
    kinds = Counter(e["type"] for _, e in stream)
    for event_type in ("police.incident", "health.attendance", "referral.made", "risk.dash",
                       "needs.identified", "relationship.declared", "contact.attempted",
                       "marac.case_heard"):  # fmt: skip
        assert kinds[event_type] > 0, event_type
    scores = [e["data"]["answers"].count("yes") for _, e in stream if e["type"] == "risk.dash"]
    bands = Counter(next(b for b, (lo, hi) in DASH_YES.items() if lo <= s <= hi) for s in scores)
    assert set(bands) == {"standard", "medium", "high"}
    incidents = Counter(
        e["data"]["subjects"][0]["identifiers"]["nhs_number"]
        for _, e in stream
        if e["type"] == "police.incident"
    )
    assert sum(n > 1 for n in incidents.values()) > 20  # repeat victimisation is common


def test_family_proportions_follow_the_mix() -> None:
    families = make_families(2000, seed=3)
    mix = Mix()

    def share(pred) -> float:  # type: ignore[no-untyped-def]
        return sum(1 for f in families if pred(f)) / len(families)

    assert abs(share(lambda f: f.children) - mix.children) < 0.04
    assert abs(share(lambda f: f.previous_perpetrator) - mix.second_perpetrator) < 0.03
    assert abs(share(lambda f: "mental_health" in f.victim_needs) - mix.victim_mental_health) < 0.04
    perpetrators = Counter(f.perpetrator.nhs_number for f in families)
    assert any(n >= 2 for n in perpetrators.values())  # serial perpetrators appear


def test_any_two_families_include_a_high_risk_one() -> None:
    assert "high" in {f.band for f in make_families(2, seed=99)}


def test_bench_call_shape_still_works() -> None:
    import random

    from producers.simulator import dash

    [family] = make_families(1, seed=1, first=400_000)
    event = dash(random.Random(1), family, NOW, 16)
    assert event["data"]["answers"].count("yes") == 16
    assert family.victim.nhs_number == "9990400000"
