"""issuance_anchor for a whole credential: the holder-signed jwt_vp_json carries the proof as its VP member
issuanceProof (credentials.verification_imported), checked with a plain-function resolver."""

from __future__ import annotations

import pytest

from credentials.issuance_anchor import IssuanceAnchor
from credentials.jose import UnverifiedJws, sign_jws
from credentials.merkle import IssuanceProof, MerkleTree, credential_leaf
from credentials.presentation_vp import sign_jwt_vp_json
from credentials.verification import FAILED, PASSED, SKIPPED
from tests.verifier.imported_world import VC11
from tests.verifier.test_imported_core import AUDIENCE, NOW, World

REGISTRY = "0x" + "1f" * 20


@pytest.fixture
def world():
    return World()


def _vp(world, credential, proof, nonce):
    vp = {"@context": [VC11], "type": ["VerifiablePresentation"], "holder": world.holder.did,
          "verifiableCredential": [credential], "issuanceProof": proof}
    return sign_jws({"iss": world.holder.did, "aud": AUDIENCE, "nonce": nonce, "iat": NOW - 5, "vp": vp},
                    world.holder.key, header={"kid": world.holder.kid, "typ": "JWT"})


def _anchored(world, credentials, by):
    tree = MerkleTree([credential_leaf(c) for c in credentials])

    def resolver(issuer, root):
        if root != tree.root:
            return IssuanceAnchor(1, REGISTRY, issuer_account="0x" + "aa" * 20)
        return IssuanceAnchor(1, REGISTRY, by, 7, NOW - 600, len(credentials), "0x" + "aa" * 20)

    return tree, resolver


def test_a_vp_with_the_proof_of_its_badge_passes(world):
    badges = [world.badge_jwt(index=i) for i in range(3)]
    tree, resolver = _anchored(world, badges, "0x" + "aa" * 20)
    proof = IssuanceProof.of(tree, 1, chain_id=1, registry=REGISTRY).to_json()
    result = world.verify(_vp(world, badges[1], proof, "n-1"), nonce="n-1", audience=AUDIENCE, issuance=resolver)
    assert result.check("issuance_anchor").status == PASSED
    assert result.check("issuance_anchor").detail.startswith("issued no later than block 7")
    assert result.verified


def test_a_vp_with_another_badges_proof_or_an_unknown_anchor_fails(world):
    badges = [world.badge_jwt(index=i) for i in range(3)]
    tree, resolver = _anchored(world, badges, "0x" + "bb" * 20)
    wrong = IssuanceProof.of(tree, 0, chain_id=1, registry=REGISTRY).to_json()
    result = world.verify(_vp(world, badges[1], wrong, "n-2"), nonce="n-2", audience=AUDIENCE, issuance=resolver)
    assert result.check("issuance_anchor").status == FAILED
    assert not result.verified
    right = IssuanceProof.of(tree, 1, chain_id=1, registry=REGISTRY).to_json()
    result = world.verify(_vp(world, badges[1], right, "n-3"), nonce="n-3", audience=AUDIENCE, issuance=resolver)
    assert "not by the issuer's account" in result.check("issuance_anchor").detail


def test_the_wallets_vp_signer_puts_the_proof_in_the_vp_and_without_one_the_check_is_skipped(world):
    badges = [world.badge_jwt(index=i) for i in range(2)]
    tree, resolver = _anchored(world, badges, "0x" + "aa" * 20)
    proof = IssuanceProof.of(tree, 0, chain_id=1, registry=REGISTRY).to_json()
    signed = sign_jwt_vp_json(badges[0], world.holder.key, audience=AUDIENCE, nonce="n-4", iat=NOW - 5,
                              issuance_proof=proof)
    assert UnverifiedJws.parse(signed).payload["vp"]["issuanceProof"] == proof
    plain = world.verify(world.badge_jwt(index=9), issuance=resolver)
    assert (plain.check("issuance_anchor").status, plain.check("issuance_anchor").required) == (SKIPPED, False)
