"""Poison inputs at both ways in: extreme dates, NUL characters, a person named twice, deeply
nested and non-UTF-8 documents. Over HTTP each gets a 4xx naming what to fix; on Kafka each
gets a rejection with its reason; nothing of them is stored, and the good event after them
is."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hub.adapters.kafka.binding import RawRecord
from hub.bootstrap import build_services
from hub.services.kafka_ingress import CachedDirectory, KafkaIngress
from hub.settings import Settings
from tests import builders as b
from tests.http_errors import detail_text
from tests.integration.conftest import Api
from tests.kafka_builders import agency_key, record, register

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _nested(depth: int) -> bytes:
    """An event with a member nested depth deep, as bytes (too deep for json.dumps itself)."""
    event = json.dumps(b.incident())
    return (event[:-1] + ', "nested": ' + '{"a": ' * depth + '"x"' + "}" * depth + "}").encode()


def _same_person_twice() -> dict[str, Any]:
    himself = {"role": "perpetrator", "identifiers": {"nhs_number": "9990000001"}}
    return b.incident(subjects=[b.victim("9990000001"), himself])


POISON: dict[str, Callable[[], dict[str, Any] | bytes]] = {
    "year 1": lambda: b.incident(time="0001-01-01T00:00:00Z"),
    "year 9999": lambda: b.incident(time="9999-12-31T23:59:59Z"),
    "NUL in text": lambda: b.incident(subject="TEST\x00CASE"),
    "a victim who is their own perpetrator": _same_person_twice,
    "nested 10,000 deep": lambda: _nested(10_000),
    "not UTF-8": lambda: b'{"specversion": "1.0", "id": "\xff\xfe"}',
}


def as_body(poison: dict[str, Any] | bytes) -> bytes:
    return poison if isinstance(poison, bytes) else json.dumps(poison).encode()


@pytest.mark.parametrize("make", POISON.values(), ids=POISON.keys())
def test_over_http_each_gets_a_clear_error_and_nothing_is_stored(
    api: Api, make: Callable[[], dict[str, Any] | bytes]
) -> None:
    police = api.key("TEST-POLICE-A", "agency_system", "police")
    headers = {**police, "Content-Type": "application/json"}
    r = api.client.post("/v1/events", content=as_body(make()), headers=headers)
    assert 400 <= r.status_code < 500, r.text
    assert detail_text(r)  # says what to fix
    assert "9990000001" not in r.text and "Alex Example" not in r.text  # echoes no identifier
    good = b.incident()
    assert api.client.post("/v1/events", json=good, headers=police).status_code == 202
    stored = [e.source_id for e in api.services.ingress.store.read_all()]
    assert stored == [good["id"]]


@pytest.fixture
def handler(tmp_path: Path) -> Iterator[KafkaIngress]:
    services = build_services(Settings(data_dir=tmp_path))
    register(services.principals, "TEST-POLICE-A", "police", agency_key())
    try:
        yield KafkaIngress(
            services.ingress, CachedDirectory(services.principals), 1 << 20,
            plaintext_allowed=bool,
        )  # fmt: skip
    finally:
        services.engine.dispose()


@pytest.mark.parametrize("make", POISON.values(), ids=POISON.keys())
def test_on_kafka_each_is_rejected_with_its_reason_and_the_partition_goes_on(
    handler: KafkaIngress, make: Callable[[], dict[str, Any] | bytes]
) -> None:
    poison = make()
    bad = record(poison, mode="structured")
    good = b.incident()
    first, second = handler.handle_batch([bad, record(good, offset=1)], NOW)
    assert first.status == "rejected"
    assert first.reason in {"invalid", "malformed_json", "future_dated"}
    assert first.errors and all("9990000001" not in e["msg"] for e in first.errors)
    assert second.status == "accepted"
    assert [e.source_id for e in handler.ingress.store.read_all()] == [good["id"]]


def test_kafka_rejection_records_keep_the_original_bytes(handler: KafkaIngress) -> None:
    rec: RawRecord = record(b.incident(time="0001-01-01T00:00:00Z"), mode="structured")
    [outcome] = handler.handle_batch([rec], NOW)
    assert outcome.record.value == rec.value and outcome.reason == "invalid"
    assert [e["path"] for e in outcome.errors] == ["time"]
