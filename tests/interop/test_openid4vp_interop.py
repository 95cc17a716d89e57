"""OpenID4VP 1.0 + HAIP 1.0 with an independent implementation in both roles (see openid4vp_world.py).

Its verifier against microcred's wallet: a request by reference, signed (JAR, ``x509_hash`` or
``x509_san_dns``, the chain in ``x5c``) by a certificate whose CA the wallet trusts
(``MICROCRED_WALLET_VERIFIER_TRUST_ANCHORS``), asking for a micro-credential with DCQL and an
encrypted answer (``direct_post.jwt``, ECDH-ES P-256). The real wallet app reads it over real HTTP,
the learner consents, the wallet answers; their verifier decrypts the JWE and checks the SD-JWT VC,
the KB-JWT (nonce, ``aud`` = the full client_id) and the disclosed claims.

microcred's verifier against its wallet: microcred's verifier (served on a free port, signed by an
access certificate, on the real Anvil with an accredited issuer) makes the request; their wallet
resolves it (checking the JAR's x5c chain to the CA), presents a credential microcred's issuer code
signed with @sd-jwt, encrypts the answer to the verifier's ephemeral key with jose; microcred's
verifier says verified, and refuses what was not asked for.
"""

from __future__ import annotations

import base64
import html
import json
import re
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from credentials.microcredential import MICRO_CREDENTIAL_VCT
from tests.interop.openid4vp_world import (
    ASKED,
    CA_NAME,
    ORGANISATION,
    NodeVerifier,
    access_pki,
    chain_files,
    free_port,
    needs_node,
    new_request,
)
from tests.wallet.wallet_helpers import CLAIMS, Issuer, WalletClient

pytestmark = needs_node

_CHECKED = re.compile(r'<input type="(checkbox|radio)" name="([^"]+)" value="([^"]*)"([^>]*)>')


def dcql(*claims: str) -> dict:
    return {"credentials": [{"id": "microcredential", "format": "dc+sd-jwt",
                             "meta": {"vct_values": [MICRO_CREDENTIAL_VCT]},
                             "claims": [{"path": [claim]} for claim in claims]}]}


def consent_defaults(page: str) -> dict[str, list[str]]:
    """What a browser submits from the consent page as shown: the ticked, enabled boxes and radios."""
    chosen: dict[str, list[str]] = {}
    for _, field, value, rest in _CHECKED.findall(page):
        if " checked" in rest and " disabled" not in rest:
            chosen.setdefault(field, []).append(html.unescape(value))
    return chosen


@pytest.fixture
def issuer() -> Issuer:
    from credentials.dids import did_key_from_public_key, verification_method_id
    from credentials.jose import PrivateKey

    key = PrivateKey.generate("ES256")
    did = did_key_from_public_key(key.public_key())
    return Issuer(key, did, verification_method_id(did))


@pytest.fixture
def wallet(tmp_path, pki, issuer):
    """microcred's wallet (test client, real outbound HTTP to loopback) trusting the interop CA, with one credential."""
    from wallet import create_app

    _, _, anchors = chain_files(pki, tmp_path)
    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path / "wallet"), "ARGON2_TIME_COST": 1,
                      "ARGON2_MEMORY_COST": 8 * 1024, "ARGON2_PARALLELISM": 1, "SESSION_COOKIE_SECURE": False,
                      "PUBLIC_URL": "http://127.0.0.1:5001", "DEV_LOOPBACK": True,
                      "WALLET_VERIFIER_TRUST_ANCHORS": str(anchors)})
    client = WalletClient(app.test_client())
    client.signup()
    added = client.add(issuer.issue(client.holder_jwk(app)))
    assert added.status_code == 302, client.last_page
    return app, client


@pytest.fixture
def node_verifier():
    started: list[NodeVerifier] = []

    def start(pki, issuer, claims=ASKED, *, query=None, **options) -> NodeVerifier:
        verifier = NodeVerifier.start(pki, issuer.key.public_key().to_jwk(), query or dcql(*claims), **options)
        started.append(verifier)
        return verifier

    yield start
    for verifier in started:
        verifier.stop()


def _open_and_consent(client: WalletClient, url: str):
    """The learner opens the link, presses Continue, and shares what the consent page proposes."""
    client.get("/openid4vp/review?" + urlencode({"request": url}))
    opened = client.post("/openid4vp/review", {"request": url})
    assert opened.status_code == 302, client.last_page
    consent_url = opened.headers["Location"]
    page = client.get(consent_url).get_data(as_text=True)
    return page, client.post(consent_url.rstrip("/") + "/send", consent_defaults(page))


# --- their verifier, our wallet ---------------------------------------------------------------------------


def test_our_wallet_answers_their_signed_x509_hash_request_with_an_encrypted_answer(wallet, pki, issuer,
                                                                                     node_verifier):
    _, client = wallet
    verifier = node_verifier(pki, issuer)
    assert verifier.ready["client_id"].startswith("x509_hash:")
    consent, sent = _open_and_consent(client, verifier.ready["url"])
    assert ORGANISATION in consent
    assert CA_NAME in consent
    answer = verifier.answer()
    assert answer["verified"] is True, answer
    assert answer["form_keys"] == ["response"]
    header = answer["jwe_header"]
    assert header["alg"] == "ECDH-ES"
    assert header["enc"] in ("A128GCM", "A256GCM")
    assert header["epk"]["crv"] == "P-256"
    (presented,) = answer["presentations"]["microcredential"]
    assert presented["typ"] == "dc+sd-jwt"
    assert presented["kb"]["aud"] == verifier.ready["client_id"]
    assert presented["kb"]["nonce"] == verifier.ready["nonce"]
    for claim in ASKED:
        assert presented["claims"][claim] == CLAIMS[claim]
    assert "learner" not in presented["claims"]  # nothing beyond what was asked
    assert sent.status_code == 200  # the 'sent' page, which takes the browser on to their redirect_uri
    assert f'content="0; url={verifier.ready["base"]}/done#response_code=' in html.unescape(client.last_page)


def test_our_wallet_encrypts_with_a256gcm_when_their_verifier_offers_only_that(wallet, pki, issuer,
                                                                                node_verifier):
    _, client = wallet
    verifier = node_verifier(pki, issuer, enc_values=["A256GCM"])
    _open_and_consent(client, verifier.ready["url"])
    answer = verifier.answer()
    assert answer["verified"] is True, answer
    assert answer["jwe_header"]["enc"] == "A256GCM"


def test_our_wallet_answers_their_plain_direct_post_request(wallet, pki, issuer, node_verifier):
    _, client = wallet
    verifier = node_verifier(pki, issuer, response_mode="direct_post")
    _open_and_consent(client, verifier.ready["url"])
    answer = verifier.answer()
    assert answer["verified"] is True, answer
    assert answer["form_keys"] == ["state", "vp_token"]


def test_our_wallet_answers_their_x509_san_dns_request(wallet, pki, issuer, node_verifier):
    _, client = wallet
    verifier = node_verifier(pki, issuer, client_id_prefix="x509_san_dns", dns_name="127.0.0.1")
    assert verifier.ready["client_id"] == "x509_san_dns:127.0.0.1"
    _open_and_consent(client, verifier.ready["url"])
    answer = verifier.answer()
    assert answer["verified"] is True, answer
    assert answer["presentations"]["microcredential"][0]["kb"]["aud"] == "x509_san_dns:127.0.0.1"


def test_our_wallet_refuses_their_request_certified_by_a_ca_it_does_not_trust(wallet, issuer, node_verifier):
    _, client = wallet
    stranger = access_pki(ORGANISATION, "127.0.0.1", ca_name="Unknown Access CA")
    verifier = node_verifier(stranger, issuer, timeout_ms=5_000)
    client.get("/openid4vp/review?" + urlencode({"request": verifier.ready["url"]}))
    refused = client.post("/openid4vp/review", {"request": verifier.ready["url"]})
    assert refused.status_code in (400, 403)
    assert "certif" in client.last_page.lower()
    events = verifier.events()
    assert [e["event"] for e in events] == ["request_fetched", "timeout"]  # read once, never answered


def test_our_wallet_refuses_their_request_when_it_trusts_no_verifier_ca(tmp_path, issuer, pki, node_verifier):
    from wallet import create_app

    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path / "bare"), "ARGON2_TIME_COST": 1,
                      "ARGON2_MEMORY_COST": 8 * 1024, "ARGON2_PARALLELISM": 1, "SESSION_COOKIE_SECURE": False,
                      "PUBLIC_URL": "http://127.0.0.1:5001", "DEV_LOOPBACK": True})
    client = WalletClient(app.test_client())
    client.signup()
    verifier = node_verifier(pki, issuer, timeout_ms=5_000)
    client.get("/openid4vp/review?" + urlencode({"request": verifier.ready["url"]}))
    refused = client.post("/openid4vp/review", {"request": verifier.ready["url"]})
    assert refused.status_code in (400, 403)
    assert "this wallet trusts no authority that certifies verifiers" in html.unescape(client.last_page)
    assert urlsplit(verifier.ready["url"]).scheme == "openid4vp"


# --- our verifier, their wallet ---------------------------------------------------------------------------

def _their_answer(link: str, pki, issuer, **options) -> dict:
    from tests.interop.openid4vp_world import last_json, node_wallet, private_jwk

    return last_json(node_wallet("answer", {"url": link, "anchors_pem": pki.anchors_pem.decode("ascii"),
                                            "credential": issuer.credential(), "holder_jwk": private_jwk(issuer.holder),
                                            **options}))


@pytest.mark.integration
def test_their_wallet_reads_our_signed_request(our_verifier, pki):
    from tests.interop.openid4vp_world import last_json, node_wallet

    _, base = our_verifier()
    _, _, link = new_request(base)
    resolved = last_json(node_wallet("resolve", {"url": link, "anchors_pem": pki.anchors_pem.decode("ascii")}))
    payload, header = resolved["payload"], resolved["header"]
    assert resolved["client"]["prefix"] == "x509_hash"
    assert header["typ"] == "oauth-authz-req+jwt"
    assert header["alg"] == "ES256"
    assert len(header["x5c"]) == 2  # leaf and intermediate, not the anchor (HAIP 1.0 §5)
    assert payload["response_mode"] == "direct_post.jwt"
    assert payload["aud"] == "https://self-issued.me/v2"
    keys = payload["client_metadata"]["jwks"]["keys"]
    assert [(k["kty"], k["crv"], k["alg"]) for k in keys] == [("EC", "P-256", "ECDH-ES")]
    assert sorted(payload["client_metadata"]["encrypted_response_enc_values_supported"]) == ["A128GCM", "A256GCM"]
    assert [c["id"] for c in payload["dcql_query"]["credentials"]] == ["microcredential"]
    assert resolved["version"] == 100  # @openid4vc: "100 means 1.0 final"


@pytest.mark.integration
def test_our_verifier_verifies_their_wallets_encrypted_answer(our_verifier, pki, make_issuer):
    _, base = our_verifier()
    session, page_url, link = new_request(base)
    answered = _their_answer(link, pki, make_issuer())
    assert answered["status"] == 200, answered
    assert answered["jwe_header"]["alg"] == "ECDH-ES"
    assert answered["jwe_header"]["enc"] == "A256GCM"  # their preference, which HAIP recommends
    assert session.get(page_url + "/status", timeout=10).json()["state"] == "answered"
    result = session.get(page_url + "/result", timeout=10).text
    assert 'data-verified="true"' in result
    assert "Introduction to Smart Contracts" in result
    done = answered["body"]["redirect_uri"]
    assert done.startswith(f"{base}/openid4vp/done?response_code=")
    assert 'data-verified="true"' in session.get(done, timeout=10).text  # the browser that asked
    import requests

    stranger = requests.get(done, timeout=10).text  # anyone else who learnt the redirect
    assert "Introduction to Smart Contracts" not in stranger


@pytest.mark.integration
@pytest.mark.parametrize("enc", ["A128GCM", "A256GCM"])
def test_our_verifier_takes_both_haip_content_encryptions(our_verifier, pki, make_issuer, enc):
    _, base = our_verifier()
    session, page_url, link = new_request(base)
    answered = _their_answer(link, pki, make_issuer(), enc=[enc])
    assert answered["status"] == 200, answered
    assert answered["jwe_header"]["enc"] == enc
    assert 'data-verified="true"' in session.get(page_url + "/result", timeout=10).text


@pytest.mark.integration
def test_our_verifier_verifies_their_plain_direct_post_answer(our_verifier, pki, make_issuer):
    _, base = our_verifier()
    session, page_url, link = new_request(base, claim=list(ASKED), response_mode="direct_post")
    answered = _their_answer(link, pki, make_issuer())
    assert answered["status"] == 200, answered
    assert answered["jwe_header"] is None
    assert 'data-verified="true"' in session.get(page_url + "/result", timeout=10).text


@pytest.mark.integration
@pytest.mark.parametrize("tamper", ["plain", "kid", "enc_a192", "state"])
def test_our_verifier_refuses_an_answer_it_did_not_ask_for(our_verifier, pki, make_issuer, tamper):
    _, base = our_verifier()
    session, page_url, link = new_request(base)
    answered = _their_answer(link, pki, make_issuer(), tamper=tamper)
    assert answered["status"] == 400, answered
    assert answered["body"]["error"] == "invalid_request"
    assert answered["body"]["error_description"]
    assert session.get(page_url + "/status", timeout=10).json()["state"] != "answered"


@pytest.mark.integration
@pytest.mark.parametrize("tamper", ["nonce", "aud"])
def test_our_verifier_does_not_verify_a_presentation_bound_elsewhere(our_verifier, pki, make_issuer, tamper):
    _, base = our_verifier()
    session, page_url, link = new_request(base)
    answered = _their_answer(link, pki, make_issuer(), tamper=tamper)
    assert answered["status"] == 200, answered
    result = session.get(page_url + "/result", timeout=10).text
    assert 'data-verified="false"' in result


@pytest.mark.integration
def test_our_verifier_does_not_verify_their_answer_lacking_a_requested_claim(our_verifier, pki, make_issuer):
    _, base = our_verifier()
    session, page_url, link = new_request(base)
    answered = _their_answer(link, pki, make_issuer(), disclose={"microcredential": [["title"]]})
    assert answered["status"] == 200, answered
    result = html.unescape(session.get(page_url + "/result", timeout=10).text)
    assert 'data-verified="false"' in result
    assert "does not disclose ects, eqf_level that the request requires" in result


@pytest.mark.integration
def test_their_wallet_refuses_our_request_without_the_ca(our_verifier):
    from tests.interop.openid4vp_world import node_wallet

    _, base = our_verifier()
    _, _, link = new_request(base)
    other = access_pki("Someone Else", "127.0.0.1", ca_name="Other Access CA")
    refused = node_wallet("resolve", {"url": link, "anchors_pem": other.anchors_pem.decode("ascii")})
    assert refused.returncode == 1
    assert "request refused" in refused.stderr


def _open(client: WalletClient, url: str):
    client.get("/openid4vp/review?" + urlencode({"request": url}))
    return client.post("/openid4vp/review", {"request": url})


def test_their_verifier_hears_that_the_learner_declined(wallet, pki, issuer, node_verifier):
    _, client = wallet
    verifier = node_verifier(pki, issuer)
    opened = _open(client, verifier.ready["url"])
    consent_url = opened.headers["Location"]
    client.get(consent_url)
    declined = client.post(consent_url.rstrip("/") + "/decline")
    assert declined.status_code == 200
    answer = verifier.answer()
    assert answer["wallet_error"] == "access_denied"
    assert answer["form_keys"] == ["error", "error_description", "state"]  # §8.5: plain fields, in either mode
    assert answer["verified"] is False


def test_our_wallet_refuses_their_request_with_transaction_data_and_tells_them(wallet, pki, issuer, node_verifier):
    _, client = wallet
    item = base64.urlsafe_b64encode(json.dumps({"type": "payment", "credential_ids": ["microcredential"]})
                                    .encode()).rstrip(b"=").decode()
    verifier = node_verifier(pki, issuer, transaction_data=[item])
    refused = _open(client, verifier.ready["url"])
    assert refused.status_code == 400
    assert "transaction_data" in html.unescape(client.last_page)
    answer = verifier.answer()
    assert answer["wallet_error"] == "invalid_request"
    assert "transaction_data" in answer["error_description"]


def test_our_wallet_refuses_their_request_object_addressed_to_its_own_request_uri(wallet, pki, issuer, node_verifier):
    """@openid4vc's default JAR ``aud`` is the request_uri; OpenID4VP 1.0 §5.8 wants https://self-issued.me/v2."""
    _, client = wallet
    verifier = node_verifier(pki, issuer, jar_aud=None, timeout_ms=5_000)
    refused = _open(client, verifier.ready["url"])
    assert refused.status_code == 400
    assert "https://self-issued.me/v2" in html.unescape(client.last_page)
    assert [e["event"] for e in verifier.events()] == ["request_fetched", "timeout"]


@pytest.mark.integration
def test_their_wallet_answers_our_x509_san_dns_request(our_verifier, pki, make_issuer):
    port = free_port()
    _, base = our_verifier("x509_san_dns", port=port, VERIFIER_PUBLIC_URL=f"http://127.0.0.1:{port}")
    session, page_url, link = new_request(base)
    assert parse_qs(urlsplit(link).query)["client_id"] == ["x509_san_dns:127.0.0.1"]
    answered = _their_answer(link, pki, make_issuer())
    assert answered["status"] == 200, answered
    assert answered["client_id"] == "x509_san_dns:127.0.0.1"
    assert 'data-verified="true"' in session.get(page_url + "/result", timeout=10).text


def test_our_wallet_answers_their_did_jwk_request(wallet, pki, issuer, node_verifier):
    _, client = wallet
    verifier = node_verifier(pki, issuer, client_id_prefix="decentralized_identifier")
    assert verifier.ready["client_id"].startswith("decentralized_identifier:did:jwk:")
    consent, _ = _open_and_consent(client, verifier.ready["url"])
    assert "no authority vouches for who that is" in html.unescape(consent)
    answer = verifier.answer()
    assert answer["verified"] is True, answer
    assert answer["presentations"]["microcredential"][0]["kb"]["aud"] == verifier.ready["client_id"]


@pytest.mark.integration
def test_their_wallet_answers_our_did_jwk_request(our_verifier, pki, make_issuer):
    _, base = our_verifier("decentralized_identifier")
    session, page_url, link = new_request(base)
    assert parse_qs(urlsplit(link).query)["client_id"][0].startswith("decentralized_identifier:did:jwk:")
    answered = _their_answer(link, pki, make_issuer())
    assert answered["status"] == 200, answered
    assert 'data-verified="true"' in session.get(page_url + "/result", timeout=10).text


@pytest.mark.integration
def test_their_wallet_does_not_take_our_unsigned_redirect_uri_request_object(our_verifier):
    """A known difference, not a failure of either side: for a ``redirect_uri`` client microcred serves an
    Unsecured JWT (``alg: none``, RFC 9101 §4 allows unsigned request objects; OpenID4VP 1.0 §5.9.3: such
    requests "cannot be signed"), while @openid4vc 0.4.6 takes only signed request objects by reference.
    HAIP wallets need signed requests anyway; microcred's default with a certificate is ``x509_hash``."""
    from tests.interop.openid4vp_world import node_wallet

    _, base = our_verifier("redirect_uri")
    _, _, link = new_request(base)
    assert parse_qs(urlsplit(link).query)["client_id"] == [f"redirect_uri:{base}/openid4vp/response"]
    refused = node_wallet("resolve", {"url": link})
    assert refused.returncode == 1
    assert "invalid_request_object" in refused.stderr


def test_our_wallet_prefers_a256gcm_as_haip_recommends(wallet, pki, issuer, node_verifier):
    from tests.interop.openid4vp_world import vector

    preferred = next(r for r in vector("haip", "haip_1_0_openid4vp_requirements.json")["requirements"]
                     if r["id"] == "wallet_enc")["preferred"]
    _, client = wallet
    verifier = node_verifier(pki, issuer, enc_values=["A128GCM", "A256GCM"])
    _open_and_consent(client, verifier.ready["url"])
    answer = verifier.answer()
    assert answer["verified"] is True, answer
    assert answer["jwe_header"]["enc"] == preferred


@pytest.mark.integration
def test_our_verifier_takes_their_encrypted_answer_once(our_verifier, pki, make_issuer):
    _, base = our_verifier()
    session, page_url, link = new_request(base)
    answered = _their_answer(link, pki, make_issuer(), repeat=True)
    assert answered["status"] == 200, answered
    assert answered["replayed"]["status"] == 400
    assert answered["replayed"]["body"]["error"] == "invalid_request"
    assert 'data-verified="true"' in session.get(page_url + "/result", timeout=10).text  # the first one stands



# --- DCQL as their verifier asks it (judged by the `dcql` package) --------------------------------------------


def _answer_of(client: WalletClient, verifier: NodeVerifier) -> dict:
    _open_and_consent(client, verifier.ready["url"])
    answer = verifier.answer()
    assert answer["verified"] is True, answer
    (presented,) = answer["presentations"]["microcredential"]
    return presented["claims"]


def test_our_wallet_answers_the_claim_set_it_can_when_the_first_is_out_of_reach(wallet, pki, issuer, node_verifier):
    query = dcql()
    query["credentials"][0]["claims"] = [{"id": "t", "path": ["title"]}, {"id": "e", "path": ["ects"]},
                                         {"id": "g", "path": ["grade"]}]
    query["credentials"][0]["claim_sets"] = [["t", "e", "g"], ["t", "e"]]
    _, client = wallet
    claims = _answer_of(client, node_verifier(pki, issuer, query=query))
    assert claims["title"] == CLAIMS["title"]
    assert claims["ects"] == CLAIMS["ects"]
    assert "grade" not in claims  # the held credential has none: the second claim set answers


def test_our_wallet_discloses_one_nested_claim_and_an_allowed_value(wallet, pki, issuer, node_verifier):
    query = dcql()
    query["credentials"][0]["claims"] = [{"path": ["learner", "family_name"]},
                                         {"path": ["eqf_level"], "values": [6, 7]}]
    _, client = wallet
    claims = _answer_of(client, node_verifier(pki, issuer, query=query))
    assert claims["learner"] == {"family_name": CLAIMS["learner"]["family_name"]}
    assert claims["eqf_level"] == 7
    assert "title" not in claims


def test_our_wallet_answers_the_required_set_and_leaves_an_optional_one_it_cannot_meet(wallet, pki, issuer,
                                                                                     node_verifier):
    query = dcql("title")
    query["credentials"].append({"id": "pid", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:eudi:pid:1"]},
                                 "claims": [{"path": ["family_name"]}]})
    query["credential_sets"] = [{"options": [["microcredential"]]}, {"options": [["pid"]], "required": False}]
    _, client = wallet
    verifier = node_verifier(pki, issuer, query=query)
    _open_and_consent(client, verifier.ready["url"])
    answer = verifier.answer()
    assert answer["verified"] is True, answer
    assert sorted(answer["presentations"]) == ["microcredential"]  # §8.1: no entry for the unmet optional query


@pytest.mark.integration
def test_our_verifier_does_not_verify_their_answer_outside_the_allowed_values(our_verifier, pki, make_issuer):
    _, base = our_verifier()
    session, page_url, link = new_request(base, **{"c1-use": "required", "c1-claim-title": "required",
                                                   "c1-eqf_level": "7"})
    answered = _their_answer(link, pki, make_issuer())  # the credential says EQF level 6
    assert answered["status"] == 200, answered
    result = html.unescape(session.get(page_url + "/result", timeout=10).text)
    assert 'data-verified="false"' in result
    assert "'eqf_level' is 6, not one of the allowed values 7" in result
