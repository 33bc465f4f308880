"""Signatures on Kafka-direct messages: the signing input is exactly what the docs define,
any change to a signed part breaks the signature, and unsigned parts do not."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.contract.signing import (
    SigningKeyError,
    load_private_key,
    load_signing_public_key,
    private_key_pem,
    public_key_pem,
    raw_public_key,
    sign,
    signing_input,
    signing_key_id,
    verify,
)
from producers.kafka_producer import encode, signed
from tests import builders as b
from tests.kafka_builders import agency_key

HEADERS = [
    ("ce_type", b"police.incident"),
    ("Content-Type", b"application/json"),
    ("x-trace", b"abc"),
    ("ce_id", b"E1"),
    ("hub_agency", b"TEST-POLICE-A"),
]


def test_the_signing_input_is_the_documented_netstring_sequence() -> None:
    assert signing_input(b'{"a":1}', HEADERS) == (
        b"16:hub-kafka-sig-v1,"
        b"5:ce_id,2:E1,"
        b"7:ce_type,15:police.incident,"
        b"12:content-type,16:application/json,"
        b"10:hub_agency,13:TEST-POLICE-A,"
        b'7:{"a":1},'
    )


def _signed(value: bytes = b"{}") -> list[tuple[str, bytes | None]]:
    return [*HEADERS, ("hub_signature", sign(agency_key(), value, HEADERS))]


def public() -> list[bytes]:
    return [raw_public_key(agency_key())]


def test_a_signature_verifies_whatever_the_header_order() -> None:
    assert verify(public(), b"{}", list(reversed(_signed())))


@pytest.mark.parametrize(
    "change",
    [
        lambda h, v: (h, b"{ }"),  # the value
        lambda h, v: ([(n, b"E2" if n == "ce_id" else x) for n, x in h], v),  # a ce_ header
        lambda h, v: ([*h, ("ce_extra", b"1")], v),  # an added ce_ header
        lambda h, v: ([(n, x) for n, x in h if n != "ce_type"], v),  # a removed one
        lambda h, v: ([(n, b"TEST-AE-A" if n == "hub_agency" else x) for n, x in h], v),
        lambda h, v: ([(n, x) for n, x in h if n != "hub_signature"], v),  # unsigned
        lambda h, v: ([*h, ("hub_signature", h[-1][1])], v),  # two signatures
    ],
)
def test_any_change_to_a_signed_part_breaks_the_signature(change) -> None:
    headers, value = change(_signed(), b"{}")
    assert not verify(public(), value, headers)


def test_unsigned_headers_and_the_key_may_change() -> None:
    headers = [(n, b"other" if n == "x-trace" else v) for n, v in _signed()]
    assert verify(public(), b"{}", [*headers, ("traceparent", b"00-1")])


def test_only_a_registered_key_verifies() -> None:
    other = raw_public_key(Ed25519PrivateKey.from_private_bytes(b"\x09" * 32))
    assert not verify([other], b"{}", _signed())
    assert verify([other, *public()], b"{}", _signed())  # any active key (rotation)
    assert not verify([], b"{}", _signed())


def test_garbage_signatures_are_refused_not_raised() -> None:
    for bad in (b"", b"not base64!", base64.b64encode(b"short")):
        assert not verify(public(), b"{}", [*HEADERS, ("hub_signature", bad)])
    assert not verify([b"not a key"], b"{}", _signed())


def test_our_producer_signs_both_modes_verifiably() -> None:
    for mode in ("binary", "structured"):
        m = signed(encode(b.incident(), mode), "TEST-POLICE-A", agency_key())  # type: ignore[arg-type]
        assert verify(public(), m.value, m.headers)
        assert ("hub_agency", b"TEST-POLICE-A") in m.headers


def test_keys_round_trip_through_pem_and_base64() -> None:
    key = agency_key()
    raw = raw_public_key(key)
    assert load_signing_public_key(public_key_pem(raw)) == raw
    assert load_signing_public_key(base64.b64encode(raw)) == raw
    assert raw_public_key(load_private_key(private_key_pem(key))) == raw
    assert len(signing_key_id(raw)) == 16
    with pytest.raises(SigningKeyError, match="openssl"):
        load_private_key(b"nonsense")
    with pytest.raises(SigningKeyError, match="32 raw bytes"):
        load_signing_public_key(b"c2hvcnQ=")
