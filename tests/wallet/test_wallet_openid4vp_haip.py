"""OpenID4VP 1.0 + HAIP 1.0 in the wallet (issue 13 §2–§5, wallet side): verifiers identified by
certificate (x509_hash, x509_san_dns) against the wallet's verifier anchors, the request object read
once, the consent page (identity and purpose first, claims required / optional, a revoked credential
warned and never sent), answers encrypted to the verifier's key (ECDH-ES, A128GCM / A256GCM) or
plain, transaction_data refused and the verifier told.

The verifier is tests/wallet/oid4vp_verifier.py, which decrypts with jwcrypto; the wallet is the real app.
"""

from __future__ import annotations

import base64
import html
import json
import re
import time
from urllib.parse import urlencode, urlsplit

import pytest
from oid4vp_verifier import DONE, HOST, TestVerifier, access_spec, dcql
from wallet_helpers import CLAIMS, PASSWORD, Clock

from credentials.sd_jwt import KeyBindingPolicy
from credentials.sd_jwt_vc import verify_sd_jwt_vc
from tests.x509_pki import NOT_BEFORE, ROOT, key, make_pki, name, spec
from wallet.transport import HttpResponse

ANCHOR = "microcred test access CA"
PKI = make_pki("ec", root=spec(ROOT, subject=name(ANCHOR, organization="Test Access Authority", country="DE")),
               seal=access_spec())
OTHER_ROOT = make_pki("ec", root=spec(ROOT, subject=name("Some Other CA")), seal=access_spec())


@pytest.fixture
def app(tmp_path, clock: Clock):
    from wallet import create_app

    anchors = tmp_path / "verifier-anchors.pem"
    anchors.write_bytes(PKI.anchors_pem)
    return create_app({
        "TESTING": True, "DATA_DIR": str(tmp_path / "var"), "CLOCK": clock, "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 8 * 1024, "ARGON2_PARALLELISM": 1, "SESSION_COOKIE_SECURE": False,
        "PUBLIC_URL": "http://127.0.0.1:5001", "WALLET_VERIFIER_TRUST_ANCHORS": str(anchors),
    })


def _verifier(app, clock, **changes) -> TestVerifier:
    verifier = TestVerifier(pki=changes.pop("pki", PKI), now=clock.now, **changes)
    app.config["HTTP_TRANSPORT"] = verifier.transport
    return verifier


def _open(client, link):
    client.get("/openid4vp/review?" + urlencode({"request": link}))
    return client.post("/openid4vp/review", {"request": link})


def _consent(client, verifier) -> str:
    response = _open(client, verifier.link())
    assert response.status_code == 302, client.last_page
    consent_url = response.headers["Location"]
    client.get(consent_url)
    return consent_url


def _refused(client, verifier, *expected: str) -> None:
    response = _open(client, verifier.link())
    assert response.status_code == 400, client.last_page
    assert "This request was refused" in client.last_page
    for text in expected:
        assert text in client.last_page, client.last_page


def _follows(page: str) -> str | None:
    """Where the "sent" page takes the browser next: its refresh target, the same as its Continue link."""
    refresh = re.search(r'<meta http-equiv="refresh" content="0; url=([^"]*)">', page)
    link = re.search(r'<a class="button big" id="follow" href="([^"]*)">', page)
    if refresh is None:
        assert link is None
        return None
    assert link is not None
    assert html.unescape(link.group(1)) == html.unescape(refresh.group(1))
    return html.unescape(refresh.group(1))


def _disclosed(presentation: str, verifier: TestVerifier, clock) -> dict:
    verified = verify_sd_jwt_vc(presentation, now=clock.now, key_binding=KeyBindingPolicy(
        audience=verifier.client_id, nonce="n-0S6_WzA2Mj"))
    return verified.disclosed


# --- who asks ---------------------------------------------------------------------------------------


def test_an_x509_hash_verifier_is_shown_certified_and_gets_an_encrypted_answer(app, held, clock):
    client, credential_id = held
    verifier = _verifier(app, clock)
    consent_url = _consent(client, verifier)
    page = client.last_page
    assert "Demo Employer GmbH (DE) asks to see" in page
    assert f"Certified by {ANCHOR}" in page
    assert page.index("asks to see") < page.index("Title of the micro-credential")
    assert "<h2>Micro-credential</h2>" in page  # the vct by its name, not its URN
    sent = client.post(consent_url + "/send", {"credential-microcredential": str(credential_id)})
    assert sent.status_code == 200
    assert "Sent to verifier.example" in client.last_page
    assert _follows(client.last_page) == DONE  # same-device: the browser goes on where the verifier says
    assert list(verifier.posts[0]) == ["response"]  # nothing in clear beside the JWE
    header, payload = verifier.decrypted()
    assert header["alg"] == "ECDH-ES"
    assert header["enc"] == "A256GCM"  # HAIP 1.0 §5: preferred when both are offered
    assert header["kid"] == "enc-1"
    assert header["epk"]["crv"] == "P-256"
    assert payload["state"] == "st-1"
    assert _disclosed(payload["vp_token"]["microcredential"][0], verifier, clock) == {
        "title": CLAIMS["title"], "ects": CLAIMS["ects"]}
    assert verifier.served == 1  # the request object was fetched once, for the review, consent and send


def test_a256gcm_when_the_verifier_accepts_only_that(app, held, clock):
    client, credential_id = held
    verifier = _verifier(app, clock, enc_values=["A256GCM"])
    consent_url = _consent(client, verifier)
    client.post(consent_url + "/send", {"credential-microcredential": str(credential_id)})
    assert verifier.decrypted()[0]["enc"] == "A256GCM"


def test_an_x509_san_dns_verifier_answers_to_its_certified_host(app, held, clock):
    client, credential_id = held
    verifier = _verifier(app, clock, prefix="x509_san_dns")
    consent_url = _consent(client, verifier)
    assert "Demo Employer GmbH (DE) asks to see" in client.last_page
    assert client.post(consent_url + "/send", {"credential-microcredential": str(credential_id)}).status_code == 200
    assert _follows(client.last_page) == DONE


def test_a_forged_x5c_is_refused(app, signed_in, clock):
    """The chain is the certified verifier's, but the request is signed by someone else's key."""
    verifier = _verifier(app, clock, signer=key("ec", 9))
    _refused(signed_in, verifier, "not trusted", "signature does not match")


def test_an_x509_hash_of_another_certificate_is_refused(app, signed_in, clock):
    verifier = _verifier(app, clock, client_value="Uvo3HtuIxuhC92rShpgqcT3YXwrqRxWEviRiA0OZszk")
    _refused(signed_in, verifier, "does not match its x509_hash client identifier")


def test_an_x509_san_dns_not_in_the_certificate_is_refused(app, signed_in, clock):
    verifier = _verifier(app, clock, prefix="x509_san_dns", client_value="bank.example",
                         payload_changes={"response_uri": "https://bank.example/response"})
    _refused(signed_in, verifier, "not issued for &#39;bank.example&#39;", "verifier.example")


def test_an_x509_san_dns_answer_to_another_host_is_refused(app, signed_in, clock):
    verifier = _verifier(app, clock, prefix="x509_san_dns",
                         payload_changes={"response_uri": "https://collector.example/response"})
    _refused(signed_in, verifier, "another host than the verifier")


def test_an_expired_access_certificate_is_refused(app, signed_in, clock):
    expired = make_pki("ec", root=spec(ROOT, subject=name(ANCHOR, organization="Test Access Authority",
                                                          country="DE")),
                       seal=access_spec(not_after=NOT_BEFORE.replace(year=2026, month=1)))
    verifier = _verifier(app, clock, pki=expired)
    _refused(signed_in, verifier, "had expired at the time of the request")


def test_a_certificate_from_an_untrusted_authority_is_refused(app, signed_in, clock):
    verifier = _verifier(app, clock, pki=OTHER_ROOT)
    _refused(signed_in, verifier, "does not end at a configured trust anchor")


def test_without_verifier_anchors_an_x509_verifier_is_refused_before_any_fetch(signed_in, clock, tmp_path):
    from wallet import create_app

    bare = create_app({"TESTING": True, "DATA_DIR": str(tmp_path / "bare"), "CLOCK": clock, "ARGON2_TIME_COST": 1,
                       "ARGON2_MEMORY_COST": 8 * 1024, "ARGON2_PARALLELISM": 1, "SESSION_COOKIE_SECURE": False})
    from wallet_helpers import WalletClient

    learner = WalletClient(bare.test_client())
    learner.signup()
    verifier = _verifier(bare, clock)
    _refused(learner, verifier, "this wallet trusts no authority that certifies verifiers")
    assert verifier.served == 0


@pytest.mark.parametrize("changes, expected", [
    ({"header_changes": {"typ": "JWT"}}, "expected &#39;oauth-authz-req+jwt&#39;"),
    ({"header_changes": {"x5c": None}}, "carries no certificate chain"),
    ({"header_changes": {"x5c": ["not base64!"]}}, "not a DER X.509 certificate"),
    ({"payload_changes": {"aud": "https://wallet.example"}}, "not to a wallet"),
    ({"payload_changes": {"exp": None}}, "has no exp"),
    ({"payload_changes": {"iat": 4_000_000_000}}, "iat is in the future"),
    ({"payload_changes": {"client_id": "x509_hash:abc"}}, "client_id differs from the one in the link"),
])
def test_a_malformed_signed_request_is_refused(app, signed_in, clock, changes, expected):
    _refused(signed_in, _verifier(app, clock, **changes), expected)


def test_a_redirect_uri_client_is_shown_unverified(app, held, clock):
    client, credential_id = held
    request = {"client_id": "redirect_uri:https://verifier.example/response", "response_type": "vp_token",
               "response_mode": "direct_post", "response_uri": "https://verifier.example/response",
               "nonce": "n-0S6_WzA2Mj", "state": "st-1", "dcql_query": json.dumps(dcql("title"))}
    verifier = _verifier(app, clock, prefix="redirect_uri")
    response = _open(client, "openid4vp://?" + urlencode(request))
    client.get(response.headers["Location"])
    assert f"{HOST} asks to see" in client.last_page
    assert "Unverified: only its web address is known." in client.last_page
    client.post(response.headers["Location"] + "/send", {"credential-microcredential": str(credential_id)})
    form = verifier.posts[0]
    assert form["state"] == ["st-1"]  # plain direct_post: the form in clear, as asked
    assert _disclosed(json.loads(form["vp_token"][0])["microcredential"][0], verifier, clock) == {
        "title": CLAIMS["title"]}


# --- refusals the verifier is told about -----------------------------------------------------------


def test_transaction_data_is_refused_and_the_verifier_told(app, signed_in, clock):
    verifier = _verifier(app, clock, payload_changes={"transaction_data": ["eyJ0eXBlIjoicGF5bWVudCJ9"]})
    _refused(signed_in, verifier, "transaction_data is not supported", "The verifier was told why")
    assert verifier.posts == [{"error": ["invalid_request"],
                               "error_description": ["transaction_data is not supported by this wallet"],
                               "state": ["st-1"]}]


@pytest.mark.parametrize("jwk_changes, expected", [
    ({"crv": "P-384"}, "P-256"),
    ({"kid": None}, "has a kid"),
    ({"alg": "ECDH-ES+A128KW"}, "ECDH-ES"),
])
def test_an_unusable_encryption_key_is_refused_and_the_verifier_told(app, signed_in, clock, jwk_changes, expected):
    verifier = _verifier(app, clock)
    public = {**verifier.enc_key.export_public(as_dict=True), "use": "enc", "alg": "ECDH-ES", **jwk_changes}
    verifier.payload_changes = {"client_metadata": {"jwks": {"keys": [{k: v for k, v in public.items()
                                                                       if v is not None}]}}}
    _refused(signed_in, verifier, "encryption key is unusable", expected)
    assert verifier.posts[0]["error"] == ["invalid_request"]


def test_an_unsupported_content_encryption_is_refused(app, signed_in, clock):
    _refused(signed_in, _verifier(app, clock, enc_values=["A128CBC-HS256"]), "this wallet uses A256GCM or A128GCM")


# --- consent -----------------------------------------------------------------------------------------


def test_optional_claims_are_unticked_by_default_and_sent_only_when_ticked(app, held, clock):
    client, credential_id = held
    query = dcql("title", "ects", "grade")
    query["credentials"][0]["claims"][2]["path"] = ["eqf_level"]
    query["credentials"][0]["claim_sets"] = [["title", "ects", "grade"], ["title"]]
    verifier = _verifier(app, clock, query=query)
    consent_url = _consent(client, verifier)
    lines = re.findall(r'<li><label class="choice">(.*?)</label></li>', client.last_page, re.S)
    assert len(lines) == 3
    assert "required" in lines[0]
    assert "checked" in lines[0]
    for optional in lines[1:]:
        assert "optional" in optional
        assert "checked" not in optional
    client.post(consent_url + "/send", {"credential-microcredential": str(credential_id)})
    assert _disclosed(verifier.decrypted()[1]["vp_token"]["microcredential"][0], verifier, clock) == {
        "title": CLAIMS["title"]}


def test_ticked_optional_claims_choose_the_claim_set_that_holds_them(app, held, clock):
    client, credential_id = held
    query = dcql("title", "ects")
    query["credentials"][0]["claim_sets"] = [["title"], ["title", "ects"]]
    verifier = _verifier(app, clock, query=query)
    consent_url = _consent(client, verifier)
    client.post(consent_url + "/send", {"credential-microcredential": str(credential_id), "claim-microcredential": "1"})
    assert _disclosed(verifier.decrypted()[1]["vp_token"]["microcredential"][0], verifier, clock) == {
        "title": CLAIMS["title"], "ects": CLAIMS["ects"]}


def test_a_purpose_is_shown_first(app, held, clock):
    client, _ = held
    query = dcql("title")
    query["credential_sets"] = [{"options": [["microcredential"]], "purpose": "Checking your course for the job"}]
    _consent(client, _verifier(app, clock, query=query))
    page = client.last_page
    assert "Checking your course for the job" in page
    assert page.index("Checking your course") < page.index("Title of the micro-credential")


def _revoking_trust_check(revoked: set[str]):
    def check(raw, fmt, now):
        status = "failed" if raw in revoked else "passed"
        return [{"check": "issuer_trust", "status": "passed", "detail": "accredited"},
                {"check": "revocation", "status": status, "detail": "the credential is revoked" if revoked
                 and raw in revoked else "not revoked"}]
    return check


def test_a_revoked_credential_is_warned_and_never_chosen_by_default(app, signed_in, issuer, clock):
    """Shown with a plain warning and never pre-selected; picked on purpose it goes, and the verifier sees it."""
    revoked_raw = issuer.issue(signed_in.holder_jwk(app), {**CLAIMS, "title": "Revoked Course"})
    app.config["TRUST_CHECK"] = _revoking_trust_check({revoked_raw})
    revoked_id = int(signed_in.add(revoked_raw).headers["Location"].rsplit("/", 1)[1])
    good_id = int(signed_in.add(issuer.issue(signed_in.holder_jwk(app))).headers["Location"].rsplit("/", 1)[1])
    verifier = _verifier(app, clock)
    consent_url = _consent(signed_in, verifier)
    choices = dict(re.findall(r'name="credential-microcredential" value="(\d+)"([^>]*)>', signed_in.last_page))
    assert "checked" not in choices[str(revoked_id)]
    assert "checked" in choices[str(good_id)]
    offer = re.search(rf'name="credential-microcredential" value="{revoked_id}".*?</label>', signed_in.last_page,
                      re.S).group(0)
    assert "Revoked by its issuer: not valid, and the verifier will be told so." in offer
    assert 'role="alert"' in offer
    signed_in.post(consent_url + "/send", {"credential-microcredential": str(revoked_id)})
    sent = verifier.decrypted()[1]["vp_token"]["microcredential"][0]
    assert _disclosed(sent, verifier, clock)["title"] == "Revoked Course"


def test_an_expired_credential_is_warned(app, signed_in, issuer, clock):
    signed_in.add(issuer.issue(signed_in.holder_jwk(app), exp=clock.now + 60))
    clock.now += 120
    _consent(signed_in, _verifier(app, clock))
    assert "Expired: no longer valid" in signed_in.last_page
    assert "checked>" not in re.search(r'name="credential-microcredential"[^>]*>', signed_in.last_page).group(0)


def test_several_credentials_answer_a_multiple_query_each_bound_to_the_nonce_and_client_id(app, signed_in, issuer,
                                                                                             clock):
    ids = [int(signed_in.add(issuer.issue(signed_in.holder_jwk(app), {**CLAIMS, "title": title}))
               .headers["Location"].rsplit("/", 1)[1]) for title in ("Course A", "Course B")]
    verifier = _verifier(app, clock, query=dcql("title", multiple=True))
    consent_url = _consent(signed_in, verifier)
    assert 'type="checkbox" name="credential-microcredential"' in signed_in.last_page
    signed_in.post(consent_url + "/send", {"credential-microcredential": [str(i) for i in ids]})
    presentations = verifier.decrypted()[1]["vp_token"]["microcredential"]
    assert sorted(_disclosed(p, verifier, clock)["title"] for p in presentations) == ["Course A", "Course B"]


def test_credential_set_alternatives_are_a_choice(app, held, clock):
    client, credential_id = held
    query = {"credentials": [dcql("title")["credentials"][0],
                             {"id": "pid", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:eudi:pid:1"]}}],
             "credential_sets": [{"options": [["pid"], ["microcredential"]]}]}
    verifier = _verifier(app, clock, query=query)
    consent_url = _consent(client, verifier)
    assert "Choose one of these" in client.last_page
    assert "(you hold none)" in client.last_page
    client.post(consent_url + "/send", {"set-0": "1", "credential-microcredential": str(credential_id)})
    assert list(verifier.decrypted()[1]["vp_token"]) == ["microcredential"]


def test_decline_sends_access_denied_and_follows_the_verifiers_redirect(app, held, clock):
    client, _ = held
    verifier = _verifier(app, clock)
    consent_url = _consent(client, verifier)
    declined = client.post(consent_url + "/decline")
    assert declined.status_code == 200
    assert _follows(client.last_page) == DONE
    assert verifier.posts == [{"error": ["access_denied"], "error_description": ["the holder declined"],
                               "state": ["st-1"]}]


def test_without_a_redirect_the_wallet_says_sent(app, held, clock):
    client, credential_id = held
    verifier = _verifier(app, clock, answer={})
    consent_url = _consent(client, verifier)
    assert client.post(consent_url + "/send", {"credential-microcredential": str(credential_id)}).status_code == 200
    assert f"Sent to {HOST}" in client.last_page
    assert _follows(client.last_page) is None



# --- the real verifier ------------------------------------------------------------------------------


def _real_verifier(tmp_path, **config):
    from cryptography.hazmat.primitives import serialization

    from tests.x509_pki import pem
    from verifier import create_app as create_verifier

    chain, key_file = tmp_path / "access-chain.pem", tmp_path / "access-key.pem"
    chain.write_bytes(pem(PKI.seal, PKI.intermediate))
    key_file.write_bytes(PKI.seal_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                    serialization.NoEncryption()))
    key_file.chmod(0o600)
    return create_verifier({"TESTING": True, "VERIFIER_PUBLIC_URL": f"https://{HOST}",
                            "VERIFIER_TRUSTED_ROOTS": "did:example:root", "DATA_DIR": str(tmp_path / "verifier"),
                            "RPC_URL": "http://127.0.0.1:9", "VERIFIER_X509_CHAIN": str(chain),
                            "VERIFIER_X509_KEY": str(key_file), **config})


def _through(test_client):
    def send(method, url, headers, body):
        parts = urlsplit(url)
        assert parts.netloc == HOST, f"the wallet called {parts.netloc}"
        response = test_client.open(parts.path + (f"?{parts.query}" if parts.query else ""), method=method,
                                    base_url=f"https://{HOST}", headers=dict(headers), data=body)
        return HttpResponse(response.status_code, dict(response.headers), response.get_data())

    return send


@pytest.mark.parametrize("prefix", ["x509_hash", "x509_san_dns"])
def test_the_real_verifier_certified_by_its_access_certificate_gets_a_bound_encrypted_answer(app, held, clock,
                                                                                             tmp_path, prefix):
    from verifier import openid4vp as verifier_module

    client, credential_id = held
    clock.now = int(time.time())  # the verifier dates its request object by its own clock
    client.submit("/auth/signin", "/auth/signin", {"username": "ana", "password": PASSWORD})
    verifier_app = _real_verifier(tmp_path, VERIFIER_CLIENT_ID_PREFIX=prefix)
    employer = verifier_app.test_client()
    created = employer.post("/openid4vp/new", data={"claim": ["title", "ects"]}, base_url=f"https://{HOST}")
    assert created.status_code == 303, created.get_data(as_text=True)
    pending = verifier_module.transaction(verifier_app, created.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    with verifier_app.test_request_context(base_url=f"https://{HOST}"):
        link = verifier_module.request_link(pending)
    app.config["HTTP_TRANSPORT"] = _through(employer)
    review = _open(client, link)
    assert review.status_code == 302, client.last_page
    client.get(review.headers["Location"])
    assert "Demo Employer GmbH (DE) asks to see" in client.last_page
    assert f"Certified by {ANCHOR}" in client.last_page
    sent = client.post(review.headers["Location"] + "/send", {"credential-microcredential": str(credential_id)})
    assert sent.status_code == 200
    assert _follows(client.last_page).startswith(f"https://{HOST}/openid4vp/done?response_code=")
    (answer,) = verifier_module.transaction(verifier_app, pending.page_id).answers
    assert answer.result.claims == {"title": CLAIMS["title"], "ects": CLAIMS["ects"]}
    assert answer.result.check("holder_binding").status == "passed"  # aud = the full client_id, the nonce
    assert answer.result.check("disclosures").status == "passed"


def test_a_bad_verifier_anchor_file_stops_the_wallet_at_start_up(tmp_path):
    from credentials.errors import ConfigurationError
    from wallet import create_app

    bad = tmp_path / "anchors.pem"
    bad.write_text("not a certificate")
    with pytest.raises(ConfigurationError, match="MICROCRED_WALLET_VERIFIER_TRUST_ANCHORS"):
        create_app({"TESTING": True, "DATA_DIR": str(tmp_path / "var"), "WALLET_VERIFIER_TRUST_ANCHORS": str(bad)})


def test_an_sd_jwt_vc_and_a_whole_open_badge_in_one_answer_bound_to_the_same_nonce_and_client_id(app, held, issuer,
                                                                                                 clock):
    """Two formats, two issuers: the micro-credential with its KB-JWT, the badge (vc+jwt) in a VP the holder signs."""
    import copy
    from pathlib import Path

    from credentials.dids import did_key_from_public_key, resolve_public_key
    from credentials.jose import PublicKey, verify_jws
    from credentials.jwt_vc import sign_vc_jwt

    client, credential_id = held
    badge = json.loads((Path(__file__).resolve().parents[1] / "vectors" / "ob3-annex"
                        / "basic-open-badge-credential.json").read_text(encoding="utf-8"))
    badge = copy.deepcopy(badge)
    badge["issuer"] = {"id": issuer.did, "type": ["Profile"], "name": "Example Corp"}
    badge["credentialSubject"]["id"] = did_key_from_public_key(PublicKey.from_jwk(client.holder_jwk(app)))
    added = client.add(sign_vc_jwt(badge, issuer.key, kid=issuer.kid))
    assert added.status_code == 302, client.last_page
    badge_id = int(added.headers["Location"].rsplit("/", 1)[1])
    badge_query = {"id": "badge", "format": "jwt_vc_json", "meta": {"type_values": [["OpenBadgeCredential"]]}}
    query = {"credentials": [dcql("title")["credentials"][0], badge_query]}
    verifier = _verifier(app, clock, query=query)
    consent_url = _consent(client, verifier)
    assert "shared whole" in client.last_page
    client.post(consent_url + "/send", {"credential-microcredential": str(credential_id),
                                        "credential-badge": str(badge_id)})
    vp_token = verifier.decrypted()[1]["vp_token"]
    assert _disclosed(vp_token["microcredential"][0], verifier, clock) == {"title": CLAIMS["title"]}
    (vp,) = vp_token["badge"]
    kid = json.loads(base64.urlsafe_b64decode(vp.split(".")[0] + "==="))["kid"]
    payload = verify_jws(vp, resolve_public_key(kid), expected_typ=("JWT",)).payload
    assert payload["aud"] == verifier.client_id
    assert payload["nonce"] == "n-0S6_WzA2Mj"
    assert payload["vp"]["verifiableCredential"][0].count(".") == 2


def test_the_consent_forms_survive_hostile_input(app, signed_in, issuer, clock):
    """Every field of the consent page (set choice, claim ticks, credential choice) with each hostile value: never a
    500 or a traceback. The verifier refuses every answer, so the request stays open for the next value."""
    from tests.hostile import crawl_forms

    for title in ("Course A", "Course B"):
        signed_in.add(issuer.issue(signed_in.holder_jwk(app), {**CLAIMS, "title": title}))
    query = dcql("title", "ects", multiple=True)
    query["credentials"][0]["claim_sets"] = [["title", "ects"], ["title"]]
    query["credentials"].append({"id": "pid", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:eudi:pid:1"]}})
    query["credential_sets"] = [{"options": [["microcredential"], ["pid"]]}]
    verifier = _verifier(app, clock, query=query, answer_status=400)
    consent_url = _consent(signed_in, verifier)
    findings = crawl_forms(signed_in.client, [consent_url], skip_actions=(consent_url + "/decline",))
    assert not findings, "\n".join(map(str, findings))
    assert verifier.posts  # the hostile values did reach the send


@pytest.mark.parametrize("allowed, answerable", [([7, 8], True), ([5, 6], False)])
def test_values_restrict_which_credentials_answer(app, held, clock, allowed, answerable):
    client, _ = held  # its EQF level is 7
    query = dcql("title")
    query["credentials"][0]["claims"].append({"path": ["eqf_level"], "values": allowed})
    _consent(client, _verifier(app, clock, query=query))
    page = client.last_page
    assert f"only if it is {allowed[0]}, {allowed[1]}" in page
    assert ("Share with" in page) is answerable
    assert ("None of your credentials has this" in page) is not answerable


def test_a_pending_request_kept_by_an_earlier_wallet_version_is_gone_not_a_500(app, held, clock):
    client, _ = held
    consent_url = _consent(client, _verifier(app, clock))
    from wallet.db import DB_FILE, open_database

    db = open_database(f"{app.config['DATA_DIR']}/{DB_FILE}")
    try:  # the shape oid4vp_client kept before issue 13
        db.execute("UPDATE vp_requests SET request = ?", [json.dumps({"client_id": "redirect_uri:x", "queries": []})])
        db.conn.commit()
    finally:
        db.close()
    assert client.get(consent_url).status_code == 410
    assert "scan the verifier" in client.last_page


def test_the_haip_vp_scheme_opens_like_openid4vp(app, held, clock):
    client, _ = held
    verifier = _verifier(app, clock)
    response = _open(client, verifier.link().replace("openid4vp://", "haip-vp://", 1))
    assert response.status_code == 302, client.last_page


def test_a_credential_revoked_since_its_last_check_is_warned_on_the_consent_page(app, signed_in, issuer, clock):
    """The stored badge said valid; it is older than WALLET_STATUS_MAX_AGE, so the consent page checks it again."""
    raw = issuer.issue(signed_in.holder_jwk(app))
    revoked: set[str] = set()
    app.config["TRUST_CHECK"] = _revoking_trust_check(revoked)
    credential_id = int(signed_in.add(raw).headers["Location"].rsplit("/", 1)[1])
    revoked.add(raw)  # the issuer revokes it afterwards
    clock.now += app.config["WALLET_STATUS_MAX_AGE"] + 1
    _consent(signed_in, _verifier(app, clock))
    offer = re.search(rf'name="credential-microcredential" value="{credential_id}".*?</label>', signed_in.last_page,
                      re.S).group(0)
    assert "Revoked by its issuer" in offer
    assert "checked" not in offer.split(">", 1)[0]


def test_a_query_without_claims_gets_the_credential_with_no_selective_disclosure(app, held, clock):
    """§6.4.1: no ``claims`` asks for nothing selectively disclosable: the SD-JWT and its KB-JWT only."""
    client, credential_id = held
    verifier = _verifier(app, clock, query=dcql())
    consent_url = _consent(client, verifier)
    assert "Proof that you hold this credential: its issuer, type and validity, no other claim" in client.last_page
    client.post(consent_url + "/send", {"credential-microcredential": str(credential_id)})
    assert _disclosed(verifier.decrypted()[1]["vp_token"]["microcredential"][0], verifier, clock) == {}
