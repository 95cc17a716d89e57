"""A page whose credentials are still being checked reloads itself in a way the learner controls (issue 15 §3).

WCAG 2.1 success criterion 2.2.1 (Timing Adjustable, level A; axe-core's rule ``meta-refresh``): a page must not
refresh itself after a delay the person cannot turn off. The wallet's "Checking…" pages (``wallet.freshness``) used
``<meta http-equiv="refresh" content="3">``; they now say that the page will reload, offer a button that stops it
(``static/reload.js``, the only thing that reloads; any key or click stops it too) and a link that shows the result
by hand. In Chromium, with the page's timers on Playwright's clock: it reloads after the delay, and not once stopped.
"""

from __future__ import annotations

import re

import pytest
from test_wallet_status_freshness import Gate, _add
from wallet_helpers import PASSWORD, WalletClient

from tests.waiting import wait_for


@pytest.fixture
def closing(app):
    from wallet.freshness import close_app

    yield app
    close_app(app)


def test_a_page_still_checking_says_it_reloads_and_offers_to_stop(closing, signed_in, issuer, clock, monkeypatch):
    from wallet import freshness

    app = closing
    monkeypatch.setattr(freshness, "REQUEST_WAIT_S", 0.05)
    _add(signed_in, app, issuer, 2)
    gate = Gate()
    app.config["TRUST_CHECK"] = gate
    clock.now += 61

    assert signed_in.get("/credentials").status_code == 200  # answered while the checks are held
    page = signed_in.last_page
    assert "Checking…" in page
    assert "http-equiv" not in page  # no timed refresh the learner cannot stop
    note = re.search(r'<p [^>]*data-reload-after="(\d+)"[^>]*>(.*?)</p>', page, re.S)
    assert note is not None, "the page does not say that it will reload"
    assert int(note.group(1)) == freshness.RELOAD_AFTER_S
    assert re.search(r'role="status"', note.group(0))
    assert re.search(r'<button type="button" [^>]*data-reload-stop', note.group(2))
    assert re.search(r'<a href="/credentials">', note.group(2))  # by hand, without the script
    assert '<script src="/static/reload.js"></script>' in page
    detail = re.search(r'href="(/credentials/\d+)"', page).group(1)
    signed_in.get(detail)
    assert "http-equiv" not in signed_in.last_page
    said = re.search(r'data-reload-after="\d+"[^>]*><span data-reload-said>([^<]*)</span>', signed_in.last_page)
    assert said is not None, "the credential's page does not say that it will reload"
    assert said.group(1) == "Its status is being checked again; this page reloads in a moment."
    assert f'<a href="{detail}">' in signed_in.last_page

    gate.open.set()
    wait_for(lambda: gate.calls == 2, within=30, what="both checks answered")

    def checked_page() -> bool:
        signed_in.get("/credentials")
        return "Checking…" not in signed_in.last_page

    wait_for(checked_page, within=30, what="the page without credentials being checked")
    assert "data-reload-after" not in signed_in.last_page
    assert "reload.js" not in signed_in.last_page


@pytest.mark.browser
def test_in_a_browser_the_page_reloads_unless_the_learner_stops_it(serve_wallet, page, issuer, clock, monkeypatch):
    from wallet import freshness

    monkeypatch.setattr(freshness, "REQUEST_WAIT_S", 0.05)
    app, base = serve_wallet(CLOCK=clock)
    learner = WalletClient(app.test_client())
    learner.signup()
    _add(learner, app, issuer, 2)
    gate = Gate()
    app.config["TRUST_CHECK"] = gate
    clock.now += 61
    page.clock.install()  # the page's setTimeout runs when the test says
    try:
        page.goto(f"{base}/auth/signin")
        page.fill("input[name=username]", learner.username)
        page.fill("input[name=password]", PASSWORD)
        page.click("form.stack button[type=submit]")
        page.wait_for_url("**/credentials")
        stop = page.locator("[data-reload-stop]")
        assert stop.is_visible()
        with page.expect_navigation(url="**/credentials"):  # nobody stops it: it reloads after the delay
            page.clock.run_for(freshness.RELOAD_AFTER_S * 1000 + 500)

        page.wait_for_selector("[data-reload-stop]")
        page.evaluate("() => { window.notReloaded = true; }")
        stop.click()
        assert page.inner_text("[data-reload-said]") == "It will not reload by itself now."
        assert not stop.is_visible()
        assert page.evaluate("() => document.activeElement.matches('.reload-note a')")  # focus kept, on the link
        page.clock.run_for(freshness.RELOAD_AFTER_S * 1000 * 5)
        assert page.evaluate("() => window.notReloaded === true")
        assert page.csp_errors == []
    finally:
        gate.open.set()
        freshness.close_app(app)
