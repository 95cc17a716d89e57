"""WCAG 2.1 AA in real headless Chromium on every page of the wallet, the verifier and the issuer (issue 15 §3).

EN 301 549 (the standard EU public-sector bodies such as universities must meet) takes WCAG 2.1 levels A
and AA for the web. Every page of :data:`tests.system._a11y_pages.PAGES`, reached as a user reaches it, is
checked at 390×844 and at 1280×800:

- axe-core (vendored in ``tests/system/vendor/axe/``, injected by the test, never served) with the rules
  tagged ``wcag2a``, ``wcag2aa``, ``wcag21a``, ``wcag21aa``: no serious or critical violation; the
  failure lists each rule, its target and help;
- a skip link first in the tab order that leads to the page's one ``main`` (WCAG 2.4.1 Bypass Blocks),
  and a focus indicator on every element Tab reaches (2.4.7 Focus Visible);
- a camera scanner always beside a way without the camera: a labelled paste field (or upload).

A keyboard-only walk signs in, shares a credential and reaches its QR code with Tab, Enter and Space.
One demo system and one Chromium serve the whole module.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from microcred.system import LEARNER
from tests.system._a11y_pages import PAGES, VALID_COURSE, VIEWPORTS, Site
from tests.system.conftest import CHROMIUM
from tests.tooling import missing_tool
from tests.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.browser]

AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe" / "axe.min.js").read_text(encoding="utf-8")
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = {"serious", "critical"}
FOCUS_STEPS = 8  # Tab presses checked for a visible focus indicator on each page

#: Runs axe with the WCAG 2.1 A/AA rules and returns its violations (every <details> opened first, so what
#: they hold is checked too).
_RUN_AXE = """async (tags) => {
  document.querySelectorAll('details').forEach((d) => { d.open = true; });
  const results = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return results.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => ({target: n.target.join(' '), summary: n.failureSummary}))}));
}"""

#: What the focused element shows: a visible outline (or a box shadow), on screen (a skip link comes into view),
#: and whether it matches :focus-visible.
_FOCUS_STATE = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2;
  const box = el.getBoundingClientRect();
  const onScreen = box.width > 0 && box.height > 0 && box.bottom > 0 && box.right > 0
    && box.top < window.innerHeight && box.left < window.innerWidth;
  return {tag: el.tagName.toLowerCase(), text: (el.innerText || el.value || el.name || '').trim().slice(0, 40),
          visible: (outline || style.boxShadow !== 'none') && onScreen, focusVisible: el.matches(':focus-visible'),
          href: el.getAttribute('href')};
}"""


@pytest.fixture(scope="module")
def site(running_system, tmp_path_factory):
    if shutil.which(CHROMIUM) is None:
        missing_tool(f"Debian chromium is not installed at {CHROMIUM}")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        built = Site(playwright, running_system, tmp_path_factory.mktemp("a11y"))
        try:
            built.prepare()
            yield built
        finally:
            built.close()


def _axe_violations(page) -> list[dict]:
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SOURCE)  # through the DevTools protocol: the pages' CSP does not apply to it
    return page.evaluate(_RUN_AXE, WCAG_TAGS)


def _describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:5]:
            summary = " ".join((node["summary"] or "").split())[:300]
            lines.append(f"    at {node['target']}: {summary}")
        if len(violation["nodes"]) > 5:
            lines.append(f"    … and {len(violation['nodes']) - 5} more")
    return "\n".join(lines)


def _focus_problems(page, steps: int = FOCUS_STEPS) -> list[str]:
    """Tab from the top of the page; every element reached must show where the focus is."""
    page.evaluate("""() => {  // Tab from the start of the document, also on a page with an autofocus field
        document.body.tabIndex = -1; document.body.focus(); document.body.removeAttribute('tabindex');
        window.scrollTo(0, 0); }""")
    problems, reached = [], []
    for _ in range(steps):
        page.keyboard.press("Tab")
        state = page.evaluate(_FOCUS_STATE)
        if state is None:
            break
        reached.append(state)
        if not state["visible"]:
            problems.append(f"no visible focus on <{state['tag']}> {state['text']!r}")
    if not reached or reached[0]["href"] != "#main":
        problems.append(f"the first Tab reaches {reached[0] if reached else 'nothing'}, not a skip link to #main")
    return problems


def _structure_problems(page) -> list[str]:
    facts = page.evaluate("""() => ({lang: document.documentElement.lang,
        mains: document.querySelectorAll('main').length, mainId: (document.querySelector('main') || {}).id,
        banner: document.querySelectorAll('body > header').length, title: document.title.trim(),
        h1: document.querySelectorAll('h1').length})""")
    problems = []
    if not re.fullmatch(r"[a-z]{2}(-[A-Z]{2})?", facts["lang"] or ""):
        problems.append(f"<html lang> is {facts['lang']!r}")
    if facts["mains"] != 1 or facts["mainId"] != "main":
        problems.append(f"expected one <main id=main>, found {facts['mains']} (id {facts['mainId']!r})")
    if facts["banner"] != 1:
        problems.append(f"expected one page header (banner landmark), found {facts['banner']}")
    if not facts["title"]:
        problems.append("the page has no title")
    if facts["h1"] < 1:
        problems.append("the page has no <h1>")
    return problems


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_meets_wcag_21_aa(site, name, viewport):
    page = PAGES[name](site, viewport)
    try:
        page.wait_for_load_state()
        where = f"{name} at {viewport} ({page.url})"
        blocking = [v for v in _axe_violations(page) if v["impact"] in BLOCKING_IMPACTS]
        problems = _structure_problems(page) + _focus_problems(page)
        assert blocking == [], (f"axe finds serious or critical WCAG 2.1 AA violations on {where}:\n"
                                + _describe(blocking) + "".join(f"\n- {problem}" for problem in problems))
        assert problems == [], f"{where}: " + "; ".join(problems)
    finally:
        page.close()


@pytest.mark.parametrize("name", ["wallet-scan", "verifier-index"])
def test_every_camera_scanner_has_a_way_without_the_camera(site, name):
    page = PAGES[name](site, "phone")
    try:
        fallback = page.get_attribute("[data-qr-scanner]", "data-fallback")
        assert fallback, f"{name}: the scanner does not say what to do without a camera"
        if page.get_attribute("[data-qr-scanner]", "data-autostart") is None:
            page.click("[data-scan-start]")
        status = page.locator("[data-scan-status]")  # this Chromium has no camera at all
        wait_for(lambda: fallback in status.inner_text(), within=20,
                 what=lambda: f"{name}: the status to offer {fallback!r}; it says {status.inner_text()!r}")
        others = page.evaluate("""() => [...document.querySelectorAll('textarea, input[type=file], input:not([type])')]
            .filter((el) => el.offsetParent !== null)
            .filter((el) => (el.labels && el.labels.length > 0) || el.getAttribute('aria-labelledby'))
            .map((el) => el.name)""")
        assert others, f"{name}: the camera scanner has no labelled paste field or upload beside it"
    finally:
        page.close()


def test_keyboard_alone_signs_in_shares_and_reaches_the_qr_code(site):
    """Tab, Enter and Space only: sign in, open a credential, Share, Preview, Show QR code."""
    context = site.chromium.new_context(**VIEWPORTS["phone"])  # its own cookies: signs in from scratch
    page = context.new_page()
    keyboard = _Keyboard(page)
    try:
        page.goto(f"{site.wallet}/auth/signin")
        keyboard.tab_to("a[href='#main']")
        page.keyboard.press("Enter")  # the skip link: the next Tab is inside <main>
        keyboard.tab_to("input[name=username]")
        page.keyboard.type(LEARNER["username"])
        keyboard.tab_to("input[name=password]")
        page.keyboard.type(LEARNER["password"])
        page.keyboard.press("Enter")
        page.wait_for_url("**/credentials")

        keyboard.tab_to("a.card-link", holding=VALID_COURSE)
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/credentials/\d+$"))
        keyboard.tab_to("a.button", holding="Share")
        page.keyboard.press("Enter")
        page.wait_for_url("**/share")

        keyboard.tab_to("input[name=claim]")
        before = page.evaluate("() => document.activeElement.checked")
        page.keyboard.press("Space")
        assert page.evaluate("() => document.activeElement.checked") is (not before)
        page.keyboard.press("Space")  # back to the default choice
        keyboard.tab_to("form.stack button[type=submit]")
        page.keyboard.press("Enter")
        page.wait_for_selector("button.big")
        keyboard.tab_to("button.big")
        page.keyboard.press("Space")
        page.wait_for_url("**/shares/*")
        assert page.locator("#qr svg").is_visible()
        assert page.locator("#countdown").is_visible()
    finally:
        context.close()


class _Keyboard:
    """Moves the focus with Tab only, checking at every stop that the focus can be seen."""

    LIMIT = 60

    def __init__(self, page) -> None:
        self.page = page

    def tab_to(self, selector: str, *, holding: str | None = None) -> None:
        """Press Tab until the focused element matches ``selector`` (and holds the text ``holding``)."""
        reached = []
        for _ in range(self.LIMIT):
            self.page.keyboard.press("Tab")
            state = self.page.evaluate(_FOCUS_STATE)
            assert state is not None, f"Tab left the page before reaching {selector}"
            reached.append(state["text"])
            assert state["visible"], f"no visible focus on <{state['tag']}> {state['text']!r}"
            assert state["focusVisible"], f"<{state['tag']}> {state['text']!r} does not match :focus-visible"
            found = self.page.evaluate("""([selector, holding]) => document.activeElement.matches(selector)
                && (holding === null || document.activeElement.innerText.includes(holding))""", [selector, holding])
            if found:
                return
        pytest.fail(f"{self.LIMIT} Tabs did not reach {selector} {holding or ''}; they reached {reached}")
