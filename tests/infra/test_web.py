"""The web foundation (issue 11, item 1): one Content-Security-Policy and one set of security headers
for the three services, CSRF one way (one field, one check) in the two that have forms."""

from __future__ import annotations

import re

import pytest

from infra.web import CSRF_FIELD, content_security_policy

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


@pytest.fixture
def issuer_app(tmp_path):
    from issuer.identity import create_issuer
    from issuer.web import create_app

    create_issuer(tmp_path / "issuer", "uni", legal_name="Università di Prova", country="IT",
                  base_url="http://127.0.0.1:5010")
    return create_app({"TESTING": True, "DATA_DIR": str(tmp_path / "issuer"), "ISSUER": "uni",
                       "RPC_URL": "http://127.0.0.1:9"})


@pytest.fixture
def wallet_app(tmp_path):
    from wallet import create_app

    return create_app({"TESTING": True, "DATA_DIR": str(tmp_path / "wallet"), "CHAIN_CHECKS": False,
                       "SESSION_COOKIE_SECURE": False})


@pytest.fixture
def verifier_app(tmp_path):
    from verifier import create_app

    return create_app({"TESTING": True, "DATA_DIR": str(tmp_path / "verifier"), "RPC_URL": "http://127.0.0.1:9",
                       "VERIFIER_TRUSTED_ROOTS": "did:example:root"})


def test_the_policy_allows_this_origins_scripts_only_where_pages_scan():
    scanning, plain = content_security_policy(scripts=True), content_security_policy(scripts=False)
    for policy in (scanning, plain):
        assert policy.startswith("default-src 'none'")
        assert "frame-ancestors 'none'" in policy
        assert "base-uri 'none'" in policy
        assert "unsafe-inline" not in policy
    assert "script-src 'self'" in scanning
    assert "mediastream:" in scanning
    assert "script-src" not in plain
    assert "connect-src" not in plain


@pytest.mark.parametrize("service, path, scripts", [
    ("wallet", "/auth/signin", True),
    ("verifier", "/", True),
    ("verifier", "/api/v1/nothing-here", True),
    ("issuer", "/registrar/", False),
    ("issuer", "/.well-known/openid-credential-issuer", False),
])
def test_every_service_sends_the_one_policy_and_headers(request, service, path, scripts):
    app = request.getfixturevalue(f"{service}_app")
    response = app.test_client().get(path)
    assert response.headers["Content-Security-Policy"] == content_security_policy(scripts=scripts)
    for name, value in HEADERS.items():
        assert response.headers[name] == value, name
    camera = "camera=(self)" if scripts else "camera=()"
    assert response.headers["Permissions-Policy"].startswith(camera)


def test_a_header_a_view_sets_is_kept(verifier_app):
    own = {"Content-Security-Policy": "sandbox", "Cache-Control": "max-age=60"}
    verifier_app.add_url_rule("/own-headers", "own_headers", lambda: ("<p>own</p>", 200, own))
    response = verifier_app.test_client().get("/own-headers")
    assert response.headers["Content-Security-Policy"] == "sandbox"
    assert response.headers["Cache-Control"] == "max-age=60"
    assert response.headers.getlist("X-Content-Type-Options") == ["nosniff"]  # added once


def test_the_issuers_registrar_takes_the_one_csrf_field(issuer_app):
    client = issuer_app.test_client()
    client.get("/registrar/")  # a session
    with client.session_transaction() as session:
        session["csrf"] = "the-token"
    old_field = client.post("/registrar/credentials/nope/revoke", data={"csrf": "the-token"})
    assert old_field.status_code == 400
    right_field = client.post("/registrar/credentials/nope/revoke", data={CSRF_FIELD: "the-token"})
    assert right_field.status_code == 404  # past the CSRF check: the credential does not exist


def test_the_wallets_forms_carry_the_one_csrf_field(wallet_app):
    page = wallet_app.test_client().get("/auth/signin").get_data(as_text=True)
    assert re.search(rf'<input type="hidden" name="{CSRF_FIELD}" value="[^"]+"', page)


def test_the_loopback_rule_of_the_registrar_comes_before_csrf(issuer_app):
    remote = issuer_app.test_client().post("/registrar/credentials/nope/revoke", data={},
                                           environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert remote.status_code == 403


def test_the_issuers_oauth_endpoints_take_posts_from_elsewhere(issuer_app):
    answer = issuer_app.test_client().post("/token", data={"grant_type": "nothing"})
    assert answer.status_code == 400
    assert answer.get_json()["error"] == "unsupported_grant_type"  # the OAuth answer, not a CSRF refusal


@pytest.mark.parametrize("service", ["issuer_app", "wallet_app", "verifier_app"])
def test_json_nested_deeper_than_the_parser_goes_is_malformed_json_not_a_500(service, request):
    """The C JSON parser refuses nesting beyond the interpreter's recursion limit with RecursionError, which
    ``request.get_json`` (silent or not) let through as a 500 on every JSON route of the three services."""
    app = request.getfixturevalue(service)
    deep = "[" * 5000 + "]" * 5000
    with app.test_request_context("/", method="POST", data=deep, content_type="application/json"):
        from flask import request as flask_request
        from werkzeug.exceptions import BadRequest

        assert flask_request.get_json(silent=True) is None
        with pytest.raises(BadRequest):
            flask_request.get_json()
    with app.test_request_context("/", method="POST", data="[[1]]", content_type="application/json"):
        from flask import request as flask_request

        assert flask_request.get_json() == [[1]]
