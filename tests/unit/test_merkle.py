"""RFC 6962 Merkle trees: heads, audit paths and consistency proofs against an independent,
literal transcription of the RFC's recursive definitions, published test vectors, and forgeries.
"""

from __future__ import annotations

import hashlib
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit import merkle
from audit.errors import ProofError

# --- the RFC 6962 section 2.1 definitions, transcribed literally (recursive, slow, obvious) ---


def ref_leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def ref_k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(d: list[bytes]) -> bytes:
    """MTH over leaf *hashes* d (the leaf hashing is ref_leaf, done by the caller)."""
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return d[0]
    k = ref_k(len(d))
    return hashlib.sha256(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:])).digest()


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = ref_k(len(d))
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    if m == len(d):
        return [] if b else [ref_mth(d)]
    k = ref_k(len(d))
    if m <= k:
        return [*ref_subproof(m, d[:k], b), ref_mth(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]


def ref_proof(m: int, d: list[bytes]) -> list[bytes]:
    return ref_subproof(m, d, True)


def ref_shape(m: int, n: int) -> list[bool]:
    """Per level of PATH(m, D[n]), leaf first: is the sibling on the left?"""
    if n == 1:
        return []
    k = ref_k(n)
    return [*ref_shape(m, k), False] if m < k else [*ref_shape(m - k, n - k), True]


def leaves(n: int, salt: int = 0) -> list[bytes]:
    return [ref_leaf(f"TEST-RECORD-{salt}-{i}".encode()) for i in range(n)]


# --- published vectors (certificate-transparency's merkle tests, RFC 6962 test data) --------

CT_INPUTS = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_PATH_0_OF_8 = [
    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
]


def ct_leaves() -> list[bytes]:
    return [merkle.leaf_hash(bytes.fromhex(x)) for x in CT_INPUTS]


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_the_published_vectors(size: int) -> None:
    assert merkle.root(ct_leaves()[:size]).hex() == CT_ROOTS[size - 1]
    assert ref_mth(ct_leaves()[:size]).hex() == CT_ROOTS[size - 1]  # the reference agrees


def test_audit_path_matches_the_published_vector() -> None:
    assert [p.hex() for p in merkle.inclusion_proof(0, ct_leaves())] == CT_PATH_0_OF_8


def test_hashes_are_domain_separated_as_the_rfc_says() -> None:
    a, b = b"\x11" * 32, b"\x22" * 32
    assert merkle.leaf_hash(b"TEST") == hashlib.sha256(b"\x00TEST").digest()
    assert merkle.node_hash(a, b) == hashlib.sha256(b"\x01" + a + b).digest()
    assert merkle.root([]) == hashlib.sha256(b"").digest() == merkle.EMPTY_ROOT


@pytest.mark.parametrize(("n", "k"), [(2, 1), (3, 2), (4, 2), (5, 4), (8, 4), (9, 8), (1000, 512)])
def test_split_point_is_the_largest_power_of_two_below_n(n: int, k: int) -> None:
    assert merkle.split_point(n) == k == ref_k(n)


# --- heads and compact ranges ------------------------------------------------------------


@pytest.mark.parametrize("n", range(0, 70))
def test_root_equals_the_recursive_definition(n: int) -> None:
    d = leaves(n)
    assert merkle.root(d) == ref_mth(d)


@given(n=st.integers(0, 300), cuts=st.lists(st.integers(0, 300), max_size=8))
def test_compact_range_gives_the_same_head_however_leaves_arrive(n: int, cuts: list[int]) -> None:
    d = leaves(n)
    one_by_one, in_pieces = merkle.CompactRange(), merkle.CompactRange()
    for leaf in d:
        one_by_one.append(leaf)
    bounds = sorted({0, n, *(c for c in cuts if c <= n)})
    for lo, hi in pairwise(bounds):
        in_pieces.extend(d[lo:hi])
    assert one_by_one.root() == in_pieces.root() == ref_mth(d)
    assert one_by_one.nodes == in_pieces.nodes
    again = merkle.CompactRange.from_hex(n, in_pieces.to_hex())
    again.append(ref_leaf(b"TEST-NEXT"))
    assert again.root() == ref_mth([*d, ref_leaf(b"TEST-NEXT")])


@pytest.mark.parametrize(("size", "nodes"), [(3, 1), (4, 2), (1, 0)])
def test_a_compact_range_must_have_one_node_per_set_bit(size: int, nodes: int) -> None:
    with pytest.raises(ValueError, match="32-byte nodes"):
        merkle.CompactRange(size, [b"\x00" * 32] * nodes)


# --- inclusion proofs --------------------------------------------------------------------


@settings(max_examples=64)
@given(n=st.integers(1, 64), salt=st.integers(0, 1000))
def test_every_leaf_of_a_random_tree_has_a_proof_that_verifies(n: int, salt: int) -> None:
    d = leaves(n, salt)
    root = ref_mth(d)
    for i in range(n):
        path = merkle.inclusion_proof(i, d)
        assert path == ref_path(i, d)
        assert merkle.verify_inclusion(d[i], i, n, path, root)


def flip_byte(h: bytes, at: int = 0) -> bytes:
    return h[:at] + bytes([h[at] ^ 0x01]) + h[at + 1 :]


@settings(max_examples=200)
@given(n=st.integers(1, 64), data=st.data())
def test_forged_inclusion_proofs_are_rejected(n: int, data: st.DataObject) -> None:
    d = leaves(n)
    i = data.draw(st.integers(0, n - 1), label="leaf index")
    path, root = merkle.inclusion_proof(i, d), ref_mth(d)
    assert merkle.verify_inclusion(d[i], i, n, path, root)

    assert not merkle.verify_inclusion(ref_leaf(b"TEST-FORGED"), i, n, path, root)
    assert not merkle.verify_inclusion(d[i], i, n, path, flip_byte(root, 31))
    assert not merkle.verify_inclusion(d[i], i, n, [*path, d[0]], root)  # one node too many
    if path:
        j = data.draw(st.integers(0, len(path) - 1), label="node to forge")
        at = data.draw(st.integers(0, 31), label="byte to flip")
        forged = [*path[:j], flip_byte(path[j], at), *path[j + 1 :]]
        assert not merkle.verify_inclusion(d[i], i, n, forged, root)
        assert not merkle.verify_inclusion(d[i], i, n, path[:-1], root)  # truncated
        assert not merkle.verify_inclusion(d[i], i, n, path[1:], root)
    for other in range(n):
        if other != i:
            assert not merkle.verify_inclusion(d[i], other, n, path, root)
    assert not merkle.verify_inclusion(d[i], n, n, path, root)  # index past the end


@settings(max_examples=64)
@given(n=st.integers(1, 40), data=st.data())
def test_a_wrong_tree_size_is_rejected(n: int, data: st.DataObject) -> None:
    """A size is bound to a root by the signed checkpoint: with the root of the size claimed,
    any other size fails. Against the *same* root, the RFC algorithm can only notice a size
    that changes the path's left/right shape; that case is pinned down too."""
    d = leaves(64)
    i = data.draw(st.integers(0, n - 1), label="leaf index")
    path, root = merkle.inclusion_proof(i, d[:n]), ref_mth(d[:n])
    for claimed in range(i + 1, 65):
        if claimed == n:
            continue
        assert not merkle.verify_inclusion(d[i], i, claimed, path, ref_mth(d[:claimed]))
        same_shape = ref_shape(i, claimed) == ref_shape(i, n)
        assert merkle.verify_inclusion(d[i], i, claimed, path, root) == same_shape
    assert not merkle.verify_inclusion(d[i], i, 0, path, root)


def test_proofs_refuse_impossible_indexes_and_sizes() -> None:
    d = leaves(5)
    for index in (-1, 5):
        with pytest.raises(ProofError, match="not in a tree of 5 leaves"):
            merkle.inclusion_proof(index, d)
    for old in (0, 6):
        with pytest.raises(ProofError, match="between 1 and the new size 5"):
            merkle.consistency_proof(old, d)


def test_malformed_hashes_never_verify() -> None:
    d = leaves(4)
    path, root = merkle.inclusion_proof(1, d), ref_mth(d)
    assert not merkle.verify_inclusion(d[1], 1, 4, [path[0][:31], *path[1:]], root)
    assert not merkle.verify_inclusion(d[1][:31], 1, 4, path, root)


# --- consistency proofs ------------------------------------------------------------------


@pytest.mark.parametrize("n", range(1, 65))
def test_consistency_proofs_for_every_old_size_verify(n: int) -> None:
    d = leaves(n)
    new_root = ref_mth(d)
    for m in range(1, n + 1):
        proof = merkle.consistency_proof(m, d)
        assert proof == ref_proof(m, d)
        assert merkle.verify_consistency(m, n, ref_mth(d[:m]), new_root, proof)


@settings(max_examples=200)
@given(n=st.integers(2, 64), data=st.data())
def test_forged_consistency_proofs_are_rejected(n: int, data: st.DataObject) -> None:
    d = leaves(n)
    m = data.draw(st.integers(1, n - 1), label="old size")
    old, new, proof = ref_mth(d[:m]), ref_mth(d), merkle.consistency_proof(m, d)
    assert merkle.verify_consistency(m, n, old, new, proof)

    j = data.draw(st.integers(0, len(proof) - 1), label="node to forge")
    forged = [*proof[:j], flip_byte(proof[j], data.draw(st.integers(0, 31))), *proof[j + 1 :]]
    assert not merkle.verify_consistency(m, n, old, new, forged)
    assert not merkle.verify_consistency(m, n, old, new, proof[:-1])  # truncated
    assert not merkle.verify_consistency(m, n, old, new, [*proof, d[0]])
    assert not merkle.verify_consistency(m, n, new, old, proof)  # roots swapped
    assert not merkle.verify_consistency(m, n, flip_byte(old), new, proof)
    assert not merkle.verify_consistency(m, n, old, flip_byte(new), proof)
    assert not merkle.verify_consistency(m, n, old, new, [])
    # another size, with the true root of that size (sizes are bound to roots by checkpoints)
    for other in range(1, n + 1):
        if other != m:
            assert not merkle.verify_consistency(other, n, ref_mth(d[:other]), new, proof)
    for other in range(m, 65):
        if other != n:
            new_of_other_size = ref_mth(leaves(64)[:other])  # d is a prefix of leaves(64)
            assert not merkle.verify_consistency(m, other, old, new_of_other_size, proof)


def test_a_tree_is_consistent_with_itself_only_with_an_empty_proof() -> None:
    d = leaves(6)
    root = ref_mth(d)
    assert merkle.consistency_proof(6, d) == []
    assert merkle.verify_consistency(6, 6, root, root, [])
    assert not merkle.verify_consistency(6, 6, root, root, [d[0]])
    assert not merkle.verify_consistency(6, 6, root, flip_byte(root), [])
    assert not merkle.verify_consistency(0, 6, merkle.EMPTY_ROOT, root, [])
    assert not merkle.verify_consistency(7, 6, root, root, [])


def test_a_million_leaves_fold_in_one_pass() -> None:
    """Heads of a million leaves are cheap: compact range, no recursion over list copies."""
    rng = merkle.CompactRange()
    leaf = ref_leaf(b"TEST")
    rng.extend([leaf] * 1_000_000)
    assert rng.size == 1_000_000
    assert len(rng.nodes) == bin(1_000_000).count("1")
    # cross-check the structure on a perfect subtree: 2**19 equal leaves
    level = leaf
    for _ in range(19):
        level = hashlib.sha256(b"\x01" + level + level).digest()
    assert rng.nodes[0] == level
