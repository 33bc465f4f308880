"""The Kafka-direct ingress handler without Kafka: every message gets exactly one outcome,
accepted events are stored once, and each refusal has its own reason and field paths."""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.adapters.kafka.binding import RawRecord
from hub.bootstrap import build_services
from hub.contract.signing import sign
from hub.services.kafka_ingress import CachedDirectory, KafkaIngress, Outcome, rejection_headers
from hub.settings import Settings
from tests import builders as b
from tests.kafka_builders import agency_key, hand_made_binary, record, register

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
REASONS = {
    "too_large",
    "malformed_json",
    "invalid",
    "unknown_type",
    "unauthenticated",
    "not_allowed",
    "future_dated",
    "conflict",
    "internal_error",
}


@contextlib.contextmanager
def handler_on(data_dir: Path) -> Iterator[KafkaIngress]:
    """A handler on the hub data folder data_dir (its database and keys)."""
    services = build_services(Settings(data_dir=data_dir))
    try:
        # plaintext allowed: these tests are about everything but sealing (test_kafka_sealing.py)
        yield KafkaIngress(
            services.ingress, CachedDirectory(services.principals), 4096, plaintext_allowed=bool
        )
    finally:
        services.engine.dispose()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with an empty store and two agencies that sign their messages."""
    folder = tmp_path_factory.mktemp("kafka-ingress")
    services = build_services(Settings(data_dir=folder))
    register(services.principals, "TEST-POLICE-A", "police", agency_key())
    register(
        services.principals,
        "TEST-AE-A",
        "health_ae",
        Ed25519PrivateKey.from_private_bytes(b"\x02" * 32),
    )
    services.engine.dispose()
    return folder


@contextlib.contextmanager
def fresh_handler(template: Path) -> Iterator[KafkaIngress]:
    """A handler on a copy of the template: nothing stored, whatever ran before."""
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "data"
        shutil.copytree(template, copy)  # cheaper than building schema and keys anew
        with handler_on(copy) as handler:
            yield handler


@pytest.fixture(scope="module")
def handler(template: Path) -> Iterator[KafkaIngress]:
    # Shared by the example tests, whose events all carry ids of their own; a copy, so the
    # template stays empty for the property test.
    with fresh_handler(template) as shared:
        yield shared


def one(handler: KafkaIngress, rec: RawRecord) -> Outcome:
    [outcome] = handler.handle_batch([rec], NOW)
    return outcome


def stored_ids(handler: KafkaIngress) -> list[str]:
    return [e.source_id for e in handler.ingress.store.read_all()]


@pytest.mark.parametrize("mode", ["binary", "structured"])
def test_a_signed_event_is_accepted_once_in_either_mode(handler: KafkaIngress, mode: Any) -> None:
    event = b.incident()
    first = handler.handle_batch([record(event, mode=mode)], NOW)
    again = handler.handle_batch([record(event, mode=mode), record(event, mode=mode)], NOW)
    assert [o.status for o in first] == ["accepted"]
    assert [o.status for o in again] == ["duplicate", "duplicate"]
    assert first[0].hub_id == again[0].hub_id
    assert stored_ids(handler).count(event["id"]) == 1


def test_a_message_built_from_the_spec_alone_is_accepted(handler: KafkaIngress) -> None:
    event = b.incident()
    value, headers = hand_made_binary(event, "TEST-POLICE-A", agency_key())
    assert one(handler, RawRecord(value, tuple(headers))).status == "accepted"


def test_a_duplicate_within_one_batch_is_stored_once(handler: KafkaIngress) -> None:
    event = b.incident()
    outcomes = handler.handle_batch([record(event), record(event)], NOW)
    assert [o.status for o in outcomes] == ["accepted", "duplicate"]


def _reject(handler: KafkaIngress, rec: RawRecord) -> tuple[str | None, list[str]]:
    outcome = one(handler, rec)
    assert outcome.status == "rejected"
    return outcome.reason, [e["path"] for e in outcome.errors]


def _forged(event: dict[str, Any]) -> RawRecord:
    return record(event, key=Ed25519PrivateKey.from_private_bytes(b"\x07" * 32))


def _tampered(event: dict[str, Any]) -> RawRecord:
    rec = record(event)
    return replace(rec, value=(rec.value or b"").replace(b"physical", b"sexual"))


def _unsigned(event: dict[str, Any]) -> RawRecord:
    rec = record(event)
    return replace(rec, headers=tuple(h for h in rec.headers if h[0] != "hub_signature"))


def _other_agency_header(event: dict[str, Any]) -> RawRecord:
    rec = record(event)
    headers = [(n, b"TEST-AE-A" if n == "hub_agency" else v) for n, v in rec.headers]
    return replace(rec, headers=tuple(headers))


@pytest.mark.parametrize(
    ("build", "reason", "path"),
    [
        (lambda: record(b.incident(data_pad="x" * 5000)), "too_large", "(body)"),
        (lambda: record(b"{not json", mode="structured"), "malformed_json", "(value)"),
        (lambda: record(b"[" * 1500 + b"]" * 1500, mode="structured"), "malformed_json", "(value)"),
        (lambda: record(b.dash(14, subjects=[b.perpetrator()])), "invalid", "data.subjects"),
        (lambda: record(b.incident(type="police.rumour")), "unknown_type", "type"),
        (lambda: record(b.incident(specversion="0.3")), "invalid", "specversion"),
        (lambda: _forged(b.incident()), "unauthenticated", "headers.hub_agency"),
        (lambda: _tampered(b.incident()), "unauthenticated", "headers.hub_agency"),
        (lambda: _unsigned(b.incident()), "unauthenticated", "headers.hub_agency"),
        (lambda: _other_agency_header(b.incident()), "unauthenticated", "headers.hub_agency"),
        (
            lambda: record(b.incident(), agency="TEST-NOBODY"),
            "unauthenticated",
            "headers.hub_agency",
        ),
        (lambda: record(b.incident(agency="TEST-AE-A")), "not_allowed", "(body)"),
        (lambda: record(b.incident(time="2026-03-03T12:00:00Z")), "future_dated", "time"),
    ],
)
def test_each_refusal_has_its_reason_and_field_path(
    handler: KafkaIngress, build: Any, reason: str, path: str
) -> None:
    assert _reject(handler, build()) == (reason, [path])


def test_an_agency_type_may_only_send_what_it_may(handler: KafkaIngress) -> None:
    key = Ed25519PrivateKey.from_private_bytes(b"\x02" * 32)
    outcome = one(handler, record(b.incident(), agency="TEST-AE-A", key=key))
    assert outcome.reason == "not_allowed"
    assert "'health_ae' may not send 'police.incident'" in outcome.errors[0]["msg"]


def test_a_reused_id_with_other_content_is_a_conflict(handler: KafkaIngress) -> None:
    event = b.incident()
    assert one(handler, record(event)).status == "accepted"
    event["data"]["injuries"] = True
    assert _reject(handler, record(event)) == ("conflict", ["id"])


def test_binary_mode_malformed_data_names_the_data(handler: KafkaIngress) -> None:
    event = b.incident()
    _value, headers = hand_made_binary(event, "TEST-POLICE-A", agency_key())
    bad = b'{"subjects": ['
    headers = [h for h in headers if h[0] != "hub_signature"]
    headers.append(("hub_signature", sign(agency_key(), bad, headers)))
    assert _reject(handler, RawRecord(bad, tuple(headers))) == ("malformed_json", ["data"])


@pytest.mark.parametrize(
    ("headers", "path"),
    [
        ([], "headers"),  # no ce_* headers and no structured content type
        ([("ce_id", b"x"), ("content-type", b"text/plain")], "headers.content-type"),
        ([("ce_id", b"a"), ("ce_id", b"b")], "headers.ce_id"),
        ([("ce_id", b"\xff")], "headers.ce_id"),
        ([("content-type", b"application/cloudevents-batch+json")], "headers.content-type"),
    ],
)
def test_messages_outside_the_binding_say_which_header_to_fix(
    handler: KafkaIngress, headers: list[tuple[str, bytes]], path: str
) -> None:
    headers = [*headers, ("hub_agency", b"TEST-POLICE-A")]
    headers.append(("hub_signature", sign(agency_key(), b"{}", headers)))
    assert _reject(handler, RawRecord(b"{}", tuple(headers))) == ("invalid", [path])


def test_errors_never_echo_what_was_sent(handler: KafkaIngress) -> None:
    event = b.incident(subjects=[b.victim("9990000077", "Alex Example")], time="not a time")
    outcome = one(handler, record(event))
    text = json.dumps(outcome.errors)
    assert outcome.reason == "invalid"
    assert "Alex Example" not in text and "9990000077" not in text and "not a time" not in text


def test_the_rejection_record_keeps_the_original_headers_and_adds_the_reason(
    handler: KafkaIngress,
) -> None:
    rec = _forged(b.incident())
    outcome = one(handler, rec)
    headers = rejection_headers(outcome, NOW)
    assert headers[: len(rec.headers)] == [(n, v or b"") for n, v in rec.headers]
    extra = dict(headers[len(rec.headers) :])
    assert extra["hub_reject_reason"] == b"unauthenticated"
    assert json.loads(extra["hub_reject_errors"])[0]["path"] == "headers.hub_agency"
    assert extra["hub_reject_source"] == b"hub.ingress.raw/0/0"


# --- nothing crashes the handler or stalls a batch ---------------------------------------------

header_names = st.sampled_from(
    [
        "ce_id",
        "ce_type",
        "ce_time",
        "ce_source",
        "ce_specversion",
        "content-type",
        "hub_agency",
        "hub_signature",
        "ce_lawfulbasis",
        "ce_partitionkey",
        "x-other",
    ]
)
raw_headers = st.lists(st.tuples(header_names, st.one_of(st.none(), st.binary(max_size=40))))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)


def _mutated(data: Any) -> RawRecord:
    """A good event with one random part replaced, then signed (so it gets past the sender
    check and exercises everything behind it)."""
    event = b.incident()
    path = data.draw(
        st.sampled_from(
            [
                "id",
                "type",
                "time",
                "specversion",
                "lawfulbasis",
                "data",
                "source",
                "subject",
                "extra",
            ]
        )
    )
    event[path] = data.draw(json_values)
    return record(event, mode=data.draw(st.sampled_from(["binary", "structured"])))


@settings(max_examples=150)
@given(data=st.data())
def test_any_batch_of_messages_gets_one_outcome_each_and_never_crashes(
    template: Path, data: Any
) -> None:
    garbage = st.builds(
        RawRecord,
        value=st.one_of(st.none(), st.binary(max_size=300)),
        headers=raw_headers.map(tuple),
        key=st.one_of(st.none(), st.binary(max_size=8)),
    )
    records = [
        data.draw(garbage) if data.draw(st.booleans()) else _mutated(data)
        for _ in range(data.draw(st.integers(1, 8)))
    ]
    good = b.incident()
    # Each example gets a store of its own: what an earlier example stored never turns this
    # one's outcomes into duplicates or conflicts (a shared fixture would carry it over).
    with fresh_handler(template) as handler:
        outcomes = handler.handle_batch([*records, record(good)], NOW)
    assert len(outcomes) == len(records) + 1
    assert outcomes[-1].status == "accepted"  # a good event behind garbage still goes in
    for outcome in outcomes:
        assert outcome.status in ("accepted", "duplicate", "rejected")
        if outcome.status == "rejected":
            assert outcome.reason in REASONS and outcome.reason != "internal_error"
            assert outcome.errors and all("path" in e and e["msg"] for e in outcome.errors)


def test_the_cached_directory_asks_once_per_agency() -> None:
    calls: list[str] = []

    class Directory:
        def signing_identity(self, agency_id: str) -> None:
            calls.append(agency_id)

    cached = CachedDirectory(Directory(), ttl_seconds=60)
    for _ in range(3):
        cached.signing_identity("TEST-POLICE-A")
    assert calls == ["TEST-POLICE-A"]
