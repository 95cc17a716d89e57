"""The issuer's pages in headless Chromium at phone width (issue 15, §1 item 1 and §5): the home page a newcomer
opens, and a registrar who signs in, revokes with a reason and finds it in the audit log."""

from __future__ import annotations

import pytest
from _issuer_support import NOW, make_csv, make_row
from argon2 import PasswordHasher

from issuer.batch import parse_csv
from issuer.staff import StaffBook
from issuer.web import create_app
from tests.browser import PHONE, chromium_page, serving

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"
#: The elements that reach past the phone's width, to say which when the page is too wide.
WIDER_THAN_THE_PHONE = ("[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 360)"
                        ".map(e => `${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`)")


@pytest.fixture
def served(home, data_dir, anchor):
    app = create_app({"TESTING": True, "DATA_DIR": str(data_dir), "ISSUER": "uni", "STATUS_ANCHOR": anchor,
                      "CLOCK": lambda: NOW})
    with serving(app) as base:
        yield base


@pytest.fixture
def phone():
    with chromium_page() as page:
        yield page


def test_home_page_and_a_registrar_who_signs_in_and_revokes(served, phone, home, service, defaults):
    batch = service.issue_batch(parse_csv(make_csv([make_row(1), make_row(2)]), defaults), now=NOW)
    StaffBook.of_home(home.path, PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)).add(
        "ada", "registrar", PASSWORD, now=NOW)
    phone.goto(served + "/")
    assert phone.inner_text("h1") == "Università di Prova"
    wide = phone.evaluate(WIDER_THAN_THE_PHONE)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], wide  # the DID wraps
    phone.click("a[href='/registrar/']")
    phone.wait_for_selector("#password")
    assert "/registrar/sign-in" in phone.url
    phone.fill("#username", "ada")
    phone.fill("#password", PASSWORD)
    phone.click("form.sign-in button[type=submit]")
    phone.wait_for_selector("#audit-log")
    assert "Signed in as ada (registrar)" in phone.inner_text(".staff-bar")
    target = batch.issued[0].credential_id
    phone.goto(f"{served}/registrar/credentials/{target}/revoke")
    phone.fill("#reason", "assessment annulled by the exam board")
    phone.click("button.danger")
    phone.wait_for_selector("#audit-log")
    row = phone.inner_text("#audit-log tbody tr")
    assert "ada" in row
    assert "assessment annulled by the exam board" in row
    wide = phone.evaluate(WIDER_THAN_THE_PHONE)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], wide


def test_the_registrars_table_is_usable_on_a_360_px_phone(served, phone, service, defaults):
    """Each credential's status and its Revoke… button are on the screen without scrolling sideways (the rows
    are stacked as cards on a phone, each value with its column's name), and the page is no wider than the phone."""
    rows = [make_row(n) for n in range(1, 4)]
    rows[0]["title"] = "Advanced Topics in Distributed Systems Engineering and Cryptographic Protocols"
    service.issue_batch(parse_csv(make_csv(rows), defaults), now=NOW)
    phone.goto(served + "/registrar/")
    phone.wait_for_selector("#audit-log")
    found = phone.evaluate("""() => {
        const inside = e => { const r = e.getBoundingClientRect();
                              return r.width > 0 && r.left >= 0 && r.right <= document.documentElement.clientWidth; };
        const rows = [...document.querySelectorAll('table.records tbody tr')];
        return {rows: rows.length,
                status: rows.filter(r => inside(r.querySelector('.status'))).length,
                revoke: rows.filter(r => inside(r.querySelector('a.button.danger'))).length,
                scrolls: [...document.querySelectorAll('.table-scroll')].some(b => b.scrollWidth > b.clientWidth)};
    }""")
    assert found == {"rows": 3, "status": 3, "revoke": 3, "scrolls": False}
    wide = phone.evaluate(WIDER_THAN_THE_PHONE)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], wide
    label = phone.evaluate("getComputedStyle(document.querySelector('table.records tbody tr')"
                           ".querySelector('.status').parentElement, '::before').content")
    assert "Status" in label  # each value says which column it is (the head row is hidden on a phone)
