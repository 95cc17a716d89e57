"""Credentials from elsewhere in real headless Chromium at a phone's size (390×844): a learner uploads a
Europass EDC and an Open Badge as files, sees them beside her microcred credential through the same Annex I
view with the ECTS total, and shares the badge whole: consent page, QR, the one-time link read back from
the page and the presentation verified by the project's verifier core.

Screenshots go to ``tests/artifacts/wallet/``; with ``MICROCRED_UPDATE_SCREENSHOTS=1`` the README's
``docs/screenshots/wallet-imported-*.png`` are written too (as tests/system/test_story_browser.py does).
"""

from __future__ import annotations

import io
import os
import time
import urllib.request
from pathlib import Path

import pytest
from test_wallet_imported import EDC_MC, PKI, badge_di, holder_did, sealed_edc
from wallet_helpers import Issuer, WalletClient, sign_up_in_browser

from credentials.verification import PASSED, Policy, TrustAnswer, TrustLink, Unavailable, verify_presentation

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts" / "wallet"
README_SHOTS = ROOT / "docs" / "screenshots"
UPDATE_SHOTS_ENV = "MICROCRED_UPDATE_SCREENSHOTS"


@pytest.fixture
def server(tmp_path, serve_wallet):
    anchors = tmp_path / "anchors.pem"
    anchors.write_bytes(PKI.anchors_pem)
    return serve_wallet(X509_TRUST_ANCHORS=str(anchors))


def _shot(page, name: str, *, full_page: bool = True) -> None:
    """Save to the artifacts; with the env switch also a small copy for the README."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    png = page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)
    if os.environ.get(UPDATE_SHOTS_ENV) == "1":
        from PIL import Image

        README_SHOTS.mkdir(parents=True, exist_ok=True)
        image = Image.open(io.BytesIO(png)).convert("RGB")
        image.quantize(colors=64, method=Image.Quantize.MEDIANCUT).save(README_SHOTS / f"{name}.png", optimize=True)


def _no_horizontal_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide on a 390 px screen"


def _upload(page, base: str, name: str, text: str) -> None:
    page.goto(f"{base}/credentials/add")
    page.set_input_files("input[name=file]", files=[{"name": name, "mimeType": "application/json",
                                                     "buffer": text.encode("utf-8")}])
    page.click("form.stack button[type=submit]")
    page.wait_for_url("**/credentials/*")


def test_a_learner_brings_an_edc_and_an_open_badge_and_shares_one(server, page, issuer: Issuer):
    import zxingcpp
    from PIL import Image

    app, base = server
    sign_up_in_browser(page, base)
    learner = WalletClient(None, username="ana")
    jwk, did = learner.holder_jwk(app), holder_did(app, learner)

    page.fill("textarea[name=credential]", issuer.issue(jwk, iat=int(time.time()) - 3600))
    page.click("form.stack button[type=submit]")
    page.wait_for_url("**/credentials/*")

    _upload(page, base, "micro-credential.jsonld", sealed_edc(EDC_MC, jwk))
    assert page.locator("h1").inner_text() == "Title of your learning achievement"
    assert page.get_by_text("Workload (ECTS credits)").is_visible()
    assert page.get_by_text("Europass digital credential").is_visible()
    _no_horizontal_scroll(page)
    _shot(page, "wallet-imported-edc")

    _upload(page, base, "teamwork-badge.json", badge_di(did, name="Teamwork"))
    assert page.locator("h1").inner_text() == "Teamwork"
    badge_url = page.url
    _no_horizontal_scroll(page)

    page.goto(f"{base}/credentials")
    content = page.content()
    assert "12 ECTS</strong> from 3 valid credentials" in content  # 4 (microcred) + 5 (EDC) + 3 (badge)
    for title in ("Data Protection Law in Practice", "Title of your learning achievement", "Teamwork"):
        assert page.get_by_text(title).first.is_visible(), title
    _no_horizontal_scroll(page)
    _shot(page, "wallet-imported-list")

    page.goto(f"{badge_url}/share")
    assert page.get_by_text("This credential is shared whole: everything below will be seen").is_visible()
    _no_horizontal_scroll(page)
    _shot(page, "wallet-imported-consent")
    page.click("button.big")
    page.wait_for_url("**/shares/*")
    _shot(page, "wallet-imported-share", full_page=False)
    assert page.csp_errors == [], page.csp_errors

    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(page.locator("#qr").screenshot())))
    assert len(decoded) == 1
    link = decoded[0].text
    assert link.startswith(f"{base}/p/")
    with urllib.request.urlopen(link, timeout=5) as answer:
        assert answer.headers.get_content_type() == "application/vp+ld+json"
        presentation = answer.read().decode("utf-8")
    result = verify_presentation(
        presentation, policy=Policy(trusted_roots=frozenset({"did:example:root"}), status_required=False),
        trust=lambda did_, kind, at: TrustAnswer(True, "accredited", (TrustLink(did_, "Example Corp", "issuer"),
                                                                      TrustLink("did:example:root", "Root", "root"))),
        status=lambda did_, uri: Unavailable("no ledger in this test"),
        replay=lambda kb_id, expires_at: True, now=int(time.time()),
    )
    checks = {c.check: c for c in result.checks}
    for name in ("format", "signature", "holder_binding", "validity_period", "issuer_trust", "replay"):
        assert checks[name].status == PASSED, (name, checks[name].detail)
    assert result.verified, [c.to_json() for c in result.checks]
