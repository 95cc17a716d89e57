"""Accounts: sign up, sign in, CSRF, rate limits, sign out everywhere, delete; headers."""

from __future__ import annotations

import pytest
from wallet_helpers import PASSWORD, WalletClient, db_rows


def test_signup_creates_account_with_sealed_es256_key(app, client):
    response = client.signup("ana")
    assert response.headers["Location"].endswith("/credentials/add")
    rows = db_rows(app, "SELECT public_jwk, sealed FROM holder_keys")
    assert len(rows) == 1
    public_jwk, sealed = rows[0]
    assert '"crv": "P-256"' in public_jwk
    assert '"d"' not in public_jwk
    assert b'"d"' not in sealed  # encrypted at rest
    assert b"P-256" not in sealed
    password_hash = db_rows(app, "SELECT password_hash FROM accounts")[0][0]
    assert password_hash.startswith("$argon2id$")


def test_signup_refuses_short_password_and_taken_name(client):
    short = client.submit("/auth/signup", "/auth/signup", {"username": "bo", "password": "x", "password_again": "x"})
    assert short.status_code == 400
    assert "user name of 3" in client.last_page
    client.signup("ana")
    client.post("/auth/signout")
    taken = client.submit("/auth/signup", "/auth/signup",
                          {"username": "ANA", "password": PASSWORD, "password_again": PASSWORD})
    assert taken.status_code == 400
    assert "taken" in client.last_page


def test_pages_need_sign_in(client):
    for url in ("/credentials", "/credentials/add", "/shares", "/auth/account", "/backup/export", "/credentials/1"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/auth/signin" in response.headers["Location"]


def test_signin_wrong_password_then_right(client):
    client.signup("ana")
    client.post("/auth/signout")
    wrong = client.submit("/auth/signin", "/auth/signin", {"username": "ana", "password": "wrong password"})
    assert wrong.status_code == 401
    assert "do not match" in client.last_page
    right = client.submit("/auth/signin?next=/shares", "/auth/signin",
                          {"username": "ana", "password": PASSWORD, "next": "/shares"})
    assert right.status_code == 302
    assert right.headers["Location"] == "/shares"


#: ``next`` values that must never be followed: other hosts, schemes, and paths that a
#: browser (or a proxy) turns into another host once control characters are dropped.
NASTY_NEXT = [
    "//evil.example/",
    "/\\evil.example",
    "\\\\evil.example",
    "/%09/evil.example",
    "/\t/evil.example",
    "\t//evil.example",
    " /shares",
    "/%2F%2Fevil.example",
    "/%2f/evil.example",
    "/%5Cevil.example",
    "/%252F%252Fevil.example",
    "https://evil.example/",
    "HTTPS:evil.example",
    "javascript:alert(1)",
    "/\x00",
    "/%00",
    "/shares\r\nSet-Cookie: stolen=1",
    "/shares%0d%0aSet-Cookie:%20stolen=1",
    "/\x7fevil",
    "/\u2028evil",
    "/\u202eevil",
    "/shares evil",
    "shares",
    "",
    "/" + "a" * 5000,
]


@pytest.mark.parametrize("nasty", NASTY_NEXT)
def test_signin_next_cannot_leave_the_site(client, nasty):
    client.signup("ana")
    client.post("/auth/signout")
    page = client.get("/auth/signin", query_string={"next": nasty})
    assert page.status_code == 200
    response = client.post("/auth/signin", {"username": "ana", "password": PASSWORD, "next": nasty})
    assert response.status_code == 302
    assert response.headers["Location"] == "/credentials"
    assert "stolen" not in str(response.headers)


@pytest.mark.parametrize("good", ["/shares", "/credentials/3", "/shares?page=2", "/backup/export"])
def test_signin_next_keeps_same_site_paths(client, good):
    client.signup("ana")
    client.post("/auth/signout")
    response = client.submit("/auth/signin", "/auth/signin", {"username": "ana", "password": PASSWORD, "next": good})
    assert response.headers["Location"] == good


def test_login_redirect_round_trip_keeps_the_page(client):
    client.signup("ana")
    assert client.submit("/auth/account", "/auth/signout").status_code == 302
    to_signin = client.get("/shares")
    assert to_signin.status_code == 302
    client.get(to_signin.headers["Location"])
    assert '<input type="hidden" name="next" value="/shares">' in client.last_page
    response = client.post("/auth/signin", {"username": "ana", "password": PASSWORD, "next": "/shares"})
    assert response.headers["Location"] == "/shares"


def test_signin_is_rate_limited_per_user(app, client):
    client.signup("ana")
    client.post("/auth/signout")
    for _ in range(app.config["SIGNIN_FREE_FAILURES"]):
        refused = client.submit("/auth/signin", "/auth/signin", {"username": "ana", "password": "nope nope"})
        assert refused.status_code == 401
    blocked = client.submit("/auth/signin", "/auth/signin", {"username": "ana", "password": PASSWORD})
    assert blocked.status_code == 429
    assert "Too many failed attempts" in client.last_page


def test_rate_limit_window_passes(app, client, clock):
    client.signup("ana")
    client.post("/auth/signout")
    for _ in range(app.config["SIGNIN_FREE_FAILURES"]):
        client.submit("/auth/signin", "/auth/signin", {"username": "ana", "password": "nope nope"})
    clock.now += app.config["SIGNIN_WINDOW"] + 1
    assert client.submit("/auth/signin", "/auth/signin", {"username": "ana", "password": PASSWORD}).status_code == 302


def test_post_without_csrf_token_is_refused(app, client):
    client.signup("ana")
    response = client.client.post("/auth/signout-everywhere", data={})
    assert response.status_code == 400
    assert "did not come from this wallet" in response.get_data(as_text=True)
    forged = client.client.post("/auth/signout-everywhere", data={"csrf_token": "forged"})
    assert forged.status_code == 400
    assert client.get("/credentials").status_code == 200  # still signed in


def test_signup_form_needs_csrf_too(app):
    fresh = app.test_client()
    response = fresh.post("/auth/signup", data={"username": "x" * 5, "password": PASSWORD, "password_again": PASSWORD})
    assert response.status_code == 400
    assert db_rows(app, "SELECT COUNT(*) FROM accounts")[0][0] == 0


def test_sign_out_everywhere_ends_other_sessions(app, client):
    client.signup("ana")
    other = WalletClient(app.test_client())
    other.submit("/auth/signin", "/auth/signin", {"username": "ana", "password": PASSWORD})
    assert other.get("/credentials").status_code == 200
    client.submit("/auth/account", "/auth/signout-everywhere")
    assert other.get("/credentials").status_code == 302
    assert client.get("/credentials").status_code == 302
    assert db_rows(app, "SELECT COUNT(*) FROM sessions")[0][0] == 0


def test_session_cookie_flags(app, tmp_path, clock):
    from wallet import create_app

    secure_app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path / "secure"), "CLOCK": clock,
                             "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 8 * 1024, "ARGON2_PARALLELISM": 1})
    client = WalletClient(secure_app.test_client())
    response = client.submit("/auth/signup", "/auth/signup",
                             {"username": "ana", "password": PASSWORD, "password_again": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_security_headers(client):
    response = client.get("/auth/signin")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "<script>" not in client.last_page  # no inline script anywhere


def test_delete_account_removes_everything(app, held):
    client, _ = held
    wrong = client.submit("/auth/account", "/auth/delete", {"password": "not my password"})
    assert wrong.status_code == 400
    assert db_rows(app, "SELECT COUNT(*) FROM credentials")[0][0] == 1
    done = client.submit("/auth/account", "/auth/delete", {"password": PASSWORD})
    assert done.status_code == 302
    for table in ("accounts", "holder_keys", "credentials", "sessions", "shares"):
        assert db_rows(app, f"SELECT COUNT(*) FROM {table}")[0][0] == 0, table
    assert client.get("/credentials").status_code == 302


def test_cli_serve_is_registered():
    from click.testing import CliRunner

    from wallet.cli import wallet

    result = CliRunner().invoke(wallet, ["serve", "--help"])
    assert result.exit_code == 0
    assert "--port" in result.output


ATTACKER, OWNER = "203.0.113.66", "198.51.100.7"


def _from(app, address: str) -> WalletClient:
    browser = WalletClient(app.test_client())
    browser.client.environ_base["REMOTE_ADDR"] = address
    return browser


def _signin(browser: WalletClient, password: str, username: str = "ana"):
    return browser.submit("/auth/signin", "/auth/signin", {"username": username, "password": password})


def test_attacker_cannot_lock_the_owner_out(app, client):
    client.signup("ana")
    attacker = _from(app, ATTACKER)
    answers = [_signin(attacker, f"guess number {n}").status_code for n in range(40)]
    assert answers[:app.config["SIGNIN_FREE_FAILURES"]] == [401] * app.config["SIGNIN_FREE_FAILURES"]
    assert set(answers[app.config["SIGNIN_FREE_FAILURES"]:]) == {429}
    owner = _from(app, OWNER)
    assert _signin(owner, PASSWORD).status_code == 302
    assert owner.get("/credentials").status_code == 200


def test_throttled_attacker_gets_429_with_growing_retry_after(app, client, clock):
    client.signup("ana")
    attacker = _from(app, ATTACKER)
    for n in range(app.config["SIGNIN_FREE_FAILURES"]):
        assert _signin(attacker, f"guess {n}").status_code == 401
    waits = []
    for n in range(4):
        blocked = _signin(attacker, PASSWORD)  # even the right password is not tried while throttled
        assert blocked.status_code == 429
        assert "Too many failed attempts" in attacker.last_page
        waits.append(int(blocked.headers["Retry-After"]))
        clock.now += waits[-1]
        assert _signin(attacker, f"late guess {n}").status_code == 401
    assert waits == sorted(waits)  # exponential back-off
    assert waits[-1] >= 4 * waits[0] > 0
    assert waits[-1] <= app.config["SIGNIN_BACKOFF_MAX"]


def test_many_attacking_clients_slow_down_but_never_block_a_clean_client(app, client):
    client.signup("ana")
    app.config["SIGNIN_ACCOUNT_SLOWDOWN"] = 20
    for n in range(20):
        assert _signin(_from(app, f"192.0.2.{n + 1}"), "wrong guess").status_code == 401
    # beyond the account-wide threshold, a client that already failed on this account waits from its first failure
    assert _signin(_from(app, "192.0.2.1"), "another guess").status_code == 429
    # the owner, from a client with no failures, is never blocked
    owner = _from(app, OWNER)
    assert _signin(owner, PASSWORD).status_code == 302


def test_one_client_guessing_many_accounts_is_throttled(app, client):
    client.signup("ana")
    attacker = _from(app, ATTACKER)
    limit = app.config["SIGNIN_CLIENT_FREE_FAILURES"]
    for n in range(limit):
        assert _signin(attacker, "password1234", username=f"user{n}").status_code == 401
    blocked = _signin(attacker, "password1234", username="someone-else")
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert _signin(_from(app, OWNER), PASSWORD).status_code == 302


def test_success_clears_the_clients_failures(app, client):
    client.signup("ana")
    owner = _from(app, OWNER)
    for _ in range(app.config["SIGNIN_FREE_FAILURES"] - 1):
        assert _signin(owner, "typo typo").status_code == 401
    assert _signin(owner, PASSWORD).status_code == 302
    owner.submit("/auth/account", "/auth/signout")
    for _ in range(app.config["SIGNIN_FREE_FAILURES"] - 1):
        assert _signin(owner, "typo typo").status_code == 401
    assert _signin(owner, PASSWORD).status_code == 302
