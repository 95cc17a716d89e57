"""The issuer service over HTTP (Flask test client): status lists, metadata, OpenID4VCI, registrar.

``Wallet`` below is a wallet-side OpenID4VCI client written from the spec: it
scans an offer link, follows the metadata, redeems the pre-authorized code,
proves possession of its key with a nonce and receives the credential.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from _issuer_support import NOW, jwk_cell, make_csv, make_row

from credentials.jose import PrivateKey, sign_jws
from credentials.sd_jwt import add_key_binding
from credentials.sd_jwt.key_binding import KeyBindingPolicy
from credentials.sd_jwt_vc import verify_sd_jwt_vc
from credentials.status_list import STATUS_INVALID, verify_status_list_token
from issuer.batch import parse_csv
from issuer.oid4vci import OFFER_SCHEME, PROOF_TYP
from issuer.web import create_app


@pytest.fixture
def app(home, data_dir, anchor):
    clock = {"now": NOW}
    app = create_app({"TESTING": True, "DATA_DIR": str(data_dir), "ISSUER": "uni",
                      "STATUS_ANCHOR": anchor, "CLOCK": lambda: clock["now"]})
    app.config["clock"] = clock
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def batch(service, defaults, holder_key):
    rows = [make_row(1, holder_jwk=jwk_cell(holder_key)), make_row(2), make_row(3)]
    return service.issue_batch(parse_csv(make_csv(rows), defaults), now=NOW)


@dataclass
class Wallet:
    """A minimal OpenID4VCI 1.0 wallet (pre-authorized code flow, jwt key proofs)."""

    http: object
    key: PrivateKey = field(default_factory=PrivateKey.generate)
    audience_override: str | None = None

    def get_json(self, url, **kwargs):
        response = self.http.get(url, **kwargs)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    def resolve_offer(self, link: str) -> dict:
        assert link.startswith(OFFER_SCHEME)
        query = parse_qs(urlsplit(link).query)
        offer = self.get_json(unquote(query["credential_offer_uri"][0]))
        self.offered = offer["credential_configuration_ids"]
        return offer

    def redeem_token(self, offer: dict) -> tuple[dict, str]:
        issuer_url = offer["credential_issuer"]
        metadata = self.get_json(f"{issuer_url}/.well-known/openid-credential-issuer")
        authorization = self.get_json(f"{issuer_url}/.well-known/oauth-authorization-server")
        grant = offer["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]
        response = self.http.post(authorization["token_endpoint"], data={
            "grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code",
            "pre-authorized_code": grant["pre-authorized_code"],
        })
        assert response.status_code == 200, response.get_json()
        assert response.headers["Cache-Control"] == "no-store"
        return metadata, response.get_json()["access_token"]

    def proof(self, metadata: dict, nonce: str, *, iat: int = NOW, typ: str = PROOF_TYP) -> str:
        audience = self.audience_override or metadata["credential_issuer"]
        return sign_jws({"aud": audience, "iat": iat, "nonce": nonce}, self.key,
                        header={"typ": typ, "jwk": self.key.public_key().to_jwk()})

    def request_credential(self, metadata: dict, access_token: str, proof: str, configuration: str | None = None):
        configuration = configuration or self.offered[0]  # what the offer names, as a wallet does
        assert configuration in metadata["credential_configurations_supported"]
        return self.http.post(metadata["credential_endpoint"], json={
            "credential_configuration_id": configuration, "proofs": {"jwt": [proof]},
        }, headers={"Authorization": f"Bearer {access_token}"})

    def fresh_nonce(self, metadata: dict) -> str:
        response = self.http.post(metadata["nonce_endpoint"])
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store"
        return response.get_json()["c_nonce"]

    def receive(self, link: str) -> str:
        metadata, access_token = self.redeem_token(self.resolve_offer(link))
        response = self.request_credential(metadata, access_token, self.proof(metadata, self.fresh_nonce(metadata)))
        assert response.status_code == 200, response.get_json()
        return response.get_json()["credentials"][0]["credential"]


def offer_link(service, issued) -> str:
    from issuer.oid4vci import offer_uri

    return offer_uri(service.identity, issued.offer_id)


def test_status_list_is_served_signed_at_a_stable_url(client, service, batch):
    record = service.archive.credential(batch.issued[0].credential_id)
    service.set_status([record.id], "revoked", now=NOW + 1)
    response = client.get(f"/status/{record.list_id}")
    assert response.status_code == 200
    assert response.mimetype == "application/statuslist+jwt"
    verified = verify_status_list_token(response.get_data(as_text=True), service.signing_key.public_key(),
                                        expected_uri=service.identity.status_list_uri(record.list_id), now=NOW + 2)
    assert verified.status(record.idx) == STATUS_INVALID
    assert client.get("/status/unknown").status_code == 404


def test_metadata_documents(client, service):
    jwt_vc = client.get("/.well-known/jwt-vc-issuer").get_json()
    assert jwt_vc["issuer"] == service.identity.base_url
    assert jwt_vc["jwks"]["keys"][0]["kid"] == service.identity.kid
    assert "d" not in jwt_vc["jwks"]["keys"][0]
    vci = client.get("/.well-known/openid-credential-issuer").get_json()
    configuration = vci["credential_configurations_supported"]["micro-credential"]
    assert configuration["format"] == "dc+sd-jwt"
    assert configuration["vct"] == "urn:microcred:vct:micro-credential:1"
    assert configuration["proof_types_supported"]["jwt"]["proof_signing_alg_values_supported"] == ["ES256", "EdDSA"]
    assert vci["nonce_endpoint"].endswith("/nonce")
    assert vci["credential_endpoint"].endswith("/credential")


def test_wallet_redeems_an_offer_end_to_end(client, service, batch):
    offered = batch.issued[1]
    wallet = Wallet(client)
    credential = wallet.receive(offer_link(service, offered))
    verified = verify_sd_jwt_vc(credential, now=NOW, key_binding=None)
    assert verified.holder_jwk == wallet.key.public_key().to_jwk()
    assert verified.disclosed["learner"]["student_id"] == "S00002"
    presentation = add_key_binding(credential, wallet.key, audience="https://employer.example", nonce="n-1", iat=NOW)
    bound = verify_sd_jwt_vc(presentation, now=NOW,
                             key_binding=KeyBindingPolicy(audience="https://employer.example", nonce="n-1"))
    assert bound.key_binding is not None
    record = service.archive.credential(offered.credential_id)
    assert record.delivery == "redeemed"
    assert record.holder_jwk == wallet.key.public_key().to_jwk()
    assert client.get(f"/credential-offer/{offered.offer_id}").status_code == 404  # used offers disappear


def test_offer_page_shows_link_and_qr(client, service, batch):
    offered = batch.issued[1]
    page = client.get(f"/offers/{offered.offer_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "openid-credential-offer://" in html
    assert "<script" not in html
    assert "script-src" not in page.headers["Content-Security-Policy"]  # default-src 'none' forbids scripts
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    qr = client.get(f"/offers/{offered.offer_id}/qr.svg")
    assert qr.status_code == 200
    assert qr.mimetype == "image/svg+xml"
    assert b"<svg" in qr.data
    assert client.get("/offers/nope").status_code == 404


def test_pre_authorized_code_works_once(client, service, batch):
    wallet = Wallet(client)
    offer = wallet.resolve_offer(offer_link(service, batch.issued[1]))
    wallet.redeem_token(offer)
    code = offer["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]["pre-authorized_code"]
    again = client.post("/token", data={"grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code",
                                        "pre-authorized_code": code})
    assert again.status_code == 400
    assert again.get_json()["error"] == "invalid_grant"
    wrong = client.post("/token", data={"grant_type": "authorization_code", "code": "x"})
    assert wrong.get_json()["error"] == "unsupported_grant_type"


@pytest.mark.parametrize("case", ["wrong_aud", "stale_iat", "wrong_typ", "unknown_nonce", "other_signer"])
def test_bad_key_proofs_are_refused(client, service, batch, case):
    wallet = Wallet(client)
    metadata, token = wallet.redeem_token(wallet.resolve_offer(offer_link(service, batch.issued[2])))
    nonce = wallet.fresh_nonce(metadata)
    if case == "wrong_aud":
        wallet.audience_override = "https://other-issuer.example"
        proof = wallet.proof(metadata, nonce)
    elif case == "stale_iat":
        proof = wallet.proof(metadata, nonce, iat=NOW - 3600)
    elif case == "wrong_typ":
        proof = wallet.proof(metadata, nonce, typ="JWT")
    elif case == "unknown_nonce":
        proof = wallet.proof(metadata, "made-up")
    else:
        proof = wallet.proof(metadata, nonce)
        header, payload, _ = proof.split(".")
        forged = sign_jws({"aud": metadata["credential_issuer"], "iat": NOW, "nonce": nonce}, PrivateKey.generate(),
                          header={"typ": PROOF_TYP, "jwk": wallet.key.public_key().to_jwk()})
        proof = f"{header}.{payload}.{forged.split('.')[2]}"
    response = wallet.request_credential(metadata, token, proof)
    assert response.status_code == 400
    expected = "invalid_nonce" if case == "unknown_nonce" else "invalid_proof"
    assert response.get_json()["error"] == expected
    assert service.archive.credential(batch.issued[2].credential_id).delivery == "offer"


def test_nonce_is_single_use_and_token_redeems_one_credential(client, service, batch):
    wallet = Wallet(client)
    metadata, token = wallet.redeem_token(wallet.resolve_offer(offer_link(service, batch.issued[1])))
    nonce = wallet.fresh_nonce(metadata)
    assert wallet.request_credential(metadata, token, wallet.proof(metadata, nonce)).status_code == 200
    replay = wallet.request_credential(metadata, token, wallet.proof(metadata, nonce))
    assert replay.status_code == 401
    assert replay.get_json()["error"] == "invalid_token"
    other = Wallet(client)
    metadata2, token2 = other.redeem_token(other.resolve_offer(offer_link(service, batch.issued[2])))
    reused = other.request_credential(metadata2, token2, other.proof(metadata2, nonce))
    assert reused.get_json()["error"] == "invalid_nonce"


def test_credential_endpoint_checks_the_request(client, service, batch):
    assert client.post("/credential", json={}).status_code == 401
    wallet = Wallet(client)
    metadata, token = wallet.redeem_token(wallet.resolve_offer(offer_link(service, batch.issued[1])))
    auth = {"Authorization": f"Bearer {token}"}
    unknown = client.post("/credential", json={"credential_configuration_id": "diploma", "proofs": {"jwt": ["x"]}},
                          headers=auth)
    assert unknown.get_json()["error"] == "unknown_credential_configuration"
    legacy = client.post("/credential", json={"credential_configuration_id": "micro-credential",
                                              "proof": {"proof_type": "jwt", "jwt": "x"}}, headers=auth)
    assert legacy.get_json()["error"] == "invalid_credential_request"
    not_json = client.post("/credential", data="x", headers=auth)
    assert not_json.get_json()["error"] == "invalid_credential_request"


def test_revoked_offer_is_not_issued(client, service, batch):
    offered = batch.issued[1]
    service.set_status([offered.credential_id], "revoked", now=NOW)
    wallet = Wallet(client)
    metadata, token = wallet.redeem_token(wallet.resolve_offer(offer_link(service, offered)))
    response = wallet.request_credential(metadata, token, wallet.proof(metadata, wallet.fresh_nonce(metadata)))
    assert response.get_json()["error"] == "credential_request_denied"


def test_registrar_lists_and_revokes_with_confirmation(client, service, batch, anchor):
    page = client.get("/registrar/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "S00001" in html
    assert "<script" not in html
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    target = batch.issued[0].credential_id
    confirm = client.get(f"/registrar/credentials/{target}/revoke")
    token = re.search(r'name="csrf_token" value="([^"]+)"', confirm.get_data(as_text=True)).group(1)
    assert client.post(f"/registrar/credentials/{target}/revoke", data={"csrf_token": "forged"}).status_code == 400
    assert service.archive.credential(target).status == "valid"
    done = client.post(f"/registrar/credentials/{target}/revoke", data={"csrf_token": token, "reason": "exam annulled"},
                       follow_redirects=True)
    assert done.status_code == 200
    assert "the new status list is anchored" in done.get_data(as_text=True)
    assert service.archive.credential(target).status == "revoked"
    assert anchor.calls[-1][3] == 2
    again = client.post(f"/registrar/credentials/{target}/revoke", data={"csrf_token": token, "reason": "again"},
                        follow_redirects=True)
    assert "cannot make it revoked" in again.get_data(as_text=True)
    assert client.get("/registrar/credentials/nope/revoke").status_code == 404


def test_registrar_says_when_the_anchor_is_pending(client, service, batch, anchor):
    anchor.down = True
    target = batch.issued[0].credential_id
    client.get(f"/registrar/credentials/{target}/revoke")
    with client.session_transaction() as session:
        token = session["csrf"]
    done = client.post(f"/registrar/credentials/{target}/revoke", data={"csrf_token": token, "reason": "exam annulled"},
                       follow_redirects=True)
    assert "NOT anchored yet" in done.get_data(as_text=True)


def test_registrar_is_loopback_only_by_default(client):
    remote = client.get("/registrar/", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert remote.status_code == 403
