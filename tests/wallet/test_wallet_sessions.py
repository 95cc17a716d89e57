"""Sessions: an idle timeout and an absolute lifetime; a fresh sign-in (password entered again
within REAUTH_MAX_AGE) before export, restore, credential removal and account deletion."""

from __future__ import annotations

import io
from urllib.parse import parse_qs, urlsplit

import pytest
from wallet_helpers import PASSWORD, db_rows

PASSPHRASE = "a long backup passphrase"


def _go_stale(app, client, clock) -> None:
    """Let the sign-in age past REAUTH_MAX_AGE while staying active (no idle timeout)."""
    step = app.config["SESSION_IDLE_TIMEOUT"] // 2
    waited = 0
    while waited <= app.config["REAUTH_MAX_AGE"]:
        clock.now += step
        waited += step
        assert client.get("/credentials").status_code == 200


def _asks_for_password(response, next_path: str) -> None:
    assert response.status_code in (302, 303)
    location = urlsplit(response.headers["Location"])
    assert location.path == "/auth/confirm"
    assert parse_qs(location.query)["next"] == [next_path]


def _confirm(client, next_path: str, password: str = PASSWORD):
    page = client.get("/auth/confirm", query_string={"next": next_path})
    assert page.status_code == 200
    assert f'name="next" value="{next_path}"' in client.last_page
    return client.post("/auth/confirm", {"password": password, "next": next_path})


def test_idle_session_ends(app, signed_in, clock):
    assert signed_in.get("/credentials").status_code == 200
    clock.now += app.config["SESSION_IDLE_TIMEOUT"] + 1
    response = signed_in.get("/credentials")
    assert response.status_code == 302
    assert "/auth/signin" in response.headers["Location"]
    assert db_rows(app, "SELECT COUNT(*) FROM sessions")[0][0] == 0
    signed_in.get(response.headers["Location"])
    assert "without activity" in signed_in.last_page


def test_activity_keeps_the_session_until_its_absolute_lifetime(app, signed_in, clock):
    app.config["SESSION_LIFETIME"] = 4 * app.config["SESSION_IDLE_TIMEOUT"]
    step = app.config["SESSION_IDLE_TIMEOUT"] - 60
    elapsed = 0
    while elapsed + step < app.config["SESSION_LIFETIME"]:
        clock.now += step
        elapsed += step
        assert signed_in.get("/credentials").status_code == 200, elapsed
    clock.now += step
    assert signed_in.get("/credentials").status_code == 302


def test_default_lifetimes():
    from wallet import DEFAULT_CONFIG

    assert DEFAULT_CONFIG["SESSION_IDLE_TIMEOUT"] == 30 * 60
    assert DEFAULT_CONFIG["SESSION_LIFETIME"] == 14 * 24 * 3600
    assert DEFAULT_CONFIG["REAUTH_MAX_AGE"] == 5 * 60


def test_export_needs_a_fresh_sign_in(app, held, clock):
    client, _ = held
    client.get("/backup/export")
    tokens = client.form_tokens()
    _go_stale(app, client, clock)
    _asks_for_password(client.get("/backup/export"), "/backup/export")
    stale = client.client.post("/backup/export", data={**tokens, "passphrase": PASSPHRASE,
                                                       "passphrase_again": PASSPHRASE})
    _asks_for_password(stale, "/backup/export")
    assert "attachment" not in stale.headers.get("Content-Disposition", "")
    assert _confirm(client, "/backup/export", "not my password").status_code == 401
    confirmed = _confirm(client, "/backup/export")
    assert confirmed.status_code == 302
    assert confirmed.headers["Location"] == "/backup/export"
    done = client.submit("/backup/export", "/backup/export", {"passphrase": PASSPHRASE, "passphrase_again": PASSPHRASE})
    assert done.status_code == 200
    assert "attachment" in done.headers["Content-Disposition"]


def test_restore_needs_a_fresh_sign_in(app, held, clock):
    client, _ = held
    backup = client.submit("/backup/export", "/backup/export",
                           {"passphrase": PASSPHRASE, "passphrase_again": PASSPHRASE}).get_data()
    client.submit(f"/credentials/{held[1]}/delete", f"/credentials/{held[1]}/delete")
    assert db_rows(app, "SELECT COUNT(*) FROM credentials")[0][0] == 0
    client.get("/backup/restore")
    tokens = client.form_tokens()
    _go_stale(app, client, clock)
    _asks_for_password(client.get("/backup/restore"), "/backup/restore")
    stale = client.client.post("/backup/restore", data={**tokens, "passphrase": PASSPHRASE,
                                                        "file": (io.BytesIO(backup), "backup.json")},
                               content_type="multipart/form-data")
    _asks_for_password(stale, "/backup/restore")
    assert db_rows(app, "SELECT COUNT(*) FROM credentials")[0][0] == 0
    assert _confirm(client, "/backup/restore").headers["Location"] == "/backup/restore"
    client.get("/backup/restore")
    done = client.post("/backup/restore", {"passphrase": PASSPHRASE, "file": (io.BytesIO(backup), "backup.json")},
                       content_type="multipart/form-data")
    assert done.status_code == 302, client.last_page
    assert db_rows(app, "SELECT COUNT(*) FROM credentials")[0][0] == 1


def test_credential_removal_needs_a_fresh_sign_in(app, held, clock):
    client, credential_id = held
    removal = f"/credentials/{credential_id}/delete"
    client.get(removal)
    tokens = client.form_tokens()
    _go_stale(app, client, clock)
    _asks_for_password(client.client.post(removal, data=tokens), removal)
    assert db_rows(app, "SELECT COUNT(*) FROM credentials")[0][0] == 1
    _asks_for_password(client.get(removal), removal)
    assert _confirm(client, removal).headers["Location"] == removal
    assert client.get(removal).status_code == 200
    assert "Remove this credential" in client.last_page
    assert client.post(removal).status_code == 302
    assert db_rows(app, "SELECT COUNT(*) FROM credentials")[0][0] == 0


def test_account_deletion_needs_the_password_whatever_the_sign_in_age(app, held, clock):
    client, _ = held
    _go_stale(app, client, clock)
    wrong = client.submit("/auth/account", "/auth/delete", {"password": "not my password"})
    assert wrong.status_code == 400
    assert db_rows(app, "SELECT COUNT(*) FROM accounts")[0][0] == 1
    done = client.submit("/auth/account", "/auth/delete", {"password": PASSWORD})
    assert done.status_code == 302
    assert db_rows(app, "SELECT COUNT(*) FROM accounts")[0][0] == 0


def test_a_stolen_session_cannot_guess_the_password_through_confirm_or_delete(app, held, clock):
    client, _ = held
    _go_stale(app, client, clock)
    free = app.config["SIGNIN_FREE_FAILURES"]
    for n in range(free):
        assert _confirm(client, "/backup/export", f"guess {n}").status_code == 401
    throttled = _confirm(client, "/backup/export", PASSWORD)
    assert throttled.status_code == 429
    assert int(throttled.headers["Retry-After"]) > 0
    deleting = client.submit("/auth/account", "/auth/delete", {"password": PASSWORD})
    assert deleting.status_code == 429
    assert db_rows(app, "SELECT COUNT(*) FROM accounts")[0][0] == 1


@pytest.mark.parametrize("nasty", ["//evil.example", "/%09/evil.example", "https://evil.example"])
def test_confirm_next_stays_on_the_site(app, signed_in, nasty):
    signed_in.get("/auth/confirm", query_string={"next": nasty})
    response = signed_in.post("/auth/confirm", {"password": PASSWORD, "next": nasty})
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/account"
