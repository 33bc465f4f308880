"""RFC 6962 Merkle trees: tree heads, inclusion and consistency proofs, and their verifiers.

Pure functions over leaf hashes (32-byte SHA-256 digests). A leaf hash is
SHA-256(0x00 || leaf data) and an interior node SHA-256(0x01 || left || right); a tree of n
leaves splits at the largest power of two below n (RFC 6962 section 2.1). The verifiers follow
the algorithms of RFC 9162 sections 2.1.3.2 and 2.1.4.2 step by step, so any other RFC 6962
implementation accepts what this one proves and the other way round.

Nothing here recurses over copies of lists: a tree head is folded from a compact range (the
roots of the perfect subtrees that make up the first n leaves), so a million leaves cost a
million node hashes and a few kilobytes of memory besides the leaves.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from audit.errors import ProofError

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()

_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    return _sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return _sha256(NODE_PREFIX + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two strictly less than n (n >= 2): where RFC 6962 splits n leaves."""
    return 1 << ((n - 1).bit_length() - 1)


def _perfect_root(level: Sequence[bytes]) -> bytes:
    """Root of a perfect subtree (len(level) a power of two), one level at a time."""
    nodes = list(level)
    sha, prefix = _sha256, NODE_PREFIX
    while len(nodes) > 1:
        it = iter(nodes)  # zip(it, it) walks the level two at a time, without slicing copies
        pairs = zip(it, it, strict=True)
        nodes = [sha(prefix + left + right).digest() for left, right in pairs]
    return nodes[0]


class CompactRange:
    """The first `size` leaves of a tree, kept as the roots of its perfect subtrees.

    nodes[i] is the root of a perfect subtree of 2**h leaves for each set bit h of size,
    largest first. Appending is amortised one node hash per leaf; root() folds the nodes
    right to left, which is exactly the RFC 6962 tree head of the first `size` leaves.
    """

    __slots__ = ("nodes", "size")

    def __init__(self, size: int = 0, nodes: Sequence[bytes] = ()) -> None:
        if len(nodes) != size.bit_count() or any(len(n) != HASH_SIZE for n in nodes):
            raise ValueError(f"a range of {size} leaves has {size.bit_count()} 32-byte nodes")
        self.size = size
        self.nodes = list(nodes)

    def append(self, leaf: bytes) -> None:
        self.push(leaf, 0)

    def extend(self, leaves: Sequence[bytes]) -> None:
        """Append many leaf hashes, hashing whole aligned perfect subtrees level by level."""
        i, n = 0, len(leaves)
        while i < n:
            room = n - i
            height = room.bit_length() - 1
            if self.size:
                height = min(height, (self.size & -self.size).bit_length() - 1)
            width = 1 << height
            self.push(_perfect_root(leaves[i : i + width]) if width > 1 else leaves[i], height)
            i += width

    def push(self, node: bytes, height: int) -> None:
        """Append a perfect subtree of 2**height leaves (size must be a multiple of it)."""
        if self.size & ((1 << height) - 1):
            raise ValueError(f"a subtree of {1 << height} leaves cannot follow {self.size}")
        # Like binary addition: each carry merges two equal perfect subtrees into one.
        bit = 1 << height
        while self.size & bit:
            node = _sha256(NODE_PREFIX + self.nodes.pop() + node).digest()
            bit <<= 1
        self.nodes.append(node)
        self.size += 1 << height

    def merged(self, size: int, nodes: Sequence[bytes]) -> CompactRange:
        """This range followed by the compact range (size, nodes) of the leaves after it."""
        out = CompactRange(self.size, self.nodes)
        heights = [h for h in reversed(range(size.bit_length())) if size >> h & 1]
        if len(heights) != len(nodes):
            raise ValueError(f"a range of {size} leaves has {len(heights)} nodes")
        for node, height in zip(nodes, heights, strict=True):
            out.push(node, height)
        return out

    def root(self) -> bytes:
        if not self.nodes:
            return EMPTY_ROOT
        root = self.nodes[-1]
        for node in reversed(self.nodes[:-1]):
            root = _sha256(NODE_PREFIX + node + root).digest()
        return root

    def to_hex(self) -> str:
        return "".join(n.hex() for n in self.nodes)

    @classmethod
    def from_hex(cls, size: int, text: str) -> CompactRange:
        width = 2 * HASH_SIZE
        return cls(size, [bytes.fromhex(text[i : i + width]) for i in range(0, len(text), width)])


def root(leaves: Sequence[bytes]) -> bytes:
    """The RFC 6962 tree head (MTH) of the given leaf hashes."""
    rng = CompactRange()
    rng.extend(leaves)
    return rng.root()


def inclusion_proof(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """The audit path PATH(index, D[n]) of RFC 6962 section 2.1.1, leaf side first."""
    n = len(leaves)
    if not 0 <= index < n:
        raise ProofError(f"leaf index {index} is not in a tree of {n} leaves (0 to {n - 1})")
    siblings: list[bytes] = []
    lo, hi = 0, n
    while hi - lo > 1:
        k = split_point(hi - lo)
        if index < lo + k:
            siblings.append(root(leaves[lo + k : hi]))
            hi = lo + k
        else:
            siblings.append(root(leaves[lo : lo + k]))
            lo += k
    return siblings[::-1]


def consistency_proof(old_size: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 6962 section 2.1.2: the first m leaves are a prefix of all n."""
    n = len(leaves)
    if not 0 < old_size <= n:
        raise ProofError(f"old tree size {old_size} must be between 1 and the new size {n}")
    nodes: list[bytes] = []
    lo, hi, m, complete = 0, n, old_size, True
    while m != hi - lo:
        k = split_point(hi - lo)
        if m <= k:
            nodes.append(root(leaves[lo + k : hi]))
            hi = lo + k
        else:
            nodes.append(root(leaves[lo : lo + k]))
            lo, m, complete = lo + k, m - k, False
    if not complete:  # SUBPROOF(m, D[m], false) = {MTH(D[m])}
        nodes.append(root(leaves[lo:hi]))
    return nodes[::-1]


def _well_formed(hashes: Sequence[bytes]) -> bool:
    return all(len(h) == HASH_SIZE for h in hashes)


def verify_inclusion(
    leaf: bytes, index: int, size: int, path: Sequence[bytes], expected_root: bytes
) -> bool:
    """RFC 9162 section 2.1.3.2: does `path` lead from leaf hash `leaf` at `index` to the root?"""
    if not 0 <= index < size or not _well_formed([leaf, expected_root, *path]):
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == expected_root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 section 2.1.4.2: is the tree of old_size leaves a prefix of the new one?"""
    if not 0 < old_size <= new_size or not _well_formed([old_root, new_root, *proof]):
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # an exact power of two: the old root is a node
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == old_root and sr == new_root and sn == 0
