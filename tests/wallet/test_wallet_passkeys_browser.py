"""Passkeys in real headless Chromium with the DevTools virtual authenticator (CDP ``WebAuthn`` domain).

The wallet runs at ``http://localhost:<port>`` (a secure context whose host can be an RP ID; an IP
address cannot). The authenticator is CTAP 2.1, internal, with resident keys and user verification,
and the PRF extension where a test asks for it. Covered: a passkey-only account (sign-up without a
password) whose holder keys end up sealed under the PRF-derived vault, so the server's secret alone no
longer opens them, and which still shares after a passkey sign-in; a password account adding a passkey
from its account page, the password still working as fallback (keys locked while PRF-sealed); an
authenticator without PRF (keys stay server-sealed); a replayed passkey answer (challenge single-use);
a counter that goes back (clone).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import pytest
from wallet_helpers import PASSWORD, Issuer, WalletClient, sign_up_in_browser

pytestmark = pytest.mark.browser


@pytest.fixture
def localhost_wallet(tmp_path: Path) -> Iterator[tuple[Any, str]]:
    """The wallet served at http://localhost:<free port>, PUBLIC_URL set to it (the RP ID is ``localhost``)."""
    from werkzeug.serving import make_server

    from wallet import create_app

    holder: dict[str, Any] = {}

    def dispatch(environ: dict, start_response: Callable) -> Any:
        return holder["app"](environ, start_response)

    http = make_server("127.0.0.1", 0, dispatch, threaded=True)
    base = f"http://localhost:{http.server_port}"
    holder["app"] = create_app({"DATA_DIR": str(tmp_path / "var"), "SESSION_COOKIE_SECURE": False,
                                "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 8 * 1024, "ARGON2_PARALLELISM": 1,
                                "PUBLIC_URL": base, "CHAIN_CHECKS": False})
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield holder["app"], base
    finally:
        http.shutdown()
        thread.join(timeout=5)


def _authenticator(page: Any, *, prf: bool) -> tuple[Any, str]:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    options = {"protocol": "ctap2", "ctap2Version": "ctap2_1", "transport": "internal", "hasResidentKey": True,
               "hasUserVerification": True, "isUserVerified": True, "automaticPresenceSimulation": True,
               "hasPrf": prf}
    answer = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})
    return cdp, answer["authenticatorId"]


def _db(app: Any) -> Any:
    from wallet.db import DB_FILE, open_database

    return open_database(Path(app.config["DATA_DIR"]) / DB_FILE)


def _row(app: Any, sql: str, params: list[Any]) -> Any:
    db = _db(app)
    try:
        return db.execute(sql, params).fetchone()
    finally:
        db.close()


def _signup_with_passkey(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/auth/signup")
    form = page.locator("form[action='/auth/passkey/signup']")
    form.locator("input[name=username]").fill(username)
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/auth/passkey/signup")
    page.click("form[data-passkey] button[type=submit]")
    page.wait_for_url("**/credentials/add")


def _add_credential(page: Any, app: Any, issuer: Issuer, username: str) -> None:
    credential = issuer.issue(WalletClient(None, username=username).holder_jwk(app))
    page.fill("textarea[name=credential]", credential)
    page.click("form.stack button[type=submit]")
    page.wait_for_url("**/credentials/1")


def _sign_out(page: Any, base: str) -> None:
    page.goto(f"{base}/auth/account")
    page.click("form[action='/auth/signout'] button")
    page.wait_for_url("**/auth/signin")


def _passkey_signin(page: Any, base: str) -> None:
    page.goto(f"{base}/auth/signin")
    page.click("form[data-passkey] button[type=submit]")


def _share_page_answers(page: Any, base: str) -> int:
    page.goto(f"{base}/credentials/1/share")
    page.click("form.stack button[type=submit]")
    page.locator("button.big").wait_for()
    with page.expect_response(lambda r: r.request.method == "POST") as created:
        page.click("button.big")
    return created.value.status


def test_passkey_only_account_seals_its_holder_keys_with_prf_and_shares_after_a_passkey_sign_in(
        localhost_wallet, page, issuer: Issuer):
    from wallet.holding import holder_keys, private_holder_key

    app, base = localhost_wallet
    _authenticator(page, prf=True)
    _signup_with_passkey(page, base, "pia")
    password_hash, sealed = _row(app, "SELECT password_hash, vault_sealed FROM accounts WHERE username = ?", ["pia"])
    assert password_hash == ""
    assert sealed == 1, "the PRF passkey should seal the holder keys"
    db = _db(app)
    try:
        record = holder_keys(db, 1)[0]
    finally:
        db.close()
    with pytest.raises(Exception, match="does not open"):
        private_holder_key(app.extensions["microcred_wallet_secret"], record)  # the server alone cannot

    _add_credential(page, app, issuer, "pia")
    _sign_out(page, base)
    _passkey_signin(page, base)
    page.wait_for_url("**/credentials")
    assert _share_page_answers(page, base) == 302, "sharing signs a KB-JWT with the vault-sealed key"
    page.wait_for_url("**/shares/*")
    assert page.locator("#qr").count() == 1
    assert page.csp_errors == [], page.csp_errors


def test_password_account_adds_a_passkey_and_the_password_stays_a_fallback(localhost_wallet, page, issuer: Issuer):
    app, base = localhost_wallet
    _authenticator(page, prf=True)
    sign_up_in_browser(page, base)
    _add_credential(page, app, issuer, "ana")

    page.goto(f"{base}/auth/account")
    page.click("text=Add a passkey")
    page.wait_for_url("**/auth/passkey/add")
    page.fill("input[name=name]", "Phone")
    page.click("form[data-passkey] button[type=submit]")
    page.wait_for_url("**/auth/account")
    assert page.locator(".passkey-row").count() == 1
    assert "Phone" in page.locator(".passkey-row").inner_text()
    assert _row(app, "SELECT vault_sealed FROM accounts WHERE username = ?", ["ana"])[0] == 1

    _sign_out(page, base)  # the password still signs in, but the PRF-sealed keys stay shut
    page.fill("form[action='/auth/signin'] input[name=username]", "ana")
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/auth/signin'] button[type=submit]")
    page.wait_for_url("**/credentials")
    assert _share_page_answers(page, base) == 403
    assert "sealed with your passkey" in page.content()

    _sign_out(page, base)
    _passkey_signin(page, base)
    page.wait_for_url("**/credentials")
    assert _share_page_answers(page, base) == 302


def test_an_authenticator_without_prf_signs_in_keeps_keys_server_sealed_and_deletes_without_password(
        localhost_wallet, page):
    app, base = localhost_wallet
    _authenticator(page, prf=False)
    _signup_with_passkey(page, base, "noprf")
    assert _row(app, "SELECT vault_sealed FROM accounts WHERE username = ?", ["noprf"])[0] == 0
    _sign_out(page, base)
    _passkey_signin(page, base)
    page.wait_for_url("**/credentials")
    page.goto(f"{base}/auth/account")  # a passkey-only account: its fresh passkey sign-in stands for the password
    assert page.locator("form[action='/auth/delete'] input[name=password]").count() == 0
    page.click("form[action='/auth/delete'] button[type=submit]")
    page.wait_for_url("**/auth/signup")
    assert _row(app, "SELECT COUNT(*) FROM accounts", [])[0] == 0


def test_a_replayed_passkey_answer_and_a_counter_that_went_back_are_refused(localhost_wallet, page):
    app, base = localhost_wallet
    _authenticator(page, prf=False)
    _signup_with_passkey(page, base, "rex")
    _sign_out(page, base)

    sent: list[Any] = []
    page.on("request", lambda r: sent.append(r) if r.url.endswith("/auth/passkey/signin") else None)
    _passkey_signin(page, base)
    page.wait_for_url("**/credentials")
    fields = parse_qs(sent[0].post_data)
    page.goto(f"{base}/auth/account")
    fields["csrf_token"] = [page.locator("input[name=csrf_token]").first.get_attribute("value")]  # this session's
    body = urlencode(fields, doseq=True)
    replay = page.request.post(f"{base}/auth/passkey/signin", data=body,
                               headers={"Content-Type": "application/x-www-form-urlencoded"}, max_redirects=0)
    assert replay.status == 401
    assert "expired or was used already" in replay.text()

    _sign_out(page, base)
    db = _db(app)
    try:
        with db.atomic():
            db.execute("UPDATE passkeys SET sign_count = 1000")
    finally:
        db.close()
    _passkey_signin(page, base)
    error = page.locator(".error")
    error.wait_for()
    assert "sign count" in error.inner_text()
    assert page.url.endswith("/auth/passkey/signin")
