"""Whole credentials through POST /api/v1/verify and the result page, against the real Anvil (issue 12, items 1,
4 and 6): a Europass EDC sealed by the test PKI for an accredited ``x509:org:…`` organisation, Open Badges from
an accredited did:key issuer (JWT with a Bitstring status list anchored on chain, Data Integrity), an EUDI learning
SD-JWT VC, a holder-signed presentation, a did:web issuer served over TLS on loopback, and bad input."""

from __future__ import annotations

import hashlib
import json
import time

import pytest
from click.testing import CliRunner

from credentials.dids import did_key_from_public_key, verification_method_id
from credentials.eudi_learning import EUDI_LEARNING_VCT, eudi_learning_frame
from credentials.jose import PrivateKey
from credentials.presentation_vp import holder_did, present_whole
from credentials.verification_types import EDC_TYPE_URN, OB3_TYPE
from microcred.cli import main
from tests.verifier.conftest import AnchoringIssuer
from tests.verifier.imported_world import (
    VECTORS,
    DiIssuer,
    Holder,
    JwtIssuer,
    badge_di,
    badge_jwt,
    bitstring_list_jwt,
    did_document,
    edc_document,
    jwt_vp_json,
    seal,
    status_list_2021,
)
from tests.waiting import wait_for

pytestmark = pytest.mark.integration
AUDIENCE = "https://employer.example"


def post(client, body, content_type="text/plain"):
    data = json.dumps(body) if content_type == "application/json" else body
    response = client.post("/api/v1/verify", data=data, content_type=content_type)
    assert response.status_code != 500
    return response, response.get_json()


def check(answer, name):
    return next(c for c in answer["checks"] if c["check"] == name)


def anchor(ledger, account, did, list_id, text, version):
    from ledger.status import StatusRegistryClient

    client = StatusRegistryClient(ledger.chain, ledger.status.contract, account=account)
    return client.anchor(did, list_id, hashlib.sha256(text.encode()).digest(), version, None)


@pytest.fixture
def ob3_issuer(accredit_any):
    issuer = JwtIssuer()
    issuer.account = accredit_any(issuer.did, [OB3_TYPE])
    return issuer


def test_a_sealed_edc_of_an_accredited_organisation_verifies(imported_client, seal_pki, accredit_any,
                                                             status_server):
    pki, org, _ = seal_pki
    accredit_any(org, [EDC_TYPE_URN], name="Università di Prova")
    path = f"/edc-status/{org[-11:]}"
    url = status_server.base + path
    status_server.serve(path, seal(status_list_2021("urn:epass:org", url), pki, signing_time=int(time.time()) - 60),
                        content_type="application/json")
    sealed = seal(edc_document(status_url=url), pki, signing_time=int(time.time()) - 60)
    assert len(sealed) > 64 * 1024  # over the SD-JWT cap, within the 2 MB of whole credentials
    response, answer = post(imported_client, sealed)
    assert response.status_code == 200, answer
    assert answer["verified"] is True, answer["checks"]
    assert answer["format"] == "europass-edc"
    assert answer["issuer"]["id"] == org
    assert answer["issuer"]["name"] == "Università di Prova"
    assert "not anchored on chain; read from the issuer's list" in check(answer, "revocation")["detail"]
    assert check(answer, "holder_binding")["status"] == "skipped"
    assert answer["annex"]["kind"] == "elm"
    page = imported_client.post("/verify", data={"presentation": sealed}).get_data(as_text=True)
    assert "European Digital Credential" in page
    assert "<details" in page
    assert "More details" in page


def test_an_edc_of_an_unaccredited_organisation_fails_issuer_trust(imported_client, seal_pki):
    pki, org, _ = seal_pki
    response, answer = post(imported_client, seal(edc_document(), pki, signing_time=int(time.time()) - 60))
    assert response.status_code == 200
    assert check(answer, "signature")["status"] == "passed"
    assert check(answer, "issuer_trust")["status"] == "failed"
    assert EDC_TYPE_URN in check(answer, "issuer_trust")["detail"]


def test_the_published_edc_fails_signature_without_its_anchor_and_is_not_500(imported_client):
    response, answer = post(imported_client, (VECTORS / "europass-edc" / "edc-mc-signed.jsonld").read_text())
    assert response.status_code == 200
    assert check(answer, "signature")["status"] == "failed"
    assert "does not end at a configured trust anchor" in check(answer, "signature")["detail"]


def test_an_ob3_jwt_with_a_bitstring_list_anchored_on_chain(imported_client, ob3_issuer, ledger, status_server):
    """Regression (issue 12): a JWT VC carrying credentialStatus was answered 503 ('unavailable')."""
    list_id = f"ob3-{ob3_issuer.did[-10:]}"
    url = f"{status_server.base}/status/{list_id}"
    listed = bitstring_list_jwt(ob3_issuer, url, valid_from=int(time.time()) - 60)
    status_server.serve(f"/status/{list_id}", listed, content_type="application/vc+jwt")
    block = anchor(ledger, ob3_issuer.account, ob3_issuer.did, list_id, listed, 1).block_number
    token = badge_jwt(ob3_issuer, Holder().did, valid_from=int(time.time()) - 600, status_url=url, index=4321)
    response, answer = post(imported_client, token)
    assert response.status_code == 200, answer
    assert answer["verified"] is True, answer["checks"]
    assert answer["format"] == "vc+jwt"
    assert f"anchored at block {block}" in check(answer, "revocation")["detail"]
    assert answer["status"]["uri"] == url
    assert answer["status"]["index"] == 4321
    assert answer["claims"]["achievement"]["name"] == "Introduction to Smart Contracts"

    revoked = bitstring_list_jwt(ob3_issuer, url, valid_from=int(time.time()) - 30, revoked=(4321,))
    status_server.serve(f"/status/{list_id}", revoked, content_type="application/vc+jwt")
    anchor(ledger, ob3_issuer.account, ob3_issuer.did, list_id, revoked, 2)
    wait_for(lambda: check(post(imported_client, token)[1], "revocation")["status"] == "failed", within=10,
             what="the revocation to be seen")
    assert "is revoked" in check(post(imported_client, token)[1], "revocation")["detail"]


def test_a_list_served_other_than_anchored_fails(imported_client, ob3_issuer, ledger, status_server):
    list_id = f"ob3x-{ob3_issuer.did[-10:]}"
    url = f"{status_server.base}/status/{list_id}"
    anchor(ledger, ob3_issuer.account, ob3_issuer.did, list_id,
           bitstring_list_jwt(ob3_issuer, url, valid_from=int(time.time()) - 60), 1)
    status_server.serve(f"/status/{list_id}", bitstring_list_jwt(ob3_issuer, url, valid_from=int(time.time()) - 9),
                        content_type="application/vc+jwt")
    token = badge_jwt(ob3_issuer, None, valid_from=int(time.time()) - 600, status_url=url)
    response, answer = post(imported_client, token)
    assert response.status_code == 200
    assert check(answer, "revocation")["status"] == "failed"
    assert "anchored in block" in check(answer, "revocation")["detail"]


def test_an_ob3_data_integrity_badge_and_its_changed_copy(imported_client, accredit_any):
    issuer = DiIssuer()
    accredit_any(issuer.did, [OB3_TYPE])
    document = badge_di(issuer, None, valid_from=int(time.time()) - 600)
    response, answer = post(imported_client, {"presentation": document}, "application/json")
    assert answer["verified"] is True, answer["checks"]
    assert answer["format"] == "ldp_vc"
    response, answer = post(imported_client, document, "application/json")  # the credential itself as the body
    assert answer["verified"] is True, answer["checks"]
    document["name"] = "Advanced Smart Contracts"
    response, answer = post(imported_client, {"presentation": document}, "application/json")
    assert response.status_code == 200
    assert check(answer, "signature")["status"] == "failed"
    assert "does not verify" in check(answer, "signature")["detail"]


def test_a_jwt_presentation_of_a_badge_binds_it_to_its_holder(imported_client, ob3_issuer):
    holder = Holder()
    token = badge_jwt(ob3_issuer, holder.did, valid_from=int(time.time()) - 600)
    vp = jwt_vp_json(holder, token, nonce="n-77", audience=AUDIENCE, iat=int(time.time()))
    body = {"presentation": vp, "nonce": "n-77", "audience": AUDIENCE}
    response, answer = post(imported_client, body, "application/json")
    assert answer["verified"] is True, answer["checks"]
    assert answer["format"] == "jwt_vp_json"
    assert check(answer, "holder_binding")["status"] == "passed"
    assert check(post(imported_client, body, "application/json")[1], "replay")["status"] == "failed"
    stranger = jwt_vp_json(Holder(), token, nonce="n-78", audience=AUDIENCE, iat=int(time.time()))
    answer = post(imported_client, stranger)[1]
    assert check(answer, "holder_binding")["status"] == "failed"


def test_an_eudi_learning_credential_verifies_by_default(imported_client, accredit_any, ledger, status_server):
    claims = json.loads((VECTORS / "eudi-learning" / "mock-learning-credential.claims.json").read_text())
    claims = {k: v for k, v in claims.items() if k not in ("iss", "iat", "exp", "vct", "jti", "nbf")}
    key = PrivateKey.generate("ES256")
    did = did_key_from_public_key(key.public_key())
    account = accredit_any(did, [EUDI_LEARNING_VCT])
    issuer = AnchoringIssuer(key, did, account, ledger, status_server, f"eudi-{did[-8:]}")
    issuer.publish()
    credential = issuer.credential(vct=EUDI_LEARNING_VCT, claims=claims, frame=eudi_learning_frame(claims))
    presentation = issuer.present(credential, paths=[("given_name",), ("level_of_learning_experience",)],
                                  nonce="n-eudi")
    response, answer = post(imported_client, {"presentation": presentation, "nonce": "n-eudi"}, "application/json")
    assert answer["verified"] is True, answer["checks"]
    assert answer["annex"]["kind"] == "eudi-learning"
    assert verification_method_id(did).startswith(did)


def test_a_did_web_issuer_over_tls_and_one_at_a_private_address(imported_client, accredit_any, did_server):
    port = did_server.server.server_address[1]
    did = f"did:web:127.0.0.1%3A{port}"
    issuer = JwtIssuer()
    issuer.did, issuer.kid = did, f"{did}#key-1"
    did_server.serve("/.well-known/did.json", json.dumps(did_document(did, issuer.key)),
                     content_type="application/did+json")
    accredit_any(did, [OB3_TYPE])
    answer = post(imported_client, badge_jwt(issuer, None, valid_from=int(time.time()) - 600))[1]
    assert answer["verified"] is True, answer["checks"]
    private = JwtIssuer()
    private.did, private.kid = "did:web:10.1.2.3", "did:web:10.1.2.3#key-1"
    response, answer = post(imported_client, badge_jwt(private, None, valid_from=int(time.time()) - 600))
    assert response.status_code == 200
    assert check(answer, "signature")["status"] == "failed"
    assert "private address" in check(answer, "signature")["detail"]


@pytest.mark.parametrize("name,body", [
    ("truncated-jwt", "eyJhbGciOiJFUzI1NiIsInR5cCI6InZjK2p3dCJ9.eyJAY29udGV4dCI6"),
    ("not-a-jwt", "a.b.c"),
    ("broken-json", '{"@context": ["https://www.w3.org/ns/credentials/v2"], "proof": '),
    ("remote-context", json.dumps({"@context": ["https://www.w3.org/ns/credentials/v2", "https://evil.example/c"],
                                   "type": ["VerifiableCredential", "OpenBadgeCredential"], "proof": {}})),
    ("seal-without-signature", json.dumps({"payload": "{}", "signatures": []})),
])
def test_bad_input_is_a_named_failed_check_never_500(imported_client, name, body):
    response, answer = post(imported_client, body)
    assert response.status_code in (200, 400), answer
    failed = [c for c in answer["checks"] if c["status"] == "failed"]
    assert failed, answer
    assert failed[0]["check"] in ("format", "signature"), answer
    assert "Traceback" not in response.get_data(as_text=True)


def test_a_document_over_the_cap_is_413(imported_client):
    response = imported_client.post("/api/v1/verify", data="{" + " " * (2 * 1024 * 1024) + "}",
                                    content_type="text/plain")
    assert response.status_code == 413


def test_accredit_grant_accepts_an_x509_organisation(ledger_env, ledger, seal_pki, tmp_path):
    _, org, _ = seal_pki
    result = CliRunner().invoke(main, ["accredit", "grant", org, "--type", EDC_TYPE_URN, "--name", "Università",
                                       "--country", "IT", "--controller", str(tmp_path / "org.key")],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert ledger.trust.entry(org).vcts == (EDC_TYPE_URN,)


def test_a_whole_presentation_behind_a_one_time_link_is_fetched_as_utf8(imported_client, accredit_any, status_server):
    """The wallet shares large whole credentials by link; JSON answers are UTF-8, not ASCII (Università)."""
    issuer = DiIssuer()
    accredit_any(issuer.did, [OB3_TYPE])
    wallet_key = PrivateKey.generate("ES256")
    credential = badge_di(issuer, holder_did(wallet_key), valid_from=int(time.time()) - 600)
    _, vp = present_whole(credential, wallet_key, audience=AUDIENCE, nonce="n-link", iat=int(time.time()))
    body = json.dumps(vp, ensure_ascii=False).encode("utf-8")
    assert not body.isascii()
    link = status_server.serve(f"/share/{issuer.did[-12:]}", body, content_type="application/vp+ld+json")
    answer = post(imported_client, {"presentation": link, "nonce": "n-link"}, "application/json")[1]
    assert answer["verified"] is True, answer["checks"]
    assert answer["format"] == "ldp_vp"


def test_a_did_web_document_is_kept_for_its_ttl(imported_client, accredit_any, did_server):
    port = did_server.server.server_address[1]
    did = f"did:web:127.0.0.1%3A{port}:cached"
    issuer = JwtIssuer()
    issuer.did, issuer.kid = did, f"{did}#key-1"
    did_server.serve("/cached/did.json", json.dumps(did_document(did, issuer.key)))
    accredit_any(did, [OB3_TYPE])
    token = badge_jwt(issuer, None, valid_from=int(time.time()) - 600)
    assert post(imported_client, token)[1]["verified"] is True
    did_server.serve("/cached/did.json", "not a DID document")  # served from the cache within VERIFIER_DID_WEB_TTL
    assert post(imported_client, token)[1]["verified"] is True
