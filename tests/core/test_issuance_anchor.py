"""The issuance_anchor check (credentials.issuance_anchor) with plain-function resolvers: an SD-JWT VC whose
KB-JWT carries the issuer's inclusion proof, and every way the proof or its anchor can be wrong.

Against the real IssuanceRegistry on Anvil: tests/verifier/test_issuance_anchor_api.py."""

from __future__ import annotations

from dataclasses import replace

import pytest

from credentials.errors import CHECKS
from credentials.issuance_anchor import IssuanceAnchor, anchored_issuance
from credentials.merkle import IssuanceProof, MerkleTree, credential_leaf
from credentials.sd_jwt import HolderSdJwt
from credentials.verification import FAILED, PASSED, SKIPPED, UNAVAILABLE, Policy, Unavailable
from tests.core.test_verification import AUDIENCE, ROOT, World

REGISTRY = "0x" + "1f" * 20
ISSUER_ACCOUNT = "0x" + "aa" * 20
CHAIN_ID = 31337
BLOCK, BLOCK_TIME = 42, 1_780_000_000 - 3600


class Ledger:
    """Anchors by root, answering like ledger.issuance.IssuanceAnchorSource."""

    def __init__(self):
        self.anchors: dict[bytes, tuple[str, int]] = {}
        self.down = False
        self.asked: list[tuple[str, bytes]] = []

    def __call__(self, issuer: str, root: bytes):
        self.asked.append((issuer, root))
        if self.down:
            raise ConnectionError("the node did not answer")
        found = self.anchors.get(root)
        if found is None:
            return IssuanceAnchor(CHAIN_ID, REGISTRY, issuer_account=ISSUER_ACCOUNT)
        by, size = found
        return IssuanceAnchor(CHAIN_ID, REGISTRY, by, BLOCK, BLOCK_TIME, size, ISSUER_ACCOUNT)


@pytest.fixture
def world():
    return World()


def batch(world, count=5, mine=2):
    """``count`` credentials of one batch; (the holder's credential, its proof JSON, the tree)."""
    credentials = [world.credential() for _ in range(count)]
    tree = MerkleTree([credential_leaf(c) for c in credentials])
    return credentials[mine], IssuanceProof.of(tree, mine, chain_id=CHAIN_ID, registry=REGISTRY).to_json(), tree


def present(world, credential, proof):
    holder = replace(HolderSdJwt.parse(credential), issuance_proof=proof)
    return holder.present_with_key_binding([("title",)], world.holder_key, audience=AUDIENCE, nonce="n-1",
                                           iat=1_780_000_000 - 5)


def verify(world, presentation, ledger, **policy):
    return world.verify(presentation, policy=Policy(frozenset({ROOT}), **policy), nonce="n-1", audience=AUDIENCE,
                        issuance=ledger)


def test_an_anchored_proof_passes_saying_the_block_and_its_date(world):
    ledger = Ledger()
    credential, proof, tree = batch(world)
    ledger.anchors[tree.root] = (ISSUER_ACCOUNT, 5)
    result = verify(world, present(world, credential, proof), ledger)
    check = result.check("issuance_anchor")
    assert (check.status, check.detail) == (PASSED, "issued no later than block 42 (2026-05-28 19:26 UTC)")
    assert result.verified
    assert [c.check for c in result.checks] == list(CHECKS)
    assert ledger.asked == [(world.issuer, tree.root)]


def test_without_a_proof_the_check_is_skipped_and_not_required(world):
    result = verify(world, world.present(), Ledger())
    check = result.check("issuance_anchor")
    assert (check.status, check.required) == (SKIPPED, False)
    assert "no issuance proof was presented" in check.detail
    assert result.verified


def test_a_policy_that_requires_a_proof_fails_without_one(world):
    result = verify(world, world.present(), Ledger(), issuance_anchor_required=True)
    assert result.check("issuance_anchor").status == FAILED
    assert "requires a proof" in result.check("issuance_anchor").detail
    assert not result.verified


def _failed(world, presentation, ledger):
    result = verify(world, presentation, ledger)
    check = result.check("issuance_anchor")
    assert check.status == FAILED, check
    assert not result.verified
    return check.detail


def test_a_root_never_anchored_fails(world):
    credential, proof, _ = batch(world)
    assert "is not anchored" in _failed(world, present(world, credential, proof), Ledger())


def test_a_root_anchored_by_another_account_fails(world):
    ledger = Ledger()
    credential, proof, tree = batch(world)
    ledger.anchors[tree.root] = ("0x" + "bb" * 20, 5)
    assert f"anchored by {'0x' + 'bb' * 20}, not by the issuer's account" in _failed(
        world, present(world, credential, proof), ledger)


def test_a_proof_of_another_credential_of_the_batch_fails(world):
    ledger = Ledger()
    credential, proof, tree = batch(world)
    ledger.anchors[tree.root] = (ISSUER_ACCOUNT, 5)
    other = dict(proof, index=3, path=[p.hex() for p in tree.path(3)])
    assert "does not lead from this credential" in _failed(world, present(world, credential, other), ledger)


@pytest.mark.parametrize("tamper", ["path", "index", "root"])
def test_a_tampered_proof_fails(world, tamper):
    ledger = Ledger()
    credential, proof, tree = batch(world)
    ledger.anchors[tree.root] = (ISSUER_ACCOUNT, 5)
    if tamper == "path":
        proof = dict(proof, path=[("0" if proof["path"][0][0] != "0" else "1") + proof["path"][0][1:],
                                  *proof["path"][1:]])
    elif tamper == "index":
        proof = dict(proof, index=1)
    else:
        proof = dict(proof, root="00" * 32)
    assert "does not lead from this credential" in _failed(world, present(world, credential, proof), ledger)


def test_a_size_that_is_not_the_anchored_one_fails_though_the_path_still_leads_to_the_root(world):
    ledger = Ledger()
    credential, proof, tree = batch(world, count=5, mine=1)
    ledger.anchors[tree.root] = (ISSUER_ACCOUNT, 5)
    assert "claims a batch of 6, but the anchored batch has 5" in _failed(
        world, present(world, credential, dict(proof, size=6)), ledger)


def test_a_proof_naming_another_ledger_fails(world):
    ledger = Ledger()
    credential, proof, tree = batch(world)
    ledger.anchors[tree.root] = (ISSUER_ACCOUNT, 5)
    assert "names registry" in _failed(world, present(world, credential, dict(proof, chain_id=1)), ledger)
    assert "names registry" in _failed(world, present(world, credential, dict(proof, registry="0x" + "2e" * 20)),
                                       ledger)


@pytest.mark.parametrize("proof", [{"alg": "none"}, "a string", 7, [], {"alg": "rfc9162-sha256"}])
def test_a_malformed_proof_fails_saying_so(world, proof):
    credential = world.credential()
    assert "the issuance proof is malformed" in _failed(world, present(world, credential, proof), Ledger())


def test_the_chain_down_makes_it_unavailable_and_required(world):
    ledger = Ledger()
    ledger.down = True
    credential, proof, _ = batch(world)
    result = verify(world, present(world, credential, proof), ledger)
    check = result.check("issuance_anchor")
    assert (check.status, check.required) == (UNAVAILABLE, True)
    assert "cannot be read" in check.detail
    assert result.undecided


def test_a_verifier_without_a_registry_cannot_check_a_given_proof(world):
    credential, proof, _ = batch(world)
    result = verify(world, present(world, credential, proof), None)
    assert result.check("issuance_anchor").status == UNAVAILABLE


def test_anchored_issuance_gives_the_block_for_other_checks(world):
    ledger = Ledger()
    credential, proof, tree = batch(world, count=70, mine=69)
    ledger.anchors[tree.root] = (ISSUER_ACCOUNT, 70)
    anchored = anchored_issuance(credential, proof, world.issuer, ledger)
    assert (anchored.block_number, anchored.block_timestamp, anchored.index, anchored.size) == (42, BLOCK_TIME, 69, 70)
    ledger.down = True
    assert isinstance(anchored_issuance(credential, proof, world.issuer, ledger), Unavailable)

