"""In headless Chromium at phone width (issue 15, §1 items 4 and 10): a revoked credential's page names who
revoked it and shows the certificate under a red "Not valid" banner; garbage pasted and a photo without a QR
code get the same one answer, "This is not a credential", with no rows of "Not checked"."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest

from tests.tooling import missing_tool

pytestmark = [pytest.mark.integration, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
PHONE = {"width": 360, "height": 740}


@pytest.fixture
def served_app(app):
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


@pytest.fixture
def phone():
    if not CHROMIUM.exists():
        missing_tool("Debian chromium is not installed at /usr/bin/chromium")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox"])
        try:
            yield browser.new_page(viewport=PHONE)
        finally:
            browser.close()


def _paste(page, base: str, text: str) -> None:
    page.goto(base + "/")
    page.fill("#pasted", text)
    page.click("form:has(#pasted) button[type=submit]")
    page.wait_for_selector("#verdict")


def test_a_revoked_credential_is_marked_not_valid_on_the_page(served_app, phone, make_issuer):
    issuer = make_issuer()
    issuer.status_list.set(1234, 1)
    issuer.publish()
    _paste(phone, served_app, issuer.present())
    headline = phone.inner_text("#verdict .verdict-word")
    assert headline.startswith("Revoked by Università di Prova, as of ")
    banner = phone.locator("#certificate .cert-void-banner")
    assert banner.is_visible()
    assert "NOT VALID" in banner.inner_text().upper()
    colour = phone.evaluate("getComputedStyle(document.querySelector('#certificate .cert-void-banner'))"
                            ".backgroundColor")
    assert colour == "rgb(164, 22, 26)"  # --bad, the verdict's red
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_garbage_and_a_photo_without_a_code_get_one_answer(served_app, phone, tmp_path):
    from PIL import Image

    _paste(phone, served_app, "Dear employer, here is my diploma")
    pasted = phone.inner_text("#verdict .verdict-word")
    assert pasted == "This is not a credential"
    assert phone.locator(".check").count() == 0
    picture = tmp_path / "cat.png"
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (120, 90, 60)).save(buffer, format="PNG")
    picture.write_bytes(buffer.getvalue())
    phone.goto(served_app + "/")
    phone.set_input_files("input[name=photo]", str(picture))
    phone.click("form:has(input[name=photo]) button[type=submit]")
    phone.wait_for_selector("#verdict")
    assert phone.inner_text("#verdict .verdict-word") == pasted
    assert "no QR code was found" in phone.inner_text("#verdict")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
