"""The Marac loop closed, through the real broker: a hearing with three actions -> each owning
agency's feed (GET /v1/feed) and Kafka topic (hub.out.<agency>.v1) carries its action and
nothing else -> an agency marks one done -> the chair's view shows it -> an overdue one
alerts its owner (and the chair)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from hub.adapters.sql.families import family_id_of_token
from hub.bootstrap import build_services
from hub.contract.feed import FeedItem, egress_topic
from hub.settings import Settings
from tests import feed_scenario as s
from tests.integration.conftest import RunningHub, read_topic, running_hub_for, wait_for

OWNERS = [owner for owner, _kind, _due in s.ACTIONS]


@pytest.fixture
def looping_hub(hub_settings: Settings) -> Iterator[RunningHub]:
    settings = hub_settings.replace(
        clock_check_seconds=0.5, egress_poll_seconds=0.2, egress_agencies=",".join(s.AGENCIES)
    )
    yield from running_hub_for(settings)


def test_actions_flow_back_to_their_owners_and_an_overdue_one_alerts(
    looping_hub: RunningHub,
) -> None:
    hub = looping_hub
    services = build_services(hub.settings)
    add = services.principals.add
    keys = {
        agency: {"Authorization": f"Bearer {add(agency, 'agency_system', kind, agency)[1]}"}
        for agency, kind in s.AGENCIES.items()
    }
    chair = services.principals.add("Chair Example", "person", "marac_chair", None)[1]
    for agency, event in s.events():
        r = hub.http.post("/v1/events", json=event, headers=keys[agency])
        assert r.status_code == 202, r.text

    def feed(agency: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            params = {"cursor": cursor} if cursor else {}
            r = hub.http.get("/v1/feed", headers=keys[agency], params=params)
            assert r.status_code == 200, r.text
            items += r.json()["items"]
            cursor = r.json()["cursor"]
            if not r.json()["more"]:
                return items

    def on_kafka(agency: str) -> list[dict[str, Any]]:
        raw = read_topic(hub.settings, hub.settings.topic(egress_topic(agency)))
        return [FeedItem.model_validate_json(v).model_dump(mode="json") for v in raw]

    def actions(items: list[dict[str, Any]]) -> dict[str, str]:
        latest = {i["item_id"]: i for i in items if i["kind"] == "action"}  # last version wins
        return {i["action_id"]: i["owner_agency"] for i in latest.values()}

    # each owner is told its action, by HTTP and on its topic, and nothing else's
    for owner in OWNERS:
        mine = wait_for(lambda o=owner: actions(feed(o)), 90, f"{owner}'s action in its feed")
        assert set(mine.values()) == {owner}, (owner, mine)
        topic = wait_for(lambda o=owner: actions(on_kafka(o)), 60, f"{owner}'s action on Kafka")
        assert topic == mine
    hearing = next(iter(actions(feed("TEST-HOUSING-A")))).rsplit(".", 1)[0]
    housing_action = f"{hearing}.2"
    assert actions(feed("TEST-MARAC-A")) == {} and actions(feed("TEST-SCHOOL-A")) == {}

    # no one's name or identifier travels on the feed topics (tokens only)
    for agency in s.AGENCIES:
        raw = b"".join(read_topic(hub.settings, hub.settings.topic(egress_topic(agency))))
        for clear in (b"Alex Example", b"Sam Sample", b"9990000701", b"TEST-CHILD-701"):
            assert clear not in raw

    # housing marks its action done; the chair's family view shows it
    r = hub.http.post("/v1/events", json=s.action_done(housing_action),
                      headers=keys["TEST-HOUSING-A"])  # fmt: skip
    assert r.status_code == 202, r.text
    victim = services.ingress.tokeniser.token("nhs", "9990000701")
    family = family_id_of_token(services.engine, victim)

    def chair_sees_done() -> bool:
        r = hub.http.get(f"/v1/families/{family}", headers={"Authorization": f"Bearer {chair}"})
        assert r.status_code == 200, r.text
        states = {a["action_id"]: a["state"]
                  for h in r.json()["marac"]["hearings"] for a in h["actions"]}  # fmt: skip
        return states.get(housing_action) == "done"

    wait_for(chair_sees_done, 60, "the chair's view to show the housing action done")

    def housing_topic_says(state: str) -> bool:
        told = [i["state"] for i in on_kafka("TEST-HOUSING-A") if i["action_id"] == housing_action]
        return told[-1:] == [state]

    wait_for(lambda: housing_topic_says("done"), 60, "the done action on housing's topic")

    # the police's action is past due: the clock ticks, the owner is told (feed and Kafka)
    def overdue(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [i for i in items if i["kind"] == "notice" and i["rule"] == "action_overdue"]

    (notice,) = wait_for(lambda: overdue(feed("TEST-POLICE-A")), 90, "the police's overdue")
    assert notice["why"] == "owner"
    assert wait_for(lambda: overdue(on_kafka("TEST-POLICE-A")), 60, "overdue on Kafka")
    assert overdue(feed("TEST-HOUSING-A")) == []  # done, never overdue
    r = hub.http.get("/v1/alerts", headers={"Authorization": f"Bearer {chair}"},
                     params={"rule": "action_overdue"})  # fmt: skip
    assert r.status_code == 200 and r.json()["alerts"], r.text  # the chair still hears of it
    headers = _headers_of_first(hub.settings, egress_topic("TEST-POLICE-A"))
    assert headers["ce_specversion"] == b"1.0" and headers["ce_type"].startswith(b"hub.feed.")


def _headers_of_first(settings: Settings, topic: str) -> dict[str, bytes]:
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap, group_id=None, enable_auto_commit=False,
        fetch_max_wait_ms=50,
    )  # fmt: skip
    try:
        part = TopicPartition(settings.topic(topic), 0)
        consumer.assign([part])
        consumer.seek_to_beginning(part)
        batches = wait_for(lambda: consumer.poll(timeout_ms=200), 30, "a record")
        record = next(iter(batches.values()))[0]
        return dict(record.headers)
    finally:
        consumer.close()
