"""Inclusion and consistency proofs as JSON documents, and their checks. Pure.

An inclusion proof shows one record is in the log without revealing any other: it carries the
record's entry (its leaf data), the leaf hash, the RFC 6962 audit path and the signed
checkpoint whose root the path leads to. A consistency proof shows the log at an old size is a
prefix of the log at a new size. Hashes are lowercase hex; leaf_index is 0-based as in RFC 6962
(record seq = leaf_index + 1), so the fields feed any RFC 6962 verifier directly.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.chain import ChainedRecord, entry_bytes
from audit.checkpoint import Checkpoint, signature_problem
from audit.errors import CheckpointError, ProofError
from audit.merkle import LEAF_PREFIX, verify_consistency, verify_inclusion

INCLUSION_FORMAT = "hub-audit-inclusion-proof/v1"
CONSISTENCY_FORMAT = "hub-audit-consistency-proof/v1"
_HEX64 = re.compile(r"[0-9a-f]{64}")


def inclusion_document(
    record: ChainedRecord, path: list[bytes], checkpoint: Checkpoint
) -> dict[str, Any]:
    entry = entry_bytes(record.prev_hash, record.seq, record.record_id, record.body)
    return {
        "format": INCLUSION_FORMAT,
        "record_id": record.record_id,
        "leaf_index": record.seq - 1,
        "tree_size": checkpoint.tree_size,
        "root_hash": checkpoint.root_hash,
        "leaf_hash": record.hash,
        "audit_path": [p.hex() for p in path],
        "entry": entry.decode(),
        "checkpoint": checkpoint.to_dict(),
    }


def check_inclusion_document(doc: Any, public_key: Ed25519PublicKey) -> str | None:
    """None if the proof holds and its checkpoint is signed by public_key; else the problem.

    A document that is not an inclusion proof at all raises ProofError.
    """
    _expect_format(doc, INCLUSION_FORMAT)
    index, size = _whole(doc, "leaf_index"), _whole(doc, "tree_size")
    root, leaf = _hash(doc, "root_hash"), _hash(doc, "leaf_hash")
    path = _hash_list(doc, "audit_path")
    entry, record_id = _text(doc, "entry"), _text(doc, "record_id")
    checkpoint = _checkpoint(doc, "checkpoint")
    fields = entry.split("\n", 3)
    if len(fields) != 4 or fields[1] != str(index + 1) or fields[2] != record_id:
        return f"the entry is not record {record_id} at leaf index {index}"
    if hashlib.sha256(LEAF_PREFIX + entry.encode()).digest() != leaf:
        return "the entry does not hash to the leaf hash: the record's content was changed"
    if not verify_inclusion(leaf, index, size, path, root):
        return f"the audit path does not lead from leaf {index} to the root of tree size {size}"
    if (checkpoint.tree_size, checkpoint.root_hash) != (size, root.hex()):
        return "the checkpoint is for another tree size or root than the proof"
    return signature_problem(checkpoint, public_key)


def consistency_document(
    old_size: int,
    new_size: int,
    old_root: bytes,
    new_root: bytes,
    proof: list[bytes],
    checkpoints: dict[int, Checkpoint],
) -> dict[str, Any]:
    """checkpoints: the signed checkpoints at old_size and new_size, where there are any."""
    doc: dict[str, Any] = {
        "format": CONSISTENCY_FORMAT,
        "old_size": old_size,
        "new_size": new_size,
        "old_root": old_root.hex(),
        "new_root": new_root.hex(),
        "proof": [p.hex() for p in proof],
    }
    for name, size in (("old_checkpoint", old_size), ("new_checkpoint", new_size)):
        if size in checkpoints:
            doc[name] = checkpoints[size].to_dict()
    return doc


def check_consistency_document(
    doc: Any, public_key: Ed25519PublicKey
) -> tuple[str | None, list[str]]:
    """(problem or None, notes). Notes say which roots no signed checkpoint vouches for."""
    _expect_format(doc, CONSISTENCY_FORMAT)
    old_size, new_size = _whole(doc, "old_size"), _whole(doc, "new_size")
    old_root, new_root = _hash(doc, "old_root"), _hash(doc, "new_root")
    proof = _hash_list(doc, "proof")
    if not verify_consistency(old_size, new_size, old_root, new_root, proof):
        return (
            f"the proof does not show the tree of {old_size} records is a prefix of the tree "
            f"of {new_size}",
            [],
        )
    notes = []
    for name, size, root in (
        ("old_checkpoint", old_size, old_root),
        ("new_checkpoint", new_size, new_root),
    ):
        if name not in doc:
            notes.append(f"no signed checkpoint vouches for the root at tree size {size}")
            continue
        cp = _checkpoint(doc, name)
        if (cp.tree_size, cp.root_hash) != (size, root.hex()):
            return f"{name} is for another tree size or root than the proof", notes
        if problem := signature_problem(cp, public_key):
            return problem, notes
    return None, notes


def _expect_format(doc: Any, fmt: str) -> None:
    if not isinstance(doc, dict) or doc.get("format") != fmt:
        raise ProofError(f"this is not a {fmt} document (its 'format' field differs)")


def _whole(doc: dict[str, Any], name: str) -> int:
    value = doc.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ProofError(f"proof field {name!r} must be a whole number >= 0")
    return value


def _text(doc: dict[str, Any], name: str) -> str:
    value = doc.get(name)
    if not isinstance(value, str):
        raise ProofError(f"proof field {name!r} must be a string")
    return value


def _hash(doc: dict[str, Any], name: str) -> bytes:
    value = doc.get(name)
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise ProofError(f"proof field {name!r} must be 64 lowercase hex digits")
    return bytes.fromhex(value)


def _hash_list(doc: dict[str, Any], name: str) -> list[bytes]:
    value = doc.get(name)
    if not isinstance(value, list) or not all(
        isinstance(v, str) and _HEX64.fullmatch(v) for v in value
    ):
        raise ProofError(f"proof field {name!r} must be a list of 64-hex-digit hashes")
    return [bytes.fromhex(v) for v in value]


def _checkpoint(doc: dict[str, Any], name: str) -> Checkpoint:
    try:
        return Checkpoint.from_dict(doc.get(name))
    except CheckpointError as exc:
        raise ProofError(f"proof field {name!r}: {exc}") from None
