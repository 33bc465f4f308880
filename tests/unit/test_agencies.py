"""Agency types and the event types each may send."""

from __future__ import annotations

import pytest

from hub.contract import EVENT_TYPES
from hub.domain.agencies import AgencyType, load_agency_types, refusal_to_send


@pytest.fixture(scope="module")
def packaged() -> dict[str, AgencyType]:
    return load_agency_types()


def test_packaged_table_loads_with_labels_and_known_event_types(
    packaged: dict[str, AgencyType],
) -> None:
    assert {"police", "health_ae", "idva", "gp", "marac"} <= set(packaged)
    for name, agency_type in packaged.items():
        assert agency_type.name == name
        assert agency_type.label
        assert agency_type.may_send, f"{name} may send nothing"
        assert agency_type.may_send <= set(EVENT_TYPES), f"{name} lists an unknown event type"


def test_police_may_send_an_incident(packaged: dict[str, AgencyType]) -> None:
    assert refusal_to_send(packaged["police"], "police.incident") is None


def test_health_may_not_send_an_incident_and_is_told_what_it_may_send(
    packaged: dict[str, AgencyType],
) -> None:
    refusal = refusal_to_send(packaged["health_ae"], "police.incident")
    assert refusal is not None
    assert "'health_ae' may not send 'police.incident'" in refusal
    allowed = refusal.split("it may send: ", 1)[1].split(". ", 1)[0].split(", ")
    assert allowed == sorted(packaged["health_ae"].may_send)
    assert "health.attendance" in allowed


def test_unknown_event_type_is_refused(packaged: dict[str, AgencyType]) -> None:
    assert refusal_to_send(packaged["police"], "police.unknown") is not None


CUSTOM = """
[womens_aid]
label = "Women's Aid (TEST)"
may_send = ["referral.made"]

[police]
label = "TEST constabulary"
may_send = ["police.incident"]
"""


def test_custom_table_replaces_the_packaged_one() -> None:
    types = load_agency_types(CUSTOM)
    assert set(types) == {"womens_aid", "police"}
    assert types["womens_aid"] == AgencyType(
        "womens_aid", "Women's Aid (TEST)", frozenset({"referral.made"})
    )
    assert refusal_to_send(types["police"], "police.incident") is None
    refusal = refusal_to_send(types["police"], "risk.dash")
    assert refusal is not None and "it may send: police.incident." in refusal


def test_star_lets_an_agency_type_send_every_event_type() -> None:
    # The packaged table's header promises: '"*" means every event type in the contract'.
    types = load_agency_types('[hub_admin]\nlabel = "TEST admin"\nmay_send = ["*"]\n')
    for event_type in EVENT_TYPES:
        assert refusal_to_send(types["hub_admin"], event_type) is None
