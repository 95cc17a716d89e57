"""In headless Chromium at phone width (issue 15, §1 items 4 and 10): a revoked credential's page names who
revoked it and shows the certificate under a red "Not valid" banner; garbage pasted and a photo without a QR
code get the same one answer, "This is not a credential", with no rows of "Not checked"."""

from __future__ import annotations

import io

import pytest

from tests.browser import PHONE, chromium_page, serving

pytestmark = [pytest.mark.integration, pytest.mark.browser]



@pytest.fixture
def served_app(app):
    with serving(app) as base:
        yield base


@pytest.fixture
def phone():
    with chromium_page() as page:
        yield page


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
