"""The verifier's side of OpenID4VP 1.0 with HAIP 1.0 (issue 13 §2, §4, §5), against the real verifier app:
the Request Object of each Client Identifier Prefix, served once; the encrypted answer and everything that
was not asked for refused with invalid_request; the settings checked at start-up."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
from html import unescape
from urllib.parse import urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from credentials.errors import ConfigurationError
from credentials.jose import b64url_encode
from tests.verifier.conftest import CLAIMS
from tests.verifier.openid4vp_wallet import (
    answer_form,
    fetch_request,
    jwe_answer,
    link_params,
    post_answer,
    request_text,
    result_url,
)
from tests.x509_pki import INTERMEDIATE, make_pki, name, pem, spec
from tests.x509_pki import key as pki_key

pytestmark = pytest.mark.integration

ACCESS_USAGE = x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                             data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                             encipher_only=False, decipher_only=False)
ACCESS = spec(INTERMEDIATE, subject=name("verifier.example", organization="Demo Employer GmbH", country="DE"),
              ca=False, path_length=None, key_usage=ACCESS_USAGE,
              extra=((x509.SubjectAlternativeName([x509.DNSName("verifier.example")]), False),))


@pytest.fixture
def make_app(ledger_data_dir, anvil):
    from verifier import create_app, service_of

    made = []

    def make(**settings):
        app = create_app({"TESTING": True, "DATA_DIR": str(ledger_data_dir), "RPC_URL": anvil.url,
                          "VERIFIER_FETCH_ALLOW_HTTP": True, "VERIFIER_FETCH_ALLOW_LOOPBACK": True,
                          "VERIFIER_RATE_LIMIT": "off", "VERIFIER_OPENID4VP_RATE_LIMIT": "off", **settings})
        made.append(app)
        return app

    yield make
    for app in made:
        service_of(app).close()


@pytest.fixture
def access_files(tmp_path):
    """An access certificate (leaf, intermediate) and its key, as an operator configures them."""
    pki = make_pki("ec", seal=ACCESS)
    chain, key = tmp_path / "verifier-chain.pem", tmp_path / "verifier-key.pem"
    chain.write_bytes(pem(pki.seal, pki.intermediate))
    key.write_bytes(pki.seal_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    os.chmod(key, 0o600)
    return pki, chain, key


def _open(client, **fields):
    created = client.post("/openid4vp/new", data={"claim": ["title", "ects", "eqf_level"], **fields})
    assert created.status_code == 303, created.get_data(as_text=True)
    page = unescape(client.get(created.location).get_data(as_text=True))
    return page, request_text(page)


def test_x509_hash_request_object_is_signed_with_the_access_certificate(make_app, access_files, make_issuer):
    pki, chain, key = access_files
    client = make_app(VERIFIER_X509_CHAIN=str(chain), VERIFIER_X509_KEY=str(key)).test_client()
    page, link = _open(client)
    leaf_hash = b64url_encode(hashlib.sha256(pki.seal.public_bytes(serialization.Encoding.DER)).digest())
    assert link_params(link)["client_id"] == f"x509_hash:{leaf_hash}"
    assert len(link) < 200  # a short QR code
    request = fetch_request(client, link)  # the signature checked with the x5c leaf
    header = request["_header"]
    assert header["alg"] == "ES256"
    assert [base64.b64decode(c) for c in header["x5c"]] == [
        c.public_bytes(serialization.Encoding.DER) for c in (pki.seal, pki.intermediate)]  # never the anchor
    assert "certified as Demo Employer GmbH" in page
    issuer = make_issuer()
    presentation = issuer.present(paths=[("title",), ("ects",), ("eqf_level",)], nonce=request["nonce"],
                                  audience=request["client_id"])
    assert post_answer(client, request, {"microcredential": [presentation]}).status_code == 200
    assert 'id="verdict" data-verified="true"' in client.get(result_url(page)).get_data(as_text=True)


def test_x509_san_dns_names_the_public_host(make_app, access_files):
    _, chain, key = access_files
    client = make_app(VERIFIER_CLIENT_ID_PREFIX="x509_san_dns", VERIFIER_X509_CHAIN=str(chain),
                      VERIFIER_X509_KEY=str(key), VERIFIER_PUBLIC_URL="https://verifier.example").test_client()
    created = client.post("/openid4vp/new", data={"claim": ["title"]}, base_url="https://verifier.example")
    page = unescape(client.get(created.location, base_url="https://verifier.example").get_data(as_text=True))
    params = link_params(request_text(page))
    assert params["client_id"] == "x509_san_dns:verifier.example"
    assert params["request_uri"].startswith("https://verifier.example/openid4vp/request/")
    with pytest.raises(ConfigurationError, match="verifier.example"):
        make_app(VERIFIER_CLIENT_ID_PREFIX="x509_san_dns", VERIFIER_X509_CHAIN=str(chain),
                 VERIFIER_X509_KEY=str(key), VERIFIER_PUBLIC_URL="https://elsewhere.example")


def test_decentralized_identifier_signs_with_a_did_jwk_kept_in_the_data_dir(make_app, tmp_path, ledger_data_dir):
    data_dir = tmp_path / "var"
    shutil.copytree(ledger_data_dir, data_dir, ignore=shutil.ignore_patterns("*.sqlite3*", "logs"))
    clients = [make_app(DATA_DIR=str(data_dir), VERIFIER_CLIENT_ID_PREFIX="decentralized_identifier").test_client()
               for _ in range(2)]
    ids = []
    for client in clients:
        _, link = _open(client)
        request = fetch_request(client, link)  # the signature checked with the key the kid's DID resolves to
        assert request["_header"]["kid"].startswith("did:jwk:")
        assert request["_header"]["kid"].endswith("#0")
        ids.append(request["client_id"])
    assert ids[0] == ids[1]
    assert ids[0] == "decentralized_identifier:" + clients[0].application.extensions[
        "microcred_openid4vp_identity"].did
    assert (data_dir / "openid4vp-client-key.jwk").stat().st_mode & 0o077 == 0


def test_redirect_uri_request_object_is_unsigned_and_carries_what_issue13_fixes(client):
    _, link = _open(client)
    request = fetch_request(client, link)
    assert request["_header"] == {"alg": "none", "typ": "oauth-authz-req+jwt"}
    assert request["aud"] == "https://self-issued.me/v2"
    assert request["exp"] - request["iat"] == 300
    assert request["response_type"] == "vp_token"
    assert "transaction_data" not in request
    metadata = request["client_metadata"]
    (key,) = metadata["jwks"]["keys"]
    assert {key["kty"], key["crv"], key["use"], key["alg"]} == {"EC", "P-256", "enc", "ECDH-ES"}
    assert "d" not in key
    assert metadata["encrypted_response_enc_values_supported"] == ["A128GCM", "A256GCM"]
    assert metadata["vp_formats_supported"]["dc+sd-jwt"]["kb-jwt_alg_values"] == ["ES256", "EdDSA"]


def test_the_request_object_is_served_once(client):
    _, link = _open(client)
    path = urlsplit(link_params(link)["request_uri"]).path
    assert client.get(path).status_code == 200
    again = client.get(path)
    assert again.status_code == 410
    assert again.get_json()["error"] == "invalid_request_uri"
    assert client.get("/openid4vp/request/unknownrequestid123").status_code == 404


@pytest.mark.parametrize("settings, expected", [
    ({"VERIFIER_CLIENT_ID_PREFIX": "x509_hash"}, "MICROCRED_VERIFIER_X509_CHAIN"),
    ({"VERIFIER_X509_KEY": "other"}, "not the key|another key"),
    ({"VERIFIER_X509_CHAIN": "with-root"}, "self-signed"),
    ({"VERIFIER_X509_KEY": "readable"}, "chmod 600"),
])
def test_settings_that_do_not_fit_stop_start_up(make_app, access_files, tmp_path, settings, expected):
    pki, chain, key = access_files
    values = {"VERIFIER_X509_CHAIN": str(chain), "VERIFIER_X509_KEY": str(key)}
    if settings.get("VERIFIER_CLIENT_ID_PREFIX"):
        values = dict(settings)
    elif settings.get("VERIFIER_X509_KEY") == "other":
        wrong = tmp_path / "other-key.pem"
        wrong.write_bytes(pki_key("ec", 7).private_bytes(serialization.Encoding.PEM,
                                                          serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))
        os.chmod(wrong, 0o600)
        values["VERIFIER_X509_KEY"] = str(wrong)
    elif settings.get("VERIFIER_X509_CHAIN") == "with-root":
        with_root = tmp_path / "with-root.pem"
        with_root.write_bytes(pem(pki.seal, pki.intermediate, pki.root))
        values["VERIFIER_X509_CHAIN"] = str(with_root)
    else:
        os.chmod(key, 0o644)
    with pytest.raises(ConfigurationError, match=expected):
        make_app(**values)


# ------------------------------------------------------------------ the answer: only what was asked for


def _opened(client, **fields):
    page, link = _open(client, **fields)
    return page, fetch_request(client, link)


def _presentation(issuer, request, paths=(("title",), ("ects",), ("eqf_level",))):
    return issuer.present(paths=list(paths), nonce=request["nonce"], audience=request["client_id"])


@pytest.mark.parametrize("enc", ["A128GCM", "A256GCM"])
def test_an_encrypted_answer_is_decrypted_and_verified(client, make_issuer, enc):
    page, request = _opened(client)
    answered = post_answer(client, request, {"microcredential": [_presentation(make_issuer(), request)]}, enc=enc)
    assert answered.status_code == 200
    assert answered.headers["Cache-Control"] == "no-store"
    result = client.get(result_url(page)).get_data(as_text=True)
    assert 'id="verdict" data-verified="true"' in result
    assert CLAIMS["title"] in unescape(result)


def _refused(client, request, form, words):
    answered = client.post(urlsplit(request["response_uri"]).path, data=form)
    assert answered.status_code == 400, answered.get_data(as_text=True)
    body = answered.get_json()
    assert body["error"] == "invalid_request"
    assert words in body["error_description"]
    return body


def test_what_was_not_asked_for_is_refused_with_a_precise_reason(client, make_issuer):
    issuer = make_issuer()
    _, request = _opened(client)
    token = {"microcredential": [_presentation(issuer, request)]}
    plain = {"vp_token": json.dumps(token), "state": request["state"]}
    _refused(client, request, plain, "asked for an encrypted answer")
    payload = {"vp_token": token, "state": request["state"]}
    _refused(client, request, {"response": jwe_answer(request, payload, enc="A128CBC-HS256")}, "enc A128GCM or A256GCM")
    _refused(client, request, {"response": jwe_answer(request, payload, alg="ECDH-ES+A128KW")}, "alg ECDH-ES")
    _refused(client, request, {"response": jwe_answer(request, payload, kid="someone-elses-key-1")}, "names no key")
    _refused(client, request, {"response": jwe_answer(request, payload, extra_header={"zip": "DEF"})}, "zip")
    _refused(client, request, {"response": jwe_answer(request, {**payload, "state": "another-state-123456"})},
             "state")
    _refused(client, request, {"response": jwe_answer(request, {**payload, "state": "é" * 22})}, "state")
    _refused(client, request, {**answer_form(request, token), "vp_token": "{}"}, "only the 'response' parameter")
    _refused(client, request, {"response": "not.a.jwe"}, "compact serialization")
    # None of these consumed the request: the learner's real answer still goes through.
    assert post_answer(client, request, token).status_code == 200


def test_a_plain_request_takes_a_plain_answer_and_a_declined_one_is_shown(client, make_issuer):
    page, request = _opened(client, response_mode="direct_post")
    assert request["response_mode"] == "direct_post"
    assert "jwks" not in request["client_metadata"]
    answered = client.post(urlsplit(request["response_uri"]).path, data={
        "error": "access_denied", "error_description": "the learner declined", "state": request["state"]})
    assert answered.status_code == 200
    assert "response_code=" in answered.get_json()["redirect_uri"]
    assert "The wallet declined: the learner declined" in client.get(result_url(page)).get_data(as_text=True)


# ------------------------------------------------------------------ DCQL enforced (§6.4, §8.6, §14.6)


def _stack_request(client, **fields):
    created = client.post("/openid4vp/new", data=fields)
    assert created.status_code == 303, created.get_data(as_text=True)
    page = unescape(client.get(created.location).get_data(as_text=True))
    return page, fetch_request(client, request_text(page))


def _outcome(client, page) -> tuple[str, str]:
    result = unescape(client.get(result_url(page)).get_data(as_text=True))
    verdict = result.split('id="verdict" data-verified="', 1)[1][:5]
    return verdict.split('"')[0], result


def test_a_value_outside_the_allowed_ones_is_not_verified(client, make_issuer):
    page, request = _stack_request(client, **{"c1-claim-title": "required", "c1-eqf_level": ["7", "8"]})
    query = request["dcql_query"]["credentials"][0]
    assert {"id": "eqf_level", "path": ["eqf_level"], "values": [7, 8]} in query["claims"]
    post_answer(client, request, {"microcredential": [_presentation(make_issuer(), request, [("title",),
                                                                                             ("eqf_level",)])]})
    verdict, result = _outcome(client, page)
    assert verdict == "false"
    assert "6" in result.split('id="stack-problems"', 1)[1].split("</section>", 1)[0]


def test_an_answer_to_a_query_not_asked_is_not_verified(client, make_issuer):
    page, request = _opened(client)
    post_answer(client, request, {"something_else": [_presentation(make_issuer(), request)]})
    verdict, result = _outcome(client, page)
    assert verdict == "false"
    assert "did not make: 'something_else'" in result


def test_several_credentials_alternatives_and_optional_claims(client, make_issuer):
    issuer = make_issuer()
    fields = {"c1-claim-title": "required", "c1-claim-grade": "optional", "c1-multiple": "1",
              "c2-use": "alternative", "c2-claim-title": "required", "c2-claim-ects": "required"}
    page, request = _stack_request(client, **fields)
    dcql = request["dcql_query"]
    assert dcql["credential_sets"] == [{"options": [["microcredential"], ["microcredential_2"]]}]  # required: default
    first = dcql["credentials"][0]
    assert first["multiple"] is True
    assert first["claim_sets"] == [["title", "grade"], ["title"]]
    two = [issuer.present(issuer.credential(idx=idx), paths=[("title",)], nonce=request["nonce"],
                          audience=request["client_id"]) for idx in (1111, 2222)]
    assert post_answer(client, request, {"microcredential": two}).status_code == 200
    verdict, result = _outcome(client, page)
    assert verdict == "true", result
    assert "2 of 2 verified" in result

    page, request = _stack_request(client, **fields)
    alternative = _presentation(issuer, request, [("title",), ("ects",)])
    assert post_answer(client, request, {"microcredential_2": [alternative]}).status_code == 200
    assert _outcome(client, page)[0] == "true"


def test_two_presentations_where_one_was_asked_are_not_verified(client, make_issuer):
    issuer = make_issuer()
    page, request = _opened(client)
    two = [issuer.present(issuer.credential(idx=idx), paths=[("title",), ("ects",), ("eqf_level",)],
                          nonce=request["nonce"], audience=request["client_id"]) for idx in (3333, 4444)]
    post_answer(client, request, {"microcredential": two})
    verdict, result = _outcome(client, page)
    assert verdict == "false"
    assert "the request allows one" in result


@pytest.mark.parametrize("fields, words", [
    ({"c1-use": "sideways"}, "credential 1"),
    ({"c1-claim-title": "maybe"}, "required, optional or nothing"),
    ({"c1-claim-grade": "optional"}, "at least one thing as required"),
    ({"c1-claim-title": "required", "c1-eqf_level": "9"}, "expected values among"),
    ({"c1-claim-title": "required", "c1-use": "optional"}, "at least one credential must be required"),
    ({"claim": "title", "response_mode": "fragment"}, "response_mode"),
])
def test_the_request_form_says_what_to_change(client, fields, words):
    refused = client.post("/openid4vp/new", data=fields)
    assert refused.status_code == 400
    assert words in unescape(refused.get_data(as_text=True))
