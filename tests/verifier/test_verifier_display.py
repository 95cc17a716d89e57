"""What the employer sees cannot be spoofed by the credential's text: bidi controls in claims are
shown, not obeyed; the issuer is named by the trust registry; long unbroken claims wrap (a phone's
390 px viewport, in headless Chromium)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from conftest import CLAIMS

from credentials.verification_model import CheckResult, TrustLink, VerificationResult
from tests.tooling import missing_tool

CHROMIUM = Path("/usr/bin/chromium")
RLO, PDF, LRI = "\u202e", "\u202c", "\u2066"
REGISTRY_NAME = "Università di Prova"


@pytest.fixture
def bare_app(tmp_path):
    """A verifier with no chain behind it: enough to render pages."""
    from verifier import create_app

    return create_app({"TESTING": True, "VERIFIER_PUBLIC_URL": "http://127.0.0.1:5002",
                       "VERIFIER_TRUSTED_ROOTS": "did:example:root", "DATA_DIR": str(tmp_path / "verifier"),
                       "RPC_URL": "http://127.0.0.1:9"})


def _render(app, claims, issuer):
    from verifier.pages import render_result

    checks = tuple(CheckResult(name, "passed", "ok") for name in
                   ("format", "signature", "disclosures", "holder_binding", "replay", "validity_period",
                    "issuer_trust", "revocation", "schema"))
    result = VerificationResult("dc+sd-jwt", checks, issuer=issuer, claims=claims,
                                trust_chain=(TrustLink(issuer["id"], REGISTRY_NAME, "issuer"),))
    with app.test_request_context("/verify", method="POST"):
        return render_result(result, "presentation", int(time.time()))


def test_bidi_controls_in_claims_are_shown_not_obeyed(bare_app):
    claims = {"title": f"Safe title{RLO}txet desrever", "awarding_body": [{"name": f"Uni{LRI}versity{PDF}"}],
              "learning_outcomes": [f"Outcome {RLO}one"], "learner": {"given_name": f"Ana{RLO}", "family_name": "S"}}
    page = _render(bare_app, claims, {"id": "did:example:issuer", "name": f"Registry{RLO} name", "country": "IT"})
    for control in (RLO, PDF, LRI, "\u200e", "\u200f", "\u061c"):
        assert control not in page
    assert "Safe title[U+202E]txet desrever" in page
    assert "Uni[U+2066]versity[U+202C]" in page
    assert "Registry[U+202E] name" in page


def test_issuer_named_by_the_registry_and_claims_marked_as_stated(bare_app):
    claims = {**CLAIMS,
              "awarding_body": [{"name": "Universitá di Prova", "id": "https://fake.example", "country": "IT"}]}
    page = _render(bare_app, claims, {"id": "did:example:issuer", "name": REGISTRY_NAME, "country": "IT"})
    issued_by = page[page.index('class="cert-issuer"'):]
    issued_by = issued_by[:issued_by.index("</p>")]
    assert REGISTRY_NAME in issued_by
    assert "trust registry" in issued_by
    assert "Universitá di Prova" not in issued_by
    assert "stated by the issuer" in page.lower()


@pytest.mark.integration
@pytest.mark.browser
def test_a_5000_character_claim_wraps_at_390_px(app, make_issuer, tmp_path):
    if not CHROMIUM.exists():
        missing_tool("Debian chromium is not installed at /usr/bin/chromium")
    playwright_api = pytest.importorskip("playwright.sync_api")
    from werkzeug.serving import make_server

    issuer = make_issuer()
    unbroken = "A" * 5000
    claims = {**CLAIMS, "title": unbroken, "learning_outcomes": [unbroken, "B" * 5000], "grade": "C" * 5000}
    presentation = issuer.present(issuer.credential(claims=claims))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with playwright_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                                 args=["--headless", "--no-sandbox", "--disable-gpu"])
            try:
                page = browser.new_page(viewport={"width": 390, "height": 844})
                page.goto(f"http://127.0.0.1:{server.server_port}/")
                page.fill("#pasted", presentation)
                page.click("#pasted ~ button")
                page.wait_for_selector("#verdict", timeout=20_000)
                assert unbroken[:100] in page.inner_text("#certificate")
                assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
                assert page.evaluate("document.querySelector('#verdict').scrollWidth") <= 390
            finally:
                browser.close()
    finally:
        server.shutdown()
