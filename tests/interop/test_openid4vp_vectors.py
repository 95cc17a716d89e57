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
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from jwcrypto import jwe, jwk

from tests.interop.openid4vp_world import ROOT_DIR, last_json, needs_node, new_request, vector

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


# --- microcred's wallet on the specification's requests ------------------------------------------------------

NOW = 1_790_000_000


class _Recorder:
    """The wallet's HTTP transport for replaying the specification's hosts: records calls, serves ``routes``."""

    def __init__(self, routes: dict | None = None) -> None:
        self.routes, self.calls = routes or {}, []

    def __call__(self, method, url, headers, body):
        from wallet.transport import HttpResponse

        self.calls.append((method, url))
        status, content_type, text = self.routes.get(url, (404, "text/plain", "not found"))
        return HttpResponse(status, {"Content-Type": content_type}, text.encode("utf-8"))


def _parse(link: str, transport: _Recorder, *, anchors=None):
    from wallet.oid4vp import parse_request
    from wallet.transport import client_from_config

    return parse_request(link, client_from_config({"HTTP_TRANSPORT": transport}), now=NOW, anchors=anchors)


def _refusal(link: str, transport: _Recorder, **kwargs) -> str:
    from credentials.errors import MicrocredError

    with pytest.raises(MicrocredError) as refused:
        _parse(link, transport, **kwargs)
    return str(refused.value)


def _unsigned_request_object(payload: dict) -> str:
    header = _b64url(json.dumps({"alg": "none", "typ": "oauth-authz-req+jwt"}).encode())
    return f"{header}.{_b64url(json.dumps(payload).encode())}."


@pytest.mark.parametrize("prefix", ["openid_federation", "verifier_attestation", "origin", None])
def test_our_wallet_refuses_client_identifier_prefixes_it_cannot_honour_before_fetching(prefix):
    entry = next(e for e in vector("openid4vp", "s5_9_3_client_identifiers.json")["client_ids"]
                 if e["prefix"] == prefix)
    transport = _Recorder()
    reason = _refusal("openid4vp://?" + urlencode({"client_id": entry["client_id"],
                                                   "request_uri": "https://client.example.org/request/1"}), transport)
    assert "client identifier" in reason
    assert transport.calls == []  # §5.9.3: nothing is fetched for a verifier the wallet cannot identify


def test_our_wallet_refuses_a_did_method_it_cannot_resolve_offline():
    transport = _Recorder()
    reason = _refusal("openid4vp://?" + urlencode({"client_id": "decentralized_identifier:did:example:123",
                                                   "request_uri": "https://client.example.org/request/1"}), transport)
    assert "did:example" in reason
    assert transport.calls == []


def test_our_wallet_refuses_the_spec_request_by_reference_with_request_uri_method_post():
    query = next(r for r in vector("openid4vp", "s5_authorization_requests.json")["requests"]
                 if r["id"] == "s5_4_request_by_reference_post")["query"]
    transport = _Recorder()
    reason = _refusal(f"openid4vp://?{query}", transport)
    assert "certif" in reason  # x509_san_dns, and this wallet has no verifier anchors
    assert transport.calls == []


def test_our_wallet_refuses_a_pre_registered_https_client_of_section_8_2():
    query = next(r for r in vector("openid4vp", "s5_authorization_requests.json")["requests"]
                 if r["id"] == "s8_2_request_uri")["query"]
    transport = _Recorder()
    assert "client identifier" in _refusal(f"openid4vp://?{query}", transport)
    assert transport.calls == []


def test_our_wallet_reads_the_section_8_2_direct_post_request_object_by_reference():
    payload = vector("openid4vp", "s5_request_objects.json")["direct_post"]["payload"]
    request_uri = "https://client.example.org/567545564"
    transport = _Recorder({request_uri: (200, "application/oauth-authz-req+jwt", _unsigned_request_object(payload))})
    read = _parse("openid4vp://?" + urlencode({"client_id": payload["client_id"], "request_uri": request_uri}),
                  transport)
    assert transport.calls == [("GET", request_uri)]
    assert read.client_id == "redirect_uri:https://client.example.org/post"
    assert read.response_uri == "https://client.example.org/post"
    assert read.response_mode == "direct_post"
    assert read.nonce == "n-0S6_WzA2Mj"
    assert read.state == "eyJhb...6-sVA"  # '.' is URL-safe (§5.2)
    assert read.verifier.verified is False  # redirect_uri: only its web address is known
    assert [q.id for q in read.query.credentials] == ["my_credential"]


def test_our_wallet_refuses_the_section_5_4_request_object_that_names_a_redirect_uri():
    payload = vector("openid4vp", "s5_request_objects.json")["by_value_rs256"]["payload"]
    request_uri = "https://client.example.org/request/by-value"
    transport = _Recorder({request_uri: (200, "application/oauth-authz-req+jwt", _unsigned_request_object(payload))})
    reason = _refusal("openid4vp://?" + urlencode({"client_id": payload["client_id"], "request_uri": request_uri}),
                      transport)
    assert "response_mode" in reason  # no response_mode: nothing this wallet can answer through


def test_our_wallet_refuses_a_request_carrying_transaction_data():
    payload = {**vector("openid4vp", "s5_request_objects.json")["direct_post"]["payload"],
               "transaction_data": [_b64url(json.dumps({"type": "payment", "credential_ids": ["my_credential"]})
                                            .encode())]}
    request_uri = "https://client.example.org/567545564"
    transport = _Recorder({request_uri: (200, "application/oauth-authz-req+jwt", _unsigned_request_object(payload))})
    read = _parse("openid4vp://?" + urlencode({"client_id": payload["client_id"], "request_uri": request_uri}),
                  transport)
    assert "transaction_data is not supported" in read.refusal  # §5.1 / §8.4: it must not be ignored


def test_our_wallet_opens_the_haip_vp_scheme():
    """HAIP 1.0 final §5.1 and its IANA section register the scheme haip-vp://."""
    payload = vector("openid4vp", "s5_request_objects.json")["direct_post"]["payload"]
    request_uri = "https://client.example.org/567545564"
    transport = _Recorder({request_uri: (200, "application/oauth-authz-req+jwt", _unsigned_request_object(payload))})
    read = _parse("haip-vp://?" + urlencode({"client_id": payload["client_id"], "request_uri": request_uri}),
                  transport)
    assert read.nonce == "n-0S6_WzA2Mj"


# --- microcred's verifier on the specification's encrypted answer --------------------------------------------


class _OneTransaction:
    """The verifier's transaction lookup, holding one waiting request whose key is the specification's."""

    def __init__(self, tx) -> None:
        self.tx = tx

    def by_kid(self, kid):
        return self.tx if kid == self.tx.enc_key["kid"] else None

    def by_state(self, state):
        return self.tx if state == self.tx.state else None


def _waiting_transaction(enc_key: dict):
    from verifier.openid4vp.transactions import Transaction

    return Transaction(page_id="p" * 22, secret_hash="", request_id="r" * 22, state="s" * 22, nonce="n" * 22,
                       client_id="x509_hash:abc", base_url="https://verifier.example",
                       response_uri="https://verifier.example/openid4vp/response", response_mode="direct_post.jwt",
                       dcql={}, asking=[], created=NOW, enc_key=enc_key)


def test_our_verifier_decrypts_the_section_8_3_answer_and_then_wants_the_requests_state():
    from credentials.errors import OAuthError
    from verifier.openid4vp.answers import read_answer

    example = vector("openid4vp", "s8_3_encrypted_response.json")
    transactions = _OneTransaction(_waiting_transaction(example["decryption_jwk"]))
    with pytest.raises(OAuthError) as refused:
        read_answer({"response": example["response"]}, transactions, NOW)
    # Decrypted (else: "could not be decrypted"), then refused: the example answers a request without state.
    assert "state" in str(refused.value)
    assert "decrypted" not in str(refused.value)


def test_our_verifier_refuses_the_section_8_3_answer_under_a_key_it_did_not_offer():
    from credentials.errors import OAuthError
    from verifier.openid4vp.answers import read_answer

    example = vector("openid4vp", "s8_3_encrypted_response.json")
    other = jwk.JWK.generate(kty="EC", crv="P-256", kid="ac", use="enc", alg="ECDH-ES").export_private(as_dict=True)
    with pytest.raises(OAuthError) as refused:
        read_answer({"response": example["response"]}, _OneTransaction(_waiting_transaction(other)), NOW)
    assert "could not be decrypted" in str(refused.value)


# --- HAIP 1.0: microcred's verifier's request, requirement by requirement ------------------------------------


@pytest.mark.integration
def test_our_verifiers_request_meets_each_haip_requirement(our_verifier, pki):
    import requests
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    from credentials.jose import b64url_decode

    required = {r["id"]: r["value"] for r in vector("haip", "haip_1_0_openid4vp_requirements.json")["requirements"]}
    _, base = our_verifier()
    objects = []
    for _ in range(2):
        _, _, link = new_request(base)
        query = parse_qs(urlsplit(link).query)
        assert set(query) == {"client_id", "request_uri"}  # signed_request_by_reference
        served = requests.get(query["request_uri"][0], timeout=10)
        assert served.headers["Content-Type"].startswith("application/oauth-authz-req+jwt")
        header, payload, _ = served.text.split(".")
        objects.append((query, json.loads(b64url_decode(header)), json.loads(b64url_decode(payload))))
    (query, header, payload), (_, _, second) = objects
    assert query["client_id"][0].startswith(required["client_id_prefix"] + ":")
    assert header["alg"] == required["signature_alg"]
    chain = [x509.load_der_x509_certificate(base64.b64decode(c)) for c in header["x5c"]]
    anchor = pki.root.public_bytes(serialization.Encoding.DER)
    assert all(c.public_bytes(serialization.Encoding.DER) != anchor for c in chain)  # x5c_without_anchor
    assert chain[0].issuer != chain[0].subject  # leaf_not_self_signed
    digest = hashlib.sha256(chain[0].public_bytes(serialization.Encoding.DER)).digest()
    assert query["client_id"][0] == f"x509_hash:{_b64url(digest)}"
    assert payload["response_type"] == required["response_type"]
    assert payload["response_mode"] == required["response_mode"]
    assert required["dcql"] in payload
    assert {c["format"] for c in payload["dcql_query"]["credentials"]} == {required["credential_format"]}
    metadata = payload["client_metadata"]
    (key,) = metadata["jwks"]["keys"]
    assert (key["alg"], key["crv"]) == (required["jwe_alg"], "P-256")
    assert sorted(metadata["encrypted_response_enc_values_supported"]) == sorted(required["verifier_enc_values"])
    assert second["client_metadata"]["jwks"]["keys"][0]["x"] != key["x"]  # ephemeral_encryption_keys
    assert required["credential_format"] in metadata["vp_formats_supported"]
