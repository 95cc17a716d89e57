"""OpenID4VP 1.0 (final) and HAIP 1.0 vectors (tests/vectors/openid4vp/, tests/vectors/haip/; sources in
their README.md) against the vectors themselves, an independent implementation, and microcred.

First that each file is what the specification says (the §8.3 encrypted answer decrypts with the
specification's key, in jwcrypto and in @openid4vc/openid4vp; the B.3 Disclosures hash to digests
of the Issuer-signed payload); then microcred's wallet on the specification's requests and Client
Identifiers (accepted or refused with a reason) and microcred's verifier on the encrypted answer and
on HAIP's requirements for a request.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess

import pytest
from jwcrypto import jwe, jwk

from tests.interop.openid4vp_world import ROOT_DIR, last_json, needs_node, vector

VECTOR_SCRIPT = ROOT_DIR / "tests" / "interop" / "openid4vp_vectors.mjs"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _node_vectors(mode: str, file: str) -> dict:
    text = (ROOT_DIR / "tests" / "vectors" / "openid4vp" / file).read_text(encoding="utf-8")
    return last_json(subprocess.run(["node", str(VECTOR_SCRIPT), mode], input=text, capture_output=True, text=True,
                                    timeout=60, cwd=ROOT_DIR, check=False))


# --- the vectors are what the specification says -------------------------------------------------------


def test_the_encrypted_answer_of_section_8_3_decrypts_with_the_specifications_key():
    example = vector("openid4vp", "s8_3_encrypted_response.json")
    token = jwe.JWE()
    token.deserialize(example["response"], key=jwk.JWK(**example["decryption_jwk"]))
    assert json.loads(token.payload) == example["expected_payload"]
    assert token.jose_header == example["expected_header"]
    offered = {key["kid"]: key for key in example["request"]["client_metadata"]["jwks"]["keys"]}
    public = {k: v for k, v in example["decryption_jwk"].items() if k != "d"}
    assert offered[token.jose_header["kid"]] == public


def test_the_encrypted_answer_fails_with_another_key_or_a_changed_ciphertext():
    example = vector("openid4vp", "s8_3_encrypted_response.json")
    other = jwk.JWK.generate(kty="EC", crv="P-256")
    with pytest.raises(jwe.InvalidJWEData):
        jwe.JWE().deserialize(example["response"], key=other)
    header, key, iv, ciphertext, tag = example["response"].split(".")
    changed = ".".join([header, key, iv, ciphertext[:-2] + ("AA" if ciphertext[-2:] != "AA" else "BB"), tag])
    with pytest.raises(jwe.InvalidJWEData):
        jwe.JWE().deserialize(changed, key=jwk.JWK(**example["decryption_jwk"]))


@needs_node
def test_the_independent_implementation_decrypts_the_section_8_3_answer_alike():
    example = vector("openid4vp", "s8_3_encrypted_response.json")
    theirs = _node_vectors("decrypt", "s8_3_encrypted_response.json")
    assert theirs["payload"] == example["expected_payload"]
    assert theirs["header"] == example["expected_header"]


@needs_node
def test_the_independent_implementation_reads_the_specifications_requests_by_reference():
    parsed = _node_vectors("parse", "s5_authorization_requests.json")
    assert parsed["s5_4_request_by_reference_post"]["params"] == {
        "client_id": "x509_san_dns:client.example.org",
        "request_uri": "https://client.example.org/request/vapof4ql2i7m41m68uep", "request_uri_method": "post"}
    assert parsed["s8_2_request_uri"]["type"] == "jar"
    assert parsed["s5_4_request_by_value"]["params"]["client_id"] == "redirect_uri:https://client.example.org/cb"


def test_the_sd_jwt_vc_disclosures_of_appendix_b3_hash_to_digests_of_the_signed_payload():
    example = vector("openid4vp", "b3_sd_jwt_vc.json")
    digests = set(example["issuer_signed_payload"]["_sd"])
    for disclosure in example["disclosures"]:
        assert _b64url(hashlib.sha256(disclosure["encoded"].encode("ascii")).digest()) == disclosure["digest"]
        assert disclosure["digest"] in digests
        decoded = json.loads(base64.urlsafe_b64decode(disclosure["encoded"] + "=" * (-len(disclosure["encoded"]) % 4)))
        assert decoded == [disclosure["salt"], disclosure["name"], disclosure["value"]]
        assert example["unsecured_payload"][disclosure["name"]] == disclosure["value"]
    # The KB-JWT's aud is the full Client Identifier, prefix included (§B.3.6, §14.7).
    assert example["kb_jwt_payload"]["aud"] == "x509_san_dns:client.example.org"


def test_every_client_identifier_example_splits_at_its_first_colon():
    for entry in vector("openid4vp", "s5_9_3_client_identifiers.json")["client_ids"]:
        prefix, colon, original = entry["client_id"].partition(":")
        if entry["prefix"] is None:
            assert colon == ""
        else:
            assert (prefix, original) == (entry["prefix"], entry["original"])


def test_every_haip_requirement_names_its_section_and_quotes_its_sentence():
    profile = vector("haip", "haip_1_0_openid4vp_requirements.json")
    ids = [r["id"] for r in profile["requirements"]]
    assert len(ids) == len(set(ids))
    for requirement in profile["requirements"]:
        assert requirement["section"].split(".")[0] in {"5", "6", "7", "8"}
        assert "MUST" in requirement["text"] or "MAY" in requirement["text"]
