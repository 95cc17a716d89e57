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
- An import checked its credential (chain reads, the status list fetched from
  wherever the credential says, up to ``MICROCRED_HTTP_TIMEOUT`` each) inside
  the database transaction that had already claimed the form: the write lock
  was held over the network, so a slow status server named in a self-made
  credential stopped every other learner's requests (each updates its
  session), ending in "database is locked" 500s after the busy timeout.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import urlencode

from wallet_helpers import PASSWORD, TRUSTED_CHECKS, WalletClient, db_rows

VERIFIER = "https://verifier.example"


def _sign_up(client: WalletClient, username: str, **kwargs):
    return client.submit("/auth/signup", "/auth/signup",
                         {"username": username, "password": PASSWORD, "password_again": PASSWORD}, **kwargs)


def test_sign_ups_past_the_limit_get_429_and_make_no_account(app):
    from wallet import import_limits

    app.config[import_limits.SIGNUP_SETTING] = "10/3600"
    import_limits.init_app(app)  # as create_app does with the setting from the environment
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


def test_the_default_sign_up_limit_leaves_room_for_a_class_behind_one_address():
    # A campus NAT or a proxy not yet declared in MICROCRED_TRUSTED_PROXIES puts a whole class behind one address.
    from infra.rate_limit import parse_rate_limit
    from wallet import import_limits
    from wallet.settings import SETTINGS

    default = next(s.default for s in SETTINGS if s.name == import_limits.SIGNUP_SETTING)
    limit = parse_rate_limit(default, setting=import_limits.SIGNUP_SETTING)
    assert limit.limit >= 30
    assert import_limits.LIMITS[import_limits.SIGNUP_SETTING][0] == default


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


def _writer_blocked(app) -> bool:
    """Whether another connection is kept from writing the wallet's database right now (no waiting)."""
    from wallet.db import DB_FILE

    connection = sqlite3.connect(Path(app.config["DATA_DIR"]) / DB_FILE, timeout=0)
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.rollback()
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        connection.close()


def test_an_import_holds_no_write_lock_while_its_credential_is_checked(app, signed_in, issuer):
    blocked = []

    def trust_check(raw, fmt, now):  # where the chain is read and the status list fetched: seconds, at worst
        blocked.append(_writer_blocked(app))
        return TRUSTED_CHECKS

    app.config["TRUST_CHECK"] = trust_check
    credential = issuer.issue(signed_in.holder_jwk(app))
    added = signed_in.add(credential)
    assert added.status_code == 302
    assert blocked == [False]  # every other learner's sign-in, page and share could still write meanwhile
    assert db_rows(app, "SELECT badge FROM credentials") == [("verified",)]
    again = signed_in.add(credential)  # checked, then found already held: nothing added twice
    assert again.headers["Location"] == added.headers["Location"]
    assert db_rows(app, "SELECT COUNT(*) FROM credentials") == [(1,)]


def test_a_restore_holds_no_write_lock_while_its_credentials_are_checked(app, held, issuer, tmp_path, clock):
    import io

    from wallet import create_app

    client, _ = held
    client.add(issuer.issue(client.holder_jwk(app), {"title": "Second"}))
    passphrase = "a long backup passphrase"
    data = client.submit("/backup/export", "/backup/export",
                         {"passphrase": passphrase, "passphrase_again": passphrase}).get_data()
    other_app = create_app({**{k: app.config[k] for k in ("TESTING", "SESSION_COOKIE_SECURE", "ARGON2_TIME_COST",
                                                         "ARGON2_MEMORY_COST", "ARGON2_PARALLELISM")},
                            "DATA_DIR": str(tmp_path / "other"), "CLOCK": clock})
    blocked = []

    def trust_check(raw, fmt, now):
        blocked.append(_writer_blocked(other_app))
        return TRUSTED_CHECKS

    other_app.config["TRUST_CHECK"] = trust_check
    other = WalletClient(other_app.test_client())
    other.signup("ana-on-new-phone")
    other.get("/backup/restore")
    restored = other.post("/backup/restore", {"file": (io.BytesIO(data), "backup.json"), "passphrase": passphrase},
                          content_type="multipart/form-data")
    assert restored.status_code == 302, other.last_page
    assert blocked == [False, False]
    assert db_rows(other_app, "SELECT COUNT(*) FROM credentials WHERE badge = 'verified'") == [(2,)]
    keys = db_rows(other_app, "SELECT holder_key_id FROM credentials")
    assert len({key for (key,) in keys}) == 1  # both bound to the restored key, stored under its real id
    assert db_rows(other_app, "SELECT COUNT(*) FROM holder_keys WHERE id = ?", keys[0]) == [(1,)]


def test_sign_in_guesses_from_one_ipv6_host_share_one_throttle(app, signed_in):
    """The sign-in throttle counted each address: one host holds a whole IPv6 /64 and may take a new address for
    each guess, so it was never slowed. Now its /64 counts as one client (as the rate limits count it)."""
    guesser = WalletClient(app.test_client())
    answers = []
    for n in range(1, 8):
        guesser.get("/auth/signin")
        answers.append(guesser.post("/auth/signin", {"username": signed_in.username, "password": f"guess {n}"},
                                    environ_base={"REMOTE_ADDR": f"2001:db8:1:2::{n:x}"}).status_code)
    assert answers[:5] == [401] * 5
    assert answers[5:] == [429, 429]
    owner = WalletClient(app.test_client())  # the owner elsewhere is not locked out
    owner.get("/auth/signin")
    mine = owner.post("/auth/signin", {"username": signed_in.username, "password": PASSWORD},
                      environ_base={"REMOTE_ADDR": "2001:db8:9:9::1"})
    assert mine.status_code == 302
