"""Signed checkpoints: the hub's Ed25519 signature over (tree size, Merkle root, chain head, time).

A checkpoint commits the hub to the first `tree_size` records: the Merkle root lets anyone check
inclusion and consistency proofs against it, and the chain head (the hash of record
`tree_size`) ties it to the hash chain. Once a checkpoint has left the hub (published to Kafka,
exported to a file), no one can rewrite or truncate the records it covers without the
mismatch showing, even with full access to the database.

The signed message is a few lines of text, so any Ed25519 tool can check it:

    hub-audit-checkpoint/v1
    <tree size>
    <root hash, hex>
    <chain head, hex>
    <time, ISO 8601 UTC>

The private key is 32 random bytes (an Ed25519 seed) kept in the data directory with mode 0600,
created on first use (hub.adapters.audit_wiring loads it); the public key is exported as PEM
(SubjectPublicKeyInfo).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_public_key,
)

from audit.errors import CheckpointError

FORMAT = "hub-audit-checkpoint/v1"
_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX128 = re.compile(r"[0-9a-f]{128}")


def signed_text(tree_size: int, root_hash: str, chain_head: str, time: str) -> bytes:
    """The exact bytes a checkpoint's signature covers."""
    return f"{FORMAT}\n{tree_size}\n{root_hash}\n{chain_head}\n{time}\n".encode()


@dataclass(frozen=True)
class Checkpoint:
    tree_size: int
    root_hash: str  # RFC 6962 tree head of the first tree_size records, hex
    chain_head: str  # hash of record tree_size (the genesis hash for an empty log), hex
    time: str  # when it was signed, ISO 8601 UTC, exactly as signed
    key_id: str  # which key signed it: first 8 bytes of SHA-256 of the raw public key, hex
    signature: str  # Ed25519 over signed_text(...), hex

    def message(self) -> bytes:
        return signed_text(self.tree_size, self.root_hash, self.chain_head, self.time)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, doc: Any) -> Checkpoint:
        """Read a checkpoint from JSON data; CheckpointError names the first bad field."""
        if not isinstance(doc, dict):
            raise CheckpointError("a checkpoint must be a JSON object")
        size = doc.get("tree_size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise CheckpointError("checkpoint field 'tree_size' must be a whole number >= 0")
        for name, pattern in (
            ("root_hash", _HEX64),
            ("chain_head", _HEX64),
            ("signature", _HEX128),
        ):
            if not isinstance(doc.get(name), str) or not pattern.fullmatch(doc[name]):
                digits = 128 if name == "signature" else 64
                raise CheckpointError(f"checkpoint field {name!r} must be {digits} hex digits")
        for name in ("time", "key_id"):
            if not isinstance(doc.get(name), str):
                raise CheckpointError(f"checkpoint field {name!r} must be a string")
        return cls(
            size, doc["root_hash"], doc["chain_head"], doc["time"], doc["key_id"], doc["signature"]
        )


def checkpoint_key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


class CheckpointSigner:
    """Signs checkpoints with the hub's Ed25519 key."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.public_key = private_key.public_key()
        self.key_id = checkpoint_key_id(self.public_key)

    @classmethod
    def from_seed(cls, seed: bytes) -> CheckpointSigner:
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    def sign(self, tree_size: int, root: bytes, chain_head: str, at: datetime) -> Checkpoint:
        if at.tzinfo is None:
            raise ValueError("checkpoint time must be timezone-aware")
        time = at.astimezone(UTC).isoformat(timespec="seconds")
        text = signed_text(tree_size, root.hex(), chain_head, time)
        signature = self._key.sign(text).hex()
        return Checkpoint(tree_size, root.hex(), chain_head, time, self.key_id, signature)


def signature_problem(cp: Checkpoint, public_key: Ed25519PublicKey) -> str | None:
    """None if public_key signed this checkpoint as it stands; else what is wrong."""
    expected = checkpoint_key_id(public_key)
    if cp.key_id != expected:
        return (
            f"checkpoint at tree size {cp.tree_size} names signing key {cp.key_id}, not the "
            f"key given ({expected}): it was signed by another key or its key id was edited"
        )
    try:
        public_key.verify(bytes.fromhex(cp.signature), cp.message())
    except (InvalidSignature, ValueError):
        return (
            f"checkpoint at tree size {cp.tree_size}: its signature does not verify, so it "
            "was edited after signing or forged"
        )
    return None


def public_key_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


def load_checkpoint_public_key(path: Path) -> Ed25519PublicKey:
    """A public key from a PEM file (as `hub audit public-key` writes) or 64 hex digits."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CheckpointError(f"cannot read public key file {path}: {exc.strerror}") from None
    text = data.strip()
    try:
        if text.startswith(b"-----BEGIN"):
            key = load_pem_public_key(text)
        else:
            key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(text.decode("ascii")))
    except (ValueError, UnicodeDecodeError):
        key = None
    if not isinstance(key, Ed25519PublicKey):
        raise CheckpointError(
            f"{path} holds no Ed25519 public key: give the PEM file `hub audit public-key` "
            "writes, or the raw key as 64 hex digits"
        )
    return key
