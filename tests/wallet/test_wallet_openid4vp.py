"""OpenID4VP: the wallet answers the verifier's real requests (verifier.openid4vp) and
refuses malformed, expired, empty and cross-host ones; request objects by reference."""

from __future__ import annotations

import json
import re
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from wallet_helpers import CLAIMS, NOW, PASSWORD, db_rows

from credentials.dids import did_key_from_public_key, verification_method_id
from credentials.jose import PrivateKey, b64url_encode, sign_jws
from credentials.verification import Policy, StatusEvidence, TrustAnswer, TrustLink
from verifier import openid4vp as verifier_module
from wallet.checking import core_trust_check
from wallet.transport import HttpResponse

VERIFIER = "http://127.0.0.1:5002"
MICROCRED_VCT = "urn:microcred:vct:micro-credential:1"


@pytest.fixture(autouse=True)
def _dev_loopback(app):
    """The verifier here is on loopback over http: allowed only by the development setting."""
    app.config["DEV_LOOPBACK"] = True


@pytest.fixture
def verifier_app(tmp_path):
    from verifier import create_app

    return create_app({"TESTING": True, "VERIFIER_PUBLIC_URL": VERIFIER, "VERIFIER_TRUSTED_ROOTS": "did:example:root",
                       "DATA_DIR": str(tmp_path / "verifier"),
                       "RPC_URL": "http://127.0.0.1:9"})


def _route(test_client, log=None, host="127.0.0.1:5002"):
    def send(method, url, headers, body):
        parts = urlsplit(url)
        assert parts.netloc == host, f"the wallet called {parts.netloc}"
        if log is not None:
            log.append((method, parts.path, body))
        response = test_client.open(parts.path + (f"?{parts.query}" if parts.query else ""), method=method,
                                    headers=dict(headers), data=body)
        return HttpResponse(response.status_code, dict(response.headers), response.get_data())

    return send


def _open(client, link):
    """What the phone does with a request link: the confirmation page, then Continue."""
    client.get("/openid4vp/review?" + urlencode({"request": link}))
    return client.post("/openid4vp/review", {"request": link})


def test_opening_a_link_contacts_nobody_until_continue(app, held):
    client, _ = held
    called = []
    app.config["HTTP_TRANSPORT"] = lambda *args: called.append(args)
    link = "openid4vp://?" + urlencode({"client_id": f"redirect_uri:{VERIFIER}/cb", "request_uri": f"{VERIFIER}/r/1"})
    page = client.get("/openid4vp/review?" + urlencode({"request": link}))
    assert page.status_code == 200
    assert "Continue" in client.last_page
    assert called == []
    forged = client.client.post("/openid4vp/review", data={"request": link})  # a cross-site POST has no token
    assert forged.status_code == 400
    assert called == []


def _verifier_request(verifier_app, claims=("title", "ects"), response_mode="direct_post.jwt"):
    """The employer's "new request" form on the real verifier; (its client, the transaction, the QR's link)."""
    client = verifier_app.test_client()
    created = client.post("/openid4vp/new", data={"claim": list(claims), "response_mode": response_mode})
    assert created.status_code == 303, created.get_data(as_text=True)
    page_id = created.headers["Location"].rstrip("/").rsplit("/", 1)[1]
    pending = verifier_module.transaction(verifier_app, page_id)
    with verifier_app.test_request_context(base_url=VERIFIER):
        return client, pending, verifier_module.request_link(pending)


@pytest.mark.parametrize("response_mode", ["direct_post.jwt", "direct_post"])
def test_answer_the_verifiers_request(app, held, clock, verifier_app, response_mode):
    client, credential_id = held
    clock.now = int(time.time())  # the verifier checks the KB-JWT against its own clock
    client.submit("/auth/signin", "/auth/signin", {"username": "ana", "password": PASSWORD})  # session aged out
    verifier_client, pending, url = _verifier_request(verifier_app, response_mode=response_mode)
    log = []
    app.config["HTTP_TRANSPORT"] = _route(verifier_client, log)
    review = _open(client, url)
    assert review.status_code == 302, client.last_page
    consent_url = review.headers["Location"]
    client.get(consent_url)
    page = client.last_page
    assert "127.0.0.1 asks to see" in page
    assert "Unverified: only its web address is known." in page
    assert "Title of the micro-credential" in page
    assert "Workload" in page
    assert "Data Protection Law in Practice" in page
    tokens = client.form_tokens()
    sent = client.post(consent_url + "/send", {f"credential-{verifier_module.CREDENTIAL_QUERY_ID}": str(credential_id)})
    assert sent.status_code == 200, client.last_page  # then on to the verifier's /done (same device)
    assert f'content="0; url={VERIFIER}/openid4vp/done?response_code=' in client.last_page
    posted = parse_qs(log[-1][2].decode())
    assert sorted(posted) == (["response"] if response_mode == "direct_post.jwt" else ["state", "vp_token"])
    answered = verifier_module.transaction(verifier_app, pending.page_id)
    (answer,) = answered.answers
    result = answer.result
    passed = {c.check for c in result.checks if c.status == "passed"}
    assert {"signature", "disclosures", "holder_binding", "schema"} <= passed
    assert result.claims == {"title": "Data Protection Law in Practice", "ects": 4}
    again = client.client.post(consent_url + "/send", data={
        **tokens, f"credential-{verifier_module.CREDENTIAL_QUERY_ID}": str(credential_id)})
    assert again.status_code == 409  # double submit
    client.get("/shares")
    assert "Sent to redirect_uri:http://127.0.0.1:5002/openid4vp/response" in client.last_page


def test_decline_tells_the_verifier(app, held, clock, verifier_app):
    client, _ = held
    clock.now = int(time.time())  # the verifier's request object is dated by its own clock
    client.submit("/auth/signin", "/auth/signin", {"username": "ana", "password": PASSWORD})  # session aged out
    verifier_client, pending, url = _verifier_request(verifier_app)
    app.config["HTTP_TRANSPORT"] = _route(verifier_client)
    consent_url = _open(client, url).headers["Location"]
    client.get(consent_url)
    assert client.post(consent_url + "/decline").status_code == 200
    assert f'content="0; url={VERIFIER}/openid4vp/done?response_code=' in client.last_page
    answered = verifier_module.transaction(verifier_app, pending.page_id)
    assert answered.wallet_error == "the holder declined"
    assert answered.answers == []
    assert db_rows(app, "SELECT COUNT(*) FROM shares")[0][0] == 0


def _by_value(**overrides):
    params = {
        "client_id": f"redirect_uri:{VERIFIER}/cb", "response_type": "vp_token", "response_mode": "direct_post",
        "response_uri": f"{VERIFIER}/cb", "nonce": "n-123", "state": "s-1",
        "dcql_query": json.dumps(
            {"credentials": [{"id": "q", "format": "dc+sd-jwt", "meta": {"vct_values": [MICROCRED_VCT]},
                              "claims": [{"path": ["title"]}]}]}),
    }
    params.update(overrides)
    return "openid4vp://?" + urlencode({k: v for k, v in params.items() if v is not None})


@pytest.mark.parametrize("overrides, message", [
    ({"response_uri": "https://elsewhere.example/cb", "client_id": f"redirect_uri:{VERIFIER}/cb"}, "differs from"),
    ({"response_uri": "https://elsewhere.example/cb", "client_id": "redirect_uri:https://elsewhere.example/cb2"},
     "differs from"),
    ({"dcql_query": json.dumps({"credentials": []})}, "DCQL query is not valid"),
    ({"dcql_query": json.dumps({"credentials": [{"id": "q", "format": "dc+sd-jwt"}]})}, "DCQL query is not valid"),
    ({"dcql_query": None}, "asks for no credential"),
    ({"dcql_query": "{not json"}, "not valid JSON"),
    ({"response_type": "code"}, "expected response_type vp_token"),
    ({"response_mode": "fragment"}, "expected response_mode direct_post"),
    ({"nonce": None}, "no valid &#39;nonce&#39;"),
    ({"client_id": "some-verifier"}, "unsupported client identifier"),
    ({"response_uri": "http://verifier.example/cb", "client_id": "redirect_uri:http://verifier.example/cb"},
     "must use https"),
])
def test_malformed_requests_are_refused(held, overrides, message):
    client, _ = held
    response = _open(client, _by_value(**overrides))
    assert response.status_code == 400
    assert "This request was refused" in client.last_page, client.last_page
    assert message in client.last_page, client.last_page


def test_response_uri_on_another_host_than_a_did_client(app, held):
    client, _ = held
    verifier_key = PrivateKey.generate("ES256")
    did = did_key_from_public_key(verifier_key.public_key())
    request_object = {
        "client_id": f"decentralized_identifier:{did}", "response_type": "vp_token", "response_mode": "direct_post",
        "response_uri": "https://attacker.example/collect", "nonce": "n", "exp": NOW + 60,
        "dcql_query": {"credentials": [{"id": "q", "format": "dc+sd-jwt", "meta": {"vct_values": [MICROCRED_VCT]},
                                        "claims": [{"path": ["title"]}]}]},
    }
    token = sign_jws(request_object, verifier_key,
                     header={"typ": "oauth-authz-req+jwt", "kid": verification_method_id(did)})
    app.config["HTTP_TRANSPORT"] = lambda method, url, headers, body: HttpResponse(200, {}, token.encode())
    link = "openid4vp://?" + urlencode({"client_id": f"decentralized_identifier:{did}",
                                        "request_uri": "https://verifier.example/request/1"})
    assert _open(client, link).status_code == 400
    assert "another host than the verifier" in client.last_page


def test_signed_request_by_reference_and_expiry(app, held, clock):
    client, credential_id = held
    verifier_key = PrivateKey.generate("ES256")
    did = did_key_from_public_key(verifier_key.public_key())
    request_object = {
        "client_id": f"decentralized_identifier:{did}", "response_type": "vp_token", "response_mode": "direct_post",
        "response_uri": "https://verifier.example/cb", "nonce": "n-9", "state": "st", "exp": clock.now + 60,
        "client_metadata": {"client_name": "Acme <b>Hiring</b>"},
        "dcql_query": {"credentials": [{"id": "q", "format": "dc+sd-jwt", "meta": {"vct_values": [MICROCRED_VCT]},
                                        "claims": [{"path": ["learning_outcomes", None]}]}]},
    }
    posted = []

    def transport(method, url, headers, body):
        if method == "GET":
            return HttpResponse(200, {}, sign_jws(request_object, verifier_key,
                                                  header={"typ": "oauth-authz-req+jwt",
                                                          "kid": verification_method_id(did)}).encode())
        posted.append(body)
        return HttpResponse(200, {"Content-Type": "application/json"}, b"{}")

    app.config["HTTP_TRANSPORT"] = transport
    link = "openid4vp://?" + urlencode({"client_id": f"decentralized_identifier:{did}",
                                        "request_uri": "https://verifier.example/request/1"})
    consent_url = _open(client, link).headers["Location"]
    client.get(consent_url)
    assert "verifier.example asks to see" in client.last_page
    assert "Learning outcomes (all)" in client.last_page
    assert "Acme &lt;b&gt;Hiring&lt;/b&gt;" in client.last_page
    assert client.post(consent_url + "/send", {"credential-q": str(credential_id)}).status_code == 200
    form = parse_qs(posted[0].decode())
    presentation = json.loads(form["vp_token"][0])["q"][0]
    from credentials.sd_jwt import KeyBindingPolicy
    from credentials.sd_jwt_vc import verify_sd_jwt_vc

    verified = verify_sd_jwt_vc(presentation, now=clock.now, key_binding=KeyBindingPolicy(
        audience=f"decentralized_identifier:{did}", nonce="n-9"))
    assert verified.disclosed == {"learning_outcomes": [
        "Apply the GDPR to research data", "Draft a data protection impact assessment",
        "Advise on international transfers"]}
    assert form["state"] == ["st"]

    request_object["exp"] = clock.now - 1
    assert _open(client, link).status_code == 400
    assert "expired" in client.last_page


def test_pending_request_expires(app, held, clock):
    client, credential_id = held
    consent_url = _open(client, _by_value()).headers["Location"]
    client.get(consent_url)
    clock.now += 601  # past the pending request's 10 minutes, within the session's 30-minute idle timeout
    assert client.post(consent_url + "/send", {"credential-q": str(credential_id)}).status_code == 410


def test_no_matching_credential(app, held, verifier_app):
    client, _ = held
    link = _by_value(dcql_query=json.dumps({"credentials": [{"id": "q", "format": "dc+sd-jwt",
                                                            "meta": {"vct_values": ["urn:other:type"]}}]}))
    consent_url = _open(client, link).headers["Location"]
    client.get(consent_url)
    assert "None of your credentials has this" in client.last_page
    assert "Share with" not in client.last_page


def test_unsigned_request_object_only_for_redirect_uri_clients(app, held):
    client, _ = held
    header = b64url_encode(json.dumps({"alg": "none"}).encode())
    body = b64url_encode(json.dumps({"client_id": f"redirect_uri:{VERIFIER}/cb", "response_type": "vp_token",
                                     "response_mode": "direct_post", "response_uri": f"{VERIFIER}/cb", "nonce": "n",
                                     "dcql_query": {"credentials": [{"id": "q", "format": "dc+sd-jwt",
                                                                     "meta": {"vct_values": [MICROCRED_VCT]}}]}})
                      .encode())
    app.config["HTTP_TRANSPORT"] = lambda *a: HttpResponse(200, {}, f"{header}.{body}.".encode())
    good = "openid4vp://?" + urlencode({"client_id": f"redirect_uri:{VERIFIER}/cb", "request_uri": f"{VERIFIER}/r/1"})
    assert _open(client, good).status_code == 302
    did = did_key_from_public_key(PrivateKey.generate("ES256").public_key())
    forged = "openid4vp://?" + urlencode({"client_id": f"decentralized_identifier:{did}",
                                          "request_uri": f"{VERIFIER}/r/1"})
    assert _open(client, forged).status_code == 400


def test_the_consent_page_names_the_issuer_as_the_trust_registry_does(app, signed_in, issuer, clock):
    """Display spoofing (issue 10, B13) on the consent page: the registry's legal name, not the stated one."""
    registry_name, lookalike = "Universidade Exemplo do Porto", "Universidade Exernplo"

    def trust(did, vct, at):
        return TrustAnswer(True, "accredited", chain=(TrustLink(did, registry_name, "issuer"),
                                                      TrustLink("did:example:root", "Ministry", "root")))

    app.config["TRUST_CHECK"] = core_trust_check(Policy(trusted_roots=frozenset({"did:example:root"}),
                                                        status_required=False),
                                                 trust, lambda did, uri: StatusEvidence(None))
    claims = {**CLAIMS, "awarding_body": [{"name": lookalike, "id": "https://uni.example", "country": "PT"}]}
    assert signed_in.add(issuer.issue(signed_in.holder_jwk(app), claims)).status_code == 302
    clock.now = int(time.time())
    signed_in.submit("/auth/signin", "/auth/signin", {"username": "ana", "password": PASSWORD})
    review = _open(signed_in, _by_value())
    assert review.status_code == 302, signed_in.last_page
    signed_in.get(review.headers["Location"])
    choice = re.search(r'<label class="choice"><input type="radio" name="credential-q".*?</label>',
                       signed_in.last_page, re.S).group(0)
    assert registry_name in choice
    assert lookalike not in choice
    assert "(name in the trust registry)" in choice


def test_the_answer_is_sent_without_holding_the_wallets_write_lock(app, held, clock, verifier_app):
    """The verifier's server (anyone's) may take MICROCRED_HTTP_TIMEOUT to answer; the wallet's SQLite write lock
    was held over that POST, stopping every other learner's requests. A failed send is still taken back whole."""
    import sqlite3
    from pathlib import Path

    from wallet.db import DB_FILE

    def writer_blocked() -> bool:
        connection = sqlite3.connect(Path(app.config["DATA_DIR"]) / DB_FILE, timeout=0)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.rollback()
            return False
        except sqlite3.OperationalError:
            return True
        finally:
            connection.close()

    client, credential_id = held
    clock.now = int(time.time())
    client.submit("/auth/signin", "/auth/signin", {"username": "ana", "password": PASSWORD})  # session aged out
    verifier_client, pending, url = _verifier_request(verifier_app)
    route, blocked, down = _route(verifier_client), [], [True]

    def transport(method, address, headers, body):
        if method == "POST":
            blocked.append(writer_blocked())
            if down[0]:
                return HttpResponse(503, {}, b"")
        return route(method, address, headers, body)

    app.config["HTTP_TRANSPORT"] = transport
    consent_url = _open(client, url).headers["Location"]
    client.get(consent_url)
    tokens = client.form_tokens()
    choice = {f"credential-{verifier_module.CREDENTIAL_QUERY_ID}": str(credential_id)}
    failed = client.post(consent_url + "/send", choice)
    assert failed.status_code == 502
    assert "nothing was shared" in client.last_page
    assert db_rows(app, "SELECT COUNT(*) FROM shares") == [(0,)]
    down[0] = False
    sent = client.client.post(consent_url + "/send", data={**tokens, **choice})  # the same form, sent again
    assert sent.status_code == 200, sent.get_data(as_text=True)
    assert blocked == [False, False]
    assert db_rows(app, "SELECT COUNT(*) FROM shares") == [(1,)]
    assert len(verifier_module.transaction(verifier_app, pending.page_id).answers) == 1
