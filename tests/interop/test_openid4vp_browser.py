"""A cross-device OpenID4VP request with an encrypted answer, in real headless Chromium.

Three browser contexts (separate cookie jars): the employer's desktop shows microcred's verifier
page with the request QR (signed ``x509_hash`` request, ``direct_post.jwt``); the learner's phone
runs microcred's wallet, opens the link read from the QR image (zxing-cpp on a screenshot),
sees the certified organisation, consents; the employer's page turns to the verdict by itself.
A third context that knows only the QR's content (and even the employer's page address) cannot
fetch the request again, answer it, or read the result.

Screenshots go to ``tests/artifacts/openid4vp/``.
"""

from __future__ import annotations

import html
import io
import re
import shutil
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.interop.openid4vp_world import CA_NAME, ORGANISATION, chain_files
from tests.tooling import missing_tool
from tests.wallet.wallet_helpers import WalletClient, sign_up_in_browser

pytestmark = [pytest.mark.integration, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
#: Sending verifies the answer on the chain before the browser moves on: generous on a loaded 2-core machine.
VERDICT_WAIT_MS = 90_000
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "openid4vp"


@pytest.fixture
def learner_wallet(tmp_path, pki):
    """microcred's wallet on a free 127.0.0.1 port, trusting the interop CA for verifiers."""
    from werkzeug.serving import make_server

    from wallet import create_app

    _, _, anchors = chain_files(pki, tmp_path)
    app = create_app({"DATA_DIR": str(tmp_path / "wallet"), "SESSION_COOKIE_SECURE": False, "ARGON2_TIME_COST": 1,
                      "ARGON2_MEMORY_COST": 8 * 1024, "ARGON2_PARALLELISM": 1, "DEV_LOOPBACK": True,
                      "WALLET_VERIFIER_TRUST_ANCHORS": str(anchors)})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def chromium():
    if shutil.which(CHROMIUM) is None:
        missing_tool(f"Debian chromium is not installed at {CHROMIUM}")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _context(browser, options: dict, errors: list[str]):
    context = browser.new_context(**options)
    context.set_default_timeout(20_000)
    context.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    return context


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _read_qr(page) -> str:
    import zxingcpp
    from PIL import Image

    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(page.locator("img.qr").screenshot())).convert("L"))
    assert len(found) == 1, "one QR code on the employer's page"
    return found[0].text


def _sign_up_with_credential(page, wallet_base: str, wallet_app, issuer) -> None:
    """Sign up in the wallet and add a credential ``issuer`` issues to the wallet's holder key."""
    sign_up_in_browser(page, wallet_base)
    holder_jwk = WalletClient(None, username="ana").holder_jwk(wallet_app)
    page.fill("textarea[name=credential]", issuer.credential(holder_jwk=holder_jwk))
    page.click("form.stack button[type=submit]")
    page.wait_for_url("**/credentials/*")


def _text(page) -> str:
    return re.sub(r"\s+", " ", page.inner_text("body"))


def test_cross_device_request_with_an_encrypted_answer(chromium, our_verifier, learner_wallet, make_issuer):
    import requests

    _, verifier_base = our_verifier()
    wallet_app, wallet_base = learner_wallet
    issuer = make_issuer()
    errors: list[str] = []

    # The learner signs up on her phone and adds a credential issued to her wallet's holder key.
    phone = _context(chromium, PHONE, errors).new_page()
    _sign_up_with_credential(phone, wallet_base, wallet_app, issuer)

    # The employer asks for title, ECTS and EQF level (the form's defaults), encrypted (the default).
    desk = _context(chromium, DESKTOP, errors).new_page()
    desk.goto(f"{verifier_base}/openid4vp/new")
    desk.click("#request-form button[type=submit]")
    desk.wait_for_url("**/openid4vp/t/*")
    assert "encrypted" in _text(desk)
    page_url = desk.url
    _shot(desk, "01-employer-qr")
    link = _read_qr(desk)
    query = parse_qs(urlsplit(link).query)
    assert urlsplit(link).scheme == "openid4vp"
    assert set(query) == {"client_id", "request_uri"}  # by reference: no nonce, no state in the QR
    assert query["client_id"][0].startswith("x509_hash:")

    # The learner's wallet opens the request: who asks, certified by whom, encrypted; she shares.
    phone.goto(f"{wallet_base}/openid4vp/review?" + urlencode({"request": link}))
    phone.click("form button[type=submit]")
    phone.wait_for_url("**/openid4vp/*")
    consent = _text(phone)
    assert ORGANISATION in consent
    assert CA_NAME in consent
    assert "encrypted" in consent
    _shot(phone, "02-learner-consent")
    phone.click("button.big:not(.secondary)")
    # The wallet takes her phone on to the verifier's redirect_uri, where nothing of the answer shows: her
    # phone holds no cookie of the employer's page.
    phone.wait_for_selector("#done-note", timeout=VERDICT_WAIT_MS)
    assert phone.url.startswith(f"{verifier_base}/openid4vp/done?response_code=")
    assert "Look at the screen where the request was shown" in _text(phone)
    assert "Introduction to Smart Contracts" not in _text(phone)
    _shot(phone, "03-learner-after-sharing")

    # The employer's page turns to the verdict by itself (it polls with its secret cookie).
    desk.wait_for_selector("[data-verified]", timeout=VERDICT_WAIT_MS)
    assert desk.get_attribute("[data-verified]", "data-verified") == "true"
    assert "Introduction to Smart Contracts" in _text(desk)
    _shot(desk, "04-employer-verdict")

    # Someone who saw the QR (and even learnt the page's address) gets nothing.
    snoop = _context(chromium, DESKTOP, errors).new_page()
    again = snoop.goto(query["request_uri"][0])
    assert again.status == 410
    assert query["client_id"][0] not in (snoop.content())
    for path in ("", "/status", "/result"):
        seen = snoop.goto(page_url + path)
        assert seen.status == 404
        assert "Introduction to Smart Contracts" not in snoop.content()
    late = requests.post(f"{verifier_base}/openid4vp/response", data={"response": "a.b.c.d.e"}, timeout=10)
    assert late.status_code == 400
    assert late.json()["error"] == "invalid_request"
    assert html.unescape(link) == link
    assert not [e for e in errors if "Content Security Policy" in e], errors


def test_same_device_the_wallet_takes_the_browser_back_to_the_verifier(chromium, our_verifier, learner_wallet,
                                                                        make_issuer):
    """One browser: the learner asks on the verifier's page, opens her wallet, shares, and is brought back
    (OpenID4VP 1.0 §8.2 ``redirect_uri``, HAIP 1.0 §5.1: "Wallets MUST follow the redirect") to the result."""
    _, verifier_base = our_verifier()
    wallet_app, wallet_base = learner_wallet
    issuer = make_issuer()
    errors: list[str] = []
    tab = _context(chromium, PHONE, errors).new_page()
    _sign_up_with_credential(tab, wallet_base, wallet_app, issuer)
    tab.goto(f"{verifier_base}/openid4vp/new")
    tab.click("#request-form button[type=submit]")
    tab.wait_for_url("**/openid4vp/t/*")
    link = tab.get_attribute("#request-link", "href")
    tab.goto(f"{wallet_base}/openid4vp/review?" + urlencode({"request": link}))
    tab.click("form button[type=submit]")
    tab.wait_for_url("**/openid4vp/*")
    tab.click("button.big:not(.secondary)")
    tab.wait_for_url(f"{verifier_base}/openid4vp/done?*", timeout=VERDICT_WAIT_MS)
    tab.wait_for_selector("[data-verified]", timeout=VERDICT_WAIT_MS)
    assert tab.get_attribute("[data-verified]", "data-verified") == "true"
    assert not [e for e in errors if "Content Security Policy" in e], errors
