"""The verifier's language switcher on a small phone (360 x 740 CSS px, and 320 px wide), in headless Chromium:
its four languages sit on one line or wrap evenly (two and two), never "Français" alone on a line, and nothing
overflows the page's width. The stylesheet alone does it (vendored, nothing loaded from elsewhere)."""

from __future__ import annotations

import pytest

from tests.browser import PHONE, QUIET_CHROMIUM_ARGS, chromium_page, serving

pytestmark = [pytest.mark.browser]


@pytest.fixture
def bare_app(tmp_path):
    """A verifier with no chain behind it: enough to render its pages."""
    from verifier import create_app

    return create_app({"TESTING": True, "VERIFIER_PUBLIC_URL": "http://127.0.0.1:5002",
                       "VERIFIER_TRUSTED_ROOTS": "did:example:root", "DATA_DIR": str(tmp_path / "verifier"),
                       "RPC_URL": "http://127.0.0.1:9"})


def _rows(page) -> list[list[str]]:
    """The switcher's entries, row by row as laid out (grouped by their top edge)."""
    boxes = page.evaluate("""() => [...document.querySelectorAll('.language-switcher li')].map(li => {
        const box = li.getBoundingClientRect(); return [Math.round(box.top), li.textContent.trim()]; })""")
    rows: dict[int, list[str]] = {}
    for top, name in boxes:
        rows.setdefault(top, []).append(name)
    return [rows[top] for top in sorted(rows)]


@pytest.mark.parametrize("width", [PHONE["width"], 320])
@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_languages_sit_on_one_line_or_wrap_evenly(bare_app, width, language):
    with serving(bare_app) as base, chromium_page(viewport={"width": width, "height": PHONE["height"]},
                                                   args=QUIET_CHROMIUM_ARGS) as page:
        page.set_extra_http_headers({"Accept-Language": language})
        page.goto(base + "/")
        rows = _rows(page)
        assert sum(len(row) for row in rows) == 4, rows
        assert len({len(row) for row in rows}) == 1, rows  # 4, or 2 + 2: no language alone on a line
        assert page.evaluate("document.documentElement.scrollWidth") <= width
