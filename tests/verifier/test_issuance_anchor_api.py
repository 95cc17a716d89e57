"""POST /api/v1/verify with an issuance proof, against a real Anvil: the issuer anchors a batch root on the
IssuanceRegistry and the holder's KB-JWT carries the proof (claim issuance_proof)."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from credentials.merkle import IssuanceProof, MerkleTree, credential_leaf
from credentials.sd_jwt import HolderSdJwt
from tests.verifier.conftest import AUDIENCE, SHOWN

pytestmark = pytest.mark.integration


def _batch(ledger, issuer, count=4, mine=1, *, anchor_with=None):
    """``count`` credentials of one batch; the root anchored by ``anchor_with`` (default: the issuer's account)."""
    credentials = [issuer.credential(idx=100 + i) for i in range(count)]
    tree = MerkleTree([credential_leaf(c) for c in credentials])
    result = ledger.issuance.anchor_batch(tree.root, count, account=anchor_with or issuer.account)
    proof = IssuanceProof.of(tree, mine, chain_id=ledger.deployment.chain_id, registry=ledger.issuance.address)
    return credentials[mine], proof.to_json(), result


def _present(issuer, credential, proof, nonce):
    holder = replace(HolderSdJwt.parse(credential), issuance_proof=proof)
    return holder.present_with_key_binding(SHOWN, issuer.holder, audience=AUDIENCE, nonce=nonce,
                                           iat=int(time.time()))


def _check(answer):
    return next(c for c in answer["checks"] if c["check"] == "issuance_anchor")


def test_an_anchored_batch_proves_the_issuance_block(client, ledger, make_issuer):
    issuer = make_issuer()
    credential, proof, anchored = _batch(ledger, issuer)
    response = client.post("/api/v1/verify", json={"presentation": _present(issuer, credential, proof, "n-a1"),
                                                   "nonce": "n-a1", "audience": AUDIENCE})
    answer = response.get_json()
    assert response.status_code == 200, answer
    assert answer["verified"] is True
    check = _check(answer)
    assert check["status"] == "passed"
    assert check["detail"].startswith(f"issued no later than block {anchored.block_number} (")


def test_a_root_anchored_by_another_account_fails(client, ledger, make_issuer, new_account):
    issuer = make_issuer()
    credential, proof, _ = _batch(ledger, issuer, anchor_with=new_account())
    answer = client.post("/api/v1/verify", json={"presentation": _present(issuer, credential, proof, "n-a2"),
                                                 "nonce": "n-a2", "audience": AUDIENCE}).get_json()
    assert answer["verified"] is False
    assert _check(answer)["status"] == "failed"
    assert "not by the issuer's account" in _check(answer)["detail"]


def test_a_proof_of_a_root_never_anchored_fails_and_a_tampered_one_too(client, ledger, make_issuer):
    issuer = make_issuer()
    credential, proof, _ = _batch(ledger, issuer)
    other = issuer.credential(idx=999)
    lone = IssuanceProof.of(MerkleTree([credential_leaf(other)]), 0, chain_id=ledger.deployment.chain_id,
                            registry=ledger.issuance.address).to_json()
    answer = client.post("/api/v1/verify", json={"presentation": _present(issuer, other, lone, "n-a3"),
                                                 "nonce": "n-a3", "audience": AUDIENCE}).get_json()
    assert (_check(answer)["status"], answer["verified"]) == ("failed", False)
    assert "is not anchored" in _check(answer)["detail"]
    tampered = dict(proof, index=(proof["index"] + 1) % proof["size"])
    answer = client.post("/api/v1/verify", json={"presentation": _present(issuer, credential, tampered, "n-a4"),
                                                 "nonce": "n-a4", "audience": AUDIENCE}).get_json()
    assert (_check(answer)["status"], answer["verified"]) == ("failed", False)


def test_without_a_proof_it_is_skipped_unless_the_policy_requires_one(client, ledger, ledger_data_dir, anvil,
                                                                     make_issuer):
    from verifier import create_app, service_of

    issuer = make_issuer()
    answer = client.post("/api/v1/verify", json={"presentation": issuer.present(nonce="n-a5"), "nonce": "n-a5",
                                                 "audience": AUDIENCE}).get_json()
    assert (_check(answer)["status"], answer["verified"]) == ("skipped", True)
    strict = create_app({"TESTING": True, "DATA_DIR": str(ledger_data_dir), "RPC_URL": anvil.url,
                         "VERIFIER_FETCH_ALLOW_HTTP": True, "VERIFIER_FETCH_ALLOW_LOOPBACK": True,
                         "VERIFIER_RATE_LIMIT": "off", "VERIFIER_REQUIRE_ISSUANCE_ANCHOR": True})
    try:
        answer = strict.test_client().post("/api/v1/verify", json={
            "presentation": issuer.present(nonce="n-a6"), "nonce": "n-a6", "audience": AUDIENCE}).get_json()
        assert (_check(answer)["status"], answer["verified"]) == ("failed", False)
        credential, proof, _ = _batch(ledger, issuer)
        answer = strict.test_client().post("/api/v1/verify", json={
            "presentation": _present(issuer, credential, proof, "n-a7"), "nonce": "n-a7",
            "audience": AUDIENCE}).get_json()
        assert (_check(answer)["status"], answer["verified"]) == ("passed", True)
    finally:
        service_of(strict).close()
