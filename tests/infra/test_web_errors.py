"""Errors to HTTP answers, one table for the three apps (issue 11, item 2; infra/web_errors.py).

Before: the wallet answered a network failure 502 or 400 by its own rule and
the verifier 503 for any ``ConnectionError``; the issuer had no error handlers
at all (Flask's unstyled pages, an OAuth handler on one blueprint). Now every
app answers each error class with the status of :data:`HTTP_STATUS`, in JSON
for API paths or a client asking for JSON, else on the app's own page; a
5xx never shows the exception's text; a bug is a 500 page with a request id
that the operator's log repeats with the traceback.
"""

from __future__ import annotations

import logging
import re

import pytest
from test_error_tree import _tree

from infra.web_errors import HTTP_STATUS

ISSUER_URL = "https://issuer.example"
SECRET = "SECRET-internal-detail"


@pytest.fixture
def wallet_app(tmp_path):
    from wallet import create_app

    return create_app({"TESTING": True, "DATA_DIR": str(tmp_path / "wallet"), "SESSION_COOKIE_SECURE": False,
                       "CHAIN_CHECKS": False, "PUBLIC_URL": "http://127.0.0.1:5001"})


@pytest.fixture
def issuer_app(tmp_path, monkeypatch):
    from issuer.identity import create_issuer
    from issuer.web import create_app

    monkeypatch.setenv("MICROCRED_RPC_URL", "http://127.0.0.1:9")
    data_dir = tmp_path / "issuer"
    create_issuer(data_dir, "uni", legal_name="Università di Prova", country="IT", base_url=ISSUER_URL)
    return create_app({"TESTING": True, "DATA_DIR": str(data_dir), "ISSUER": "uni"})


@pytest.fixture
def verifier_app(tmp_path):
    from verifier import create_app

    app = create_app({"TESTING": True, "VERIFIER_TRUSTED_ROOTS": "did:example:root", "RPC_URL": "http://127.0.0.1:9",
                      "DATA_DIR": str(tmp_path / "verifier")})
    yield app
    app.extensions["microcred_verifier"].close()


@pytest.fixture(params=["wallet", "issuer", "verifier"])
def app(request):
    return request.getfixturevalue(f"{request.param}_app")


def _base_url(app) -> str:
    return ISSUER_URL if app.import_name.startswith("issuer") else "http://localhost"


_MAKE = {
    "InvalidCredentialData": lambda cls: cls([SECRET]),
    "DuplicateCredential": lambda cls: cls(7),
    "StatusChangeRefused": lambda cls: cls([SECRET]),
    "VerificationError": lambda cls: cls(SECRET, check="format"),
    "OAuthError": lambda cls: cls("invalid_request", SECRET),
    "RateLimited": lambda cls: cls("requests", 7),
    "UnusableAnswer": lambda cls: cls(SECRET, status=404),
    "RpcErrorResponse": lambda cls: cls({"message": SECRET}),
}
ERRORS = {cls.__name__: cls for cls in _tree()}


def _raising(app):
    def raise_named(name: str):
        cls = ERRORS[name]
        raise _MAKE.get(name, lambda c: c(SECRET))(cls)

    def boom():
        raise RuntimeError(SECRET)

    app.add_url_rule("/test-only/raise/<name>", "test_only_raise", raise_named)
    app.add_url_rule("/test-only/boom", "test_only_boom", boom)
    return app.test_client()


def test_every_app_answers_every_error_class_with_the_tables_status(app):
    client = _raising(app)
    wrong = []
    for name in sorted(ERRORS):
        for accept in ("text/html", "application/json"):
            response = client.get(f"/test-only/raise/{name}", base_url=_base_url(app), headers={"Accept": accept})
            if response.status_code != HTTP_STATUS[name]:
                wrong.append(f"{name} ({accept}): {response.status_code}, expected {HTTP_STATUS[name]}")
            expected_type = "application/json" if accept == "application/json" else "text/html"
            if response.mimetype != expected_type:
                wrong.append(f"{name} ({accept}): answered {response.mimetype}")
            leaks = response.status_code >= 500 and not issubclass(ERRORS[name], ConnectionError) \
                and SECRET in response.get_data(as_text=True)
            if leaks or "Traceback" in response.get_data(as_text=True):
                wrong.append(f"{name} ({accept}): the answer shows the exception")
    assert wrong == []


def test_a_network_failure_means_the_same_in_every_app(app):
    client = _raising(app)
    statuses = {name: client.get(f"/test-only/raise/{name}", base_url=_base_url(app)).status_code
                for name in ("FetchRefused", "RemoteUnreachable", "UnusableAnswer", "StoreUnavailable",
                             "LedgerUnavailable")}
    assert statuses == {"FetchRefused": 400, "RemoteUnreachable": 502, "UnusableAnswer": 400,
                        "StoreUnavailable": 503, "LedgerUnavailable": 503}


def test_retry_after_and_bearer_challenge_come_with_their_errors(app):
    client = _raising(app)
    limited = client.get("/test-only/raise/RateLimited", base_url=_base_url(app))
    assert limited.headers["Retry-After"] == "7"
    token = client.get("/test-only/raise/InvalidAccessToken", base_url=_base_url(app),
                       headers={"Accept": "application/json"})
    assert token.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert token.get_json() == {"error": "invalid_token", "error_description": SECRET}
    assert token.headers["Cache-Control"] == "no-store"


def test_a_bug_is_a_500_page_with_a_request_id_that_the_log_repeats(app, caplog):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = _raising(app)
    with caplog.at_level(logging.ERROR, logger="infra.web_errors"):
        response = client.get("/test-only/boom", base_url=_base_url(app))
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert response.mimetype == "text/html"
    assert SECRET not in page
    assert "Traceback" not in page
    reference = re.search(r"reference ([0-9a-f]{16})", page)
    assert reference is not None, page
    logged = [r for r in caplog.records if reference.group(1) in r.getMessage()]
    assert len(logged) == 1
    assert logged[0].exc_info is not None
    assert logged[0].exc_info[0] is RuntimeError


def test_under_test_a_bug_still_fails_loudly(app):
    client = _raising(app)
    with pytest.raises(RuntimeError, match=SECRET):
        client.get("/test-only/boom", base_url=_base_url(app))


def test_the_issuer_has_its_own_error_pages(issuer_app):
    issuer_app.config["PROPAGATE_EXCEPTIONS"] = False
    client = _raising(issuer_app)
    pages = {"404": client.get("/no-such-page", base_url=ISSUER_URL),
             "405": client.post("/offers/x", base_url=ISSUER_URL),
             "500": client.get("/test-only/boom", base_url=ISSUER_URL)}
    for code, response in pages.items():
        page = response.get_data(as_text=True)
        assert response.status_code == int(code)
        assert response.mimetype == "text/html"
        assert "issuer.css" in page, f"{code}: not the issuer's styled page"
        assert "Università di Prova" in page, f"{code}: the page does not name the issuer"
        assert "Traceback" not in page


def test_the_issuers_api_paths_answer_json_errors(issuer_app):
    client = issuer_app.test_client()
    unknown_list = client.get("/status/no-such-list", base_url=ISSUER_URL)
    assert unknown_list.status_code == 404
    assert unknown_list.mimetype == "application/json"
    wrong_method = client.get("/token", base_url=ISSUER_URL)
    assert wrong_method.status_code == 405
    assert wrong_method.mimetype == "application/json"
    assert "POST" in wrong_method.headers["Allow"]
