"""Import (paste, upload), list, detail, summary, re-check, delete; and the issue's bad inputs."""

from __future__ import annotations

import io

from wallet_helpers import CLAIMS, NOW, TRUSTED_CHECKS, db_rows

from credentials.dids import did_jwk_from_public_key
from credentials.jose import PrivateKey
from credentials.jwt_vc import sign_vc_jwt


def test_paste_import_then_list_and_detail(app, held):
    client, credential_id = held
    page = client.get(f"/credentials/{credential_id}")
    assert page.status_code == 200
    text = client.last_page
    for expected in ("Data Protection Law in Practice", "Universidade Exemplo", "Advise on international transfers",
                     "Workload (ECTS credits)", "Level (EQF)", "Form of participation", "Quality assurance",
                     "Type of assessment", "Date of issuing", "Given name", "Not checked"):
        assert expected in text, expected
    listing = client.get("/credentials")
    assert listing.status_code == 200
    assert "4 ECTS" in client.last_page
    assert "EQF 7" in client.last_page
    assert "1 May 2026" in client.last_page  # the day as the page's language writes it


def test_upload_import(app, signed_in, issuer):
    credential = issuer.issue(signed_in.holder_jwk(app))
    signed_in.get("/credentials/add")
    response = signed_in.post("/credentials/add", {"file": (io.BytesIO(credential.encode()), "mc.sd-jwt")},
                              content_type="multipart/form-data")
    assert response.status_code == 302
    assert db_rows(app, "SELECT COUNT(*) FROM credentials")[0][0] == 1


def test_summary_by_level_and_issuer(app, signed_in, issuer):
    jwk = signed_in.holder_jwk(app)
    signed_in.add(issuer.issue(jwk))
    second = {**CLAIMS, "title": "Second", "ects": 2.5, "eqf_level": 6, "qf_ehea_cycle": "first"}
    signed_in.add(issuer.issue(jwk, second))
    signed_in.get("/credentials")
    assert "6.5 ECTS</strong> from 2 valid credentials" in signed_in.last_page
    assert "<td>6</td><td>1</td><td>2.5</td>" in signed_in.last_page


def test_duplicate_is_detected(app, held, issuer):
    client, credential_id = held
    raw = db_rows(app, "SELECT raw FROM credentials")[0][0]
    again = client.add(raw)
    assert again.status_code == 302
    assert again.headers["Location"].endswith(f"/credentials/{credential_id}")
    client.get(again.headers["Location"])
    assert "already in your wallet" in client.last_page
    assert db_rows(app, "SELECT COUNT(*) FROM credentials")[0][0] == 1


def test_title_with_script_is_escaped(app, signed_in, issuer):
    evil = {**CLAIMS, "title": "<script>alert('x')</script>"}
    response = signed_in.add(issuer.issue(signed_in.holder_jwk(app), evil))
    assert response.status_code == 302
    for url in (response.headers["Location"], "/credentials"):
        signed_in.get(url)
        assert "<script>alert" not in signed_in.last_page
        assert "&lt;script&gt;alert(" in signed_in.last_page


def test_truncated_sd_jwt_is_refused(app, signed_in, issuer):
    credential = issuer.issue(signed_in.holder_jwk(app))
    for cut in (credential[: len(credential) // 2], credential[:-5], credential.split("~")[0][:-10] + "~"):
        response = signed_in.add(cut)
        assert response.status_code == 400
        assert "Not added" in signed_in.last_page
    assert db_rows(app, "SELECT COUNT(*) FROM credentials")[0][0] == 0


def test_credential_of_another_holder_is_refused(app, signed_in, issuer):
    someone_else = PrivateKey.generate("ES256").public_key().to_jwk()
    response = signed_in.add(issuer.issue(someone_else))
    assert response.status_code == 400
    assert "bound to another holder" in signed_in.last_page
    assert db_rows(app, "SELECT COUNT(*) FROM credentials")[0][0] == 0


def test_tampered_signature_is_refused(app, signed_in, issuer):
    credential = issuer.issue(signed_in.holder_jwk(app))
    jwt, rest = credential.split("~", 1)
    head, payload, signature = jwt.split(".")
    tampered = f"{head}.{payload}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}~{rest}"
    assert signed_in.add(tampered).status_code == 400
    assert "signature" in signed_in.last_page


def test_expired_credential_is_refused(app, signed_in, issuer):
    response = signed_in.add(issuer.issue(signed_in.holder_jwk(app), exp=NOW - 600))
    assert response.status_code == 400
    assert "Not added" in signed_in.last_page


def test_garbage_and_empty_are_refused(signed_in):
    for text in ("", "hello", "a.b.c", "not~a~credential"):
        assert signed_in.add(text).status_code == 400


def test_thirty_megabyte_upload_is_refused(app, signed_in):
    signed_in.get("/credentials/add")
    big = io.BytesIO(b"A" * (30 * 1024 * 1024))
    response = signed_in.post("/credentials/add", {"file": (big, "big.txt")}, content_type="multipart/form-data")
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)
    assert db_rows(app, "SELECT COUNT(*) FROM credentials")[0][0] == 0


def test_double_submit_of_the_import_form(app, signed_in, issuer):
    credential = issuer.issue(signed_in.holder_jwk(app))
    signed_in.get("/credentials/add")
    tokens = signed_in.form_tokens()
    first = signed_in.client.post("/credentials/add", data={**tokens, "credential": credential})
    second = signed_in.client.post("/credentials/add", data={**tokens, "credential": credential})
    assert first.status_code == 302
    assert second.status_code == 409
    assert "already sent once" in second.get_data(as_text=True)
    assert db_rows(app, "SELECT COUNT(*) FROM credentials")[0][0] == 1


def test_failed_import_does_not_burn_the_form(app, signed_in, issuer):
    signed_in.get("/credentials/add")
    tokens = signed_in.form_tokens()
    assert signed_in.client.post("/credentials/add", data={**tokens, "credential": "garbage"}).status_code == 400
    good = issuer.issue(signed_in.holder_jwk(app))
    assert signed_in.client.post("/credentials/add", data={**tokens, "credential": good}).status_code == 302


def test_jwt_vc_import_bound_by_subject_did(app, signed_in, issuer):
    from credentials.jose import PublicKey

    holder = PublicKey.from_jwk(signed_in.holder_jwk(app))
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential", "MicroCredential"],
        "issuer": {"id": issuer.did, "name": "Universidade Exemplo"},
        "name": "Open Science Basics",
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": did_jwk_from_public_key(holder), "ects": 2},
    }
    response = signed_in.add(sign_vc_jwt(credential, issuer.key, kid=issuer.kid))
    assert response.status_code == 302, signed_in.last_page
    signed_in.get(response.headers["Location"])
    assert "Open Science Basics" in signed_in.last_page
    assert "shared whole" in signed_in.last_page  # no selective disclosure: shared whole, in a VP
    other = {**credential, "credentialSubject": {"id": "did:jwk:" + "e30", "ects": 2}}
    assert signed_in.add(sign_vc_jwt(other, issuer.key, kid=issuer.kid)).status_code == 400


def test_other_account_cannot_see_credential(app, held):
    from wallet_helpers import WalletClient

    _, credential_id = held
    other = WalletClient(app.test_client())
    other.signup("bea")
    assert other.get(f"/credentials/{credential_id}").status_code == 404
    assert other.get(f"/credentials/{credential_id}/share").status_code == 404
    assert other.submit("/auth/account", f"/credentials/{credential_id}/delete").status_code == 404


def test_recheck_with_trust_check(app, held):
    client, credential_id = held
    client.recheck(app, credential_id, TRUSTED_CHECKS)
    assert db_rows(app, "SELECT badge FROM credentials")[0][0] == "verified"
    client.recheck(app, credential_id, [{"check": "revocation", "status": "failed", "detail": "revoked by its issuer"}])
    client.get(f"/credentials/{credential_id}")
    assert "revoked by its issuer" in client.last_page
    client.recheck(app, credential_id, ConnectionRefusedError("no chain"))
    client.get("/credentials")
    assert "Could not check" in client.last_page


def test_import_while_chain_is_down_still_works(app, signed_in, issuer):
    def chain_down(raw, fmt, now):
        raise OSError("connection refused")

    app.config["TRUST_CHECK"] = chain_down
    assert signed_in.add(issuer.issue(signed_in.holder_jwk(app))).status_code == 302
    assert db_rows(app, "SELECT badge FROM credentials")[0][0] == "unavailable"


def test_delete_credential(app, held):
    client, credential_id = held
    assert client.submit(f"/credentials/{credential_id}", f"/credentials/{credential_id}/delete").status_code == 302
    assert db_rows(app, "SELECT COUNT(*) FROM credentials")[0][0] == 0
    assert client.get(f"/credentials/{credential_id}").status_code == 404


def test_scan_routes_codes(app, signed_in):
    bad = signed_in.submit("/credentials/scan", "/credentials/scan", {"scanned": "hello there"})
    assert bad.status_code == 400
    assert "not one the wallet knows" in signed_in.last_page
    presentation = signed_in.submit("/credentials/scan", "/credentials/scan", {"scanned": "eyJ.eyJ.sig~abc~"})
    assert presentation.status_code == 400
    assert "for a verifier to scan" in signed_in.last_page
    request = signed_in.submit("/credentials/scan", "/credentials/scan",
                               {"scanned": "openid4vp://?client_id=redirect_uri%3Ahttps%3A%2F%2Fv.example%2Fcb"})
    assert request.status_code == 400
    assert "This request was refused" in signed_in.last_page


def test_badge_from_the_verifier_core(app, signed_in, issuer):
    from credentials.verification import Policy, StatusEvidence, TrustAnswer, TrustLink, Unavailable
    from wallet.checking import core_trust_check

    def trust(did, vct, at):
        return TrustAnswer(True, "accredited", chain=(TrustLink(did, "Universidade Exemplo", "issuer"),
                                                      TrustLink("did:example:root", "Ministry", "root")))

    policy = Policy(trusted_roots=frozenset({"did:example:root"}), status_required=False)
    app.config["TRUST_CHECK"] = core_trust_check(policy, trust, lambda did, uri: StatusEvidence(None))
    assert signed_in.add(issuer.issue(signed_in.holder_jwk(app))).status_code == 302
    badge, detail = db_rows(app, "SELECT badge, badge_detail FROM credentials")[0]
    assert badge == "verified", detail

    app.config["TRUST_CHECK"] = core_trust_check(policy, lambda did, vct, at: Unavailable("chain down"),
                                                 lambda did, uri: Unavailable("chain down"))
    assert signed_in.add(issuer.issue(signed_in.holder_jwk(app), {**CLAIMS, "title": "Two"})).status_code == 302
    assert db_rows(app, "SELECT badge FROM credentials ORDER BY id DESC")[0][0] == "unavailable"


def test_out_of_range_ids_are_not_found(held):
    client, _ = held
    for url in ("/credentials/99999999999999999999999", "/credentials/99999999999999999999999/share",
                "/shares/" + "x" * 300, "/p/" + "é" * 10):
        assert client.get(url).status_code == 404, url
