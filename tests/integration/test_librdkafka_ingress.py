"""Kafka-direct ingress from a librdkafka client (confluent-kafka), as an agency whose
systems are not in Python's pure Kafka clients would send: a sealed, signed event is stored
and a tampered one refused on hub.ingress.rejected, which a librdkafka consumer reads back.
docs/kafka-ingress.md lists the client versions known to work with the embedded broker."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import confluent_kafka
import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from hub.adapters.crypto.keys import load_ingress_key
from hub.adapters.kafka import topics
from hub.bootstrap import build_services
from producers.kafka_producer import encode, sealed, signed
from tests import builders as b
from tests.integration.conftest import RunningHub, wait_for
from tests.integration.test_kafka_ingress import stored
from tests.kafka_builders import agency_key, register


@pytest.fixture
def hub(running_hub: RunningHub) -> Iterator[RunningHub]:
    services = build_services(running_hub.settings)
    register(services.principals, "TEST-POLICE-A", "police", agency_key())
    services.engine.dispose()
    yield running_hub


def test_a_librdkafka_producer_sends_to_kafka_direct_ingress(hub: RunningHub) -> None:
    s = hub.settings
    assert confluent_kafka.libversion()[1] >= 0x02100000  # librdkafka 2.16, known to work
    public = load_ingress_key(s.data_dir / "keys").public_key().public_bytes_raw()
    good = b.incident(subjects=[b.victim("9990000701"), b.perpetrator()])
    bad = b.incident(subjects=[b.victim("9990000702"), b.perpetrator()])
    messages = [
        signed(sealed(encode(e), public), "TEST-POLICE-A", agency_key()) for e in (good, bad)
    ]
    # flip the last byte's bits (setting it to 0 changed nothing when it was already 0)
    tampered = replace(
        messages[1], value=messages[1].value[:-1] + bytes([messages[1].value[-1] ^ 0xFF])
    )

    producer = Producer({"bootstrap.servers": s.kafka_bootstrap, "acks": "all"})
    delivered: list[str | None] = []
    for m in (messages[0], tampered):
        producer.produce(
            s.topic(topics.INGRESS_RAW),
            value=m.value,
            key=m.key,
            headers=m.headers,
            on_delivery=lambda err, _msg: delivered.append(None if err is None else str(err)),
        )
    assert producer.flush(30) == 0
    assert delivered == [None, None]  # both acknowledged by the broker

    wait_for(lambda: stored(s, [good["id"]]) == {good["id"]}, 60, "the sealed event stored")
    assert stored(s, [bad["id"]]) == set()

    rejected = read_with_librdkafka(s.kafka_bootstrap, s.topic(topics.INGRESS_REJECTED), 1)
    [refusal] = rejected
    headers = dict(refusal.headers() or [])
    assert headers["hub_reject_reason"] in (b"unauthenticated", b"sealed_invalid")
    assert refusal.value() == tampered.value  # the original bytes, still sealed


def read_with_librdkafka(bootstrap: str, topic: str, n: int) -> list[confluent_kafka.Message]:
    """The first n messages of topic, read by assignment (no consumer group to join)."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "test-librdkafka-reader",  # required, never joined: assign() below
            "enable.auto.commit": False,
            "fetch.wait.max.ms": 100,  # the embedded broker holds a fetch about half of this
        }
    )
    try:
        meta = consumer.list_topics(topic, timeout=30).topics[topic]
        consumer.assign(
            [TopicPartition(topic, p, confluent_kafka.OFFSET_BEGINNING) for p in meta.partitions]
        )
        got: list[confluent_kafka.Message] = []

        def enough() -> bool:
            message = consumer.poll(0.2)
            if message is not None and message.error() is None:
                got.append(message)
            return len(got) >= n

        wait_for(enough, 60, f"{n} messages on {topic}")
        return got
    finally:
        consumer.close()
