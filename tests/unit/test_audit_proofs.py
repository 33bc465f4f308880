"""Proof documents: what the hub issues checks out; forged or edited proofs do not."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from audit import merkle
from audit.errors import ProofError
from audit.proofs import (
    check_consistency_document,
    check_inclusion_document,
    consistency_document,
    inclusion_document,
)
from tests.audit_builders import HUB_KEY, OTHER_KEY, SIGNED_AT, build_log

KEY = HUB_KEY.public_key
RECORDS, CHECKPOINTS = build_log(10)  # checkpoints at 4 and 8
LEAVES = [bytes.fromhex(r.hash) for r in RECORDS]


def proof_for(seq: int, tree_size: int = 8) -> dict[str, Any]:
    [checkpoint] = [c for c in CHECKPOINTS if c.tree_size == tree_size]
    path = merkle.inclusion_proof(seq - 1, LEAVES[:tree_size])
    return inclusion_document(RECORDS[seq - 1], path, checkpoint)


def flip(hex_hash: str) -> str:
    return ("1" if hex_hash[0] == "0" else "0") + hex_hash[1:]


@pytest.mark.parametrize("seq", range(1, 9))
def test_every_record_a_checkpoint_covers_has_a_proof_that_checks(seq: int) -> None:
    doc = proof_for(seq)
    assert doc["leaf_index"] == seq - 1 and doc["tree_size"] == 8
    assert doc["entry"].split("\n")[1:3] == [str(seq), f"rec-{seq}"]
    assert check_inclusion_document(doc, KEY) is None
    # and the bare RFC 6962 fields verify on their own, as any RFC verifier would see them
    assert merkle.verify_inclusion(
        bytes.fromhex(doc["leaf_hash"]),
        doc["leaf_index"],
        doc["tree_size"],
        [bytes.fromhex(p) for p in doc["audit_path"]],
        bytes.fromhex(doc["root_hash"]),
    )


def forge(doc: dict[str, Any], how: str) -> None:
    if how == "flipped byte in a path node":
        doc["audit_path"][1] = flip(doc["audit_path"][1])
    elif how == "wrong leaf index":
        doc["leaf_index"] += 1
    elif how == "wrong leaf index, entry to match":
        doc["leaf_index"] += 1
        prev, _seq, rest = doc["entry"].split("\n", 2)
        doc["entry"] = f"{prev}\n{doc['leaf_index'] + 1}\n{rest}"
    elif how == "wrong tree size":
        doc["tree_size"] = 7
    elif how == "wrong tree size, checkpoint to match":
        doc["tree_size"] = doc["checkpoint"]["tree_size"] = 7
    elif how == "truncated path":
        doc["audit_path"].pop()
    elif how == "edited entry":
        doc["entry"] = doc["entry"].replace("TEST-MARAC-CHAIR", "TEST-NOBODY")
    elif how == "another record's entry and leaf":
        other = proof_for(6)
        doc["entry"], doc["leaf_hash"] = other["entry"], other["leaf_hash"]
    elif how == "edited root, checkpoint to match":
        doc["root_hash"] = doc["checkpoint"]["root_hash"] = flip(doc["root_hash"])
    elif how == "checkpoint of another size":
        doc["checkpoint"] = CHECKPOINTS[0].to_dict()
    elif how == "checkpoint signed by another key":
        cp = doc["checkpoint"]
        doc["checkpoint"] = OTHER_KEY.sign(
            8, bytes.fromhex(cp["root_hash"]), cp["chain_head"], SIGNED_AT
        ).to_dict()


FORGERIES = [
    ("flipped byte in a path node", "audit path does not lead"),
    ("wrong leaf index", "entry is not record"),
    ("wrong leaf index, entry to match", "entry does not hash"),
    # leaf 4 sits in a tree of 7 just as in a tree of 8: the signed checkpoint binds the size
    ("wrong tree size", "another tree size or root"),
    ("wrong tree size, checkpoint to match", "does not verify"),
    ("truncated path", "audit path does not lead"),
    ("edited entry", "entry does not hash"),
    ("another record's entry and leaf", "entry is not record"),
    ("edited root, checkpoint to match", "audit path does not lead"),
    ("checkpoint of another size", "another tree size or root"),
    ("checkpoint signed by another key", "another key"),
]


@pytest.mark.parametrize(("how", "message"), FORGERIES, ids=[f[0] for f in FORGERIES])
def test_forged_inclusion_proofs_are_rejected(how: str, message: str) -> None:
    doc = copy.deepcopy(proof_for(5))
    forge(doc, how)
    problem = check_inclusion_document(doc, KEY)
    assert problem is not None and message in problem


def test_a_proof_checked_with_another_key_fails() -> None:
    problem = check_inclusion_document(proof_for(2), OTHER_KEY.public_key)
    assert problem is not None and "another key" in problem


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": "something-else"}, "not a hub-audit-inclusion-proof/v1"),
        ({"leaf_index": "4"}, "'leaf_index' must be a whole number"),
        ({"root_hash": "ABC"}, "'root_hash' must be 64 lowercase hex"),
        ({"audit_path": "00"}, "'audit_path' must be a list"),
        ({"entry": None}, "'entry' must be a string"),
        ({"checkpoint": {}}, "'checkpoint': checkpoint field 'tree_size'"),
    ],
)
def test_malformed_documents_say_which_field_is_wrong(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ProofError, match=message):
        check_inclusion_document({**proof_for(3), **change}, KEY)


def consistency_for(old: int, new: int) -> dict[str, Any]:
    leaves = LEAVES[:new]
    proof = merkle.consistency_proof(old, leaves)
    signed = {c.tree_size: c for c in CHECKPOINTS if c.tree_size in (old, new)}
    return consistency_document(
        old, new, merkle.root(leaves[:old]), merkle.root(leaves), proof, signed
    )


def test_consistency_between_two_checkpoints_checks_and_is_signed() -> None:
    assert check_consistency_document(consistency_for(4, 8), KEY) == (None, [])


def test_unsigned_roots_are_noted() -> None:
    problem, notes = check_consistency_document(consistency_for(3, 8), KEY)
    assert problem is None
    assert notes == ["no signed checkpoint vouches for the root at tree size 3"]


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("flip", "is a prefix"),
        ("old size", "is a prefix"),
        ("truncated", "is a prefix"),
        ("other key", "another key"),
    ],
)
def test_forged_consistency_proofs_are_rejected(how: str, message: str) -> None:
    doc = consistency_for(4, 8)
    if how == "flip":
        doc["proof"][0] = flip(doc["proof"][0])
    elif how == "old size":
        doc["old_size"] = 3
    elif how == "truncated":
        doc["proof"].pop()
    else:
        cp = doc["new_checkpoint"]
        doc["new_checkpoint"] = OTHER_KEY.sign(
            8, bytes.fromhex(cp["root_hash"]), cp["chain_head"], SIGNED_AT
        ).to_dict()
    problem, _notes = check_consistency_document(doc, KEY)
    assert problem is not None and message in problem
