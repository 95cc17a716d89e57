"""Host header trust (issue 10, B16): each service answers only its own host names.

A foreign ``Host`` (DNS rebinding, link poisoning) gets 400 before any view
runs, and every absolute URL a service emits (OpenID4VP ``response_uri``,
OpenID4VCI metadata, share links) comes from its configured public URL.
Forwarded headers count only with ``MICROCRED_TRUSTED_PROXIES``.
"""

from __future__ import annotations

import json
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from credentials.jose import b64url_decode

EVIL = "evil.example"
VERIFIER_URL = "https://verifier.example"


# ------------------------------------------------------------------ the three apps


@pytest.fixture
def wallet_app(tmp_path):
    from wallet import create_app

    def make(**extra):
        return create_app({"TESTING": True, "DATA_DIR": str(tmp_path / "wallet"), "SESSION_COOKIE_SECURE": False,
                           "CHAIN_CHECKS": False, "PUBLIC_URL": "http://127.0.0.1:5001", **extra})

    return make


@pytest.fixture
def issuer_app(tmp_path, monkeypatch):
    from issuer.identity import create_issuer
    from issuer.web import create_app

    monkeypatch.setenv("MICROCRED_RPC_URL", "http://127.0.0.1:9")
    data_dir = tmp_path / "issuer"
    create_issuer(data_dir, "uni", legal_name="Università di Prova", country="IT", base_url="https://issuer.example")
    return create_app({"TESTING": True, "DATA_DIR": str(data_dir), "ISSUER": "uni"})


@pytest.fixture
def verifier_app():
    from verifier import create_app

    def make(**extra):
        return create_app({"TESTING": True, "VERIFIER_TRUSTED_ROOTS": "did:example:root",
                           "RPC_URL": "http://127.0.0.1:9", **extra})

    return make


def test_wallet_refuses_a_foreign_host(wallet_app):
    client = wallet_app().test_client()
    assert client.get("/auth/signin", headers={"Host": EVIL}).status_code == 400
    assert client.post("/auth/signin", headers={"Host": EVIL}, data={"username": "a"}).status_code == 400
    for host in ("127.0.0.1:5001", "localhost"):
        assert client.get("/auth/signin", headers={"Host": host}).status_code == 200


def test_wallet_with_a_public_name_refuses_loopback_aliases_and_others(wallet_app):
    client = wallet_app(PUBLIC_URL="https://wallet.example").test_client()
    assert client.get("/auth/signin", headers={"Host": "wallet.example"}).status_code == 200
    assert client.get("/auth/signin", headers={"Host": "localhost"}).status_code == 400
    assert client.get("/auth/signin", headers={"Host": "wallet.example.evil.example"}).status_code == 400


def test_issuer_refuses_a_foreign_host_on_registrar_and_metadata(issuer_app):
    client = issuer_app.test_client()
    for path in ("/registrar/", "/.well-known/openid-credential-issuer"):
        response = client.get(path, headers={"Host": EVIL})
        assert response.status_code == 400, (path, response.status_code)
    metadata = client.get("/.well-known/openid-credential-issuer", headers={"Host": "issuer.example"})
    assert metadata.status_code == 200
    assert metadata.get_json()["credential_issuer"] == "https://issuer.example"
    assert metadata.get_json()["credential_endpoint"] == "https://issuer.example/credential"


def test_verifier_refuses_a_foreign_host_on_pages_and_api(verifier_app):
    client = verifier_app(VERIFIER_PUBLIC_URL=VERIFIER_URL).test_client()
    assert client.get("/", headers={"Host": EVIL}).status_code == 400
    answer = client.post("/api/v1/verify", headers={"Host": EVIL}, json={"presentation": "x"})
    assert answer.status_code == 400
    assert b"host name" in answer.data
    assert client.post("/openid4vp/new", headers={"Host": EVIL}, data={"claim": ["title"]}).status_code == 400


def _request_of(client, host: str, **headers) -> dict:
    """The request a wallet fetches (OpenID4VP 1.0 by reference) after an employer asked through ``host``."""
    created = client.post("/openid4vp/new", data={"claim": ["title"]}, headers={"Host": host, **headers})
    assert created.status_code == 303, created.get_data(as_text=True)[:300]
    page = client.get(urlsplit(created.location).path, headers={"Host": host}).get_data(as_text=True)
    link = unescape(re.search(r'id="request-url">([^<]+)<', page).group(1))
    request_uri = parse_qs(urlsplit(link).query)["request_uri"][0]
    fetched = client.get(urlsplit(request_uri).path, headers={"Host": host}).get_data(as_text=True)
    return {"request_uri": request_uri, **json.loads(b64url_decode(fetched.split(".")[1]))}


def test_openid4vp_request_without_a_public_url_cannot_be_poisoned_through_host(verifier_app):
    """Today's hole: no VERIFIER_PUBLIC_URL, and the response_uri came from any Host."""
    client = verifier_app().test_client()
    assert client.post("/openid4vp/new", headers={"Host": EVIL}, data={"claim": ["title"]}).status_code == 400
    request = _request_of(client, "localhost")
    assert urlsplit(request["response_uri"]).hostname == "localhost"
    assert urlsplit(request["request_uri"]).hostname == "localhost"


def test_openid4vp_request_through_another_trusted_name_carries_the_configured_response_uri(verifier_app):
    client = verifier_app(VERIFIER_PUBLIC_URL=VERIFIER_URL, TRUSTED_HOSTS="verifier.internal").test_client()
    request = _request_of(client, "verifier.internal", **{"X-Forwarded-Host": EVIL, "X-Forwarded-Proto": "http"})
    assert request["response_uri"] == f"{VERIFIER_URL}/openid4vp/response"
    assert request["request_uri"].startswith(f"{VERIFIER_URL}/openid4vp/request/")
    assert request["client_id"] == f"redirect_uri:{VERIFIER_URL}/openid4vp/response"


# ------------------------------------------------------------------ reverse proxies


def test_forwarded_host_is_ignored_without_trusted_proxies(wallet_app):
    client = wallet_app().test_client()
    response = client.get("/auth/signin", headers={"Host": "127.0.0.1:5001", "X-Forwarded-Host": EVIL})
    assert response.status_code == 200


def test_forwarded_host_from_a_trusted_proxy_is_checked_like_a_direct_one(wallet_app):
    app = wallet_app(PUBLIC_URL="https://wallet.example", TRUSTED_PROXIES=1)
    client = app.test_client()
    via_proxy = {"Host": "127.0.0.1:5001", "X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
    assert client.get("/auth/signin", headers={**via_proxy, "X-Forwarded-Host": "wallet.example"}).status_code == 200
    assert client.get("/auth/signin", headers={**via_proxy, "X-Forwarded-Host": EVIL}).status_code == 400


def test_bad_trusted_proxies_setting_is_refused_at_start(wallet_app):
    from credentials.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="MICROCRED_TRUSTED_PROXIES"):
        wallet_app(TRUSTED_PROXIES="two")


def test_trusted_hosts_from_public_url_and_explicit_list():
    from infra.hosts import trusted_hosts_for

    assert trusted_hosts_for("http://127.0.0.1:5020") == ["127.0.0.1", "localhost"]
    assert trusted_hosts_for("https://Wallet.Example/app", "a.example, .b.example") == [
        ".b.example", "a.example", "wallet.example"]
    assert trusted_hosts_for(None) == ["127.0.0.1", "localhost"]


def test_host_names_are_compared_without_regard_to_case(wallet_app):
    """RFC 9110 §4.2.3 / RFC 3986 §3.2.2: the host of a URL is case-insensitive."""
    client = wallet_app(PUBLIC_URL="https://wallet.example").test_client()
    for host in ("WALLET.example", "Wallet.Example", "wallet.EXAMPLE"):
        assert client.get("/auth/signin", headers={"Host": host}).status_code == 200
    assert client.get("/auth/signin", headers={"Host": "WALLET.example.evil.example"}).status_code == 400
