"""A sealed Europass EDC bound by ``cnf.jwk`` (as the published ones are), shared from the wallet inside an
``ldp_vp`` (credentials.presentation_vp, the wallet's builder: JCS Data Integrity proof, challenge = nonce,
domain = audience): ``holder_binding`` compares the proof's key with the seal's ``cnf.jwk``, as the JWT
presentation path does. The EDC is the real micro-credential of tests/vectors/europass-edc, re-sealed by the
test PKI (tests/x509_pki.py) and bound to the wallet's key, as tests/wallet/test_wallet_imported.py does."""

from __future__ import annotations

import copy
import json

import pytest

from credentials.data_integrity import ECDSA_JCS_2019, EDDSA_JCS_2022, sign_data_integrity
from credentials.dids import verification_method_id
from credentials.jades import seal_jades
from credentials.jose import PrivateKey
from credentials.presentation_vp import VCDM2_CONTEXT, holder_did, present_whole
from credentials.verification import FAILED, PASSED, Policy, TrustAnswer, TrustLink, Unavailable, verify_presentation
from credentials.verification_types import EDC_TYPE_URN
from credentials.x509_trust import TrustAnchors
from tests.verifier.imported_world import VECTORS
from tests.x509_pki import NOW, ORG_ID, SIGNED_AT, make_pki

PKI = make_pki("ec")
ROOT = "did:web:root.example"
AUDIENCE = "https://employer.example"
SEALED_MC = json.loads((VECTORS / "europass-edc" / "edc-mc-signed.jsonld").read_text(encoding="utf-8"))
EDC_MC = json.loads(SEALED_MC["payload"])


def resealed(holder_jwk: dict) -> dict:
    """The real EDC micro-credential, its cnf.jwk the wallet's key, sealed by the test PKI (as a JSON object)."""
    document = copy.deepcopy(EDC_MC)
    document["cnf"] = {"jwk": holder_jwk}
    payload = json.dumps(document, ensure_ascii=False).encode("utf-8")
    return json.loads(seal_jades(payload, PKI.seal_key, PKI.chain, signing_time=SIGNED_AT))


def trust(issuer, kind, at):
    if issuer != f"x509:org:{ORG_ID}" or kind != EDC_TYPE_URN:
        return TrustAnswer(False, f"{issuer} is not accredited for {kind}")
    return TrustAnswer(True, "accredited", (TrustLink(issuer, "Università di Prova", "issuer"),
                                            TrustLink(ROOT, "Root", "root")))


def verify(vp: dict, *, nonce: str, seen: set[str] | None = None):
    seen = set() if seen is None else seen

    def replay(replay_id, expires_at):
        first = replay_id not in seen
        seen.add(replay_id)
        return first

    return verify_presentation(json.dumps(vp), policy=Policy(frozenset({ROOT})), trust=trust,
                               status=lambda did, url: Unavailable("no IETF status list"), replay=replay, now=NOW,
                               nonce=nonce, audience=AUDIENCE, trust_anchors=TrustAnchors.from_pem(PKI.anchors_pem))


@pytest.fixture(params=["ES256", "EdDSA"])
def wallet_key(request) -> PrivateKey:
    return PrivateKey.generate(request.param)


def test_the_real_edc_is_bound_by_cnf_not_by_a_subject_did():
    assert "jwk" in EDC_MC["cnf"]
    assert not str(EDC_MC["credentialSubject"].get("id", "")).startswith("did:")


def test_an_ldp_vp_of_an_edc_signed_by_the_key_its_cnf_names_binds(wallet_key):
    form, vp = present_whole(resealed(wallet_key.public_key().to_jwk()), wallet_key, audience=AUDIENCE,
                             nonce="n-edc-1", iat=NOW - 5)
    assert form == "ldp_vp"
    assert isinstance(vp, dict)
    result = verify(vp, nonce="n-edc-1")
    binding = result.check("holder_binding")
    assert binding.status == PASSED, binding.detail
    for name in ("format", "signature", "replay", "validity_period", "issuer_trust"):
        assert result.check(name).status == PASSED, (name, result.check(name).detail)


def test_an_ldp_vp_of_an_edc_signed_by_another_key_fails(wallet_key):
    other = PrivateKey.generate(wallet_key.alg)
    _, vp = present_whole(resealed(wallet_key.public_key().to_jwk()), other, audience=AUDIENCE,
                          nonce="n-edc-2", iat=NOW - 5)
    assert isinstance(vp, dict)
    result = verify(vp, nonce="n-edc-2")
    binding = result.check("holder_binding")
    assert binding.status == FAILED
    assert "not the key the credential names" in binding.detail
    assert not result.verified


def test_an_ldp_vp_of_an_edc_with_another_challenge_fails(wallet_key):
    _, vp = present_whole(resealed(wallet_key.public_key().to_jwk()), wallet_key, audience=AUDIENCE,
                          nonce="n-edc-3", iat=NOW - 5)
    assert isinstance(vp, dict)
    result = verify(vp, nonce="n-edc-other")
    assert result.check("holder_binding").status == FAILED
    assert "nonce is not the one this verifier asked for" in result.check("holder_binding").detail


def test_an_ldp_vp_of_an_edc_for_another_audience_fails(wallet_key):
    _, vp = present_whole(resealed(wallet_key.public_key().to_jwk()), wallet_key, audience="https://other.example",
                          nonce="n-edc-4", iat=NOW - 5)
    assert isinstance(vp, dict)
    result = verify(vp, nonce="n-edc-4")
    assert result.check("holder_binding").status == FAILED
    assert "not for 'https://employer.example'" in result.check("holder_binding").detail


def test_an_ldp_vp_of_an_edc_shown_twice_fails_replay(wallet_key):
    _, vp = present_whole(resealed(wallet_key.public_key().to_jwk()), wallet_key, audience=AUDIENCE,
                          nonce="n-edc-5", iat=NOW - 5)
    assert isinstance(vp, dict)
    seen: set[str] = set()
    assert verify(vp, nonce="n-edc-5", seen=seen).check("replay").status == PASSED
    assert verify(vp, nonce="n-edc-5", seen=seen).check("replay").status == FAILED


def test_a_vp_naming_another_holder_than_its_signer_fails(wallet_key):
    """Signed by the cnf key, but its ``holder`` names somebody else: refused, not shown as that holder."""
    presentation = {"@context": [VCDM2_CONTEXT], "type": ["VerifiablePresentation"], "holder": "did:example:mallory",
                    "verifiableCredential": [resealed(wallet_key.public_key().to_jwk())]}
    vp = sign_data_integrity(presentation, wallet_key, verification_method_id(holder_did(wallet_key)),
                             "2026-06-02T09:29:55Z", cryptosuite=ECDSA_JCS_2019 if wallet_key.alg == "ES256"
                             else EDDSA_JCS_2022, proof_purpose="authentication", challenge="n-edc-6",
                             domain=AUDIENCE)
    binding = verify(vp, nonce="n-edc-6").check("holder_binding")
    assert binding.status == FAILED
    assert "names did:example:mallory as its holder" in binding.detail
