"""Attacks on the wallet web app that got through in round 4 (each test failed before its fix).

- Sign-up had no limit: each new wallet costs an Argon2id hash (64 MiB, three
  passes by default) and rows that stay, so one client could create accounts
  in a loop and tie up the server's memory and CPU.
- Reading a verifier's OpenID4VP request (the review form, a scanned code)
  fetched its ``request_uri`` with no limit: the wallet fetched wherever the
  code pointed as often as anyone asked.
- The language switcher's ``?lang=`` stored the choice on the signed-in
  account whoever sent the browser there: a link or an image on another site
  changed the account's setting (cross-site request forgery on a GET).
"""

from __future__ import annotations

from urllib.parse import urlencode

from wallet_helpers import PASSWORD, WalletClient, db_rows

VERIFIER = "https://verifier.example"


def _sign_up(client: WalletClient, username: str, **kwargs):
    return client.submit("/auth/signup", "/auth/signup",
                         {"username": username, "password": PASSWORD, "password_again": PASSWORD}, **kwargs)


def test_sign_ups_past_the_limit_get_429_and_make_no_account(app):
    client = WalletClient(app.test_client())
    made = [_sign_up(client, f"learner{n}").status_code for n in range(10)]
    assert made == [302] * 10
    refused = _sign_up(client, "one-too-many")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600
    assert "Too many new wallets" in client.last_page
    assert db_rows(app, "SELECT COUNT(*) FROM accounts")[0][0] == 10
    other = _sign_up(WalletClient(app.test_client()), "elsewhere", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 302  # another client is not held back


def test_the_sign_up_limit_is_a_setting(app):
    from wallet import import_limits

    app.config[import_limits.SIGNUP_SETTING] = "off"
    import_limits.init_app(app)  # as create_app does with the setting from the environment
    client = WalletClient(app.test_client())
    assert all(_sign_up(client, f"learner{n}").status_code == 302 for n in range(12))


def test_verifier_requests_past_the_limit_are_not_fetched(app, signed_in):
    fetched = []
    app.config["HTTP_TRANSPORT"] = lambda *args: fetched.append(args)
    for _ in range(30):
        assert signed_in.submit("/openid4vp/review", "/openid4vp/review", {"request": "no"}).status_code == 400
    link = "openid4vp://?" + urlencode({"client_id": f"redirect_uri:{VERIFIER}/cb", "request_uri": f"{VERIFIER}/r/1"})
    refused = signed_in.submit("/openid4vp/review", "/openid4vp/review", {"request": link})
    assert refused.status_code == 429
    assert "Retry-After" in refused.headers
    assert "Too many verifier requests" in signed_in.last_page
    signed_in.get("/credentials/scan")
    scanned = signed_in.post("/credentials/scan", {"scanned": link})
    assert scanned.status_code == 429
    assert fetched == []


def test_a_language_link_on_another_site_does_not_change_the_accounts_language(app, signed_in):
    forged = signed_in.get("/credentials?lang=de", headers={"Sec-Fetch-Site": "cross-site"})
    assert forged.status_code == 200
    assert db_rows(app, "SELECT language FROM accounts WHERE username = ?", [signed_in.username]) == [(None,)]
    chosen = signed_in.get("/credentials?lang=fr", headers={"Sec-Fetch-Site": "same-origin"})  # the switcher
    assert chosen.status_code == 200
    assert db_rows(app, "SELECT language FROM accounts WHERE username = ?", [signed_in.username]) == [("fr",)]
