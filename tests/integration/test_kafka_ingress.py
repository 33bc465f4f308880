"""Kafka-direct ingress on the real broker and worker: agencies' own producers write to
hub.ingress.raw; the worker stores what it accepts (the API's relay publishes it on) and puts
every refusal on hub.ingress.rejected with the original bytes. Nothing is dropped."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from kafka import KafkaProducer
from sqlalchemy import select

from hub.adapters.crypto.keys import load_ingress_key, load_or_create_key
from hub.adapters.crypto.tokens import Tokeniser
from hub.adapters.kafka import topics
from hub.adapters.sql.schema import events
from hub.bootstrap import build_services
from hub.contract.kafka_clients import producer_tuning
from hub.contract.sealing import SCHEME, seal, unseal
from hub.pipeline.projector import family_state_of_token
from hub.settings import Settings
from producers.kafka_producer import KafkaHubProducer
from tests import builders as b
from tests.integration.conftest import RunningHub, TopicTail, read_topic, wait_for
from tests.kafka_builders import agency_key, hand_made_binary, register

AE_KEY = Ed25519PrivateKey.from_private_bytes(b"\x02" * 32)


@pytest.fixture
def hub(running_hub: RunningHub) -> Iterator[RunningHub]:
    services = build_services(running_hub.settings)
    register(services.principals, "TEST-POLICE-A", "police", agency_key())
    register(services.principals, "TEST-AE-A", "health_ae", AE_KEY)
    services.engine.dispose()
    yield running_hub


def hub_public(settings: Settings) -> bytes:
    """The hub's ingress public key, as `hub ingress-key` gives it to agencies."""
    return load_ingress_key(settings.data_dir / "keys").public_key().public_bytes_raw()


def raw_topic(settings: Settings) -> str:
    return settings.topic(topics.INGRESS_RAW)


def stored(settings: Settings, ids: list[str]) -> set[str]:
    engine = build_services(settings).engine
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(events.c.source_id).where(events.c.source_id.in_(ids)))
            return set(rows.scalars())
    finally:
        engine.dispose()


def plain_producer(settings: Settings) -> KafkaProducer:
    return KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, **producer_tuning(True))


def test_both_content_modes_from_our_producer_and_from_others_are_accepted(
    hub: RunningHub,
) -> None:
    s = hub.settings
    sent: list[dict[str, Any]] = []
    for mode in ("binary", "structured"):
        event = b.incident(subjects=[b.victim("9990000501"), b.perpetrator()])
        with KafkaHubProducer(
            s.kafka_bootstrap,
            "TEST-POLICE-A",
            agency_key(),
            topic=raw_topic(s),
            mode=mode,
            embedded_broker=True,
            seal_to=hub_public(s),
        ) as producer:
            assert producer.send(event).status == "sent"
        sent.append(event)

    # plain kafka-python, CloudEvents binary mode written by hand from the spec
    event = b.incident(subjects=[b.victim("9990000502"), b.perpetrator()])
    value, headers = hand_made_binary(event, "TEST-POLICE-A", agency_key(), hub_public(s))
    producer = plain_producer(s)
    producer.send(raw_topic(s), value, headers=headers).get(timeout=30)
    sent.append(event)

    # the CloudEvents Python SDK, both modes, signed by a from-the-docs implementation
    for sdk_event in sdk_messages(producer, s):
        sent.append(sdk_event)
    producer.close()

    ids = [e["id"] for e in sent]
    wait_for(lambda: stored(s, ids) == set(ids), 60, "every Kafka-direct event to be stored")

    # stored events travel on: the API's relay publishes them and the worker projects them
    token = Tokeniser(load_or_create_key(s.data_dir / "keys" / "subject-token.key"))
    engine = build_services(s).engine
    victim = token.token("nhs", "9990000501")

    def victims_events() -> list[dict[str, Any]]:
        # every event here names the same perpetrator, so they all form one family
        family = family_state_of_token(engine, victim) or {"timeline": []}
        return [e for e in family["timeline"] if any(x["token"] == victim for x in e["subjects"])]

    mine = wait_for(lambda: len(victims_events()) == 2 and victims_events(), 60, "both events")
    assert {e["agency_id"] for e in mine} == {"TEST-POLICE-A"}  # one per mode, same victim
    assert not [v for v in read_topic(s, raw_topic(s)) if b"9990000501" in v]  # sealed
    engine.dispose()


def _spec_signature(key: Ed25519PrivateKey, value: bytes, headers: dict[str, bytes]) -> bytes:
    """The signing input as docs/kafka-ingress.md defines it, written again here so the doc,
    not our code, is what a foreign producer follows."""
    import base64

    def ns(data: bytes) -> bytes:
        return str(len(data)).encode() + b":" + data + b","

    signed = sorted(
        (n.lower().encode(), v)
        for n, v in headers.items()
        if n.lower().startswith("ce_") or n.lower() in ("content-type", "hub_agency", "hub_sealed")
    )
    message = ns(b"hub-kafka-sig-v1") + b"".join(ns(n) + ns(v) for n, v in signed) + ns(value)
    return base64.b64encode(key.sign(message))


def sdk_messages(producer: KafkaProducer, s: Settings) -> list[dict[str, Any]]:
    from cloudevents.core.bindings.kafka import to_binary, to_structured
    from cloudevents.core.formats.json import JSONFormat
    from cloudevents.core.v1.event import CloudEvent

    sent = []
    for n, convert in enumerate((to_binary, to_structured)):
        event = b.incident(subjects=[b.victim(f"999000060{n}"), b.perpetrator()])
        attributes = {k: v for k, v in event.items() if k != "data"}
        attributes["time"] = datetime.fromisoformat(attributes["time"])
        attributes["datacontenttype"] = "application/json"
        message = convert(CloudEvent(attributes=attributes, data=event["data"]), JSONFormat())
        value = seal(hub_public(s), message.value)  # sealing as docs/kafka-ingress.md says
        headers = {**message.headers, "hub_agency": b"TEST-POLICE-A", "hub_sealed": SCHEME}
        headers["hub_signature"] = _spec_signature(agency_key(), value, headers)
        producer.send(raw_topic(s), value, headers=list(headers.items())).get(timeout=30)
        sent.append(event)
    return sent


def test_a_mixed_stream_counts_in_equals_accepted_plus_rejected(hub: RunningHub) -> None:
    s = hub.settings
    good = [b.incident(subjects=[b.victim(f"99900007{n:02d}"), b.perpetrator()]) for n in range(6)]
    conflicting = dict(good[0], data={**good[0]["data"], "injuries": True})
    future = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    sealed = {"topic": raw_topic(s), "embedded_broker": True, "seal_to": hub_public(s)}
    police = KafkaHubProducer(s.kafka_bootstrap, "TEST-POLICE-A", agency_key(), **sealed)
    forged = KafkaHubProducer(s.kafka_bootstrap, "TEST-POLICE-A", AE_KEY, **sealed)
    ae = KafkaHubProducer(s.kafka_bootstrap, "TEST-AE-A", AE_KEY, **sealed)
    plain = KafkaHubProducer(
        s.kafka_bootstrap, "TEST-POLICE-A", agency_key(), topic=raw_topic(s), embedded_broker=True
    )
    expected = {
        "too_large": [b.incident(padding="x" * (s.max_event_bytes + 1))],
        "malformed_json": [b'{"specversion": "1.0", "id": '],
        "invalid": [b.dash(14, subjects=[b.perpetrator()])],
        "unknown_type": [b.incident(type="police.rumour")],
        "future_dated": [b.incident(time=future)],
    }
    police.send_many(good)
    police.send_many([good[1], good[2]])  # resent: duplicates, accepted once
    for batch in expected.values():
        police.send_many(batch)
    wait_for(lambda: stored(s, [good[0]["id"]]), 60, "the first event to be stored")
    police.send(conflicting)
    forged.send(b.incident())  # signed with a key that is not TEST-POLICE-A's
    ae.send(b.incident())  # an A&E system may not send police incidents
    plain.send(b.incident())  # TEST-AREA does not accept unsealed events
    for producer in (police, forged, ae, plain):
        producer.close()
    expected |= {
        "conflict": [conflicting],
        "unauthenticated": [1],
        "not_allowed": [1],
        "not_sealed": [1],
    }
    messages_in = len(good) + 2 + sum(len(v) for v in expected.values())

    rejected = TopicTail(s.kafka_bootstrap, s.topic(topics.INGRESS_REJECTED))
    try:
        records = wait_for(lambda: rejected.at_least(len(expected)), 60, "every rejection")
        assert not rejected.at_least(len(expected) + 1)  # and no more
    finally:
        rejected.close()
    reasons = sorted(dict(r.headers)["hub_reject_reason"].decode() for r in records)
    assert reasons == sorted(expected)
    accepted = stored(s, [e["id"] for e in good])
    assert accepted == {e["id"] for e in good}
    assert messages_in == len(good) + 2 + len(records)  # in = accepted + duplicates + rejected

    # a rejection keeps the original (sealed) bytes and headers; errors name paths, not values
    [malformed] = [r for r in records if dict(r.headers)["hub_reject_reason"] == b"malformed_json"]
    assert (
        unseal(load_ingress_key(s.data_dir / "keys"), malformed.value)
        == (expected["malformed_json"][0])
    )
    [unsealed] = [r for r in records if dict(r.headers)["hub_reject_reason"] == b"not_sealed"]
    assert unsealed.value is None  # plaintext is not copied onto the rejected topic
    assert ("hub_agency", b"TEST-POLICE-A") in malformed.headers
    [invalid] = [r for r in records if dict(r.headers)["hub_reject_reason"] == b"invalid"]
    errors = json.loads(dict(invalid.headers)["hub_reject_errors"])
    assert [e["path"] for e in errors] == ["data.subjects"]
    assert "TEST00000002" not in json.dumps(errors)


def test_garbage_does_not_stall_the_partition(hub: RunningHub) -> None:
    s = hub.settings
    rng = random.Random(1234)
    producer = plain_producer(s)
    garbage = [rng.randbytes(rng.randint(0, 200)) for _ in range(40)]
    for n, junk in enumerate(garbage):
        headers = [("ce_id", junk[:8]), ("hub_agency", b"TEST-POLICE-A")] if n % 2 else []
        producer.send(raw_topic(s), junk, key=b"same-partition", headers=headers)
    good = b.incident(subjects=[b.victim("9990000801"), b.perpetrator()])
    value, headers = hand_made_binary(good, "TEST-POLICE-A", agency_key(), hub_public(s))
    producer.send(raw_topic(s), value, key=b"same-partition", headers=headers).get(timeout=30)
    producer.close()

    wait_for(lambda: stored(s, [good["id"]]), 60, "the good event behind the garbage")
    rejected = TopicTail(s.kafka_bootstrap, s.topic(topics.INGRESS_REJECTED))
    try:
        records = wait_for(lambda: rejected.at_least(len(garbage)), 60, "every rejection")
    finally:
        rejected.close()
    assert len(records) == len(garbage)
    assert [r.value for r in records] == garbage  # original bytes, in order
