"""Headless Chromium: an employer pastes a sealed Europass EDC into the verifier's page and gets the
same one verdict and the same Annex I certificate as for a microcred credential (issue 12).

With ``MICROCRED_UPDATE_SCREENSHOTS=1`` the README's ``docs/screenshots/verifier-imported-edc.png``
is written (as the other browser tests do); otherwise the shot goes to ``tests/artifacts/verifier/``.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from credentials.verification_types import EDC_TYPE_URN
from tests.browser import QUIET_CHROMIUM_ARGS, chromium_page, serving
from tests.verifier.imported_world import seal

pytestmark = [pytest.mark.integration, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts" / "verifier"
README_SHOT = ROOT / "docs" / "screenshots" / "verifier-imported-edc.png"
#: The ELM micro-credential the demo offers (a copy of the published example with small images).
MICRO_CREDENTIAL = ROOT / "microcred" / "demo_data" / "europass-edc-micro-credential.json"


@pytest.fixture
def served_imported(imported_app):
    with serving(imported_app) as base:
        yield base


def test_a_pasted_sealed_edc_gets_the_verdict_and_the_annex_certificate(served_imported, seal_pki, accredit_any):
    pki, org, _ = seal_pki
    accredit_any(org, [EDC_TYPE_URN], name="Università di Prova")
    document = json.loads(MICRO_CREDENTIAL.read_text(encoding="utf-8"))
    document.pop("cnf", None)  # shown by its issuer here, not presented by a holder
    document.pop("status", None)
    sealed = seal(document, pki, signing_time=int(time.time()) - 60)
    with chromium_page(viewport={"width": 390, "height": 844}, args=QUIET_CHROMIUM_ARGS) as page:
        errors: list[str] = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.goto(served_imported + "/")
        page.fill("#pasted", sealed)
        page.locator("#pasted").evaluate("field => field.form.requestSubmit()")
        page.wait_for_selector("#verdict", timeout=20_000)
        assert page.get_attribute("#verdict", "data-verified") == "true", page.inner_text("#verdict")
        certificate = page.inner_text("#certificate")
        assert "Workload (ECTS credits)" in certificate
        assert "Università di Prova" in page.inner_text("body")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert not [e for e in errors if "Content Security Policy" in e]
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shot = ARTIFACTS / "verifier-imported-edc.png"
        page.screenshot(path=str(shot), full_page=True)
        if os.environ.get("MICROCRED_UPDATE_SCREENSHOTS") == "1":
            shutil.copyfile(shot, README_SHOT)
