"""Building Kafka-direct messages for tests: signed by our producer code, or by hand as a
producer that is not ours would."""

from __future__ import annotations

import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.adapters.kafka.binding import RawRecord
from hub.adapters.sql.principals import SqlPrincipalStore
from hub.contract.signing import raw_public_key, sign
from producers.kafka_producer import Mode, encode, signed

# A fixed key, so failures reproduce; obviously a test key.
TEST_SEED = bytes(range(32))


def agency_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(TEST_SEED)


def register(
    principals: SqlPrincipalStore, agency: str, agency_type: str, key: Ed25519PrivateKey
) -> None:
    """An agency system with a signing key, as `hub agencies add` + `signing-key` make it."""
    from hub.contract.signing import signing_key_id

    principals.add(agency, "agency_system", agency_type, agency_id=agency)
    public = raw_public_key(key)
    principals.add_signing_key(agency, signing_key_id(public), public)


def record(
    event: dict[str, Any] | bytes,
    agency: str = "TEST-POLICE-A",
    key: Ed25519PrivateKey | None = None,
    mode: Mode = "binary",
    offset: int = 0,
) -> RawRecord:
    """A signed message as the broker would hand it to the agent."""
    m = signed(encode(event, mode), agency, key or agency_key())
    return RawRecord(m.value, tuple(m.headers), m.key, "hub.ingress.raw", 0, offset)


def hand_made_binary(
    event: dict[str, Any], agency: str, key: Ed25519PrivateKey, seal_to: bytes | None = None
) -> tuple[bytes, list[tuple[str, bytes]]]:
    """Binary mode written from the spec alone (no producers/ code): what another team's
    producer would send; with seal_to, the value sealed to the hub's ingress key."""
    from hub.contract.sealing import SCHEME, SEALED_HEADER, seal

    headers = [(f"ce_{k}", str(v).encode()) for k, v in event.items() if k != "data"]
    headers += [("content-type", b"application/json"), ("hub_agency", agency.encode())]
    value = json.dumps(event["data"]).encode()
    if seal_to is not None:
        value = seal(seal_to, value)
        headers.append((SEALED_HEADER, SCHEME))
    headers.append(("hub_signature", sign(key, value, headers)))
    return value, headers
