"""The wallet in real headless Chromium at a phone's size (390×844): sign up, import,
open a credential, choose disclosures, render the QR; then decode the QR from the
page with zxing-cpp, follow it, and verify the presentation with the project's
verifier core: the disclosed claims are exactly the chosen ones.

Screenshots of the main screens go to ``tests/artifacts/wallet/``.
"""

from __future__ import annotations

import io
import urllib.request
from pathlib import Path

import pytest
from wallet_helpers import PASSWORD, Issuer, WalletClient

from credentials.verification import Policy, TrustAnswer, TrustLink, Unavailable, verify_presentation

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "wallet"


@pytest.fixture
def server(serve_wallet):
    """The wallet on a free 127.0.0.1 port, stopped by the test."""
    return serve_wallet()


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _no_horizontal_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide on a 390 px screen"


def test_sign_up_import_choose_and_show_a_qr_that_verifies(server, page, issuer: Issuer):
    import zxingcpp
    from PIL import Image

    app, base = server
    page.goto(f"{base}/auth/signup")
    _shot(page, "01-signup")
    page.fill("input[name=username]", "ana")
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=password_again]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/credentials/add")

    holder = WalletClient(None, username="ana")
    credential = issuer.issue(holder.holder_jwk(app))
    page.fill("textarea[name=credential]", credential)
    _shot(page, "02-add")
    page.click("form.stack button[type=submit]")
    page.wait_for_url("**/credentials/*")
    assert page.locator("h1").inner_text() == "Data Protection Law in Practice"
    assert page.get_by_text("Advise on international transfers").is_visible()
    _no_horizontal_scroll(page)
    _shot(page, "03-detail")

    page.goto(f"{base}/credentials")
    assert "4 ECTS" in page.content()
    _shot(page, "04-list")

    page.goto(page.url.replace("/credentials", "/credentials/1/share"))
    page.set_viewport_size({"width": 360, "height": 800})  # the narrowest phone the issue names
    _no_horizontal_scroll(page)
    _shot(page, "05-choose")
    for claim in ('["awarding_body",0]', '["issued_on"]', '["eqf_level"]', '["learner","given_name"]',
                  '["learner","family_name"]'):
        page.uncheck(f"input[value='{claim}']")
    page.check("""input[value='["learning_outcomes",2]']""")
    page.click("form.stack button[type=submit]")
    assert page.get_by_text("Advise on international transfers").is_visible()
    assert page.get_by_text("Apply the GDPR").count() == 0
    _shot(page, "06-preview")
    page.click("button.big")
    page.wait_for_url("**/shares/*")
    page.set_viewport_size({"width": 390, "height": 844})
    countdown = page.locator("#countdown")
    assert countdown.inner_text().startswith("Valid for 4:5") or countdown.inner_text().startswith("Valid for 5:0")
    _shot(page, "07-qr")
    assert page.csp_errors == [], page.csp_errors

    image = Image.open(io.BytesIO(page.locator("#qr").screenshot()))
    decoded = zxingcpp.read_barcodes(image)
    assert len(decoded) == 1
    link = decoded[0].text
    assert link.startswith(f"{base}/p/")
    with urllib.request.urlopen(link, timeout=5) as answer:
        assert answer.headers.get_content_type() == "application/dc+sd-jwt"
        presentation = answer.read().decode("ascii")

    result = verify_presentation(
        presentation, policy=Policy(trusted_roots=frozenset({"did:example:root"}), status_required=False),
        # Accredited under the trusted root, so the presentation gets as far as the replay record.
        trust=lambda did, vct, at: TrustAnswer(True, "accredited", (TrustLink(did, "Universidade Exemplo", "issuer"),
                                                                    TrustLink("did:example:root", "Root", "root"))),
        status=lambda did, uri: Unavailable("no ledger in this test"),
        replay=lambda kb_id, expires_at: True, now=int(__import__("time").time()),
    )
    passed = {c.check for c in result.checks if c.status == "passed"}
    assert {"format", "signature", "disclosures", "holder_binding", "replay", "validity_period", "schema"} <= passed
    assert result.claims == {
        "title": "Data Protection Law in Practice",
        "ects": 4,
        "learning_outcomes": ["Advise on international transfers"],
    }
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(link, timeout=5)  # one time only

    page.goto(f"{base}/shares")
    assert "used" in page.content()
    _shot(page, "08-history")

    page.goto(f"{base}/credentials/scan")  # jsQR loads under the CSP; no camera in a headless run
    page.wait_for_selector("#camera-status:has-text('paste')")
    _no_horizontal_scroll(page)
    _shot(page, "09-scan")
    assert page.csp_errors == [], page.csp_errors
