"""The issuer's language switcher on a small phone (360 x 740 CSS px, and 320 px wide), in headless Chromium:
its four languages sit on one line or wrap evenly (two and two), never "Français" alone on a line, and nothing
overflows the page's width, on the home page and the registrar's page. The stylesheet alone does it
(issuer/web/static/issuer.css, as the verifier's since 43ff55a)."""

from __future__ import annotations

import pytest
from _issuer_support import NOW

from issuer.web import create_app
from tests.browser import PHONE, QUIET_CHROMIUM_ARGS, chromium_page, serving

pytestmark = pytest.mark.browser

ROWS = """() => {
    const rows = {};
    for (const li of document.querySelectorAll('.language-switcher li')) {
        const top = Math.round(li.getBoundingClientRect().top);
        (rows[top] = rows[top] || []).push(li.textContent.trim());
    }
    return Object.keys(rows).map(Number).sort((a, b) => a - b).map(top => rows[top]);
}"""


@pytest.fixture
def served(home, data_dir, anchor):
    app = create_app({"TESTING": True, "DATA_DIR": str(data_dir), "ISSUER": "uni", "STATUS_ANCHOR": anchor,
                      "CLOCK": lambda: NOW})
    with serving(app) as base:
        yield base


@pytest.mark.parametrize("width", [PHONE["width"], 320])
@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_languages_sit_on_one_line_or_wrap_evenly(served, width, language):
    with chromium_page(viewport={"width": width, "height": PHONE["height"]}, args=QUIET_CHROMIUM_ARGS) as page:
        for path in ("/", "/registrar/"):
            page.goto(f"{served}{path}?lang={language}")
            rows = page.evaluate(ROWS)
            assert sum(len(row) for row in rows) == 4, (path, rows)
            assert len({len(row) for row in rows}) == 1, (path, rows)  # 4, or 2 + 2: no language alone on a line
            if width == PHONE["width"]:
                assert len(rows) == 1, (path, rows)  # all four on one line at 360 px
            assert page.evaluate("document.documentElement.scrollWidth") <= width, path
