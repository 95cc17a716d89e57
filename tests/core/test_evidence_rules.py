"""The pure core of evidence files (credentials/evidence.py): signing, parsing, tampering, and each re-check rule
decided from handed-in answers (the same rules against the real node: tests/verifier/test_evidence.py)."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credentials.errors import InvalidInput
from credentials.evidence import (
    UNCHANGED,
    UNDECIDED,
    WORSE,
    Now,
    jwk_set,
    parse_evidence,
    recheck,
    sign_evidence,
)
from credentials.issuance_anchor import IssuanceAnchor
from credentials.jose import PrivateKey, PublicKey, b64url_decode, b64url_encode
from credentials.merkle import IssuanceProof, MerkleTree, leaf_hash
from credentials.verification_model import FAILED, PASSED, UNAVAILABLE, CheckResult, TrustAnswer, TrustLink, Unavailable

KEY = PrivateKey.generate("ES256")
KEYS = {KEY.public_key().thumbprint(): KEY.public_key()}
TOKEN = "eyJ0eXAiOiJzdGF0dXNsaXN0K2p3dCJ9.e30.c2ln"
ANCHORED = hashlib.sha256(TOKEN.encode()).digest()
CREDENTIAL_SHA = hashlib.sha256(b"issuer-signed jwt").digest()
TREE = MerkleTree([leaf_hash(CREDENTIAL_SHA), leaf_hash(b"other")])
PROOF = IssuanceProof.of(TREE, 0, chain_id=31337, registry="0x" + "1" * 40).to_json()
LEDGER = {"chain_id": 31337, "trust_registry": "0x" + "a" * 40, "status_registry": "0x" + "b" * 40}
CHAIN = (TrustLink("did:web:uni.example", "Uni", "issuer"), TrustLink("did:web:root.example", "Root", "root"))


def _payload(**changes) -> dict:
    payload = {
        "version": 1, "made_at": 1_700_000_000, "verifier": "https://verifier.example",
        "presentation": {"sha256": "00" * 32, "format": "dc+sd-jwt"},
        "credential": {"sha256": CREDENTIAL_SHA.hex(), "iss": "did:web:uni.example", "vct": "urn:x", "iat": 10,
                       "exp": 2_000_000_000},
        "verified": True, "undecided": False,
        "checks": [
            {"check": "signature", "status": PASSED, "detail": "ES256", "inputs": {"kid": "k"}},
            {"check": "validity_period", "status": PASSED, "detail": "ok", "inputs": {"exp": 2_000_000_000}},
            {"check": "issuer_trust", "status": PASSED, "detail": "ok", "inputs": {
                "vct": "urn:x", "at": 10, "read_at_block": 40,
                "chain": [{"did": "did:web:uni.example"}, {"did": "did:web:root.example"}]}},
            {"check": "revocation", "status": PASSED, "detail": "ok", "inputs": {
                "uri": "https://uni.example/status/l1", "index": 7, "list_id": "l1", "anchored_sha256": ANCHORED.hex(),
                "anchored_version": 2, "anchored_block": 41, "status_list_token": TOKEN}},
            {"check": "issuance_anchor", "status": PASSED, "detail": "ok", "inputs": {
                "proof": PROOF, "anchored_block": 30, "anchored_at": 1_600_000_000, "anchored_by": "0x" + "c" * 40}},
        ],
        "ledger": {**LEDGER, "block": 42, "block_hash": "0x" + "d" * 64},
        "issuer": {"id": "did:web:uni.example"}, "claims": None, "claims_omitted": True,
    }
    payload.update(changes)
    return payload


def _evidence(**changes):
    return parse_evidence(sign_evidence(_payload(**changes), KEY))


def _now(**changes) -> Now:
    values = {"time": 1_800_000_000, "ledger": LEDGER, "anchor_then": (ANCHORED, 2),
              "revocation": CheckResult("revocation", PASSED, "index 7 of list l1 (anchored at block 41) is valid"),
              "status_block": 41, "trust": TrustAnswer(True, "ok", CHAIN, block=90),
              "issuance": IssuanceAnchor(31337, "0x" + "1" * 40, "0x" + "c" * 40, 30, 1_600_000_000, 2,
                                         "0x" + "c" * 40)}
    values.update(changes)
    return Now(**values)


def _finding(result, check):
    return next(f for f in result.findings if f.check == check)


def test_a_signed_file_parses_and_its_signature_holds():
    evidence = _evidence()
    assert evidence.signature_problem(KEYS) is None
    assert evidence.kid == KEY.public_key().thumbprint()
    published = jwk_set([KEY.public_key()])["keys"][0]
    assert published["kid"] == evidence.kid
    assert PublicKey.from_jwk({k: v for k, v in published.items() if k not in ("kid", "use")}) == KEY.public_key()


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0), st.sampled_from("AQgw_-"))
def test_any_changed_payload_character_breaks_the_signature(position, replacement):
    outer = json.loads(sign_evidence(_payload(), KEY))
    payload = outer["payload"]
    position %= len(payload)
    if payload[position] == replacement:
        return
    outer["payload"] = payload[:position] + replacement + payload[position + 1:]
    try:
        evidence = parse_evidence(json.dumps(outer))
    except InvalidInput:
        return  # no longer even decodes: refused as not evidence
    assert "changed after the verifier signed it" in evidence.signature_problem(KEYS)


def test_a_file_signed_by_another_key_is_named():
    other = parse_evidence(sign_evidence(_payload(), PrivateKey.generate("ES256")))
    assert "not among the verifier keys given" in other.signature_problem(KEYS)


@pytest.mark.parametrize(("text", "expected"), [
    ("not json", "JSON"),
    ('{"payload": "e30", "signature": ""}', "protected, payload and signature"),
    ('{"protected": 1, "payload": "e30", "signature": ""}', "base64url text"),
    (json.dumps({"protected": b64url_encode(b'{"alg":"none","typ":"microcred-evidence+json","kid":"k"}'),
                 "payload": "e30", "signature": ""}), "alg ES256"),
    (json.dumps({"protected": b64url_encode(b'{"alg":"ES256","typ":"microcred-evidence+json","kid":"k",'
                                            b'"crit":["b64"]}'), "payload": "e30", "signature": ""}), "critical"),
    (json.dumps({"protected": b64url_encode(b'{"alg":"ES256","typ":"microcred-evidence+json","kid":"k"}'),
                 "payload": b64url_encode(b'{"version":2}'), "signature": ""}), "version 1"),
])
def test_what_is_not_evidence_is_refused_saying_why(text, expected):
    with pytest.raises(InvalidInput, match=expected):
        parse_evidence(text)


def test_nothing_changed_is_still_valid():
    result = recheck(_evidence(), _now())
    assert result.outcome == UNCHANGED
    assert result.exit_code == 0
    assert {f.check for f in result.findings} == {"revocation", "issuer_trust", "issuance_anchor", "validity_period"}


def test_a_revocation_since_names_its_block():
    result = recheck(_evidence(), _now(status_block=77, revocation=CheckResult(
        "revocation", FAILED, "index 7 of list l1 (anchored at block 77) is revoked")))
    assert result.exit_code == 1
    assert _finding(result, "revocation").detail.startswith("revoked at block 77 since the evidence was made")


def test_a_suspension_of_the_credential_since_is_worse():
    result = recheck(_evidence(), _now(status_block=78, revocation=CheckResult(
        "revocation", FAILED, "index 7 of list l1 (anchored at block 78) is suspended")))
    assert _finding(result, "revocation").detail.startswith("suspended at block 78")


@pytest.mark.parametrize("then", [None, (ANCHORED, 3), (b"\x00" * 32, 2)], ids=["gone", "version", "hash"])
def test_an_anchor_the_chain_no_longer_holds_is_worse(then):
    result = recheck(_evidence(), _now(anchor_then=then))
    assert _finding(result, "revocation").outcome == WORSE
    assert "no longer holds the status anchor" in _finding(result, "revocation").detail


def test_a_token_that_does_not_hash_to_its_anchor_is_worse():
    payload = _payload()
    payload["checks"][3]["inputs"]["status_list_token"] = TOKEN + "x"
    result = recheck(parse_evidence(sign_evidence(payload, KEY)), _now())
    assert "does not hash to the anchor" in _finding(result, "revocation").detail


def test_an_accreditation_suspended_since_is_worse():
    reason = "the accreditation of did:web:uni.example (Uni) is suspended since 2026-01-01 00:00 UTC"
    result = recheck(_evidence(), _now(trust=TrustAnswer(False, reason, CHAIN, block=95)))
    assert result.exit_code == 1
    assert _finding(result, "issuer_trust").detail.startswith("issuer accreditation suspended since the evidence")


def test_a_revocation_for_cause_after_the_anchored_issuance_keeps_the_trust():
    answer = TrustAnswer(False, "the accreditation of did:web:uni.example was revoked", CHAIN, block=95,
                         revoked_at=1_650_000_000)
    result = recheck(_evidence(), _now(trust=answer))
    assert _finding(result, "issuer_trust").outcome == UNCHANGED
    early = recheck(_evidence(), _now(trust=TrustAnswer(False, "revoked", CHAIN, block=95, revoked_at=1_500_000_000)))
    assert _finding(early, "issuer_trust").outcome == WORSE


def test_another_root_now_is_worse():
    other = (CHAIN[0], TrustLink("did:web:other-root.example", "Other", "root"))
    result = recheck(_evidence(), _now(trust=TrustAnswer(True, "ok", other, block=95)))
    assert "now leads to the root did:web:other-root.example" in _finding(result, "issuer_trust").detail


def test_an_issuance_anchor_moved_is_worse():
    moved = IssuanceAnchor(31337, "0x" + "1" * 40, "0x" + "c" * 40, 55, 1_700_000_000, 2, "0x" + "c" * 40)
    result = recheck(_evidence(), _now(issuance=moved))
    assert "no longer holds the batch anchor" in _finding(result, "issuance_anchor").detail


def test_expiry_since_is_worse():
    result = recheck(_evidence(), _now(time=2_000_000_001))
    assert _finding(result, "validity_period").detail.startswith("expired on 2033-05-18")


@pytest.mark.parametrize(("now", "expected"), [
    (_now(ledger=Unavailable("the ledger did not answer")), "the ledger cannot be read"),
    (_now(ledger={**LEDGER, "chain_id": 1}), "made on chain 31337"),
    (_now(revocation=CheckResult("revocation", UNAVAILABLE, "the status list cannot be fetched")), "cannot be fetched"),
    (_now(trust=Unavailable("down")), "trust registry cannot be read"),
], ids=["chain-down", "other-chain", "status-unreadable", "trust-unreadable"])
def test_what_cannot_be_read_cannot_decide(now, expected):
    result = recheck(_evidence(), now)
    assert result.exit_code == 2
    assert any(expected in f.detail for f in result.findings if f.outcome == UNDECIDED)


def test_evidence_of_a_failed_verification_is_not_valid_and_of_an_undecided_one_undecided():
    failed = _payload(verified=False)
    failed["checks"][3]["status"] = FAILED
    failed["checks"][3]["detail"] = "index 7 is revoked"
    assert recheck(parse_evidence(sign_evidence(failed, KEY)), _now()).exit_code == 1
    undecided = _payload(verified=False, undecided=True)
    undecided["checks"][3]["status"] = UNAVAILABLE
    assert recheck(parse_evidence(sign_evidence(undecided, KEY)), _now()).exit_code == 2


def test_the_payload_is_plain_json_under_base64url():
    outer = json.loads(sign_evidence(_payload(), KEY))
    assert json.loads(b64url_decode(outer["payload"]))["presentation"]["format"] == "dc+sd-jwt"
