"""Display spoofing in the wallet: the issuer is named by the trust registry, a self-declared
awarding body is marked as stated by the issuer, bidi controls are shown not obeyed, and a
5,000-character unbroken claim does not widen the page (390 px, headless Chromium)."""

from __future__ import annotations

import re
import shutil
import threading

import pytest
from wallet_helpers import CLAIMS, PASSWORD, WalletClient, db_rows

from credentials.verification import Policy, StatusEvidence, TrustAnswer, TrustLink
from tests.tooling import missing_tool
from wallet.checking import core_trust_check

REGISTRY_NAME = "Universidade Exemplo do Porto"
LOOKALIKE = "Universidade Exernplo"  # "rn" for "m", beside "Verified" it passed for the real one
RLO, PDF = "\u202e", "\u202c"


def _registry_check(name: str = REGISTRY_NAME, accredited: bool = True):
    def trust(did, vct, at):
        return TrustAnswer(accredited, "accredited" if accredited else "not accredited for this type",
                           chain=(TrustLink(did, name, "issuer"), TrustLink("did:example:root", "Ministry", "root")))

    policy = Policy(trusted_roots=frozenset({"did:example:root"}), status_required=False)
    return core_trust_check(policy, trust, lambda did, uri: StatusEvidence(None))


def _spoofing_claims():
    return {**CLAIMS, "awarding_body": [{"name": LOOKALIKE, "id": "https://uni.example", "country": "PT"}]}


def _card(page: str) -> str:
    return re.search(r'<li class="card">.*?</li>', page, re.S).group(0)


def test_the_registry_name_takes_precedence_over_the_stated_awarding_body(app, signed_in, issuer):
    app.config["TRUST_CHECK"] = _registry_check()
    assert signed_in.add(issuer.issue(signed_in.holder_jwk(app), _spoofing_claims())).status_code == 302
    assert db_rows(app, "SELECT registry_name, issuer_name FROM credentials") == [(REGISTRY_NAME, LOOKALIKE)]
    signed_in.get("/credentials")
    card = _card(signed_in.last_page)
    issued_by = re.search(r'<span class="issuer">Issued by (.*?)</span>\s*</span>', card, re.S).group(1)
    assert REGISTRY_NAME in issued_by
    assert LOOKALIKE not in issued_by
    assert "trust registry" in issued_by
    assert f"Awarding body: {LOOKALIKE} <span class=\"stated\">(stated by the issuer)</span>" in card
    summary = signed_in.last_page[signed_in.last_page.index("<th>Issuer</th>"):]
    assert f"<td>{REGISTRY_NAME}</td>" in summary
    assert LOOKALIKE not in summary.split("</table>")[0]


def test_without_a_registry_answer_the_name_is_marked_as_stated(app, signed_in, issuer):
    assert signed_in.add(issuer.issue(signed_in.holder_jwk(app), _spoofing_claims())).status_code == 302
    signed_in.get("/credentials")
    card = _card(signed_in.last_page)
    assert f'<span class="issuer-name">{LOOKALIKE}</span> <span class="stated">(stated by the issuer' in card
    assert "Verified" not in card


def test_an_issuer_the_registry_does_not_accredit_gets_no_registry_name(app, signed_in, issuer):
    app.config["TRUST_CHECK"] = _registry_check(accredited=False)
    assert signed_in.add(issuer.issue(signed_in.holder_jwk(app), _spoofing_claims())).status_code == 302
    assert db_rows(app, "SELECT registry_name, badge FROM credentials") == [(None, "failed")]
    signed_in.get("/credentials")
    assert "stated by the issuer" in _card(signed_in.last_page)


def test_check_again_takes_the_registry_name(app, held):
    client, credential_id = held
    assert db_rows(app, "SELECT registry_name FROM credentials") == [(None,)]
    app.config["TRUST_CHECK"] = _registry_check()
    client.submit(f"/credentials/{credential_id}", f"/credentials/{credential_id}/recheck")
    assert db_rows(app, "SELECT registry_name FROM credentials") == [(REGISTRY_NAME,)]
    client.get(f"/credentials/{credential_id}")
    assert f'Issued by <span class="issuer-name">{REGISTRY_NAME}</span>' in client.last_page


def test_bidi_controls_in_claims_are_shown_not_obeyed(app, signed_in, issuer):
    app.config["TRUST_CHECK"] = _registry_check(name=f"Registry{RLO} name")
    claims = {**CLAIMS, "title": f"Data{RLO}wal",
              "awarding_body": [{"name": f"Uni{RLO}versity{PDF}", "id": "https://uni.example", "country": "PT"}],
              "learning_outcomes": [f"Outcome {RLO}one"]}
    response = signed_in.add(issuer.issue(signed_in.holder_jwk(app), claims))
    assert response.status_code == 302, re.findall(r'class="error"[^<]*', signed_in.last_page)
    credential_id = int(response.headers["Location"].rsplit("/", 1)[1])
    for url in ("/credentials", f"/credentials/{credential_id}", f"/credentials/{credential_id}/delete"):
        signed_in.get(url)
        assert RLO not in signed_in.last_page, url
        assert PDF not in signed_in.last_page, url
        assert "Data[U+202E]wal" in signed_in.last_page, url
    signed_in.get(f"/credentials/{credential_id}")
    assert "Outcome [U+202E]one" in signed_in.last_page
    assert "Registry[U+202E] name" in signed_in.last_page


@pytest.mark.browser
def test_a_5000_character_claim_does_not_widen_the_list_or_the_card(app, issuer, tmp_path):
    if not shutil.which("chromium") and not __import__("os").path.exists("/usr/bin/chromium"):
        missing_tool("Debian chromium is not installed at /usr/bin/chromium")
    playwright_api = pytest.importorskip("playwright.sync_api")
    from werkzeug.serving import make_server

    client = WalletClient(app.test_client())
    client.signup("ana")
    unbroken = {"title": "A" * 5000, "awarding_body": [{"name": "B" * 5000}], "further_information": "C" * 5000,
                "learning_outcomes": ["D" * 5000]}
    added = client.add(issuer.issue(client.holder_jwk(app), unbroken, vct="urn:example:vct:unbroken"))
    assert added.status_code == 302, client.last_page
    credential_id = int(added.headers["Location"].rsplit("/", 1)[1])
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        with playwright_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                                 args=["--headless", "--no-sandbox", "--disable-gpu"])
            try:
                page = browser.new_page(viewport={"width": 390, "height": 844})
                page.goto(base + "/auth/signin")
                page.fill("input[name=username]", "ana")
                page.fill("input[name=password]", PASSWORD)
                page.click("form.stack button[type=submit]")
                page.wait_for_url(base + "/credentials")
                page.click("details summary")  # the stack summary's table by issuer, open
                assert "A" * 150 in page.inner_text(".cards")
                assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
                page.goto(f"{base}/credentials/{credential_id}")
                assert "D" * 1000 in page.inner_text(".fields")
                assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
            finally:
                browser.close()
    finally:
        server.shutdown()
