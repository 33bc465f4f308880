"""Secret keys kept in the data directory: generated on first start, readable by the owner only."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from hub.contract.sealing import ingress_private_key


def load_or_create_key(path: Path, nbytes: int = 32) -> bytes:
    """Read the key at path, creating it (mode 0600, never overwritten) if it does not exist."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_bytes()
        if len(key) != nbytes:
            raise ValueError(
                f"key file {path} holds {len(key)} bytes, expected {nbytes}: restore it from backup"
            ) from None
        return key
    key = secrets.token_bytes(nbytes)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    return key


INGRESS_KEY_FILE = "ingress-x25519.key"


def load_ingress_key(key_dir: Path) -> X25519PrivateKey:
    """The hub's X25519 ingress key (Kafka-direct messages are sealed to its public half)."""
    return ingress_private_key(load_or_create_key(key_dir / INGRESS_KEY_FILE))
