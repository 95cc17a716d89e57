"""Every wallet page fits a 360 px phone (issue 15 §1.6): no page is wider than its viewport, even with a
long did:key as the awarding body's identifier and as the issuer; such a DID is shown shortened with a copy
button and its full text kept in the page. Also in a real browser: a one-time link's page stops counting and
says "Used at … by a verifier" once the verifier fetched it (§1.8), and the scan page without a camera
shows no black box but the way to paste (§1.9)."""

from __future__ import annotations

import urllib.request

import pytest
from wallet_helpers import CLAIMS, Issuer, WalletClient, sign_up_in_browser

from credentials.dids import did_key_from_public_key
from credentials.jose import PrivateKey

pytestmark = pytest.mark.browser

LONG_DID = did_key_from_public_key(PrivateKey.generate("ES256").public_key())


def _width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_every_wallet_page_fits_a_360_px_phone_and_long_dids_are_shortened(serve_wallet, page, issuer: Issuer):
    app, base = serve_wallet()
    page.set_viewport_size({"width": 360, "height": 780})
    sign_up_in_browser(page, base)
    claims = {**CLAIMS, "awarding_body": [{"name": "Universidade Exemplo", "id": LONG_DID, "country": "PT"}]}
    for title in ("Data Protection Law in Practice", "A second credential for the stack"):
        page.goto(f"{base}/credentials/add")
        page.fill("textarea[name=credential]",
                  issuer.issue(WalletClient(None, username="ana").holder_jwk(app), {**claims, "title": title}))
        page.click("form.stack button[type=submit]")
        page.wait_for_url("**/credentials/*")

    page.goto(f"{base}/credentials/1")
    shown = page.locator(".did").first
    assert LONG_DID not in shown.inner_text()
    assert shown.locator("[data-copy]").get_attribute("data-copy") == LONG_DID

    page.goto(f"{base}/credentials/1/share")
    page.click("form.stack button[type=submit]")
    page.locator("button.big").wait_for()
    assert _width(page) <= 360, f"{page.url} is {_width(page)} px wide"
    page.click("button.big")
    page.wait_for_url("**/shares/*")
    share_url = page.url

    pages = ["/auth/signin", "/auth/signup", "/credentials", "/credentials/1", "/credentials/1/share",
             "/credentials/add", "/credentials/scan", "/credentials/1/delete", "/shares", share_url.removeprefix(base),
             "/stack/share", "/auth/account", "/backup/export", "/backup/restore", "/auth/confirm"]
    too_wide = {}
    for path in pages:
        page.goto(f"{base}{path}")
        if _width(page) > 360:
            too_wide[path] = _width(page)
    page.goto(f"{base}/stack/share/choose?credential=1&credential=2")
    if _width(page) > 360:
        too_wide["/stack/share/choose"] = _width(page)
    assert too_wide == {}, f"wider than a 360 px phone: {too_wide}"
    assert page.csp_errors == [], page.csp_errors


def test_a_used_link_s_page_stops_counting_and_says_when_it_was_used(serve_wallet, page, issuer: Issuer):
    app, base = serve_wallet()
    sign_up_in_browser(page, base)
    page.fill("textarea[name=credential]", issuer.issue(WalletClient(None, username="ana").holder_jwk(app)))
    page.click("form.stack button[type=submit]")
    page.wait_for_url("**/credentials/*")
    page.goto(f"{base}/credentials/1/share")
    page.click("form.stack button[type=submit]")
    page.click("button.big")
    page.wait_for_url("**/shares/*")
    assert page.locator("#countdown").inner_text().startswith("Valid for")

    from wallet_helpers import db_rows

    link = db_rows(app, "SELECT qr_text FROM shares")[0][0]
    with urllib.request.urlopen(link, timeout=5) as answer:
        assert answer.status == 200
    page.wait_for_selector("#countdown:has-text('Used at')")
    assert "by a verifier" in page.locator("#countdown").inner_text()
    assert page.locator("#qr").is_hidden()


def test_the_scan_page_without_a_camera_shows_the_way_to_paste_not_a_black_box(serve_wallet, page):
    app, base = serve_wallet()
    sign_up_in_browser(page, base)
    page.goto(f"{base}/credentials/scan")
    page.wait_for_selector("[data-scan-status]:has-text('paste')")
    assert page.locator("video[data-scan-video]").is_hidden()
    assert page.locator("input[name=scanned]").is_visible()


@pytest.mark.parametrize("lang", ["en", "de", "fr", "it"])
def test_every_navigation_link_is_whole_on_a_360_px_phone_in_each_language(serve_wallet, page, lang):
    """German's longer words pushed "Konto" out of the bar (cut off, reachable only by scrolling the bar)."""
    _app, base = serve_wallet()
    page.set_viewport_size({"width": 360, "height": 740})
    sign_up_in_browser(page, base)
    page.goto(f"{base}/credentials?lang={lang}")
    links = page.evaluate("""() => {
        const nav = document.querySelector('.bar nav');
        const right = Math.min(nav.getBoundingClientRect().right, document.documentElement.clientWidth);
        return {scrolls: nav.scrollWidth > nav.clientWidth,
                cut: [...nav.querySelectorAll('a')].filter(a => a.getBoundingClientRect().right > right + 0.5)
                                                  .map(a => a.textContent.trim())};
    }""")
    assert links == {"scrolls": False, "cut": []}
