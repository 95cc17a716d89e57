"""Every page of the three apps, reached as a user reaches it, for the accessibility tests.

A :class:`Site` holds one headless Chromium for the whole module, and per viewport (phone
390×844, desktop 1280×800) a signed-out context and one signed in as the demo learner. Each entry of
:data:`PAGES` is a function ``(site, viewport) -> page`` that opens a new tab in the right context and
walks to its page (submitting forms where the page is the answer to one); the test then runs axe on it.

Set-up done once per module (:meth:`Site.prepare`): the registrar revokes the learner's *Introduction
to Quantum Computing* (so a share of it gives the verifier's "Not verified"), the wallet checks it
again, and the registrar issues an OpenID4VCI offer (its offer page).
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from microcred.system import LEARNER
from tests.system.conftest import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE

__all__ = ["PAGES", "VIEWPORTS", "Site", "read_qr", "sign_in"]

VIEWPORTS = {"phone": PHONE, "desktop": DESKTOP}
VALID_COURSE = "Data Protection Law in Practice"  # uni-esempio, stays valid
REVOKED_COURSE = "Introduction to Quantum Computing"  # tu-musterstadt, revoked in prepare()
STACKED = ("Applied Machine Learning for Public Health", "Circular Economy and Sustainable Product Design")
OFFER_ROW = {"title": "Accessible Digital Public Services", "ects": 2, "eqf_level": 6, "qf_ehea_cycle": "first",
             "learning_outcomes": ["Audit a public web service against EN 301 549"],
             "quality_assurance": "Internal quality assurance of Università degli Studi di Esempio, ESG-compliant",
             "assessment_type": "Practical assignment", "participation": "online",
             "learner": {"given_name": "Giulia", "family_name": "Rossi", "birth_date": "2001-04-17",
                         "student_id": "UNI-00042"}}


def read_qr(locator) -> str:
    """The text of the one QR code in an element's screenshot."""
    import zxingcpp
    from PIL import Image

    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(locator.screenshot())).convert("L"))
    texts = [code.text for code in found if code.valid]
    assert len(texts) == 1, f"expected one QR code in the element, found {len(texts)}"
    return texts[0]


def sign_in(page, wallet_url: str) -> None:
    page.goto(f"{wallet_url}/auth/signin")
    page.fill("input[name=username]", LEARNER["username"])
    page.fill("input[name=password]", LEARNER["password"])
    page.click("form.stack button[type=submit]")
    page.wait_for_url("**/credentials")


class Site:
    """One Chromium, and per viewport a signed-out and a signed-in context, over the running demo system."""

    def __init__(self, playwright, running_system, work_dir: Path) -> None:
        self.system = running_system
        self.wallet, self.verifier = running_system.wallet_url, running_system.verifier_url
        self.work_dir = work_dir
        self.chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
        self._contexts: dict[tuple[str, bool], object] = {}
        self.offer_page = ""
        self.credential_urls: dict[str, str] = {}  # title → its page in the wallet

    def issuer(self, name: str = "uni-esempio") -> str:
        return self.system.issuer_urls[name]

    def context(self, viewport: str, *, signed_in: bool):
        key = (viewport, signed_in)
        if key not in self._contexts:
            context = self.chromium.new_context(**VIEWPORTS[viewport])
            context.set_default_timeout(20_000)
            if signed_in:
                page = context.new_page()
                sign_in(page, self.wallet)
                page.close()
            self._contexts[key] = context
        return self._contexts[key]

    def tab(self, viewport: str, *, signed_in: bool = False):
        return self.context(viewport, signed_in=signed_in).new_page()

    def close(self) -> None:
        self.chromium.close()

    # -- set-up shared by several pages ---------------------------------------------------------

    def prepare(self) -> None:
        registrar = self.tab("desktop")
        registrar.goto(f"{self.issuer('tu-musterstadt')}/registrar/")
        registrar.goto(self.issuer("tu-musterstadt")
                       + registrar.locator("tr", has_text=REVOKED_COURSE).locator("a.danger").get_attribute("href"))
        if registrar.locator("#reason").count():
            registrar.fill("#reason", "Accessibility test: a revoked credential to share")
        registrar.click("button.danger")
        registrar.wait_for_url("**/registrar/")
        registrar.close()
        learner = self.tab("desktop", signed_in=True)
        learner.goto(f"{self.wallet}/credentials")
        for title in (VALID_COURSE, REVOKED_COURSE):
            link = learner.locator("a.card-link", has_text=title)
            self.credential_urls[title] = self.wallet + link.get_attribute("href")
        self.open_credential(learner, REVOKED_COURSE)
        learner.locator("details.card summary").last.click()
        learner.click("form button.secondary")
        learner.wait_for_url("**/credentials/*")
        learner.close()
        self.offer_page = self._issue_offer()

    def _issue_offer(self) -> str:
        rows = self.work_dir / "rows.json"
        rows.write_text(json.dumps([OFFER_ROW]), encoding="utf-8")
        out = self.work_dir / "batch"
        env = {**os.environ, "MICROCRED_DATA_DIR": str(self.system.system.data_dir)}
        command = [str(Path(sys.executable).with_name("microcred")), "issuer", "--issuer", "uni-esempio",
                   "issue", "--from", str(rows), "--out", str(out)]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        with (out / "manifest.csv").open(encoding="utf-8") as handle:
            (row,) = list(csv.DictReader(handle))
        return row["offer_page"]

    # -- walks ----------------------------------------------------------------------------------

    def open_credential(self, page, title: str) -> None:
        page.goto(self.credential_urls[title])

    def share_qr(self, page, title: str = VALID_COURSE) -> None:
        """Share ``title`` with its default claims and stay on the QR page."""
        page.goto(self.credential_urls[title].split("?")[0] + "/share")
        page.click("form.stack button[type=submit]")
        page.wait_for_selector("button.big")
        page.click("button.big")
        page.wait_for_url("**/shares/*")
        page.wait_for_selector("#qr svg")

    def verdict_for(self, viewport: str, text: str):
        """The verifier's answer to ``text`` pasted on its scanning page."""
        page = self.tab(viewport)
        page.goto(f"{self.verifier}/")
        page.fill("#pasted", text)
        page.locator("#pasted").locator("xpath=following-sibling::button").click()
        page.wait_for_load_state()
        return page

    def shared_text(self, viewport: str, title: str) -> str:
        learner = self.tab(viewport, signed_in=True)
        self.share_qr(learner, title)
        text = read_qr(learner.locator("#qr"))
        learner.close()
        return text

    def openid4vp_request(self, viewport: str):
        page = self.tab(viewport)
        page.goto(f"{self.verifier}/openid4vp/new")
        page.click("form.card button[type=submit]")
        page.wait_for_selector("img.qr")
        page.wait_for_function("document.querySelector('img.qr').naturalWidth > 0")
        return page


def _goto(path: str, *, signed_in: bool, app: str = "wallet") -> Callable:
    def visit(site: Site, viewport: str):
        page = site.tab(viewport, signed_in=signed_in)
        base = {"wallet": site.wallet, "verifier": site.verifier, "issuer": site.issuer()}[app]
        page.goto(base + path)
        return page
    return visit


def _wallet_detail(site: Site, viewport: str):
    page = site.tab(viewport, signed_in=True)
    site.open_credential(page, VALID_COURSE)
    return page


def _wallet_detail_revoked(site: Site, viewport: str):
    page = site.tab(viewport, signed_in=True)
    site.open_credential(page, REVOKED_COURSE)
    return page


def _wallet_share_choose(site: Site, viewport: str):
    page = _wallet_detail(site, viewport)
    page.click("a.button.big")  # the detail page's Share
    page.wait_for_url("**/share")
    return page


def _wallet_share_preview(site: Site, viewport: str):
    page = _wallet_share_choose(site, viewport)
    page.click("form.stack button[type=submit]")
    page.wait_for_selector("button.big")
    return page


def _wallet_share_qr(site: Site, viewport: str):
    page = site.tab(viewport, signed_in=True)
    site.share_qr(page)
    return page


def _wallet_remove(site: Site, viewport: str):
    page = site.tab(viewport, signed_in=True)
    page.goto(site.credential_urls[VALID_COURSE].split("?")[0] + "/delete")
    return page


def _wallet_stack_choose(site: Site, viewport: str):
    page = site.tab(viewport, signed_in=True)
    page.goto(f"{site.wallet}/stack/share")
    for title in STACKED:
        page.locator("label.choice", has_text=title).locator("input[type=checkbox]").check()
    page.click("#stack-pick button[type=submit]")
    page.wait_for_selector("#stack-choose")
    return page


def _wallet_openid4vp_consent(site: Site, viewport: str):
    employer = site.openid4vp_request(viewport)
    request_url = employer.locator("#request-url").text_content().strip()
    employer.close()
    page = site.tab(viewport, signed_in=True)
    page.goto(f"{site.wallet}/credentials/scan")
    page.fill("input[name=scanned]", request_url)
    page.locator("#scan-form button[type=submit]").click()
    page.wait_for_selector("button.big")
    return page


def _verifier_verified(site: Site, viewport: str):
    page = site.verdict_for(viewport, site.shared_text(viewport, VALID_COURSE))
    page.wait_for_selector("#verdict[data-verified=true]")
    return page


def _verifier_not_verified(site: Site, viewport: str):
    page = site.verdict_for(viewport, site.shared_text(viewport, REVOKED_COURSE))
    page.wait_for_selector("#verdict[data-verified=false]")
    return page


def _verifier_garbage(site: Site, viewport: str):
    return site.verdict_for(viewport, "this is not a credential")


def _verifier_stack(site: Site, viewport: str):
    learner = _wallet_stack_choose(site, viewport)
    learner.click("#stack-choose button.big")
    learner.wait_for_selector("#qr svg")
    text = read_qr(learner.locator("#qr"))
    learner.close()
    page = site.verdict_for(viewport, text)
    page.wait_for_selector("li.stack-item")
    return page


def _issuer_revoke_confirm(site: Site, viewport: str):
    page = site.tab(viewport)
    page.goto(f"{site.issuer()}/registrar/")
    page.goto(site.issuer() + page.locator("tr", has_text=VALID_COURSE).locator("a.danger").get_attribute("href"))
    return page


def _issuer_bulk_preview(site: Site, viewport: str):
    page = site.tab(viewport)
    page.goto(f"{site.issuer()}/registrar/bulk/")
    page.fill("#csv_text", "batch_id,reason\nno-such-batch,revoked\n")
    page.locator("form button[type=submit]").click()
    page.wait_for_load_state()
    return page


def _issuer_offer(site: Site, viewport: str):
    page = site.tab(viewport)
    page.goto(site.offer_page)
    return page


#: name → walk; names say app and page.
PAGES: dict[str, Callable] = {
    "wallet-home-signed-out": _goto("/", signed_in=False),
    "wallet-signin": _goto("/auth/signin", signed_in=False),
    "wallet-signup": _goto("/auth/signup", signed_in=False),
    "wallet-not-found": _goto("/no-such-page", signed_in=False),
    "wallet-credentials": _goto("/credentials", signed_in=True),
    "wallet-detail": _wallet_detail,
    "wallet-detail-revoked": _wallet_detail_revoked,
    "wallet-share-choose": _wallet_share_choose,
    "wallet-share-preview": _wallet_share_preview,
    "wallet-share-qr": _wallet_share_qr,
    "wallet-share-history": _goto("/shares", signed_in=True),
    "wallet-stack-pick": _goto("/stack/share", signed_in=True),
    "wallet-stack-choose": _wallet_stack_choose,
    "wallet-scan": _goto("/credentials/scan", signed_in=True),
    "wallet-add": _goto("/credentials/add", signed_in=True),
    "wallet-remove": _wallet_remove,
    "wallet-backup-export": _goto("/backup/export", signed_in=True),
    "wallet-backup-restore": _goto("/backup/restore", signed_in=True),
    "wallet-account": _goto("/auth/account", signed_in=True),
    "wallet-password-again": _goto("/auth/confirm", signed_in=True),
    "wallet-openid4vp-consent": _wallet_openid4vp_consent,
    "verifier-index": _goto("/", signed_in=False, app="verifier"),
    "verifier-verified": _verifier_verified,
    "verifier-not-verified": _verifier_not_verified,
    "verifier-not-a-credential": _verifier_garbage,
    "verifier-stack": _verifier_stack,
    "verifier-openid4vp-new": _goto("/openid4vp/new", signed_in=False, app="verifier"),
    "verifier-openid4vp-show": lambda site, viewport: site.openid4vp_request(viewport),
    "verifier-openid4vp-done": _goto("/openid4vp/done", signed_in=False, app="verifier"),
    "verifier-not-found": _goto("/no-such-page", signed_in=False, app="verifier"),
    "issuer-home": _goto("/", signed_in=False, app="issuer"),
    "issuer-staff-sign-in": _goto("/registrar/sign-in", signed_in=False, app="issuer"),
    "issuer-registrar": _goto("/registrar/", signed_in=False, app="issuer"),
    "issuer-revoke-confirm": _issuer_revoke_confirm,
    "issuer-bulk": _goto("/registrar/bulk/", signed_in=False, app="issuer"),
    "issuer-bulk-preview": _issuer_bulk_preview,
    "issuer-offer": _issuer_offer,
    "issuer-not-found": _goto("/no-such-page", signed_in=False, app="issuer"),
}
