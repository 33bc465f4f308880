"""The whole path on real parts: HTTP → event store → outbox relay → Tansu → faust worker →
SQL read model → HTTP alert read → audit record → `hub audit verify`."""

from __future__ import annotations

import json

from kafka import KafkaProducer
from sqlalchemy import select

from hub.adapters.crypto.ciphers import ERASED
from hub.adapters.crypto.keys import load_or_create_key
from hub.adapters.crypto.tokens import Tokeniser
from hub.adapters.kafka import topics
from hub.adapters.sql.schema import events
from hub.bootstrap import build_services
from hub.contract.examples import EXAMPLES
from hub.entrypoints.stack import child_env
from hub.pipeline.projector import family_state_of_token
from tests import builders as b
from tests.cli import run_hub
from tests.integration.conftest import RunningHub, read_topic, wait_for


def _keys(hub: RunningHub) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    services = build_services(hub.settings)

    def bearer(name: str, kind: str, role: str) -> dict[str, str]:
        agency = name if kind == "agency_system" else None
        return {"Authorization": f"Bearer {services.principals.add(name, kind, role, agency)[1]}"}

    return (
        bearer("TEST-POLICE-A", "agency_system", "police"),
        bearer("TEST-IDVA-A", "agency_system", "idva"),
        bearer("Chair Example", "person", "marac_chair"),
    )


def _token(hub: RunningHub, nhs: str) -> str:
    key = load_or_create_key(hub.settings.data_dir / "keys" / "subject-token.key")
    return Tokeniser(key).token("nhs", nhs)


def test_event_in_alert_out_disclosure_audited(running_hub: RunningHub) -> None:
    hub = running_hub
    police, idva, chair = _keys(hub)
    high = b.dash(16, subjects=[b.victim("9990000101")])
    posts = [
        (police, b.incident(subjects=[b.victim("9990000101"), b.perpetrator()])),
        (idva, high),
        (idva, b.dash(13, subjects=[b.victim("9990000202", "Jo Testperson")])),
        (idva, high),  # resent: stored once
    ]
    for headers, event in posts:
        r = hub.http.post("/v1/events", json=event, headers=headers)
        assert r.status_code == 202, r.text

    def alerts() -> list[dict]:
        r = hub.http.get("/v1/alerts", headers=chair)
        assert r.status_code == 200, r.text
        return r.json()["alerts"]

    engine = build_services(hub.settings).engine
    victim_a, victim_b = _token(hub, "9990000101"), _token(hub, "9990000202")
    # both victims projected: the worker has seen every event, not only the alerting one
    wait_for(lambda: family_state_of_token(engine, victim_b), 60, "the second victim's family")
    [alert] = wait_for(alerts, 60, "the visible-high-risk alert")
    assert alert["rule"] == "visible_high_risk"
    assert alert["victim_token"] == victim_a
    assert "16 of 24" in alert["reason"]
    with engine.connect() as conn:
        high_id = conn.execute(
            select(events.c.hub_id).where(events.c.source_id == high["id"])
        ).scalar_one()
    assert alert["triggering_event_ids"] == [high_id]
    family = family_state_of_token(engine, victim_a)
    assert family is not None and len(family["timeline"]) == 2  # the incident and the Dash

    # the read was a disclosure: audited, and the chain verifies from the command line
    verify = run_hub("audit", "verify", env=child_env(hub.settings))
    assert verify.returncode == 0, verify.stderr
    records = [json.loads(r.body) for r in build_services(hub.settings).audit.records()]
    assert records and all(r["subjects"] == sorted(alert["subject_tokens"]) for r in records)
    assert all(r["items"] == [alert["alert_id"]] for r in records)


def test_a_redelivered_event_raises_no_second_alert(running_hub: RunningHub) -> None:
    hub = running_hub
    _police, idva, chair = _keys(hub)
    high = b.dash(15, subjects=[b.victim("9990000303")])
    assert hub.http.post("/v1/events", json=high, headers=idva).status_code == 202
    engine = build_services(hub.settings).engine
    victim = _token(hub, "9990000303")
    wait_for(lambda: family_state_of_token(engine, victim), 60, "the family projection")

    # Redeliver the stored event straight onto the topic, as a relay crash would, then send
    # a new event for the same victim (same key, same partition, so processed after it).
    store = build_services(hub.settings).ingress.store
    [(_seq, stored)] = store.read()
    producer = KafkaProducer(bootstrap_servers=hub.settings.kafka_bootstrap, acks="all")
    producer.send(
        hub.settings.topic(topics.EVENTS), stored.to_json().encode(), key=victim.encode()
    ).get(timeout=30)
    producer.close()
    later = b.dash(8, subjects=[b.victim("9990000303")], time="2026-04-01T10:00:00Z")
    assert hub.http.post("/v1/events", json=later, headers=idva).status_code == 202

    def latest_score() -> int | None:
        family = family_state_of_token(engine, victim)
        if family is None:
            return None
        [risk] = family["risk"].values()  # one victim in this family
        return risk["dash"]["score"]

    wait_for(lambda: latest_score() == 8, 60, "the later event to be projected")
    family = family_state_of_token(engine, victim)
    assert family is not None and len(family["timeline"]) == 2  # the redelivery changed nothing
    r = hub.http.get("/v1/alerts", headers=chair)
    # one high-risk alert for the redelivered Dash; the later medium score routes to an Idva
    # and, being lower than the high one, warns the chair of a downgrade
    shown = r.json()["alerts"]
    assert sorted(a["rule"] for a in shown) == [
        "medium_risk",
        "risk_downgraded",
        "visible_high_risk",
    ]
    assert {a["victim_token"] for a in shown} == {victim}


def _copies_on_kafka(hub: RunningHub, hub_id: str) -> list[dict]:
    """Every copy of the event on hub.events.v1."""
    values = read_topic(hub.settings, hub.settings.topic(topics.EVENTS))
    return [v for v in map(json.loads, values) if v["hub_id"] == hub_id]


def test_erasure_shreds_sealed_fields_on_kafka_and_the_audit_log_stays_whole(
    running_hub: RunningHub,
) -> None:
    hub = running_hub
    services = build_services(hub.settings)
    ae = services.principals.add("TEST-AE-A", "agency_system", "health_ae", "TEST-AE-A")[1]
    chair_key = services.principals.add("Chair", "person", "marac_chair", None)[1]
    chair = {"Authorization": f"Bearer {chair_key}"}
    event = EXAMPLES["health.attendance"]
    r = hub.http.post("/v1/events", json=event, headers={"Authorization": f"Bearer {ae}"})
    assert r.status_code == 202, r.text
    hub_id = r.json()["hub_id"]
    victim = _token(hub, "9990000001")
    wait_for(
        lambda: family_state_of_token(services.engine, victim), 60, "the attendance to be processed"
    )
    [on_kafka] = _copies_on_kafka(hub, hub_id)
    cipher = services.cipher
    notes = event["data"]["clinical_notes"]
    assert notes not in json.dumps(on_kafka)
    assert cipher.reveal(hub_id, on_kafka["data"])["clinical_notes"] == notes
    read = hub.http.get(f"/v1/subjects/{victim}/events", headers=chair)
    assert read.status_code == 200 and read.json()["audit_record_id"]

    erase = run_hub("subjects", "erase", victim, env=child_env(hub.settings))
    assert erase.returncode == 0, erase.stderr
    assert cipher.reveal(hub_id, on_kafka["data"])["clinical_notes"] == ERASED
    stored = services.ingress.store.get(hub_id)
    assert stored is not None and cipher.reveal(hub_id, stored.data)["self_harm"] == ERASED
    after = hub.http.get(f"/v1/subjects/{victim}/events", headers=chair).json()
    [shown] = after["events"]
    assert shown["data"]["injury"] is True  # what was not sealed stays readable
    verify = run_hub("audit", "verify", env=child_env(hub.settings))
    assert verify.returncode == 0, verify.stderr
