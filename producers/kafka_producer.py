"""KafkaHubProducer: an agency system writes events straight to ``hub.ingress.raw``.

Messages follow the CloudEvents Kafka binding (binary mode by default, structured on request)
and are signed with the agency's Ed25519 key (hub/contract/signing.py; docs/kafka-ingress.md).
Given the hub's ingress public key (``seal_to``), each event is sent in structured mode with
its whole envelope sealed to that key (hub/contract/sealing.py), so no identifier is in clear
on the topic.
The call shape is HubClient's; the result is "sent" once the broker has the message (acks=all),
because the hub checks it later: refusals arrive on ``hub.ingress.rejected`` with their reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from kafka import KafkaProducer
from kafka.errors import KafkaError

from hub.contract.kafka_clients import producer_tuning
from hub.contract.sealing import SCHEME, SEALED_HEADER, seal
from hub.contract.signing import AGENCY_HEADER, SIGNATURE_HEADER, sign
from producers.http_client import Event, as_line, event_id
from producers.results import HubUnavailable, SendResult

RAW_TOPIC = "hub.ingress.raw"
STRUCTURED = b"application/cloudevents+json"
Mode = Literal["binary", "structured"]


@dataclass(frozen=True)
class KafkaMessage:
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]


def _attribute_text(value: Any) -> bytes:
    return (value if isinstance(value, str) else json.dumps(value)).encode()


def encode(event: Event, mode: Mode = "binary") -> KafkaMessage:
    """An event as a CloudEvents Kafka message (unsigned). Raw bytes, which may not even be
    JSON, go as they are in structured mode, so the hub reports what is wrong with them."""
    ident = event_id(event)
    key = ident.encode() if ident else None  # one event id, one partition: resends stay in order
    if mode == "structured" or not isinstance(event, Mapping) or "data" not in event:
        return KafkaMessage(key, as_line(event), [("content-type", STRUCTURED)])
    headers = [
        (f"ce_{name}", _attribute_text(value))
        for name, value in event.items()
        if name not in ("data", "datacontenttype") and value is not None
    ]
    headers.append(("content-type", str(event.get("datacontenttype", "application/json")).encode()))
    value = json.dumps(event["data"], separators=(",", ":"), ensure_ascii=False).encode()
    return KafkaMessage(key, value, headers)


def sealed(message: KafkaMessage, hub_public_key: bytes) -> KafkaMessage:
    """The message with its value sealed to the hub's ingress key (structured mode only: in
    binary mode the attributes would stay in clear in the headers)."""
    return KafkaMessage(
        message.key,
        seal(hub_public_key, message.value),
        [*message.headers, (SEALED_HEADER, SCHEME)],
    )


def signed(message: KafkaMessage, agency_id: str, private_key: Ed25519PrivateKey) -> KafkaMessage:
    """The message with the hub_agency header and the signature over it."""
    headers = [*message.headers, (AGENCY_HEADER, agency_id.encode())]
    signature = sign(private_key, message.value, headers)
    return KafkaMessage(message.key, message.value, [*headers, (SIGNATURE_HEADER, signature)])


class KafkaHubProducer:
    """Send signed events to hub.ingress.raw with kafka-python (acks=all; idempotent except on
    the hub's embedded broker, where idempotence breaks after a restart)."""

    def __init__(
        self,
        bootstrap: str,
        agency_id: str,
        private_key: Ed25519PrivateKey,
        *,
        topic: str = RAW_TOPIC,
        mode: Mode = "binary",
        embedded_broker: bool = False,
        seal_to: bytes | None = None,
        timeout: float = 30.0,
        producer_factory: Callable[..., Any] = KafkaProducer,
        **config: Any,
    ) -> None:
        self.agency_id = agency_id
        self.topic = topic
        self.mode: Mode = "structured" if seal_to is not None else mode
        self._seal_to = seal_to
        self._key = private_key
        self._timeout = timeout
        try:
            self._producer = producer_factory(
                bootstrap_servers=bootstrap,
                client_id=f"hub-producer-{agency_id}",
                linger_ms=5,
                retries=5,
                **{**producer_tuning(embedded_broker), **config},
            )
        except KafkaError as exc:
            raise HubUnavailable(f"could not reach the broker at {bootstrap} ({exc})") from None

    def __enter__(self) -> KafkaHubProducer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._producer.close(timeout=self._timeout)

    def message(self, event: Event) -> KafkaMessage:
        message = encode(event, self.mode)
        if self._seal_to is not None:
            message = sealed(message, self._seal_to)
        return signed(message, self.agency_id, self._key)

    def send(self, event: Event) -> SendResult:
        """Send one event and wait until the broker has it."""
        return self.send_many([event])[0]

    def send_many(self, events: Sequence[Event], batch_size: int = 500) -> list[SendResult]:
        """Send events, batch_size at a time, each acknowledged by the broker before return."""
        results: list[SendResult] = []
        for start in range(0, len(events), batch_size):
            chunk = events[start : start + batch_size]
            futures = []
            try:
                for event in chunk:
                    m = self.message(event)
                    futures.append(
                        self._producer.send(self.topic, m.value, key=m.key, headers=m.headers)
                    )
                self._producer.flush(timeout=self._timeout)
                for f in futures:
                    f.get(timeout=self._timeout)
            except KafkaError as exc:
                raise HubUnavailable(
                    f"the broker did not take the events ({type(exc).__name__}: {exc}); "
                    f"{len(results)} were sent; sending again is safe (ids dedupe)"
                ) from None
            results += [SendResult(event_id(e), "sent") for e in chunk]
        return results
