"""GET /v1/feed on a real SQLite database, the pipeline run in-process (tests/processing.py):
each agency is told what it must act on and nothing else; the cursor resumes; every page is
audited. The same flow through the real broker, with the Kafka topics, is
test_feed_live.py."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hub.adapters.sql.families import family_id_of_token
from hub.domain.internal import clock_tick
from tests import feed_scenario as s
from tests.integration.conftest import Api
from tests.processing import process_stored


@pytest.fixture
def keys(api: Api) -> dict[str, dict[str, str]]:
    out = {agency: api.key(agency, "agency_system", kind) for agency, kind in s.AGENCIES.items()}
    out["chair"] = api.key("Chair Example", "person", "marac_chair")
    return out


def send(api: Api, keys: dict[str, dict[str, str]], agency: str, event: dict[str, Any]) -> None:
    r = api.client.post("/v1/events", json=event, headers=keys[agency])
    assert r.status_code == 202, r.text


def feed(api: Api, headers: dict[str, str], cursor: str | None = None) -> dict[str, Any]:
    r = api.client.get("/v1/feed", headers=headers, params={"cursor": cursor} if cursor else {})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def kinds(page: dict[str, Any]) -> list[tuple[str, str | None]]:
    return sorted((i["kind"], i["rule"] or i["owner_agency"]) for i in page["items"])


def heard(api: Api, keys: dict[str, dict[str, str]]) -> str:
    for agency, event in s.events():
        send(api, keys, agency, event)
    process_stored(api.services)
    store = api.services.ingress.store
    api.services.ingress.store.append(
        clock_tick(datetime.now(UTC)), "tick", api.services.settings.topic("hub.events.v1")
    )
    process_stored(api.services)
    hearing = next(e for _s, e in store.read(0, 100) if e.type == "marac.case_heard")
    return hearing.hub_id


def test_each_agency_is_told_what_it_must_act_on_and_nothing_else(
    api: Api, keys: dict[str, dict[str, str]]
) -> None:
    hearing = heard(api, keys)
    pages = {agency: feed(api, keys[agency]) for agency in s.AGENCIES}
    assert kinds(pages["TEST-POLICE-A"]) == [
        ("action", "TEST-POLICE-A"), ("hearing", None), ("notice", "action_overdue"),
    ]  # fmt: skip
    assert kinds(pages["TEST-HOUSING-A"]) == [("action", "TEST-HOUSING-A"), ("hearing", None)]
    assert kinds(pages["TEST-PROBATION-A"]) == [
        ("action", "TEST-PROBATION-A"), ("hearing", None), ("notice", "action_overdue"),
    ]  # fmt: skip
    assert kinds(pages["TEST-CSC-A"]) == [
        ("hearing", None), ("listed_for_marac", None), ("notice", "children_present"),
    ]  # fmt: skip
    assert kinds(pages["TEST-SCHOOL-A"]) == [("notice", "children_present")]
    assert kinds(pages["TEST-IDVA-A"]) == [("notice", "first_contact_overdue")]
    assert kinds(pages["TEST-MARAC-A"]) == []

    police = {i["kind"]: i for i in pages["TEST-POLICE-A"]["items"]}
    assert police["action"]["action_id"] == f"{hearing}.1"
    assert police["action"]["state"] == "open" and police["action"]["due_date"] == "2026-03-12"
    assert police["hearing"]["your_actions"] == [f"{hearing}.1"]
    assert police["hearing"]["risk_discussed"] == "high"
    # the school learns which child, and when: not the victim, the perpetrator or what happened
    tokens = api.services.ingress.tokeniser
    (notice,) = pages["TEST-SCHOOL-A"]["items"]
    assert notice["people"] == [{"token": tokens.token("la", "TEST-CHILD-701"), "role": "child"}]
    assert notice["time"] and notice["due"] and notice["why"] == "school"
    assert "ages" not in str(notice) and "physical" not in str(notice)


def test_an_update_is_told_again_and_the_chair_sees_it(
    api: Api, keys: dict[str, dict[str, str]]
) -> None:
    hearing = heard(api, keys)
    first = feed(api, keys["TEST-HOUSING-A"])
    assert feed(api, keys["TEST-HOUSING-A"], first["cursor"])["items"] == []  # resumes

    send(api, keys, "TEST-HOUSING-A", s.action_done(f"{hearing}.2"))
    process_stored(api.services)
    (item,) = feed(api, keys["TEST-HOUSING-A"], first["cursor"])["items"]
    assert (item["item_id"], item["state"]) == (f"action:{hearing}.2", "done")
    assert item["version"] != next(i for i in first["items"] if i["kind"] == "action")["version"]

    victim = tokens_of(api, "nhs", "9990000701")
    family = family_id_of_token(api.services.engine, victim)
    r = api.client.get(f"/v1/families/{family}", headers=keys["chair"])
    assert r.status_code == 200, r.text
    marac = r.json()["marac"]
    states = {a["action_id"]: a["state"] for h in marac["hearings"] for a in h["actions"]}
    assert states[f"{hearing}.2"] == "done"


def tokens_of(api: Api, kind: str, value: str) -> str:
    return str(api.services.ingress.tokeniser.token(kind, value))


def test_people_read_their_pages_not_the_feed(api: Api, keys: dict[str, dict[str, str]]) -> None:
    r = api.client.get("/v1/feed", headers=keys["chair"])
    assert r.status_code == 403
    r = api.client.get("/v1/feed", headers=keys["TEST-POLICE-A"], params={"cursor": "nonsense"})
    assert r.status_code == 422 and "cursor" in r.text


def test_the_agency_client_follows_its_feed_across_restarts_into_a_csv(
    api: Api, keys: dict[str, dict[str, str]], tmp_path: Path
) -> None:
    from producers.feed_client import FeedFollower, write_csv

    hearing = heard(api, keys)
    key = keys["TEST-HOUSING-A"]["Authorization"].removeprefix("Bearer ")
    cursor, table = tmp_path / "feed.cursor", tmp_path / "housing.csv"

    def follower() -> FeedFollower:  # a new one each time: as after a restart
        return FeedFollower("http://hub.test", key, cursor, client=api.client)

    assert follower().poll(lambda items: write_csv(items, table)) == 2
    assert follower().poll(lambda items: write_csv(items, table)) == 0  # resumed, not repeated

    send(api, keys, "TEST-HOUSING-A", s.action_done(f"{hearing}.2"))
    process_stored(api.services)
    assert follower().poll(lambda items: write_csv(items, table)) == 1
    with table.open(newline="", encoding="utf-8") as f:
        rows = {r["item_id"]: r for r in csv.DictReader(f)}
    assert set(rows) == {f"action:{hearing}.2", f"hearing:{hearing}"}  # one row per item
    assert rows[f"action:{hearing}.2"]["state"] == "done"
    assert "Alex" not in table.read_text("utf-8")  # tokens only
