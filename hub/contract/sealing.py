"""Sealing Kafka-direct messages to the hub's ingress key, so ``hub.ingress.raw`` and
``hub.ingress.rejected`` carry no identifier in clear.

The hub keeps an X25519 key pair for ingress (``hub ingress-key`` prints the public half, PEM).
An agency seals each message value (the whole CloudEvent, structured mode) to it:

    ephemeral X25519 key pair e; shared = X25519(e, hub public key)
    key   = HKDF-SHA256(shared, salt = none, info = SCHEME || e.public || hub public), 32 bytes
    value = e.public (32 bytes) || nonce (12 bytes) || AES-256-GCM(key, nonce, event, aad = SCHEME)

and sends the header ``hub_sealed: <SCHEME>`` beside its signature headers; the signature covers
the sealed bytes and that header (hub/contract/signing.py). Only the hub's private key opens it.
A fresh ephemeral key per message means no two messages share a key, and the binding of both
public keys into the key derivation stops a sealed value being replayed to another hub key.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SEALED_HEADER = "hub_sealed"
SCHEME = b"x25519-hkdf-sha256-aes256gcm-v1"
_KEY = 32
_NONCE = 12


class SealError(ValueError):
    """A sealed value could not be opened, or a key could not be read; says what to fix."""


def _derive(shared: bytes, ephemeral: bytes, recipient: bytes) -> bytes:
    hkdf = HKDF(
        algorithm=hashes.SHA256(), length=_KEY, salt=None, info=SCHEME + ephemeral + recipient
    )
    return hkdf.derive(shared)


def seal(recipient_public: bytes, plaintext: bytes) -> bytes:
    """plaintext sealed to the 32-byte X25519 public key (see the module docstring)."""
    ephemeral = X25519PrivateKey.generate()
    e_pub = ephemeral.public_key().public_bytes_raw()
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient_public))
    nonce = os.urandom(_NONCE)
    key = _derive(shared, e_pub, recipient_public)
    return e_pub + nonce + AESGCM(key).encrypt(nonce, plaintext, SCHEME)


def unseal(private_key: X25519PrivateKey, sealed: bytes) -> bytes:
    """The plaintext of a value sealed to private_key's public half; SealError otherwise."""
    if len(sealed) < _KEY + _NONCE + 16:
        raise SealError("the sealed value is too short to hold a key, a nonce and a tag")
    e_pub, nonce, body = sealed[:_KEY], sealed[_KEY : _KEY + _NONCE], sealed[_KEY + _NONCE :]
    recipient = private_key.public_key().public_bytes_raw()
    try:
        shared = private_key.exchange(X25519PublicKey.from_public_bytes(e_pub))
        return AESGCM(_derive(shared, e_pub, recipient)).decrypt(nonce, body, SCHEME)
    except (InvalidTag, ValueError):
        raise SealError(
            "the sealed value does not open with the hub's ingress key; seal to the key "
            "`hub ingress-key` prints now, as docs/kafka-ingress.md describes"
        ) from None


def ingress_private_key(secret: bytes) -> X25519PrivateKey:
    """The hub's ingress key from its 32 secret bytes (kept 0600 in the key directory)."""
    return X25519PrivateKey.from_private_bytes(secret)


def ingress_public_key_pem(private_key: X25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_ingress_public_key(data: bytes) -> bytes:
    """The raw 32-byte X25519 public key from the PEM ``hub ingress-key`` prints."""
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        raise SealError(
            "the hub's ingress key is not a PEM public key; use the file `hub ingress-key` wrote"
        ) from None
    if not isinstance(key, X25519PublicKey):
        raise SealError("the hub's ingress key must be an X25519 public key (`hub ingress-key`)")
    return key.public_bytes_raw()
