"""Proofs from the audit store: an inclusion proof for one record, a consistency proof between
two tree sizes. Each is checked against the stored checkpoint before it is handed out, so the
hub never issues a proof that its own signed roots contradict.
"""

from __future__ import annotations

from typing import Any

from audit import merkle
from audit.chain import link_hash
from audit.errors import AuditError, ProofError
from audit.proofs import consistency_document, inclusion_document
from audit.store import SqlAuditStore

_RUN_VERIFY = "run `hub audit verify` to find the damage"


def prove_inclusion(store: SqlAuditStore, record_id: str) -> dict[str, Any]:
    """A proof that the record is in the tree of the newest checkpoint (signed now if none
    covers it yet)."""
    record = store.find(record_id)
    if record is None:
        raise ProofError(f"no audit record has id {record_id!r}; check the id and the database")
    if link_hash(record.prev_hash, record.seq, record.record_id, record.body) != record.hash:
        raise AuditError(f"record {record.seq} does not match its hash: {_RUN_VERIFY}")
    checkpoint = store.latest_checkpoint()
    if checkpoint is None or checkpoint.tree_size < record.seq:
        checkpoint = store.checkpoint()
    leaves = store.leaf_hashes(checkpoint.tree_size)
    if merkle.root(leaves).hex() != checkpoint.root_hash:
        raise AuditError(
            f"records 1 to {checkpoint.tree_size} do not match their checkpoint: {_RUN_VERIFY}"
        )
    path = merkle.inclusion_proof(record.seq - 1, leaves)
    return inclusion_document(record, path, checkpoint)


def prove_consistency(store: SqlAuditStore, old_size: int, new_size: int) -> dict[str, Any]:
    """A proof that the log at old_size is a prefix of the log at new_size."""
    head = store.head()
    size = 0 if head is None else head[0]
    if not 1 <= old_size <= new_size <= size:
        raise ProofError(
            f"tree sizes {old_size} and {new_size} must satisfy 1 <= OLD_SIZE <= NEW_SIZE <= "
            f"{size} (the records in the log)"
        )
    leaves = store.leaf_hashes(new_size)
    old_root, new_root = merkle.root(leaves[:old_size]), merkle.root(leaves)
    checkpoints = {}
    for tree_size, root in ((old_size, old_root), (new_size, new_root)):
        cp = store.checkpoint_at(tree_size)
        if cp is not None:
            if cp.root_hash != root.hex():
                raise AuditError(
                    f"records 1 to {tree_size} do not match their checkpoint: {_RUN_VERIFY}"
                )
            checkpoints[tree_size] = cp
    proof = merkle.consistency_proof(old_size, leaves)
    return consistency_document(old_size, new_size, old_root, new_root, proof, checkpoints)
