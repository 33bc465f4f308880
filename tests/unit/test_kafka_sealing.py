"""Kafka-direct events sealed to the hub's ingress key: the raw and rejected topics carry no
identifier in clear, only the hub opens a sealed event, and plaintext is refused unless the
sender's area accepts it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from hub.adapters.kafka.binding import RawRecord
from hub.bootstrap import build_services
from hub.contract.sealing import (
    SEALED_HEADER,
    SealError,
    ingress_public_key_pem,
    load_ingress_public_key,
    seal,
    unseal,
)
from hub.services.kafka_ingress import CachedDirectory, KafkaIngress, rejection_headers
from hub.settings import Settings
from producers.kafka_producer import KafkaHubProducer, encode, sealed, signed
from tests import builders as b
from tests.kafka_builders import agency_key, record, register

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
HUB_KEY = X25519PrivateKey.from_private_bytes(bytes(range(100, 132)))
HUB_PUBLIC = HUB_KEY.public_key().public_bytes_raw()
PLAINTEXT_AREA_AGENCY = "TEST-POLICE-B"
OTHER_AGENCY_KEY = Ed25519PrivateKey.from_private_bytes(b"\x03" * 32)


@pytest.fixture
def handler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaIngress]:
    services = build_services(Settings(data_dir=tmp_path_factory.mktemp("sealing")))
    register(services.principals, "TEST-POLICE-A", "police", agency_key())
    register(services.principals, PLAINTEXT_AREA_AGENCY, "police", OTHER_AGENCY_KEY)
    yield KafkaIngress(
        services.ingress,
        CachedDirectory(services.principals),
        8192,
        ingress_key=HUB_KEY,
        plaintext_allowed=lambda agency: agency == PLAINTEXT_AREA_AGENCY,
    )
    services.engine.dispose()


def sealed_record(event: dict[str, object], to: bytes = HUB_PUBLIC) -> RawRecord:
    m = signed(sealed(encode(event, "structured"), to), "TEST-POLICE-A", agency_key())
    return RawRecord(m.value, tuple(m.headers), m.key, "hub.ingress.raw", 0, 0)


def test_a_sealed_event_is_accepted_and_holds_nothing_in_clear(handler: KafkaIngress) -> None:
    event = b.incident()
    rec = sealed_record(event)
    wire = rec.value + b"".join(v or b"" for _n, v in rec.headers)
    assert b"Alex Example" not in wire and b"9990000001" not in wire
    [outcome] = handler.handle_batch([rec], NOW)
    assert outcome.status == "accepted" and outcome.event_id == event["id"]


def test_plaintext_is_refused_and_not_copied_to_the_rejected_topic(handler: KafkaIngress) -> None:
    [outcome] = handler.handle_batch([record(b.incident())], NOW)
    assert outcome.status == "rejected" and outcome.reason == "not_sealed"
    assert outcome.record.value is None
    headers = dict(rejection_headers(outcome, NOW))
    assert b"9990000001" not in b"".join(headers.values())
    assert "hub ingress-key" in json.loads(headers["hub_reject_errors"])[0]["msg"]


def test_plaintext_is_accepted_where_the_area_allows_it(handler: KafkaIngress) -> None:
    rec = record(b.incident(), agency=PLAINTEXT_AREA_AGENCY, key=OTHER_AGENCY_KEY)
    [outcome] = handler.handle_batch([rec], NOW)
    assert outcome.status == "accepted"


def test_sealed_to_another_key_is_refused_and_kept_sealed(handler: KafkaIngress) -> None:
    other = X25519PrivateKey.generate().public_key().public_bytes_raw()
    rec = sealed_record(b.incident(), to=other)
    [outcome] = handler.handle_batch([rec], NOW)
    assert outcome.reason == "sealed_invalid"
    assert outcome.record.value == rec.value  # the rejected topic gets the ciphertext


def test_dropping_the_sealed_header_breaks_the_signature(handler: KafkaIngress) -> None:
    rec = sealed_record(b.incident())
    stripped = RawRecord(rec.value, tuple(h for h in rec.headers if h[0] != SEALED_HEADER))
    [outcome] = handler.handle_batch([stripped], NOW)
    assert outcome.reason == "unauthenticated"


@given(plaintext=st.binary(max_size=2048))
def test_sealing_round_trips_and_every_seal_differs(plaintext: bytes) -> None:
    one, two = seal(HUB_PUBLIC, plaintext), seal(HUB_PUBLIC, plaintext)
    assert one != two
    assert unseal(HUB_KEY, one) == plaintext == unseal(HUB_KEY, two)


@given(plaintext=st.binary(min_size=1, max_size=256), data=st.data())
def test_any_changed_byte_is_refused(plaintext: bytes, data: st.DataObject) -> None:
    box = bytearray(seal(HUB_PUBLIC, plaintext))
    i = data.draw(st.integers(0, len(box) - 1))
    box[i] ^= data.draw(st.integers(1, 255))
    with pytest.raises(SealError):
        unseal(HUB_KEY, bytes(box))


def test_the_published_pem_is_what_producers_load() -> None:
    assert load_ingress_public_key(ingress_public_key_pem(HUB_KEY)) == HUB_PUBLIC
    with pytest.raises(SealError, match="PEM"):
        load_ingress_public_key(b"not a key")


def test_the_producer_seals_in_structured_mode_when_given_the_key() -> None:
    producer = KafkaHubProducer(
        "127.0.0.1:1", "TEST-POLICE-A", agency_key(), seal_to=HUB_PUBLIC,
        producer_factory=lambda **_config: None,
    )  # fmt: skip
    m = producer.message(b.incident())
    assert dict(m.headers)["content-type"] == b"application/cloudevents+json"
    assert json.loads(unseal(HUB_KEY, m.value))["type"] == "police.incident"
