"""The full story (issue 7), in real headless Chromium against the running demo system.

Registrar → OpenID4VCI offer → the learner's wallet scans it with a fake camera →
the learner shares title, ECTS and two learning outcomes as a QR → the employer's
verifier page scans it: verified, exactly those claims → the registrar revokes
(one anchoring transaction on the chain) → shared and scanned again: not
verified, revoked → the same through OpenID4VP, the employer's request QR scanned
by the wallet.

The learner uses a phone viewport (390×844), the employer and the registrar a
desktop one (1280×800). Every QR on a page is read back from a screenshot with
zxing-cpp and played to the next browser as a fake-camera video (one Chromium
per video). Screenshots go to ``tests/artifacts/system/``; with
``MICROCRED_UPDATE_SCREENSHOTS=1`` the curated set for the README is also
written, small, to ``docs/screenshots/``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from credentials.microcredential import CLAIM_LABELS
from microcred.system import LEARNER, UNIVERSITIES

pytestmark = [pytest.mark.integration, pytest.mark.browser]

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "tests" / "artifacts" / "system"
README_SHOTS = REPO / "docs" / "screenshots"
UPDATE_SHOTS_ENV = "MICROCRED_UPDATE_SCREENSHOTS"

ISSUER = "uni-esempio"
COURSE = {
    "title": "Cybersecurity Essentials for Public Administration",
    "ects": 3,
    "eqf_level": 6,
    "qf_ehea_cycle": "first",
    "quality_assurance": "Internal quality assurance of Università degli Studi di Esempio, ESG-compliant",
    "learning_outcomes": [
        "Identify common attack techniques against public services",
        "Apply the NIS2 incident reporting obligations",
        "Plan basic security controls for a municipal office",
    ],
    "assessment_type": "Written examination",
    "participation": "online",
    "learner": {"given_name": "Giulia", "family_name": "Rossi", "birth_date": "2001-04-17",
                "student_id": "UNI-00042"},
}
SHARED_OUTCOMES = COURSE["learning_outcomes"][:2]
VALID_COURSE = "Data Protection Law in Practice"  # one of the demo learner's own four credentials
ECTS_LABEL, OUTCOMES_LABEL = CLAIM_LABELS["ects"], CLAIM_LABELS["learning_outcomes"]
PHONE_WIDTH = 390
CREDENTIAL_PAGE = re.compile(r"/credentials/\d+$")


# -- helpers -------------------------------------------------------------------------------------

def _shot(page, name: str, *, readme: str | None = None, full_page: bool = True) -> None:
    """Save a screenshot to the artifacts; with the env switch also a small copy for the README."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    png = page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)
    if readme and os.environ.get(UPDATE_SHOTS_ENV) == "1":
        from PIL import Image

        README_SHOTS.mkdir(parents=True, exist_ok=True)
        image = Image.open(io.BytesIO(png)).convert("RGB")
        image.quantize(colors=64, method=Image.Quantize.MEDIANCUT).save(README_SHOTS / readme, optimize=True)


def _shot_in(page, language: str, heading: str, readme: str) -> None:
    """The page again in another language, chosen with its language switcher (for the README), then English again."""
    page.click(f".language-switcher a[hreflang='{language}']")
    assert page.get_attribute("html", "lang") == language
    assert page.locator("h1").first.inner_text() == heading
    _shot(page, readme.removesuffix(".png"), readme=readme, full_page=False)
    page.click(".language-switcher a[hreflang='en']")
    assert page.get_attribute("html", "lang") == "en"


def _read_qr(locator) -> str:
    """The text of the one QR code in an element's screenshot."""
    import zxingcpp
    from PIL import Image

    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(locator.screenshot())).convert("L"))
    texts = [code.text for code in found if code.valid]
    assert len(texts) == 1, f"expected one QR code in the element, found {len(texts)}"
    return texts[0]


def _issue_offer(running_system, tmp_path: Path) -> dict[str, str]:
    """The registrar's closest real way to an offer: `microcred issuer issue` for a row without a key."""
    rows = tmp_path / "rows.json"
    rows.write_text(json.dumps([COURSE]), encoding="utf-8")
    out = tmp_path / "batch"
    env = {**os.environ, "MICROCRED_DATA_DIR": str(running_system.system.data_dir)}
    command = [str(Path(sys.executable).with_name("microcred")), "issuer", "--issuer", ISSUER,
               "issue", "--from", str(rows), "--out", str(out)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    with (out / "manifest.csv").open(encoding="utf-8") as handle:
        (row,) = list(csv.DictReader(handle))
    assert row["file"] == "", row
    assert row["offer_uri"].startswith("openid-credential-offer://"), row
    return row


def _ledger(running_system):
    from ledger.config import LedgerSettings
    from ledger.deployment import open_ledger

    return open_ledger(LedgerSettings(running_system.system.data_dir, None, 0))


def _issuer_did(running_system) -> str:
    from issuer.identity import load_issuer

    return load_issuer(running_system.system.data_dir, ISSUER).identity.did


def _sign_in(page, wallet_url: str) -> None:
    page.goto(f"{wallet_url}/auth/signin")
    page.fill("input[name=username]", LEARNER["username"])
    page.fill("input[name=password]", LEARNER["password"])
    page.click("form.stack button[type=submit]")
    page.wait_for_url("**/credentials")


def _share(page, wallet_url: str, credential_path: str) -> str:
    """Choose title, ECTS and the first two learning outcomes; show the QR; return what it holds."""
    page.goto(f"{wallet_url}{credential_path}")
    page.click("a.button:has-text('Share')")
    page.wait_for_url("**/share")
    for box in page.locator("input[name=claim]").all():
        box.uncheck()
    for key in (["title"], ["ects"], ["learning_outcomes", 0], ["learning_outcomes", 1]):
        page.check(f"input[name=claim][value='{json.dumps(key, separators=(',', ':'))}']")
    page.click("form.stack button[type=submit]")
    page.wait_for_selector("button.big")
    page.click("button.big")
    page.wait_for_url("**/shares/*")
    page.wait_for_selector("#qr svg")
    return _read_qr(page.locator("#qr"))


def _employer_scans(browser, verifier_url: str, video: Path):
    """The employer's scanning page with a camera that shows ``video``; returns the verdict page."""
    page = browser.desktop(camera=video).new_page()
    page.goto(f"{verifier_url}/")
    page.click("#start-camera")
    page.wait_for_selector("#verdict")
    return page


def _certificate(page) -> dict[str, object]:
    """What the verdict page shows of the disclosed claims."""
    facts = {}
    for term in page.locator("#certificate dl.cert-facts dt").all():
        value = term.locator("xpath=following-sibling::dd[1]")
        items = value.locator("li").all_inner_texts()
        facts[term.inner_text().strip()] = items if items else value.inner_text().strip()
    return {"title": page.locator("#certificate .cert-title").inner_text().strip(),
            "learner": page.locator("#certificate .cert-learner").count(), "facts": facts}


def _check_status(page, check: str) -> str:
    classes = page.locator(f"li.check[data-check='{check}']").get_attribute("class") or ""
    return next((c.removeprefix("check-") for c in classes.split() if c.startswith("check-")), "")


def _new_openid4vp_request(browser, verifier_url: str):
    """The employer's 'Ask for a credential' page: title, ECTS and learning outcomes; returns the QR page."""
    employer = browser.desktop().new_page()
    employer.goto(f"{verifier_url}/openid4vp/new")
    for select in employer.locator("#slot-1 select[name^='c1-claim-']").all():
        select.select_option("")
    for name in ("title", "ects", "learning_outcomes"):
        employer.select_option(f"select[name='c1-claim-{name}']", "required")
    employer.click("form.card button[type=submit]")
    employer.wait_for_selector("img.qr")
    return employer


def _ask_by_openid4vp(browser, running_system, make_video, phone_state: dict, choose_title: str,
                      shot: str | None = None):
    """The employer asks for title, ECTS and learning outcomes; the wallet scans the request QR,
    the learner picks ``choose_title`` and consents; returns the employer's result page."""
    employer = _new_openid4vp_request(browser, running_system.verifier_url)
    employer.wait_for_function("document.querySelector('img.qr').naturalWidth > 0")
    request_text = _read_qr(employer.locator("img.qr"))
    assert request_text == employer.locator("#request-url").text_content().strip()
    assert request_text.startswith("openid4vp://?client_id=x509_hash")  # the demo's access certificate

    learner = browser.phone(camera=make_video(request_text), storage_state=phone_state).new_page()
    learner.goto(f"{running_system.wallet_url}/credentials/scan")
    learner.wait_for_selector("button.big:has-text('Share with')")
    learner.locator("label.choice", has_text=choose_title).locator("input[type=radio]").check()
    if shot:
        _shot(learner, shot)
    learner.click("button.big:has-text('Share with')")
    # The wallet sends the phone on to the verifier's neutral note: the result is shown only where it was asked.
    learner.wait_for_selector("#done-note")
    assert learner.locator("#verdict").count() == 0

    employer.wait_for_selector("#verdict")
    return employer


# -- the story -----------------------------------------------------------------------------------

def test_the_full_story_in_a_browser(running_system, browser, fake_camera_video, tmp_path):
    system = running_system
    ledger = _ledger(system)
    issuer_did = _issuer_did(system)
    issuer_url = system.issuer_urls[ISSUER]

    # 1. The registrar issues the credential as an OpenID4VCI offer and opens the offer page.
    offer = _issue_offer(system, tmp_path)
    registrar = browser.desktop().new_page()
    registrar.goto(offer["offer_page"])
    assert registrar.locator("h1").inner_text() == COURSE["title"]
    registrar.wait_for_function("document.querySelector('p.qr img').naturalWidth > 0")
    offer_text = _read_qr(registrar.locator("p.qr img"))
    assert offer_text == offer["offer_uri"]
    _shot(registrar, "01-registrar-offer")

    # 2. The learner's wallet scans the offer QR with the camera and stores the credential.
    phone = browser.phone(camera=fake_camera_video(offer_text))
    learner = phone.new_page()
    _sign_in(learner, system.wallet_url)
    learner.goto(f"{system.wallet_url}/credentials/scan")
    learner.wait_for_url(CREDENTIAL_PAGE)
    assert learner.locator("h1").inner_text() == COURSE["title"]
    credential_path = learner.url.removeprefix(system.wallet_url)
    _shot(learner, "02-wallet-detail")
    learner.goto(f"{system.wallet_url}/credentials")
    assert learner.locator("li.card .title").all_inner_texts().count(COURSE["title"]) == 1
    assert learner.locator("li.card").count() == 5  # the demo learner's four, and this one
    _shot(learner, "03-wallet-credentials", readme="wallet-credentials.png", full_page=False)
    _shot_in(learner, "it", "Le mie credenziali", "wallet-credentials-it.png")
    phone_state = phone.storage_state()

    # 3. The learner shares title, ECTS and two learning outcomes as a QR.
    shared = _share(learner, system.wallet_url, credential_path)
    _shot(learner, "04-wallet-share", readme="wallet-share.png", full_page=False)

    # 4. The employer's verifier page scans it: verified, with exactly those claims.
    employer = _employer_scans(browser, system.verifier_url, fake_camera_video(shared))
    assert employer.get_attribute("#verdict", "data-verified") == "true", employer.inner_text("#verdict")
    assert employer.locator("#verdict .verdict-word").inner_text() == "Verified"
    assert _certificate(employer) == {"title": COURSE["title"], "learner": 0,
                                      "facts": {ECTS_LABEL: "3", OUTCOMES_LABEL: SHARED_OUTCOMES}}
    assert _check_status(employer, "revocation") == "passed"
    _shot(employer, "05-verifier-verified", readme="verifier-verified.png", full_page=False)

    # 5. The registrar revokes it: exactly one anchoring transaction, the list's version up by one.
    anchors_before = ledger.status.anchor_events(issuer_did)
    head_before = ledger.status.latest_block()
    registrar.goto(f"{issuer_url}/registrar/")
    row = registrar.locator("tr", has_text=offer["credential_id"])
    assert row.locator(".status").inner_text() == "valid"
    row.locator("a:has-text('Revoke')").click()
    registrar.fill("#reason", "Awarded in error: the learner did not sit the assessment")  # kept in the audit log
    registrar.click("button.danger:has-text('Yes, revoke')")
    registrar.wait_for_url("**/registrar/")
    assert "the new status list is anchored" in registrar.inner_text("body")
    assert registrar.locator("tr", has_text=offer["credential_id"]).locator(".status").inner_text() == "revoked"
    _shot(registrar, "06-registrar", readme="registrar.png", full_page=False)
    _shot_in(registrar, "de", "Ausgestellte Nachweise", "registrar-de.png")
    assert ledger.status.latest_block() == head_before + 1  # automine: one block per transaction
    (anchored,) = ledger.status.anchor_events(issuer_did, from_block=head_before + 1)
    earlier = [a.version for a in anchors_before if a.list_id == anchored.list_id]
    assert earlier
    assert anchored.version == max(earlier) + 1
    assert ledger.status.latest_anchor(issuer_did, anchored.list_id).version == anchored.version

    # 6. The learner's wallet, asked to check again, sees it; shares anyway; the employer: not verified, revoked.
    learner.goto(f"{system.wallet_url}{credential_path}")
    learner.click("details.card summary:has-text('Checks')")
    assert learner.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH  # long DIDs wrap
    learner.click("button:has-text('Check again')")
    learner.wait_for_url(CREDENTIAL_PAGE)
    assert "revoked" in learner.locator("h1 + p").inner_text()
    _shot(learner, "07-wallet-rechecked")
    shared_again = _share(learner, system.wallet_url, credential_path)
    employer = _employer_scans(browser, system.verifier_url, fake_camera_video(shared_again))
    assert employer.get_attribute("#verdict", "data-verified") == "false"
    # the headline names the failure in plain words; the certificate is shown under a red "Not valid" banner
    assert employer.locator("#verdict .verdict-word").inner_text().startswith("Revoked by ")
    assert ", as of " in employer.locator("#verdict .verdict-word").inner_text()
    assert "revoked" in employer.inner_text("#verdict")
    assert employer.locator("#certificate.certificate-void .cert-void-banner").is_visible()
    assert "NOT VALID" in employer.locator("#certificate .cert-void-banner").inner_text().upper()
    assert _check_status(employer, "revocation") == "failed"
    _shot(employer, "08-verifier-revoked", readme="verifier-revoked.png", full_page=False)

    # 7. The same through OpenID4VP: the employer's request QR, scanned by the wallet.
    result = _ask_by_openid4vp(browser, system, fake_camera_video, phone_state, COURSE["title"],
                               shot="09-wallet-openid4vp-consent")
    assert result.get_attribute("#verdict", "data-verified") == "false"
    assert result.locator("#verdict .verdict-word").inner_text().startswith("Revoked by ")
    assert _check_status(result, "revocation") == "failed"
    _shot(result, "10-openid4vp-revoked")
    result = _ask_by_openid4vp(browser, system, fake_camera_video, phone_state, VALID_COURSE)
    assert result.get_attribute("#verdict", "data-verified") == "true", result.inner_text("#verdict")
    certificate = _certificate(result)
    assert certificate["title"] == VALID_COURSE
    assert certificate["learner"] == 0
    (valid_course,) = [c for u in UNIVERSITIES for c in u.courses if c["title"] == VALID_COURSE]
    assert certificate["facts"] == {ECTS_LABEL: "4", OUTCOMES_LABEL: valid_course["learning_outcomes"]}
    _shot(result, "11-openid4vp-verified")
    _shot_in(result, "fr", "Vérifiée", "verifier-verified-fr.png")

    csp = [e for e in browser.console_errors if "Content Security Policy" in e]
    assert csp == [], csp

