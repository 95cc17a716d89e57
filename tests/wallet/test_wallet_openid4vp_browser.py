"""The OpenID4VP consent page in headless Chromium at 360 px (issue 13 §3): who asks and why first, each claim
on its own line (optional ones unticked), the credential to use; Share sends the encrypted answer and the
browser lands where the verifier's answer says. Screenshot in ``tests/artifacts/wallet/``."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
from oid4vp_verifier import DONE, TestVerifier, access_spec, dcql
from wallet_helpers import Issuer, WalletClient, sign_up_in_browser

from tests.x509_pki import ROOT, make_pki, name, spec

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "wallet"
PKI = make_pki("ec", root=spec(ROOT, subject=name("microcred test access CA", country="DE")), seal=access_spec())


def test_the_consent_page_at_360_px_then_an_encrypted_answer(serve_wallet, page, issuer: Issuer, tmp_path):
    anchors = tmp_path / "verifier-anchors.pem"
    anchors.write_bytes(PKI.anchors_pem)
    query = dcql("title", "ects", "learning_outcomes")
    query["credentials"][0]["claim_sets"] = [["title", "ects", "learning_outcomes"], ["title", "ects"]]
    query["credential_sets"] = [{"options": [["microcredential"]], "purpose": "Checking your training for the "
                                 "position of data protection officer (reference DPO-2026-0042)"}]
    verifier = TestVerifier(pki=PKI, now=int(time.time()), query=query)
    app, base = serve_wallet(HTTP_TRANSPORT=verifier.transport, WALLET_VERIFIER_TRUST_ANCHORS=str(anchors))
    sign_up_in_browser(page, base)
    page.fill("textarea[name=credential]", issuer.issue(WalletClient(None, username="ana").holder_jwk(app)))
    page.click("form.stack button[type=submit]")
    page.wait_for_url("**/credentials/*")

    page.set_viewport_size({"width": 360, "height": 800})
    page.goto(f"{base}/openid4vp/review?" + urlencode({"request": verifier.link()}))
    page.click("button.big")
    page.wait_for_selector("button.big:has-text('Share with')")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the consent page is {width} px wide on a 360 px screen"
    heading = page.locator("h1").inner_text()
    assert heading == "Demo Employer GmbH (DE) asks to see"
    assert page.locator("input[name=claim-microcredential][value='2']").is_checked() is False
    assert page.locator("input[name=claim-microcredential][value='0']").is_checked()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "07-openid4vp-consent.png"), full_page=True)
    assert page.csp_errors == []

    page.route("https://verifier.example/**", lambda route: route.fulfill(status=200, body="<h1>Thank you</h1>",
                                                                          content_type="text/html"))
    page.click("button.big:has-text('Share with')")
    page.wait_for_url(DONE)
    header, payload = verifier.decrypted()
    assert header["enc"] == "A256GCM"  # HAIP 1.0 §5: preferred when both are offered
    assert list(payload["vp_token"]) == ["microcredential"]
