"""Credentials from elsewhere in the wallet (issue 12, item 3): import of each format, refusals that store
nothing, the unverified label, the one Annex I view and the whole-credential share in a VP the core verifies.

Real documents: the Europass EDC micro-credential and degree certificate of tests/vectors/europass-edc
(their ELM documents re-sealed with the test PKI of tests/x509_pki.py and bound to the wallet's key, since the
published seals bind them to another wallet's key: that published seal is imported too, and refused for it),
the 1EdTech OB 3.0 example of tests/vectors/ob3-annex, the EUDI learning claims of tests/vectors/eudi-learning.
"""

from __future__ import annotations

import copy
import io
import json
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from wallet_helpers import CLAIMS, Clock, WalletClient, db_rows

from credentials.data_integrity import EDDSA_JCS_2022, sign_data_integrity
from credentials.dids import did_key_from_public_key
from credentials.eudi_learning import EUDI_LEARNING_VCT, eudi_learning_frame
from credentials.jades import seal_jades
from credentials.jose import PublicKey
from credentials.jwt_vc import sign_vc_jwt
from credentials.multikey import multibase_from_public_key
from credentials.sd_jwt_vc import issue_sd_jwt_vc
from credentials.verification import PASSED, Policy, TrustAnswer, TrustLink, Unavailable, verify_presentation
from credentials.x509_trust import TrustAnchors
from tests.x509_pki import NOW as PKI_NOW
from tests.x509_pki import SIGNED_AT, make_pki

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
EDC_MC_SEALED = (VECTORS / "europass-edc" / "edc-mc-signed.jsonld").read_text(encoding="utf-8")
EDC_MC = json.loads(json.loads(EDC_MC_SEALED)["payload"])
EDC_DC = json.loads((VECTORS / "europass-edc" / "edc-dc-example.json").read_text(encoding="utf-8"))
OB3_BASIC = json.loads((VECTORS / "ob3-annex" / "basic-open-badge-credential.json").read_text(encoding="utf-8"))
EUDI_CLAIMS = json.loads((VECTORS / "eudi-learning" / "mock-learning-credential.claims.json").read_text())
PKI = make_pki("ec")
OTHER_PKI = make_pki("rsa")  # other keys: deterministic per kind and slot
BADGE_KEY = ed25519.Ed25519PrivateKey.generate()
BADGE_ISSUER = f"did:key:{multibase_from_public_key(BADGE_KEY.public_key())}"
WHOLE = "This credential is shared whole: everything below will be seen"


@pytest.fixture
def app(tmp_path: Path, clock: Clock):
    from wallet import create_app

    clock.now = PKI_NOW
    anchors = tmp_path / "anchors.pem"
    anchors.write_bytes(PKI.anchors_pem)
    return create_app({
        "TESTING": True, "DATA_DIR": str(tmp_path / "var"), "CLOCK": clock, "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 8 * 1024, "ARGON2_PARALLELISM": 1, "SESSION_COOKIE_SECURE": False,
        "PUBLIC_URL": "http://127.0.0.1:5001", "X509_TRUST_ANCHORS": str(anchors),
    })


def holder_did(app, learner: WalletClient) -> str:
    return did_key_from_public_key(PublicKey.from_jwk(learner.holder_jwk(app)))


def sealed_edc(document: dict, holder_jwk: dict | None, *, pki=PKI) -> str:
    document = copy.deepcopy(document)
    document.pop("cnf", None)
    if holder_jwk is not None:
        document["cnf"] = {"jwk": holder_jwk}
    payload = json.dumps(document, ensure_ascii=False).encode("utf-8")
    return seal_jades(payload, pki.seal_key, pki.chain, signing_time=SIGNED_AT)


def badge_document(subject_id: str | None, *, name: str = "Teamwork", ects: int = 3) -> dict:
    document = copy.deepcopy(OB3_BASIC)
    document["issuer"] = {"id": BADGE_ISSUER, "type": ["Profile"], "name": "Example Corp",
                          "address": {"type": ["Address"], "addressCountryCode": "NL"}}
    if subject_id is None:
        del document["credentialSubject"]["id"]
    else:
        document["credentialSubject"]["id"] = subject_id
    achievement = document["credentialSubject"]["achievement"]
    achievement["name"] = name
    achievement["creditsAvailable"] = ects
    achievement["alignment"] = [
        {"type": ["Alignment"], "targetName": "ECTS", "targetUrl": "https://ects.example/", "targetFramework": "ECTS"},
        {"type": ["Alignment"], "targetName": "EQF level 5", "targetUrl": "http://data.europa.eu/snb/eqf/5"},
    ]
    return document


def badge_di(subject_id: str | None, **changes) -> str:
    signed = sign_data_integrity(badge_document(subject_id, **changes), BADGE_KEY,
                                 f"{BADGE_ISSUER}#{BADGE_ISSUER.split(':')[-1]}", "2026-01-01T00:00:00Z")
    return json.dumps(signed, indent=2)


def badge_jwt(issuer, subject_id: str, **changes) -> str:
    document = badge_document(subject_id, **changes)
    document["issuer"]["id"] = issuer.did
    return sign_vc_jwt(document, issuer.key, kid=issuer.kid)


def eudi_credential(issuer, holder_jwk: dict) -> str:
    claims = {k: v for k, v in EUDI_CLAIMS.items() if k not in ("iss", "iat", "exp", "vct", "jti", "cnf", "status")}
    return issue_sd_jwt_vc(vct=EUDI_LEARNING_VCT, claims=claims, frame=eudi_learning_frame(claims),
                           issuer_key=issuer.key, issuer=issuer.did, kid=issuer.kid, iat=PKI_NOW - 3600,
                           holder_jwk=holder_jwk).serialization


def upload(learner: WalletClient, text: str, filename: str):
    learner.get("/credentials/add")
    return learner.post("/credentials/add", {"file": (io.BytesIO(text.encode("utf-8")), filename)},
                        content_type="multipart/form-data")


def added_id(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def count(app) -> int:
    return db_rows(app, "SELECT COUNT(*) FROM credentials")[0][0]


# --- import of each format ----------------------------------------------------------------------------


def test_each_format_is_verified_stored_with_its_format_and_shown_through_one_view(app, signed_in, issuer):
    jwk, did = signed_in.holder_jwk(app), holder_did(app, signed_in)
    ids = {
        "microcred": added_id(signed_in.add(issuer.issue(jwk, iat=PKI_NOW - 3600))),
        "edc": added_id(upload(signed_in, sealed_edc(EDC_MC, jwk), "micro-credential.jsonld")),
        "ob3-di": added_id(upload(signed_in, badge_di(did, name="Teamwork"), "teamwork.json")),
        "ob3-jwt": added_id(upload(signed_in, badge_jwt(issuer, did, name="Public Speaking"), "speaking.jwt")),
        "eudi": added_id(signed_in.add(eudi_credential(issuer, jwk))),
    }
    formats = dict(db_rows(app, "SELECT id, format FROM credentials"))
    assert [formats[ids[k]] for k in ("microcred", "edc", "ob3-di", "ob3-jwt", "eudi")] == [
        "dc+sd-jwt", "europass-edc", "ldp_vc", "jwt_vc", "dc+sd-jwt"]
    assert {row[0] for row in db_rows(app, "SELECT verified FROM credentials")} == {1}

    signed_in.get("/credentials")
    listing = signed_in.last_page
    for title in ("Data Protection Law in Practice", "Title of your learning achievement", "Teamwork",
                  "Public Speaking", "Foundations of Applied AI in Business"):
        assert title in listing, title
    for kind in ("Europass digital credential", "Open Badge 3.0", "EUDI learning credential",
                 "microcred micro-credential"):
        assert kind in listing, kind
    assert "15 ECTS</strong> from 5 valid credentials" in listing  # 4 + 5 (EDC) + 3 + 3; the EUDI one states none
    assert "1 state no ECTS" in listing

    for name, credential_id in ids.items():
        assert signed_in.get(f"/credentials/{credential_id}").status_code == 200, name
        page = signed_in.last_page
        assert "Title of the micro-credential" in page, name
        assert "Awarding body" in page, name
    signed_in.get(f"/credentials/{ids['edc']}")
    page = signed_in.last_page
    assert "Workload (ECTS credits)" in page
    assert "Level (EQF)" in page
    assert "More details (" in page
    assert 'data-path="/credentialSubject/hasClaim/title"' in page


def test_multilingual_values_follow_the_page_language_and_keep_the_others(app, signed_in):
    document = copy.deepcopy(EDC_MC)
    document["credentialSubject"]["hasClaim"]["title"] = {"en": "Applied Statistics", "de": "Angewandte Statistik"}
    credential_id = added_id(upload(signed_in, sealed_edc(document, signed_in.holder_jwk(app)), "stats.jsonld"))
    signed_in.get(f"/credentials/{credential_id}")
    assert "<h1>Applied Statistics</h1>" in signed_in.last_page
    assert 'lang="de">Angewandte Statistik' in signed_in.last_page.replace('<span class="small">de</span> ', "")
    signed_in.get(f"/credentials/{credential_id}?lang=de")
    assert "<h1>Angewandte Statistik</h1>" in signed_in.last_page
    signed_in.get("/credentials?lang=de")
    assert "Angewandte Statistik" in signed_in.last_page


def test_an_unbound_credential_is_kept_and_says_what_sharing_it_proves(app, signed_in):
    credential_id = added_id(upload(signed_in, badge_di(None), "teamwork.json"))
    assert db_rows(app, "SELECT subject_bound FROM credentials")[0][0] == 0
    signed_in.get(f"/credentials/{credential_id}")
    assert "does not name this wallet's key" in signed_in.last_page
    signed_in.get(f"/credentials/{credential_id}/share")
    assert WHOLE in signed_in.last_page
    assert "does <strong>not</strong> prove that you are the person the credential names" in signed_in.last_page


# --- refusals store nothing ---------------------------------------------------------------------------


def _refused(app, response, *expected: str) -> None:
    assert response.status_code in (400, 413), response.status_code
    assert count(app) == 0
    text = response.get_data(as_text=True)
    for words in expected:
        assert words in text, (words, text[:3000])


def test_a_tampered_edc_is_refused(app, signed_in):
    sealed = json.loads(sealed_edc(EDC_DC, signed_in.holder_jwk(app)))
    sealed["payload"] = sealed["payload"].replace("Title of Activity", "Title of Activities", 1)
    _refused(app, upload(signed_in, json.dumps(sealed), "edc.jsonld"), "Not added")


def test_an_edc_sealed_outside_the_trust_anchors_is_refused(app, signed_in):
    sealed = sealed_edc(EDC_DC, signed_in.holder_jwk(app), pki=OTHER_PKI)
    _refused(app, upload(signed_in, sealed, "edc.jsonld"), "Not added", "certificate")


def test_the_published_edc_is_refused_as_bound_to_another_wallets_key(app, signed_in, clock):
    clock.now = 1_795_000_000  # tests/vectors/europass-edc/expected.json's now
    from wallet import create_app

    anchors = Path(app.config["DATA_DIR"]).parent / "halcom.pem"
    anchors.write_bytes((VECTORS / "europass-edc" / "halcom-root-ca.pem").read_bytes())
    halcom_app = create_app({**app.config, "X509_TRUST_ANCHORS": str(anchors)})
    learner = WalletClient(halcom_app.test_client())
    learner.signup("edc-learner")
    _refused(halcom_app, upload(learner, EDC_MC_SEALED, "edc-mc-signed.jsonld"), "another holder")


def test_without_trust_anchors_a_sealed_edc_is_refused(app, signed_in):
    app.extensions["microcred_x509_anchors"] = None
    _refused(app, upload(signed_in, sealed_edc(EDC_DC, signed_in.holder_jwk(app)), "edc.jsonld"),
             "MICROCRED_X509_TRUST_ANCHORS")


def test_a_json_credential_over_two_megabytes_is_refused(app, signed_in):
    document = badge_document(holder_did(app, signed_in))
    document["description"] = "x" * (2 * 1024 * 1024)
    _refused(app, upload(signed_in, json.dumps(document), "big.json"))
    _refused(app, signed_in.add(json.dumps(document)))


def test_an_open_badge_with_an_unknown_context_is_refused(app, signed_in):
    document = badge_document(holder_did(app, signed_in))
    document["@context"].append("https://evil.example/context.json")
    signed = sign_data_integrity(document, BADGE_KEY, f"{BADGE_ISSUER}#{BADGE_ISSUER.split(':')[-1]}",
                                 "2026-01-01T00:00:00Z", cryptosuite=EDDSA_JCS_2022)
    _refused(app, upload(signed_in, json.dumps(signed), "badge.json"), "not one microcred knows")


def test_a_changed_open_badge_is_refused(app, signed_in):
    signed = json.loads(badge_di(holder_did(app, signed_in)))
    signed["credentialSubject"]["achievement"]["creditsAvailable"] = 30
    _refused(app, upload(signed_in, json.dumps(signed), "badge.json"), "Not added")


def test_unknown_json_is_refused_without_an_offer_to_keep_it(app, signed_in):
    response = signed_in.add(json.dumps({"hello": "world"}))
    _refused(app, response, "cannot tell what it is")
    assert "Keep as unverified" not in response.get_data(as_text=True)


# --- unsigned documents: refused, or kept as unverified and labelled so -------------------------------


@pytest.mark.parametrize("document,kind", [
    (badge_document("did:example:someone", name="Unsigned Teamwork", ects=6), "Open Badge"),
    ({k: v for k, v in EDC_DC.items() if k != "cnf"}, "Europass credential"),
])
def test_an_unsigned_document_is_refused_unless_kept_as_unverified(app, signed_in, document, kind):
    response = upload(signed_in, json.dumps(document), "unsigned.json")
    _refused(app, response, "carries no signature or seal", f"keep this {kind}", "Keep as unverified")
    kept = signed_in.post("/credentials/add", {"credential": json.dumps(document), "keep_unverified": "yes"})
    credential_id = added_id(kept)
    assert db_rows(app, "SELECT format, verified, badge FROM credentials") == [("unsigned", 0, "unverified")]
    signed_in.get("/credentials")
    assert "Unverified: no signature" in signed_in.last_page
    assert "0 ECTS</strong> from 0 valid credentials; 1 not verified (no signature) not counted" in signed_in.last_page
    signed_in.get(f"/credentials/{credential_id}")
    assert "Not verified." in signed_in.last_page
    assert f"/credentials/{credential_id}/share" not in signed_in.last_page
    assert signed_in.get(f"/credentials/{credential_id}/share").status_code == 400
    assert "kept as unverified" in signed_in.last_page
    refused = signed_in.submit("/credentials/add", f"/credentials/{credential_id}/share/whole", {})  # valid tokens
    assert refused.status_code == 400
    assert "kept as unverified" in refused.get_data(as_text=True)
    assert db_rows(app, "SELECT COUNT(*) FROM shares")[0][0] == 0
    recheck = signed_in.submit("/credentials/add", f"/credentials/{credential_id}/recheck", {})
    assert recheck.status_code == 302
    assert db_rows(app, "SELECT badge FROM credentials")[0][0] == "unverified"


def test_keep_as_unverified_never_keeps_a_tampered_signed_document(app, signed_in):
    signed = json.loads(badge_di(holder_did(app, signed_in)))
    signed["name"] = "Changed"
    signed_in.get("/credentials/add")
    response = signed_in.post("/credentials/add", {"credential": json.dumps(signed), "keep_unverified": "yes"})
    _refused(app, response)


# --- whole-credential share in a holder-signed VP -----------------------------------------------------


def _trust(issuer_id, credential_type, at):
    return TrustAnswer(True, "accredited", (TrustLink(issuer_id, "Issuer", "issuer"),
                                            TrustLink("did:web:root.example", "Root", "root")))


def _no_status(did: str, uri: str) -> Unavailable:
    return Unavailable("no IETF status list is read here")


def _share_whole(app, learner: WalletClient, credential_id: int) -> tuple[str, str, str]:
    """Consent, share, fetch the one-time link: (VP text, its media type, the share's audience)."""
    learner.get(f"/credentials/{credential_id}/share")
    assert WHOLE in learner.last_page
    response = learner.post(f"/credentials/{credential_id}/share/whole", {})
    assert response.status_code == 302, learner.last_page[:2000]
    share_id = response.headers["Location"].rsplit("/", 1)[1]
    mode, qr_text, audience = db_rows(app, "SELECT mode, qr_text, audience FROM shares WHERE id = ?", [share_id])[0]
    assert mode == "link"  # whole credentials are too large for an inline code
    fetched = app.test_client().get("/p/" + qr_text.rsplit("/p/", 1)[1])
    assert fetched.status_code == 200
    assert app.test_client().get("/p/" + qr_text.rsplit("/p/", 1)[1]).status_code == 410  # one time: gone, "used"
    return fetched.get_data(as_text=True), fetched.mimetype, audience


@pytest.mark.parametrize("made,vp_format,media_type", [
    ("ob3-di", "ldp_vp", "application/vp+ld+json"),
    ("ob3-jwt", "jwt_vp_json", "application/jwt"),
])
def test_a_whole_credential_is_shared_in_a_vp_the_core_verifies(app, signed_in, issuer, made, vp_format, media_type):
    jwk, did = signed_in.holder_jwk(app), holder_did(app, signed_in)
    text = {"edc": lambda: sealed_edc(EDC_MC, jwk), "ob3-di": lambda: badge_di(did),
            "ob3-jwt": lambda: badge_jwt(issuer, did)}[made]()
    credential_id = added_id(upload(signed_in, text, "credential.json"))
    signed_in.get(f"/credentials/{credential_id}/share")
    consent = signed_in.last_page
    assert "more details, also shared" in consent or made != "edc"
    presentation, mimetype, audience = _share_whole(app, signed_in, credential_id)
    assert mimetype == media_type
    result = verify_presentation(presentation, policy=Policy(trusted_roots=frozenset({"did:web:root.example"})),
                                 trust=_trust, status=_no_status, replay=lambda *a: True, now=PKI_NOW + 5,
                                 audience=audience, trust_anchors=TrustAnchors.from_pem(PKI.anchors_pem))
    checks = {c.check: c for c in result.checks}
    assert result.format == vp_format
    for name in ("format", "signature", "holder_binding", "validity_period", "issuer_trust"):
        assert checks[name].status == PASSED, (name, checks[name].detail)
    history = signed_in.get("/shares")
    assert history.status_code == 200
    assert "Shared whole" in signed_in.last_page


def test_a_sealed_edc_is_shared_whole_in_a_json_vp_signed_by_the_key_it_names(app, signed_in):
    """The seal goes into the ldp_vp unchanged (JCS proof, challenge = nonce, domain = audience); checked here
    with the core's pieces (the holder's authentication proof by the key the seal's cnf names, then the seal) and
    whole by verify_presentation, whose Data Integrity path binds through cnf.jwk."""
    from credentials.data_integrity import verify_data_integrity
    from credentials.europass import verify_sealed_edc

    jwk = signed_in.holder_jwk(app)
    credential_id = added_id(upload(signed_in, sealed_edc(EDC_MC, jwk), "edc.jsonld"))
    presentation, mimetype, audience = _share_whole(app, signed_in, credential_id)
    vp = json.loads(presentation)
    assert mimetype == "application/vp+ld+json"
    (proof,) = verify_data_integrity(vp, expected_proof_purpose="authentication")
    assert proof.controller == vp["holder"] == holder_did(app, signed_in)
    assert vp["proof"]["domain"] == audience
    assert len(vp["proof"]["challenge"]) >= 16
    sealed = verify_sealed_edc(json.dumps(vp["verifiableCredential"][0]),
                               trust_anchors=TrustAnchors.from_pem(PKI.anchors_pem), now=PKI_NOW)
    assert sealed.holder_jwk == jwk
    assert sealed.holder_jwk is not None
    assert PublicKey.from_jwk(jwk).thumbprint() == PublicKey.from_jwk(sealed.holder_jwk).thumbprint()
    result = verify_presentation(presentation, policy=Policy(trusted_roots=frozenset({"did:web:root.example"})),
                                 trust=_trust, status=_no_status, replay=lambda *a: True, now=PKI_NOW + 5,
                                 audience=audience, nonce=vp["proof"]["challenge"],
                                 trust_anchors=TrustAnchors.from_pem(PKI.anchors_pem))
    binding = result.check("holder_binding")
    assert binding.status == PASSED, binding.detail


def test_the_vp_is_bound_to_its_audience(app, signed_in, issuer):
    did = holder_did(app, signed_in)
    credential_id = added_id(upload(signed_in, badge_jwt(issuer, did), "badge.jwt"))
    presentation, _, _ = _share_whole(app, signed_in, credential_id)
    result = verify_presentation(presentation, policy=Policy(trusted_roots=frozenset({"did:web:root.example"})),
                                 trust=_trust, status=_no_status, replay=lambda *a: True, now=PKI_NOW + 5,
                                 audience="https://another-verifier.example")
    assert {c.check: c.status for c in result.checks}["holder_binding"] == "failed"
    assert not result.verified


def test_selective_share_pages_refuse_a_whole_credential(app, signed_in, issuer):
    credential_id = added_id(upload(signed_in, badge_jwt(issuer, holder_did(app, signed_in)), "badge.jwt"))
    signed_in.get(f"/credentials/{credential_id}/share")
    for action in ("share/preview", "share"):
        response = signed_in.submit(f"/credentials/{credential_id}/share", f"/credentials/{credential_id}/{action}",
                                    {"claim": '["title"]'})
        assert response.status_code == 400
        assert "shared whole" in response.get_data(as_text=True)


def test_the_microcred_credential_still_discloses_selectively(app, signed_in, issuer):
    credential_id = added_id(signed_in.add(issuer.issue(signed_in.holder_jwk(app), {**CLAIMS}, iat=PKI_NOW - 60)))
    signed_in.get(f"/credentials/{credential_id}/share")
    assert WHOLE not in signed_in.last_page
    assert 'name="claim"' in signed_in.last_page


def test_the_new_forms_survive_hostile_input(app, signed_in, issuer):
    from tests.hostile import crawl_forms

    did = holder_did(app, signed_in)
    whole_id = added_id(upload(signed_in, badge_jwt(issuer, did), "badge.jwt"))
    upload(signed_in, json.dumps(badge_document(did)), "unsigned.json")  # the page offering "keep as unverified"
    pages = ["/credentials", f"/credentials/{whole_id}", f"/credentials/{whole_id}/share",
             f"/credentials/{whole_id}?lang=de", "/credentials?lang=%00"]
    findings = crawl_forms(signed_in.client, pages)
    assert not findings, "\n".join(map(str, findings))


def test_the_whole_share_page_warns_about_a_revoked_credential(app, signed_in, issuer):
    """As the OpenID4VP consent page does (tests/wallet/test_wallet_share_warning.py for SD-JWT credentials)."""
    app.config["TRUST_CHECK"] = lambda raw, fmt, now: [
        {"check": "issuer_trust", "status": "passed", "detail": "accredited"},
        {"check": "revocation", "status": "failed", "detail": "the credential is revoked"}]
    credential_id = added_id(upload(signed_in, badge_jwt(issuer, holder_did(app, signed_in)), "badge.jwt"))
    signed_in.get(f"/credentials/{credential_id}/share")
    assert WHOLE in signed_in.last_page
    assert ('<p class="warning" role="alert">Revoked by its issuer: not valid, and the verifier will be told so.</p>'
            in signed_in.last_page)


@pytest.mark.parametrize(("lang", "level", "day"), [("en", "EQF level 6", "12 January 2026"),
                                                     ("de", "EQR-Niveau 6", "12. Januar 2026")])
def test_a_europass_card_shows_its_eqf_level_and_date_as_the_wallet_does(app, signed_in, lang, level, day):
    """Not the level's URI beside its number ('http://data.europa.eu/snb/eqf/6: 6') nor an ISO date-time: the
    level in words, and the day as the page's language writes it (infra.i18n.format_day), on the card and in the
    list."""
    credential_id = added_id(upload(signed_in, sealed_edc(EDC_MC, signed_in.holder_jwk(app)), "edc.jsonld"))
    for path in (f"/credentials/{credential_id}", "/credentials"):
        signed_in.get(f"{path}?lang={lang}")
        page = signed_in.last_page
        assert day in page, path
        annex = page.split('class="card more-details"')[0]  # More details lists the document's members as they are
        assert "2026-01-12" not in annex, path
    signed_in.get(f"/credentials/{credential_id}?lang={lang}")
    page = signed_in.last_page
    assert re.search(rf'<dd data-path="[^"]*/eqfLevel/id">{level}</dd>', page)
    assert "snb/eqf/6:" not in page
