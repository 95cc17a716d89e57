"""A stack share (issue 13, item 1): several credentials of different issuers and formats in one QR code.

The learner picks two SD-JWT VC micro-credentials from two issuers and an Open Badge 3.0 (JWT VC), ticks the
claims of each SD-JWT VC, and gets one one-time link. The link answers ``application/json``
``{"presentations": [...]}``: each SD-JWT VC with its own KB-JWT, the badge in a holder-signed VP, all bound to
one nonce and to the share's audience; the core verifies each and the stack holds together. Bad choices are a
400 that says what is wrong; the single-credential share is untouched (tests/wallet/test_wallet_share.py).
"""

from __future__ import annotations

import json

import pytest
from wallet_helpers import CLAIMS, NOW, Issuer, db_rows

from credentials.dids import did_key_from_public_key, verification_method_id
from credentials.jose import PrivateKey, PublicKey
from credentials.jwt_vc import sign_vc_jwt
from credentials.stack import bind_stack, summarise
from credentials.verification import PASSED, Policy, TrustAnswer, TrustLink, Unavailable, verify_presentation

TITLE, ECTS = json.dumps(["title"]), json.dumps(["ects"])
EQF = json.dumps(["eqf_level"])
ROOT = "did:web:root.example"


def other_issuer() -> Issuer:
    key = PrivateKey.generate("ES256")
    did = did_key_from_public_key(key.public_key())
    return Issuer(key, did, verification_method_id(did))


def badge(issuer: Issuer, subject: str) -> str:
    """An Open Badge 3.0 micro-credential (3 ECTS, EQF 5) as a JWT VC naming the learner's DID."""
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2",
                     "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "id": "urn:uuid:5a1c1f4e-28a4-4a4b-8e0c-7d3f3b0c2a11", "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Teamwork in International Projects",
        "issuer": {"id": issuer.did, "type": ["Profile"], "name": "Example Academy"},
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": subject, "type": ["AchievementSubject"], "achievement": {
            "id": "https://academy.example/teamwork", "type": ["Achievement"],
            "name": "Teamwork in International Projects",
            "description": "Plan and run a project in a team across countries.",
            "criteria": {"narrative": "Team project, peer assessed."}, "creditsAvailable": 3,
            "alignment": [{"type": ["Alignment"], "targetName": "ECTS", "targetUrl": "https://ects.example/",
                           "targetFramework": "ECTS"},
                          {"type": ["Alignment"], "targetName": "EQF level 5",
                           "targetUrl": "http://data.europa.eu/snb/eqf/5"}]}},
    }
    return sign_vc_jwt(document, issuer.key, kid=issuer.kid)


def added(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return int(response.headers["Location"].rsplit("/", 1)[1])


@pytest.fixture
def three(app, signed_in, issuer):
    """The learner holds two SD-JWT VCs of two issuers and an Open Badge: their ids."""
    jwk = signed_in.holder_jwk(app)
    did = did_key_from_public_key(PublicKey.from_jwk(jwk))
    first = added(signed_in.add(issuer.issue(jwk)))
    second = added(signed_in.add(other_issuer().issue(jwk, {**CLAIMS, "title": "Cloud Security Basics", "ects": 5,
                                                             "eqf_level": 6, "qf_ehea_cycle": "first"})))
    third = added(signed_in.add(badge(other_issuer(), did)))
    return signed_in, [first, second, third]


def _trust(issuer_id, credential_type, at):
    return TrustAnswer(True, "accredited", (TrustLink(issuer_id, f"Issuer {issuer_id[-6:]}", "issuer"),
                                            TrustLink(ROOT, "Root", "root")))


def _no_status(did, uri):
    return Unavailable("no status list in this test")


def verify(presentation, *, nonce, audience):
    from credentials.microcredential import MICRO_CREDENTIAL_VCT

    policy = Policy(frozenset({ROOT}), accepted_vcts=frozenset({MICRO_CREDENTIAL_VCT}), status_required=False)
    return verify_presentation(presentation, policy=policy, trust=_trust, status=_no_status, replay=lambda *a: True,
                               now=NOW + 5, nonce=nonce, audience=audience)


def choose_and_share(learner, ids, claims):
    query = "&".join(f"credential={i}" for i in ids)
    page = learner.get(f"/stack/share/choose?{query}")
    assert page.status_code == 200, learner.last_page[:2000]
    data = {"credential": [str(i) for i in ids]}
    data.update({f"claim-{i}": keys for i, keys in claims.items()})
    return learner.post("/stack/share", data)


def test_a_stack_is_one_link_answering_presentations_bound_to_one_nonce_and_audience(app, three):
    learner, ids = three
    picked = learner.get("/stack/share")
    assert picked.status_code == 200
    for credential_id in ids:
        assert f'name="credential" value="{credential_id}"' in learner.last_page
    created = choose_and_share(learner, ids, {ids[0]: [TITLE, ECTS, EQF], ids[1]: [TITLE, ECTS, EQF]})
    assert created.status_code == 302, learner.last_page[:2000]
    share_id = created.headers["Location"].rsplit("/", 1)[1]
    mode, fmt, audience, qr_text, disclosed = db_rows(
        app, "SELECT mode, presentation_format, audience, qr_text, disclosed FROM shares WHERE id = ?", [share_id])[0]
    assert (mode, fmt) == ("link", "stack")
    assert audience == f"urn:microcred:wallet-share:{share_id}"
    assert [entry["label"] for entry in json.loads(disclosed)] == [
        CLAIMS["title"], "Cloud Security Basics", "Teamwork in International Projects"]
    learner.get(created.headers["Location"])
    assert "<svg" in learner.last_page
    assert "One code for 3 credentials" in learner.last_page

    token = qr_text.rsplit("/p/", 1)[1]
    fetched = app.test_client().get("/p/" + token)
    assert fetched.status_code == 200
    assert fetched.mimetype == "application/json"
    assert app.test_client().get("/p/" + token).status_code == 410  # one time: gone, "used"
    presentations = fetched.get_json()["presentations"]
    assert len(presentations) == 3
    nonces = set()
    results = []
    for presentation in presentations:
        nonce = _nonce_of(presentation)
        nonces.add(nonce)
        results.append(verify(presentation, nonce=nonce, audience=audience))
    assert len(nonces) == 1
    for result in results:
        for name in ("format", "signature", "holder_binding", "validity_period", "issuer_trust"):
            assert result.check(name).status == PASSED, (name, result.check(name).detail)
    assert set(results[0].claims) == {"title", "ects", "eqf_level"}
    assert results[2].format == "jwt_vp_json"
    bound = bind_stack(results)
    assert [r.check("holder_binding").status for r in bound] == [PASSED] * 3
    line = summarise(bound).line
    assert line == "3 of 3 verified · 12 ECTS · EQF 5–7"  # 4 + 5 + 3 ECTS; no status entries in this test

    learner.get("/shares")
    assert "A stack of 3 credentials" in learner.last_page


def _nonce_of(presentation: str) -> str:
    """The nonce a presentation is bound to (the KB-JWT's, or the JWT VP's)."""
    from credentials.jose import UnverifiedJws

    compact = presentation.rsplit("~", 1)[1] if "~" in presentation else presentation
    return UnverifiedJws.parse(compact, what="binding").payload["nonce"]


def test_an_sd_jwt_member_without_claims_is_refused_naming_it(app, three):
    learner, ids = three
    response = choose_and_share(learner, ids[:2], {ids[0]: [TITLE]})
    assert response.status_code == 400
    assert "Cloud Security Basics: choose at least one claim to share" in learner.last_page
    assert db_rows(app, "SELECT COUNT(*) FROM shares")[0][0] == 0


@pytest.mark.parametrize("values, message", [
    ([], "choose at least one credential for the stack"),
    (["99999"], "a chosen credential is not one of your wallet&#39;s"),
    (["-1"], "a chosen credential is not one of your wallet&#39;s"),
    (["١"], "a chosen credential is not one of your wallet&#39;s"),  # an Arabic-Indic digit is not an id
    ([str(n) for n in range(1, 18)], "a stack holds at most 16 credentials"),
])
def test_bad_choices_are_400_with_a_reason(three, values, message):
    learner, _ = three
    query = "&".join(f"credential={v}" for v in values)
    response = learner.get(f"/stack/share/choose?{query}")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_the_same_credential_twice_is_one_member(three):
    learner, ids = three
    learner.get(f"/stack/share/choose?credential={ids[0]}&credential={ids[0]}")
    assert learner.last_page.count('name="credential" value=') == 1


def test_an_unbound_credential_is_not_offered(app, signed_in):
    unbound = added(signed_in.add(badge(other_issuer(), "urn:uuid:someone-else")))
    signed_in.get("/stack/share")
    assert f'name="credential" value="{unbound}"' not in signed_in.last_page
    assert "Not offered here (1)" in signed_in.last_page
    response = signed_in.get(f"/stack/share/choose?credential={unbound}")
    assert response.status_code == 400
    assert "cannot be part of a stack" in response.get_data(as_text=True)


def test_the_stack_pages_survive_hostile_input(app, three):
    from tests.hostile import crawl_forms

    learner, ids = three
    findings = crawl_forms(learner.client, ["/shares", "/stack/share",
                                            f"/stack/share/choose?credential={ids[0]}&credential={ids[2]}"])
    assert not findings, "\n".join(map(str, findings))


def test_the_credentials_page_leads_to_sharing_several_at_once(three):
    learner, _ = three
    assert learner.get("/credentials").status_code == 200
    assert 'href="/stack/share">Share several at once</a>' in learner.last_page


@pytest.mark.parametrize("sent", ["none", "forged", "another session's"])
def test_a_stack_share_post_without_this_sessions_csrf_token_shares_nothing(app, three, sent):
    """The foundation's CSRF check on ``POST /stack/share``: the one-time form id alone does not let a post in."""
    from wallet_helpers import WalletClient

    learner, ids = three
    learner.get(f"/stack/share/choose?credential={ids[0]}&credential={ids[2]}")
    form = {**learner.form_tokens(), "credential": [str(ids[0]), str(ids[2])], f"claim-{ids[0]}": [TITLE]}
    assert form.get("form_id"), "the choose page carries no one-time form id"
    forged = {name: value for name, value in form.items() if name != "csrf_token"}
    if sent == "forged":
        forged["csrf_token"] = "x" * len(form["csrf_token"])
    elif sent == "another session's":
        other = WalletClient(app.test_client())
        other.signup("bea")
        other.get("/auth/account")  # a page with a form: that session's token
        forged["csrf_token"] = other.form_tokens()["csrf_token"]

    refused = learner.client.post("/stack/share", data=forged)
    assert refused.status_code == 400
    assert "did not come from this wallet" in refused.get_data(as_text=True)
    assert db_rows(app, "SELECT COUNT(*) FROM shares")[0][0] == 0
    # The same form with this session's token goes through: the token, nothing else, made the difference.
    assert learner.client.post("/stack/share", data=form).status_code == 302
    assert db_rows(app, "SELECT COUNT(*) FROM shares")[0][0] == 1
