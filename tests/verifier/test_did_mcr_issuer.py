"""did:mcr issuers at the verifier, on the real Anvil: keys resolved from the DidRegistry at the block the
verifier has confirmed; after a rotation new credentials verify with the new key and a credential signed with the
old key (no issuance anchor) fails ``signature`` saying the key was replaced; after a revocation likewise; the
TrustRegistry accredits a did:mcr like any DID; status list tokens are checked with the key their ``kid`` names."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import pytest

from credentials.jose import PrivateKey
from credentials.merkle import IssuanceProof, MerkleTree, credential_leaf
from credentials.microcredential import MICRO_CREDENTIAL_VCT, disclosure_frame
from credentials.sd_jwt import HolderSdJwt
from credentials.sd_jwt_vc import issue_sd_jwt_vc
from credentials.status_list import sign_status_list_token
from tests.verifier.conftest import AUDIENCE, CLAIMS, SHOWN, AnchoringIssuer
from tests.waiting import wait_for

pytestmark = pytest.mark.integration


@dataclass
class McrIssuer(AnchoringIssuer):
    """An AnchoringIssuer whose DID is a did:mcr and whose kid is ``<did>#<thumbprint>`` of its current key."""

    @property
    def kid(self) -> str:
        return f"{self.did}#{self.key.public_key().thumbprint()}"

    def sign_list(self) -> str:
        return sign_status_list_token(self.status_list, self.key, uri=self.uri, iat=int(time.time()) - 5,
                                      kid=self.kid)

    def credential(self, *, idx: int = 1234, claims=CLAIMS, **overrides) -> str:
        arguments = {"vct": MICRO_CREDENTIAL_VCT, "claims": claims, "frame": disclosure_frame(claims),
                     "issuer_key": self.key, "issuer": self.did, "kid": self.kid, "iat": int(time.time()) - 60,
                     "holder_jwk": self.holder.public_key().to_jwk(),
                     "status": {"status_list": {"idx": idx, "uri": self.uri}}}
        arguments.update(overrides)
        return issue_sd_jwt_vc(**arguments).serialization

    def rotate(self) -> int:
        new_key = PrivateKey.generate("ES256")
        change = self.ledger.dids.rotate(self.did, self.kid, new_key.public_key(), account=self.account)
        self.key = new_key
        return change.transaction.block_number


@pytest.fixture
def mcr_issuer(ledger, new_account, unique_did, status_server):
    from ledger.artifacts import Role

    start = min(ledger.chain.block_timestamp(), int(time.time())) - 3600
    key, account = PrivateKey.generate("ES256"), new_account()
    did = ledger.dids.register(key.public_key(), account=account).did
    tao, tao_account = unique_did("tao"), new_account()
    ledger.trust.accredit(ledger.deployment.root_did, tao, role=Role.TAO, vcts=[MICRO_CREDENTIAL_VCT],
                          legal_name="Agenzia di Accreditamento", country="IT", valid_from=start,
                          valid_until=None, controller=tao_account.address)
    ledger.trust.accredit(tao, did, role=Role.ISSUER, vcts=[MICRO_CREDENTIAL_VCT], legal_name="Università di Prova",
                          country="IT", valid_from=start, valid_until=None, controller=account.address,
                          account=tao_account)
    issuer = McrIssuer(key, did, account, ledger, status_server, f"mcr-{did[-8:]}")
    issuer.publish()
    return issuer


def _check(answer, name):
    return next(c for c in answer["checks"] if c["check"] == name)


def _verify(client, presentation):
    return client.post("/api/v1/verify", json={"presentation": presentation}).get_json()


def _until_signature(client, issuer, credential, status):
    """The verifier's view confirms new blocks every poll: wait until it has seen the change."""
    def seen():
        answer = _verify(client, issuer.present(credential))
        return answer if _check(answer, "signature")["status"] == status else None

    return wait_for(seen, within=10, what=f"the verifier to see the key change (signature {status})")


def test_a_did_mcr_issuer_is_verified_with_its_registered_key(client, mcr_issuer):
    answer = _verify(client, mcr_issuer.present())
    assert answer["verified"] is True, answer["checks"]
    assert mcr_issuer.kid in _check(answer, "signature")["detail"]
    assert answer["issuer"]["id"] == mcr_issuer.did
    assert _check(answer, "issuer_trust")["status"] == "passed"
    assert _check(answer, "revocation")["status"] == "passed"


def test_after_a_rotation_new_credentials_verify_and_an_old_key_fails_signature(client, mcr_issuer):
    old_key = mcr_issuer.key
    old_credential = mcr_issuer.credential()
    rotated_at = mcr_issuer.rotate()
    mcr_issuer.publish()  # the issuer's next status list is signed with the new key
    new_credential = mcr_issuer.credential()
    answer = _verify(client, mcr_issuer.present(new_credential))
    assert answer["verified"] is True, answer["checks"]
    # without an issuance anchor, a credential needs a key valid now: the old one was replaced
    answer = _until_signature(client, mcr_issuer, old_credential, "failed")
    assert answer["verified"] is False
    assert f"replaced at block {rotated_at} (key rotation)" in _check(answer, "signature")["detail"]
    # a credential signed with the old key after the rotation fails the same way
    mcr_issuer.key, new_key = old_key, mcr_issuer.key
    forged = mcr_issuer.credential()
    mcr_issuer.key = new_key
    answer = _verify(client, mcr_issuer.present(forged))
    assert _check(answer, "signature")["status"] == "failed"
    assert "replaced at block" in _check(answer, "signature")["detail"]


def test_a_credential_signed_with_a_revoked_key_fails_signature_with_a_plain_reason(client, mcr_issuer):
    revoked_kid = mcr_issuer.kid
    change = mcr_issuer.ledger.dids.revoke(mcr_issuer.did, revoked_kid, account=mcr_issuer.account)
    answer = _until_signature(client, mcr_issuer, mcr_issuer.credential(), "failed")
    detail = _check(answer, "signature")["detail"]
    assert f"was revoked at block {change.transaction.block_number}" in detail
    assert "Traceback" not in detail
    assert "0x" not in detail.split("did:mcr")[0]


def test_a_kid_of_another_did_or_an_unknown_key_fails_signature(client, mcr_issuer):
    stranger = PrivateKey.generate("ES256")
    foreign = mcr_issuer.credential(issuer_key=stranger, kid=f"{mcr_issuer.did}#{stranger.public_key().thumbprint()}")
    answer = _verify(client, mcr_issuer.present(foreign))
    assert _check(answer, "signature")["status"] == "failed"
    assert "has no key" in _check(answer, "signature")["detail"]
    elsewhere = mcr_issuer.credential(kid=f"did:mcr:1:{'ab' * 16}#{mcr_issuer.key.public_key().thumbprint()}")
    answer = _verify(client, mcr_issuer.present(elsewhere))
    assert _check(answer, "signature")["status"] == "failed"
    assert "is not a key of" in _check(answer, "signature")["detail"]


def test_an_unregistered_did_mcr_fails_signature(client, mcr_issuer, ledger):
    ghost = f"did:mcr:{ledger.chain.chain_id()}:{'cd' * 16}"
    credential = mcr_issuer.credential(issuer=ghost, kid=f"{ghost}#{mcr_issuer.key.public_key().thumbprint()}")
    answer = _verify(client, mcr_issuer.present(credential))
    assert _check(answer, "signature")["status"] == "failed"
    assert "is not registered" in _check(answer, "signature")["detail"]


# --- with an issuance anchor: the key valid at the anchor's block, the accreditation before its revocation ---


def _anchored(ledger, issuer, credential):
    """Anchor a batch holding ``credential`` with the issuer's account; the presentation carries the proof."""
    others = [issuer.credential(idx=200 + i) for i in range(2)]
    tree = MerkleTree([credential_leaf(c) for c in (credential, *others)])
    anchored = ledger.issuance.anchor_batch(tree.root, tree.size, account=issuer.account)
    proof = IssuanceProof.of(tree, 0, chain_id=ledger.deployment.chain_id, registry=ledger.issuance.address)
    return proof.to_json(), anchored.block_number


def _present_anchored(issuer, credential, proof):
    holder = replace(HolderSdJwt.parse(credential), issuance_proof=proof)
    return holder.present_with_key_binding(SHOWN, issuer.holder, audience=AUDIENCE,
                                           nonce=PrivateKey.generate().public_key().thumbprint(),
                                           iat=int(time.time()))


def _until(client, presentation_of, check, status):
    def seen():
        answer = _verify(client, presentation_of())
        return answer if _check(answer, check)["status"] == status else None

    return wait_for(seen, within=10, what=f"the verifier to see the change ({check} {status})")


def test_after_a_rotation_a_credential_anchored_before_it_still_verifies(client, ledger, mcr_issuer):
    credential = mcr_issuer.credential()
    proof, anchored_at = _anchored(ledger, mcr_issuer, credential)
    rotated_at = mcr_issuer.rotate()
    assert rotated_at > anchored_at
    mcr_issuer.publish()  # the issuer's status list, signed again with the new key
    answer = _until(client, lambda: mcr_issuer.present(credential), "signature", "failed")  # unanchored: refused
    assert f"replaced at block {rotated_at}" in _check(answer, "signature")["detail"]
    answer = _verify(client, _present_anchored(mcr_issuer, credential, proof))
    assert answer["verified"] is True, answer["checks"]
    assert _check(answer, "issuance_anchor")["detail"].startswith(f"issued no later than block {anchored_at} (")


def test_after_a_key_revocation_only_credentials_anchored_before_it_verify(client, ledger, mcr_issuer):
    before = mcr_issuer.credential()
    proof_before, _ = _anchored(ledger, mcr_issuer, before)
    revoked_kid, revoked_key = mcr_issuer.kid, mcr_issuer.key
    mcr_issuer.key = PrivateKey.generate("ES256")  # a new key, for the lists
    ledger.dids.add_method(mcr_issuer.did, mcr_issuer.key.public_key(), account=mcr_issuer.account)
    revoked_at = ledger.dids.revoke(mcr_issuer.did, revoked_kid, account=mcr_issuer.account).transaction.block_number
    mcr_issuer.publish()
    after = mcr_issuer.credential(issuer_key=revoked_key, kid=revoked_kid)  # signed by whoever holds the old key
    proof_after, anchored_after = _anchored(ledger, mcr_issuer, after)
    answer = _until(client, lambda: _present_anchored(mcr_issuer, after, proof_after), "signature", "failed")
    assert (f"was revoked at block {revoked_at}; this credential was anchored at block {anchored_after}, not "
            "before the revocation") in _check(answer, "signature")["detail"]
    answer = _verify(client, _present_anchored(mcr_issuer, before, proof_before))
    assert answer["verified"] is True, answer["checks"]


def test_an_accreditation_revoked_for_cause_keeps_only_credentials_anchored_before(client, ledger, mcr_issuer,
                                                                                    advance_chain_time):
    anchored_credential = mcr_issuer.credential()
    proof, anchored_at = _anchored(ledger, mcr_issuer, anchored_credential)
    unanchored = mcr_issuer.credential()
    advance_chain_time(2)  # the revocation is in a later second than the anchor
    ledger.trust.revoke(mcr_issuer.did)  # for cause, by the root
    answer = _until(client, lambda: mcr_issuer.present(unanchored), "issuer_trust", "failed")
    assert "was revoked" in _check(answer, "issuer_trust")["detail"]
    answer = _verify(client, _present_anchored(mcr_issuer, anchored_credential, proof))
    assert answer["verified"] is True, answer["checks"]
    assert f"anchored in block {anchored_at}, before the revocation" in _check(answer, "issuer_trust")["detail"]
    late = mcr_issuer.credential()  # signed after the revocation with an iat from before it, then anchored
    late_proof, _ = _anchored(ledger, mcr_issuer, late)
    answer = _verify(client, _present_anchored(mcr_issuer, late, late_proof))
    assert _check(answer, "issuer_trust")["status"] == "failed"

