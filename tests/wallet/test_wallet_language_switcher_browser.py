"""The wallet's language switcher on a small phone (360 x 740 CSS px, and 320 px wide), in headless Chromium:
its four languages sit on one line or wrap evenly (two and two), never "Français" alone on a line, and nothing
overflows the page's width, signed out (the sign-in page) and signed in (the bar with its navigation). The
stylesheet alone does it (wallet/static/wallet.css, as the verifier's since 43ff55a)."""

from __future__ import annotations

import pytest
from wallet_helpers import sign_up_in_browser

pytestmark = pytest.mark.browser

ROWS = """() => {
    const rows = {};
    for (const li of document.querySelectorAll('.language-switcher li')) {
        const top = Math.round(li.getBoundingClientRect().top);
        (rows[top] = rows[top] || []).push(li.textContent.trim());
    }
    return Object.keys(rows).map(Number).sort((a, b) => a - b).map(top => rows[top]);
}"""


def _switcher_rows(page, url: str, width: int, language: str) -> list[list[str]]:
    page.set_viewport_size({"width": width, "height": 740})
    page.goto(f"{url}?lang={language}")
    rows = page.evaluate(ROWS)
    assert sum(len(row) for row in rows) == 4, rows
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    return rows


@pytest.mark.parametrize("width", [360, 320])
@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_languages_sit_on_one_line_or_wrap_evenly(serve_wallet, page, width, language):
    _app, base = serve_wallet()
    signed_out = _switcher_rows(page, f"{base}/auth/signin", width, language)
    sign_up_in_browser(page, base)
    signed_in = _switcher_rows(page, f"{base}/credentials", width, language)
    for rows in (signed_out, signed_in):
        assert len({len(row) for row in rows}) == 1, rows  # 4, or 2 + 2: no language alone on a line
    if width == 360:
        assert len(signed_in) == 1, signed_in  # all four on one line at 360 px
