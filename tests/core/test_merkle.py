"""credentials.merkle against RFC 9162 §2.1: CT vectors (tests/vectors/rfc9162), the recursive definition
for every size 1..70, and tampering (path, index, size, root, leaf)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credentials.errors import InvalidInput
from credentials.merkle import (
    PROOF_ALG,
    IssuanceProof,
    MerkleTree,
    credential_digest,
    credential_leaf,
    leaf_hash,
    node_hash,
    verify_inclusion,
)

VECTORS = json.loads((Path(__file__).resolve().parent.parent / "vectors" / "rfc9162" / "inclusion.json")
                     .read_text(encoding="utf-8"))
LEAVES = [leaf_hash(bytes.fromhex(h)) for h in VECTORS["leaf_inputs_hex"]]


def reference_root(leaves: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1 MTH, literally: k the largest power of two smaller than n."""
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(reference_root(leaves[:k]), reference_root(leaves[k:]))


def reference_path(m: int, leaves: list[bytes]) -> list[bytes]:
    """RFC 9162 §2.1.3.1 PATH(m, D[n]), literally."""
    if len(leaves) == 1:
        return []
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    if m < k:
        return reference_path(m, leaves[:k]) + [reference_root(leaves[k:])]
    return reference_path(m - k, leaves[k:]) + [reference_root(leaves[:k])]


@pytest.mark.parametrize("size", sorted(VECTORS["roots_by_size"], key=int))
def test_rfc9162_root_vectors(size):
    assert MerkleTree(LEAVES[:int(size)]).root.hex() == VECTORS["roots_by_size"][size]


@pytest.mark.parametrize("vector", VECTORS["inclusion_proofs_one_based"],
                         ids=lambda v: f"leaf{v['leaf']}-of-{v['size']}")
def test_rfc9162_inclusion_vectors(vector):
    index, size = vector["leaf"] - 1, vector["size"]
    proof = [bytes.fromhex(h) for h in vector["proof"]]
    tree = MerkleTree(LEAVES[:size])
    assert tree.path(index) == proof
    assert verify_inclusion(LEAVES[index], index, size, proof, bytes.fromhex(VECTORS["roots_by_size"][str(size)]))


@pytest.mark.parametrize("vector", VECTORS["inclusion_proofs_one_based"],
                         ids=lambda v: f"leaf{v['leaf']}-of-{v['size']}")
def test_rfc9162_inclusion_vectors_tampered(vector):
    index, size = vector["leaf"] - 1, vector["size"]
    proof = [bytes.fromhex(h) for h in vector["proof"]]
    root = bytes.fromhex(VECTORS["roots_by_size"][str(size)])
    assert not verify_inclusion(LEAVES[index], size, size, proof, root)
    assert not verify_inclusion(LEAVES[index], index, size, [*proof, LEAVES[0]], root)
    if proof:
        assert not verify_inclusion(LEAVES[index], index ^ 1, size, proof, root)
        assert not verify_inclusion(LEAVES[index], index, size, proof[:-1], root)
        assert not verify_inclusion(LEAVES[index], index, size, [proof[0][::-1], *proof[1:]], root)


@pytest.mark.parametrize("vector", VECTORS["hasher"], ids=lambda v: v["kind"])
def test_rfc6962_hasher_vectors(vector):
    if vector["kind"] == "leaf":
        assert leaf_hash(vector["input_text"].encode()).hex() == vector["want"]
    else:
        assert node_hash(vector["left_text"].encode(), vector["right_text"].encode()).hex() == vector["want"]


def _leaves(n: int) -> list[bytes]:
    return [leaf_hash(hashlib.sha256(str(i).encode()).digest()) for i in range(n)]


@pytest.mark.parametrize("size", range(1, 71))
def test_every_leaf_of_every_size_verifies_and_matches_the_definition(size):
    leaves = _leaves(size)
    tree = MerkleTree(leaves)
    assert tree.root == reference_root(leaves)
    for index in range(size):
        path = tree.path(index)
        assert path == reference_path(index, leaves)
        assert verify_inclusion(leaves[index], index, size, path, tree.root)


@pytest.mark.parametrize("size", range(1, 71))
def test_a_proof_for_another_index_fails(size):
    leaves = _leaves(size)
    tree = MerkleTree(leaves)
    for index in range(size):
        path = tree.path(index)
        for other in range(size):
            if other != index:
                assert not verify_inclusion(leaves[index], other, size, path, tree.root)


def test_the_path_alone_does_not_bind_the_size():
    # RFC 9162 §2.1.3.2 takes the size as an input it trusts: leaf 1 of 5 has the same path and root
    # when told the tree has 6 leaves. So the verifier's check takes the size from the chain's anchor
    # (credentials.issuance_anchor), never from the proof alone.
    leaves = _leaves(5)
    tree = MerkleTree(leaves)
    assert verify_inclusion(leaves[1], 1, 6, tree.path(1), tree.root)
    assert not verify_inclusion(leaves[1], 1, 9, tree.path(1), tree.root)


@settings(max_examples=150, deadline=None)
@given(size=st.integers(1, 70), data=st.data())
def test_any_changed_byte_of_the_path_leaf_or_root_fails(size, data):
    leaves = _leaves(size)
    tree = MerkleTree(leaves)
    index = data.draw(st.integers(0, size - 1))
    path = tree.path(index)
    target = data.draw(st.sampled_from(["leaf", "root"] + (["path"] * 3 if path else [])))
    position = data.draw(st.integers(0, 31))
    flip = data.draw(st.integers(1, 255))
    leaf, root = leaves[index], tree.root
    if target == "leaf":
        leaf = leaf[:position] + bytes([leaf[position] ^ flip]) + leaf[position + 1:]
    elif target == "root":
        root = root[:position] + bytes([root[position] ^ flip]) + root[position + 1:]
    else:
        which = data.draw(st.integers(0, len(path) - 1))
        entry = path[which]
        path = [*path[:which], entry[:position] + bytes([entry[position] ^ flip]) + entry[position + 1:],
                *path[which + 1:]]
    assert not verify_inclusion(leaf, index, size, path, root)


def test_an_empty_tree_and_bad_indices_are_refused():
    with pytest.raises(InvalidInput, match="at least one"):
        MerkleTree([])
    with pytest.raises(InvalidInput, match="32 bytes"):
        MerkleTree([b"short"])
    tree = MerkleTree(_leaves(3))
    for index in (-1, 3, True, "0"):
        with pytest.raises(InvalidInput, match="leaf index from 0 to 2"):
            tree.path(index)
    assert not verify_inclusion(_leaves(1)[0], 0, 0, [], tree.root)


def test_the_leaf_of_an_sd_jwt_is_its_issuer_signed_jwt_only():
    jwt = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln"
    sd_jwt = jwt + "~WyJzYWx0IiwiYSIsMV0~"
    with_kb = sd_jwt + "eyJ0eXAiOiJrYitqd3QifQ.e30.c2ln"
    assert credential_digest(jwt) == credential_digest(sd_jwt) == credential_digest(with_kb + "\n")
    assert credential_digest(jwt) == hashlib.sha256(jwt.encode()).digest()
    assert credential_leaf(jwt) == leaf_hash(hashlib.sha256(jwt.encode()).digest())
    for bad in ("not a jwt", "a.b~c", "é.b.c"):
        with pytest.raises(InvalidInput):
            credential_digest(bad)


def test_the_proof_json_round_trips_and_proves_its_leaf():
    leaves = _leaves(5)
    proof = IssuanceProof.of(MerkleTree(leaves), 3, chain_id=31337, registry="0x" + "ab" * 20)
    document = proof.to_json()
    assert document["alg"] == PROOF_ALG
    assert set(document) == {"alg", "root", "index", "size", "path", "chain_id", "registry"}
    again = IssuanceProof.from_json(json.loads(json.dumps(document)))
    assert again == proof
    assert again.proves(leaves[3])
    assert not again.proves(leaves[2])


@pytest.mark.parametrize(("change", "message"), [
    ({"alg": "sha1"}, "alg"),
    ({"root": "AB" * 32}, "root to be 64 lowercase hex"),
    ({"root": "ab"}, "root to be 64 lowercase hex"),
    ({"index": 5}, "index below its size 5"),
    ({"index": -1}, "index to be a whole number"),
    ({"size": 0}, "size to be a whole number"),
    ({"size": True}, "size to be a whole number"),
    ({"size": 2**64}, "size to be a whole number"),
    ({"path": "ab"}, "path to be a list"),
    ({"path": ["zz"]}, "path entry"),
    ({"path": ["00" * 32] * 65}, "at most 64"),
    ({"chain_id": "1"}, "chain_id"),
    ({"registry": "0x12"}, "registry"),
    ({"extra": 1}, "unknown extra"),
])
def test_a_malformed_proof_is_refused_saying_what(change, message):
    document = IssuanceProof.of(MerkleTree(_leaves(5)), 1, chain_id=1, registry="0x" + "00" * 20).to_json()
    document.update(change)
    with pytest.raises(InvalidInput, match=message):
        IssuanceProof.from_json(document)


def test_a_proof_that_is_not_an_object_or_lacks_members_is_refused():
    with pytest.raises(InvalidInput, match="JSON object, found list"):
        IssuanceProof.from_json([])
    with pytest.raises(InvalidInput, match="missing chain_id"):
        IssuanceProof.from_json({"alg": PROOF_ALG, "root": "00" * 32, "index": 0, "size": 1, "path": [],
                                 "registry": "0x" + "00" * 20})
