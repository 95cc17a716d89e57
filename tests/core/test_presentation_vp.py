"""credentials.presentation_vp: holder-signed VPs around whole credentials (OpenID4VP 1.0 Appendix B.1)."""

from __future__ import annotations

import copy

import pytest

from credentials.data_integrity import verify_data_integrity
from credentials.dids import did_key_from_public_key, resolve_public_key
from credentials.errors import InvalidInput, SignatureError
from credentials.jose import PrivateKey, UnverifiedJws
from credentials.presentation_vp import (
    AUTHENTICATION,
    JWT_VP_JSON,
    LDP_VP,
    present_whole,
    sign_jwt_vp_json,
    vp_format_for,
)

IAT = 1_780_000_000
SEAL = {"payload": "{\"a\": 1}", "signatures": [{"protected": "eyJ9", "signature": "c2ln"}]}
BADGE = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], "name": "x",
         "proof": {"type": "DataIntegrityProof", "proofValue": "z1"}}


@pytest.mark.parametrize("alg", ["ES256", "EdDSA"])
def test_ldp_vp_carries_the_credential_unchanged_under_an_authentication_proof(alg):
    key = PrivateKey.generate(alg)
    fmt, vp = present_whole(BADGE, key, audience="https://verifier.example", nonce="n-123", iat=IAT, lifetime=120)
    assert fmt == LDP_VP
    assert vp["verifiableCredential"] == [BADGE]
    assert vp["holder"] == did_key_from_public_key(key.public_key())
    proof = vp["proof"]
    assert (proof["challenge"], proof["domain"], proof["proofPurpose"]) == ("n-123", "https://verifier.example",
                                                                           AUTHENTICATION)
    (verified,) = verify_data_integrity(vp, expected_proof_purpose=AUTHENTICATION)
    assert verified.controller == vp["holder"]
    assert verified.expires == IAT + 120


@pytest.mark.parametrize("member,value", [("challenge", "other-nonce"), ("domain", "https://evil.example")])
def test_ldp_vp_binding_is_signed(member, value):
    _, vp = present_whole(BADGE, PrivateKey.generate(), audience="https://verifier.example", nonce="n", iat=IAT)
    changed = copy.deepcopy(vp)
    changed["proof"][member] = value
    with pytest.raises(SignatureError):
        verify_data_integrity(changed, expected_proof_purpose=AUTHENTICATION)
    changed = copy.deepcopy(vp)
    changed["verifiableCredential"][0]["name"] = "y"
    with pytest.raises(SignatureError):
        verify_data_integrity(changed, expected_proof_purpose=AUTHENTICATION)


def test_jwt_vp_json_is_signed_by_the_holder_with_nonce_and_audience():
    key = PrivateKey.generate()
    fmt, vp = present_whole("aaa.bbb.ccc", key, audience="urn:verifier", nonce="n-9", iat=IAT)
    assert fmt == JWT_VP_JSON
    jws = UnverifiedJws.parse(vp, what="VP")
    did = did_key_from_public_key(key.public_key())
    jws.verify_with(resolve_public_key(jws.header["kid"]), what="VP")
    assert jws.header["typ"] == "JWT"
    assert jws.header["kid"].split("#")[0] == did
    payload = jws.payload
    assert (payload["iss"], payload["aud"], payload["nonce"], payload["iat"]) == (did, "urn:verifier", "n-9", IAT)
    assert payload["exp"] > IAT
    assert payload["vp"]["verifiableCredential"] == ["aaa.bbb.ccc"]
    assert payload["vp"]["type"] == ["VerifiablePresentation"]


@pytest.mark.parametrize("kwargs", [{"audience": ""}, {"nonce": ""}, {"iat": 0}, {"lifetime": -5}, {"nonce": None}])
def test_a_presentation_without_binding_is_refused(kwargs):
    arguments = {"audience": "urn:v", "nonce": "n", "iat": IAT, **kwargs}
    with pytest.raises(InvalidInput):
        sign_jwt_vp_json("a.b.c", PrivateKey.generate(), **arguments)


def test_a_sealed_edc_goes_whole_and_unchanged_into_a_json_presentation():
    fmt, vp = present_whole(SEAL, PrivateKey.generate(), audience="urn:verifier", nonce="n", iat=IAT)
    assert fmt == LDP_VP
    assert vp["verifiableCredential"] == [SEAL]
    assert vp["proof"]["cryptosuite"] == "ecdsa-jcs-2019"  # JCS: the seal is not JSON-LD
    verify_data_integrity(vp, expected_proof_purpose=AUTHENTICATION)


def test_only_a_jwt_a_seal_or_a_credential_with_a_proof_can_be_presented():
    assert vp_format_for("a.b.c") == JWT_VP_JSON
    assert vp_format_for(SEAL) == LDP_VP
    assert vp_format_for(BADGE) == LDP_VP
    with pytest.raises(InvalidInput):
        vp_format_for({"a": 1})
    with pytest.raises(InvalidInput):
        vp_format_for(["a"])  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        sign_jwt_vp_json("not a jwt", PrivateKey.generate(), audience="urn:v", nonce="n", iat=IAT)
