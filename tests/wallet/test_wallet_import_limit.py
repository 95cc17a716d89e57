"""Imports are rate-limited per client (issue 10, B18): past MICROCRED_WALLET_IMPORT_RATE_LIMIT the
wallet answers 429 with Retry-After and a page that says so, adds nothing, and does no outbound work."""

from __future__ import annotations

import pytest
from wallet_helpers import db_rows

from credentials.errors import ConfigurationError


@pytest.fixture
def limited_app(app):
    from wallet import import_limits

    app.config[import_limits.SETTING] = "2/60"
    import_limits.init_app(app)  # as create_app does with the setting from the environment
    return app


def test_the_import_past_the_limit_gets_429_and_adds_nothing(limited_app, signed_in, issuer):
    jwk = signed_in.holder_jwk(limited_app)
    first = signed_in.add(issuer.issue(jwk))
    second = signed_in.add("not a credential at all")
    assert first.status_code == 302
    assert second.status_code == 400
    third = signed_in.add(issuer.issue(jwk, iat=1_700_000_000))  # another credential, valid too
    assert third.status_code == 429
    assert 1 <= int(third.headers["Retry-After"]) <= 60
    assert "Too many imports" in signed_in.last_page
    assert "try again in" in signed_in.last_page
    assert db_rows(limited_app, "SELECT COUNT(*) FROM credentials")[0][0] == 1


def test_a_scanned_offer_past_the_limit_is_refused_before_the_issuer_is_called(limited_app, signed_in):
    called = []
    limited_app.config["HTTP_TRANSPORT"] = lambda *args: called.append(args)
    for _ in range(2):
        signed_in.add("not a credential at all")
    signed_in.get("/credentials/scan")
    offer = "openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fissuer.example%2Foffer%2F1"
    refused = signed_in.post("/credentials/scan", {"scanned": offer})
    assert refused.status_code == 429
    assert "Retry-After" in refused.headers
    assert called == []


def test_other_clients_are_not_held_back(limited_app, signed_in, issuer):
    for _ in range(3):
        signed_in.add("not a credential at all")
    assert signed_in.add("not a credential at all").status_code == 429
    signed_in.get("/credentials/add")
    other = signed_in.post("/credentials/add", {"credential": issuer.issue(signed_in.holder_jwk(limited_app))},
                           environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 302


def test_a_bad_limit_setting_fails_at_start_up(tmp_path):
    from wallet import create_app

    with pytest.raises(ConfigurationError, match="MICROCRED_WALLET_IMPORT_RATE_LIMIT"):
        create_app({"TESTING": True, "DATA_DIR": str(tmp_path), "WALLET_IMPORT_RATE_LIMIT": "lots"})


def test_a_store_that_cannot_answer_refuses_imports_with_503(app, signed_in, issuer):
    import socket

    from wallet import import_limits

    with socket.socket() as bound_not_listening:  # a Redis URL where nothing answers
        bound_not_listening.bind(("127.0.0.1", 0))
        app.config["REDIS_URL"] = f"redis://127.0.0.1:{bound_not_listening.getsockname()[1]}/0"
        import_limits.init_app(app)
        refused = signed_in.add(issuer.issue(signed_in.holder_jwk(app)))
    assert refused.status_code == 503
    assert "Nothing was added" in signed_in.last_page
    assert db_rows(app, "SELECT COUNT(*) FROM credentials")[0][0] == 0
