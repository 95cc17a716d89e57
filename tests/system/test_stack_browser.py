"""A stack shared by QR (issue 13, items 1 and 8), in real headless Chromium against the running demo system.

The learner (phone) imports the demo's Open Badge, picks it with two microcred credentials of two universities on
"Share several at once", keeps the default claims, and shows one QR code. The employer's scanning page (desktop,
fake camera playing that QR code) fetches the one-time link, verifies each credential and shows the stack's line
first: "3 of 3 verified · 13 ECTS · EQF 5–7", then one verdict per credential.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.browser]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "system"

STACKED = {"Applied Machine Learning for Public Health": "Università degli Studi di Esempio",  # 6 ECTS, EQF 7
           "Circular Economy and Sustainable Product Design": "Technische Universität Musterstadt",  # 5 ECTS, EQF 6
           "Teamwork in International Projects": None}  # the demo's Open Badge: 2 ECTS, EQF 5


def _read_qr(locator) -> str:
    import zxingcpp
    from PIL import Image

    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(locator.screenshot())).convert("L"))
    texts = [code.text for code in found if code.valid]
    assert len(texts) == 1, f"expected one QR code in the element, found {len(texts)}"
    return texts[0]


def test_a_stack_of_three_shared_by_qr_is_verified_three_of_three(running_system, browser, fake_camera_video):
    from microcred.demo_imports import BADGE_FILE, IMPORTS_DIR
    from microcred.system import LEARNER

    wallet, verifier = running_system.wallet_url, running_system.verifier_url
    learner = browser.phone().new_page()
    learner.goto(f"{wallet}/auth/signin")
    learner.fill("input[name=username]", LEARNER["username"])
    learner.fill("input[name=password]", LEARNER["password"])
    learner.click("form.stack button[type=submit]")
    learner.wait_for_url("**/credentials")

    learner.goto(f"{wallet}/credentials/add")
    learner.set_input_files("input[name=file]", str(running_system.system.data_dir / IMPORTS_DIR / BADGE_FILE))
    learner.click("form.stack button[type=submit]")
    learner.wait_for_url("**/credentials/*")

    learner.goto(f"{wallet}/shares")
    learner.click("a:has-text('Share several at once')")
    learner.wait_for_selector("#stack-pick")
    for title in STACKED:
        learner.locator("label.choice", has_text=title).locator("input[type=checkbox]").check()
    learner.click("#stack-pick button[type=submit]")
    learner.wait_for_selector("#stack-choose")
    assert learner.locator("fieldset.stack-member").count() == 3
    assert "Shared whole" in learner.locator("fieldset.stack-member", has_text="Teamwork").inner_text()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    learner.screenshot(path=str(ARTIFACTS / "stack-choose.png"), full_page=True)
    learner.click("#stack-choose button.big")
    learner.wait_for_selector("#qr svg")
    assert "One code for 3 credentials" in learner.inner_text("#stack-note")
    link = _read_qr(learner.locator("#qr"))
    assert link.startswith(f"{wallet}/p/")
    assert learner.evaluate("document.documentElement.scrollWidth") <= 390

    employer = browser.desktop(camera=fake_camera_video(link)).new_page()
    employer.goto(f"{verifier}/")
    employer.click("#start-camera")
    employer.wait_for_selector("#verdict")
    items = employer.locator("li.stack-item")
    assert employer.get_attribute("#verdict", "data-verified") == "true", employer.inner_text("main")[:3000]
    assert employer.inner_text("#stack-line") == "3 of 3 verified · 13 ECTS · EQF 5–7"
    assert items.count() == 3
    for title, university in STACKED.items():  # in the order of the pick page
        item = items.filter(has_text=title)
        assert item.count() == 1, title
        assert item.get_attribute("data-verified") == "true"
        if university:
            assert university in item.locator(".cert-issuer").inner_text()
    employer.screenshot(path=str(ARTIFACTS / "stack-verified.png"), full_page=True)
    summary = employer.inner_text("#stack-summary")
    assert "Università degli Studi di Esempio" in summary
    assert "Technische Universität Musterstadt" in summary
    assert not [e for e in browser.console_errors if "Content Security Policy" in e]
