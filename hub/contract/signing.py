"""Signatures on messages agencies write straight to Kafka (``hub.ingress.raw``).

Each agency system holds an Ed25519 private key; the hub stores only the public key
(``hub agencies signing-key``). A message carries two headers of the hub's own:

    hub_agency      the sending agency's id (as registered, e.g. ``TEST-POLICE-A``), UTF-8
    hub_signature   base64 (RFC 4648, with padding) of the 64-byte Ed25519 signature

The signature covers the *signing input*, a sequence of netstrings
(``<decimal length>:<bytes>,``):

    ns("hub-kafka-sig-v1")
    then, for each signed header sorted by (name, value): ns(name) ns(value)
    then ns(message value)

Signed headers are every header whose lower-cased name starts with ``ce_``, plus
``content-type`` and ``hub_agency``; names enter the input lower-cased, a header without a
value counts as empty, and so does a message without a value. The Kafka key, the timestamp
and any other header are not signed: they steer delivery and change nothing the hub stores.
Docs: docs/kafka-ingress.md.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable, Sequence

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SCHEME = b"hub-kafka-sig-v1"
AGENCY_HEADER = "hub_agency"
SIGNATURE_HEADER = "hub_signature"

Headers = Sequence[tuple[str, bytes | None]]


class SigningKeyError(ValueError):
    """A key could not be read; the message says what format is expected."""


def is_signed_header(name: str) -> bool:
    lowered = name.lower()
    return lowered.startswith("ce_") or lowered in ("content-type", AGENCY_HEADER, "hub_sealed")


def _netstring(data: bytes) -> bytes:
    return b"%d:%s," % (len(data), data)


def signing_input(value: bytes | None, headers: Headers) -> bytes:
    """The exact bytes an agency signs and the hub verifies."""
    signed = sorted(
        (name.lower().encode(), header_value or b"")
        for name, header_value in headers
        if is_signed_header(name)
    )
    parts = [_netstring(SCHEME)]
    for name, header_value in signed:
        parts += [_netstring(name), _netstring(header_value)]
    parts.append(_netstring(value or b""))
    return b"".join(parts)


def sign(private_key: Ed25519PrivateKey, value: bytes | None, headers: Headers) -> bytes:
    """The hub_signature header value for a message with this value and these headers."""
    return base64.b64encode(private_key.sign(signing_input(value, headers)))


def verify(public_keys: Iterable[bytes], value: bytes | None, headers: Headers) -> bool:
    """True when the message's hub_signature was made by one of the raw public keys given."""
    found = [v for n, v in headers if n.lower() == SIGNATURE_HEADER]
    if len(found) != 1 or not found[0]:
        return False
    try:
        signature = base64.b64decode(found[0], validate=True)
    except (binascii.Error, ValueError):
        return False
    message = signing_input(value, headers)
    for raw in public_keys:
        try:
            Ed25519PublicKey.from_public_bytes(raw).verify(signature, message)
        except (InvalidSignature, ValueError):
            continue
        return True
    return False


def signing_key_id(public_key: bytes) -> str:
    """A short, stable name for a raw public key (first 16 hex digits of its SHA-256)."""
    return hashlib.sha256(public_key).hexdigest()[:16]


def generate_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_key_pem(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def raw_public_key(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


def public_key_pem(public_key: bytes) -> bytes:
    return Ed25519PublicKey.from_public_bytes(public_key).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_private_key(data: bytes) -> Ed25519PrivateKey:
    """An Ed25519 private key from PEM (PKCS#8, as `openssl genpkey -algorithm ed25519`
    writes it, unencrypted)."""
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise SigningKeyError(
            f"not an unencrypted PEM private key ({exc}); make one with "
            "`openssl genpkey -algorithm ed25519 -out agency-signing.pem`"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError("the private key is not an Ed25519 key; use -algorithm ed25519")
    return key


def load_signing_public_key(data: bytes) -> bytes:
    """A raw 32-byte Ed25519 public key from PEM (SubjectPublicKeyInfo) or base64 of the 32
    raw bytes."""
    text = data.strip()
    if text.startswith(b"-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(text)
        except (ValueError, TypeError) as exc:
            raise SigningKeyError(f"not a PEM public key ({exc})") from None
        if not isinstance(key, Ed25519PublicKey):
            raise SigningKeyError("the public key is not an Ed25519 key")
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise SigningKeyError(
            "give the public key as PEM (`openssl pkey -in agency-signing.pem -pubout`) "
            "or as base64 of its 32 raw bytes"
        )
    return raw
