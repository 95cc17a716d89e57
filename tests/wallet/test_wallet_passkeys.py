"""Passkey rules without a browser: the relying party comes from the public URL (never an IP address),
a ceremony's challenge is good for one answer of its own kind, PRF wrapping of the vault key, and the
routes answer clearly (no passkeys on an IP-addressed wallet, a passkey answer that is not one, hostile values in
every passkey form: never a 500; the other routes are crawled by test_wallet_hostile_inputs.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from credentials.errors import InvalidInput
from infra.store import SqliteStore
from wallet.passkeys import authentication_options, relying_party, take_ceremony
from wallet.sealing import unwrap_vault_key, vault_sealing_secret, wrap_vault_key


@pytest.mark.parametrize(("url", "expected"), [
    ("https://wallet.example.eu", ("wallet.example.eu", "https://wallet.example.eu")),
    ("http://localhost:5001", ("localhost", "http://localhost:5001")),
    ("http://127.0.0.1:5001", None),
    ("https://[::1]:5001", None),
    (None, None),
])
def test_the_relying_party_is_the_public_url_s_domain(url, expected):
    rp = relying_party(url)
    assert (rp and (rp.rp_id, rp.origin)) == expected


def test_a_ceremony_answers_once_and_only_for_its_own_purpose(tmp_path: Path):
    store = SqliteStore(tmp_path / "store.sqlite3")
    rp = relying_party("https://wallet.example.eu")
    ceremony_id, _ = authentication_options(rp, store, "signin")
    assert take_ceremony(store, ceremony_id, "signin").purpose == "signin"
    with pytest.raises(InvalidInput, match="expired or was used already"):
        take_ceremony(store, ceremony_id, "signin")
    other_id, _ = authentication_options(rp, store, "confirm", account_id=7)
    with pytest.raises(InvalidInput, match="was for 'confirm', not 'signin'"):
        take_ceremony(store, other_id, "signin")


def test_the_vault_key_opens_only_with_its_passkey_s_prf_output_and_account():
    prf, vault = bytes(range(32)), bytes(32 * [7])
    wrapped = wrap_vault_key(prf, 1, "9", vault)
    assert unwrap_vault_key(prf, 1, "9", wrapped) == vault
    with pytest.raises(InvalidInput, match="does not open"):
        unwrap_vault_key(bytes(32), 1, "9", wrapped)
    with pytest.raises(InvalidInput, match="does not open"):
        unwrap_vault_key(prf, 2, "9", wrapped)
    assert vault_sealing_secret(b"s" * 32, vault) != vault_sealing_secret(b"s" * 32, bytes(32))


def test_no_passkey_routes_on_a_wallet_at_an_ip_address(client):
    page = client.get("/auth/signin").get_data(as_text=True)
    assert "data-passkey" not in page
    assert client.post("/auth/passkey/signin", data={}).status_code in (400, 404)


def test_a_passkey_sign_in_that_is_not_one_is_refused_saying_why(tmp_path: Path, clock):
    from wallet import create_app

    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path / "var"), "CLOCK": clock,
                      "SESSION_COOKIE_SECURE": False, "PUBLIC_URL": "http://localhost:5001"})
    client = app.test_client()
    page = client.get("/auth/signin", headers={"Host": "localhost:5001"}).get_data(as_text=True)
    csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
    ceremony = page.split('name="ceremony" value="')[1].split('"')[0]
    answer = client.post("/auth/passkey/signin", headers={"Host": "localhost:5001"},
                         data={"csrf_token": csrf, "ceremony": ceremony, "credential": '{"id": "nope"}'})
    assert answer.status_code == 401
    assert "this passkey is not registered with this wallet" in answer.get_data(as_text=True)


@pytest.fixture
def localhost_app(tmp_path: Path, clock):
    from wallet import create_app

    return create_app({"TESTING": True, "DATA_DIR": str(tmp_path / "var"), "CLOCK": clock,
                       "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 8 * 1024, "ARGON2_PARALLELISM": 1,
                       "SESSION_COOKIE_SECURE": False, "PUBLIC_URL": "http://localhost:5001"})


def test_passkey_forms_and_routes_survive_hostile_input(localhost_app):
    from wallet_helpers import WalletClient

    from tests.hostile import HOSTILE, crawl_forms

    stranger = localhost_app.test_client()
    stranger.environ_base["HTTP_HOST"] = "localhost:5001"
    findings = crawl_forms(stranger, ["/auth/signin", "/auth/signup"])
    learner = WalletClient(localhost_app.test_client())
    learner.client.environ_base["HTTP_HOST"] = "localhost:5001"
    learner.client.environ_base["REMOTE_ADDR"] = "192.0.2.8"  # the stranger's crawl used its sign-ups' limit
    learner.signup()
    findings += crawl_forms(learner.client, ["/auth/account", "/auth/passkey/add", "/auth/confirm"],
                            skip_actions=("/auth/signout", "/auth/delete"))
    assert not findings, "\n".join(map(str, findings))
    for action in ("/auth/passkey/signin", "/auth/passkey/confirm", "/auth/passkey/add", "/auth/passkey/signup/finish"):
        for value in HOSTILE:
            learner.get("/auth/account")
            answer = learner.post(action, {"ceremony": value, "credential": value, "prf": value, "name": value})
            assert answer.status_code < 500, (action, value[:40], answer.status_code)


def test_a_flood_of_sign_in_page_loads_writes_a_bounded_number_of_ceremonies(tmp_path: Path, clock):
    """Each sign-in page of a passkey wallet holds a fresh ceremony, a row in the shared store: unauthenticated
    GETs were rows without end. Past MICROCRED_WALLET_PASSKEY_SIGNIN_RATE_LIMIT per client the page is the
    password form alone, and writes no ceremony."""
    import sqlite3

    from infra.store import STORE_FILE
    from wallet import create_app

    data_dir = tmp_path / "var"
    app = create_app({"TESTING": True, "DATA_DIR": str(data_dir), "CLOCK": clock, "SESSION_COOKIE_SECURE": False,
                      "PUBLIC_URL": "http://localhost:5001", "WALLET_PASSKEY_SIGNIN_RATE_LIMIT": "5/600"})
    client = app.test_client()
    pages = [client.get("/auth/signin", headers={"Host": "localhost:5001"}) for _ in range(40)]

    assert {page.status_code for page in pages} == {200}  # the password form stays usable
    with_passkey = [page for page in pages if "data-passkey=" in page.get_data(as_text=True)]
    assert len(with_passkey) == 5
    assert 'name="password"' in pages[-1].get_data(as_text=True)
    with sqlite3.connect(data_dir / STORE_FILE) as conn:
        rows = conn.execute("SELECT COUNT(*) FROM kv WHERE namespace = 'passkey-ceremony'").fetchone()[0]
    assert rows == 5
