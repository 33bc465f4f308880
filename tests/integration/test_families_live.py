"""Families through the real broker: merges, splits, two victims of one perpetrator as two
cases linked through him, events out of event-time order and redelivered events, with the
live state compared against a replay from the event store."""

from __future__ import annotations

from typing import Any

from kafka import KafkaProducer
from sqlalchemy import func, select

from hub.adapters.kafka import topics
from hub.adapters.sql.schema import events, processed_events, subject_tokens
from hub.bootstrap import build_services
from hub.entrypoints.stack import child_env
from hub.pipeline.projector import CONSUMER as PROJECTOR
from hub.pipeline.projector import family_state_of_token
from hub.pipeline.replay import state_digest
from tests import builders as b
from tests.cli import run_hub
from tests.integration.conftest import RunningHub, wait_for


class Hub:
    """Keys and small reads for one running hub."""

    def __init__(self, hub: RunningHub) -> None:
        self.hub = hub
        self.services = build_services(hub.settings)
        add = self.services.principals.add
        self.police = _bearer(add("TEST-POLICE-A", "agency_system", "police", "TEST-POLICE-A"))
        self.ae = _bearer(add("TEST-AE-A", "agency_system", "health_ae", "TEST-AE-A"))
        self.housing = _bearer(add("TEST-HOUSING-A", "agency_system", "housing", "TEST-HOUSING-A"))
        self.idva = _bearer(add("TEST-IDVA-A", "agency_system", "idva", "TEST-IDVA-A"))
        self.coordinator = _bearer(add("Coordinator Example", "person", "marac_coordinator", None))
        self.chair = _bearer(add("Chair Example", "person", "marac_chair", None))

    def post(self, headers: dict[str, str], event: dict[str, Any]) -> str:
        r = self.hub.http.post("/v1/events", json=event, headers=headers)
        assert r.status_code == 202, r.text
        return str(r.json()["hub_id"])

    def token(self, kind: str, *values: str) -> str:
        return self.services.ingress.tokeniser.token(kind, *values)

    def family_id(self, token: str) -> str | None:
        with self.services.engine.connect() as conn:
            return conn.execute(
                select(subject_tokens.c.family_id).where(subject_tokens.c.token == token)
            ).scalar_one_or_none()

    def family(self, token: str) -> dict[str, Any] | None:
        return family_state_of_token(self.services.engine, token)

    def all_projected(self) -> bool:
        with self.services.engine.connect() as conn:
            stored = conn.execute(select(func.count()).select_from(events)).scalar_one()
            done = conn.execute(
                select(func.count())
                .select_from(processed_events)
                .where(processed_events.c.consumer == PROJECTOR)
            ).scalar_one()
        return bool(stored == done)


def _bearer(added: tuple[Any, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {added[1]}"}


def person(role: str, **ids: str) -> dict[str, Any]:
    return {"role": role, "name": "Alex Example", "identifiers": ids}


def test_a_confirmed_match_merges_families_and_undoing_it_splits_them(
    running_hub: RunningHub,
) -> None:
    h = Hub(running_hub)
    at_ae = {
        "role": "victim", "name": "Alex Example", "date_of_birth": "1990-01-01",
        "postcode": "ZZ9 9ZZ", "identifiers": {"agency_ref": "AE-1"},
    }  # fmt: skip
    at_housing = {**at_ae, "identifiers": {"agency_ref": "H-9"}}
    h.post(h.ae, b._envelope("health.attendance", {"subjects": [at_ae], "setting": "ae"}))
    h.post(
        h.housing, b._envelope("needs.identified", {"subjects": [at_housing], "needs": ["housing"]})
    )
    t_ae, t_h = h.token("agency", "TEST-AE-A", "AE-1"), h.token("agency", "TEST-HOUSING-A", "H-9")

    def open_matches() -> list[dict[str, Any]]:
        r = h.hub.http.get("/v1/identity/matches", headers=h.coordinator)
        assert r.status_code == 200, r.text
        return [m for m in r.json()["matches"] if m["status"] == "open"]

    [match] = wait_for(open_matches, 60, "the possible match")
    wait_for(h.all_projected, 60, "both events projected")
    before = (h.family_id(t_ae), h.family_id(t_h))
    assert before[0] != before[1]  # never merged silently

    r = h.hub.http.post(f"/v1/identity/matches/{match['match_id']}/confirm", headers=h.coordinator)
    assert r.status_code == 202, r.text
    merged = wait_for(
        lambda: (f := h.family(t_h)) and f["family_id"] == h.family_id(t_ae)
        and len([e for e in f["timeline"] if not e["type"].startswith("hub.")]) == 2 and f,
        60, "the merged family with both histories",
    )  # fmt: skip
    assert merged["family_id"] == before[0]  # the older family's id survives

    r = h.hub.http.post(f"/v1/identity/matches/{match['match_id']}/undo", headers=h.coordinator)
    assert r.status_code == 202, r.text
    wait_for(
        lambda: (h.family_id(t_ae), h.family_id(t_h)) == before
        and (f := h.family(t_h)) is not None
        and all(e["type"] != "health.attendance" for e in f["timeline"]),
        60, "the split, with the old family ids and the projections following",
    )  # fmt: skip


def test_out_of_order_and_redelivered_events_end_as_a_replay_does(
    running_hub: RunningHub,
) -> None:
    h = Hub(running_hub)
    v1, v2 = person("victim", nhs_number="9990000601"), person("victim", nhs_number="9990000602")
    p1 = b.perpetrator("TEST-PNC-61")
    # sent newest first: event time runs backwards against arrival
    link = h.post(h.police, b.incident(subjects=[v2, p1], time="2026-05-01T10:00:00Z"))
    h.post(h.idva, b.dash(15, subjects=[v1], time="2026-04-01T10:00:00Z"))
    h.post(
        h.police,
        b.incident(subjects=[v2, b.perpetrator("TEST-PNC-62")], time="2026-03-01T10:00:00Z"),
    )
    h.post(h.police, b.incident(subjects=[v1, p1], time="2026-02-01T10:00:00Z"))
    h.post(h.idva, b.dash(9, subjects=[v2], time="2026-01-01T10:00:00Z"))
    wait_for(h.all_projected, 60, "every event projected")
    victim1 = h.token("nhs", "9990000601")
    family = h.family(victim1)
    # her case: her two events; the perpetrator's incident with the other woman is a link
    assert family is not None and len(family["timeline"]) == 2
    assert [e["hub_id"] for e in family["links"]] == [link]
    assert [e["time"] for e in family["timeline"]] == sorted(e["time"] for e in family["timeline"])

    # a relay crash republishes everything, keyed by ids some of which are no longer current
    producer = KafkaProducer(bootstrap_servers=h.hub.settings.kafka_bootstrap, acks="all")
    topic = h.hub.settings.topic(topics.EVENTS)
    for _seq, e in h.services.ingress.store.read():
        producer.send(topic, e.to_json().encode(), key=f"f_{e.victim_token[3:]}".encode())
    producer.flush()
    producer.close()
    marker = h.post(h.idva, b.dash(3, subjects=[v1], time="2026-06-01T10:00:00Z"))
    wait_for(
        lambda: (f := h.family(victim1)) and marker in {e["hub_id"] for e in f["timeline"]},
        60, "an event sent after the redeliveries",
    )  # fmt: skip
    assert len(h.family(victim1)["timeline"]) == 3  # the redeliveries changed nothing
    live = state_digest(h.services.engine)
    replay = run_hub("replay", env=child_env(h.hub.settings))
    assert replay.returncode == 0, replay.stderr
    assert "unchanged" in replay.stdout, replay.stdout
    assert state_digest(h.services.engine) == live


def test_two_victims_of_one_perpetrator_are_two_cases_linked_through_him(
    running_hub: RunningHub,
) -> None:
    h = Hub(running_hub)
    v1, v2 = person("victim", nhs_number="9990000701"), person("victim", nhs_number="9990000702")
    child = {**person("child", local_authority_id="TEST-LA-71"), "name": "Kit Example"}
    perp = b.perpetrator("TEST-PNC-71")
    first = h.post(h.police, b.incident(subjects=[v1, perp, child], time="2026-02-01T10:00:00Z"))
    second = h.post(h.police, b.incident(subjects=[v2, perp], time="2026-03-01T10:00:00Z"))
    # a police marker naming him alone belongs to both cases
    marked = h.post(h.police, b._envelope("marker.added", {
        "subjects": [{**perp, "role": "perpetrator"}], "marker": "high_risk_perpetrator",
        "since": "2026-03-02",
    }, time="2026-03-02T10:00:00Z"))  # fmt: skip
    wait_for(h.all_projected, 60, "every event projected")
    t1, t2 = h.token("nhs", "9990000701"), h.token("nhs", "9990000702")
    f1, f2 = h.family_id(t1), h.family_id(t2)
    assert f1 is not None and f2 is not None and f1 != f2  # two cases, not one family

    def view(fid: str) -> dict[str, Any]:
        r = h.hub.http.get(f"/v1/families/{fid}", headers=h.chair)
        assert r.status_code == 200, r.text
        return dict(r.json())

    def tokens(v: dict[str, Any]) -> set[str]:
        return {t for m in v["members"].values() for t in m["tokens"]}

    one, two = view(f1), view(f2)
    assert {e["hub_id"] for e in one["timeline"]} == {first, marked}
    assert {e["hub_id"] for e in two["timeline"]} == {second, marked}
    assert t2 not in tokens(one) and t1 not in tokens(two)  # neither sees the other woman

    def serial() -> list[dict[str, Any]]:
        r = h.hub.http.get("/v1/alerts", headers=h.chair)
        assert r.status_code == 200, r.text
        found = [a for a in r.json()["alerts"] if a["rule"] == "serial_perpetrator"]
        return found if len(found) == 2 else []

    alerts = wait_for(serial, 60, "a serial-perpetrator alert in each case")
    assert {a["family_id"] for a in alerts} == {f1, f2}
    for a in alerts:  # each names both victims, so both cases, through him
        assert {t1, t2} <= set(a["subject_tokens"])
        assert {first, second} <= set(a["triggering_event_ids"])
    live = state_digest(h.services.engine)
    replay = run_hub("replay", env=child_env(h.hub.settings))
    assert replay.returncode == 0, replay.stderr
    assert state_digest(h.services.engine) == live
