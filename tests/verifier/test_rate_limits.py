"""Per-client rate limits on verifications and new OpenID4VP requests (issue 10, B18).

Past ``MICROCRED_VERIFIER_RATE_LIMIT`` (verify API and pages) or
``MICROCRED_VERIFIER_OPENID4VP_RATE_LIMIT`` (new requests) a client gets 429
with ``Retry-After``: a JSON ``error`` on the API, a page on HTML routes.
The counters are in the shared store; tests/verifier/test_shared_state.py
shows them counted across two instances.
"""

from __future__ import annotations

import socket

import pytest

from credentials.errors import ConfigurationError

NOT_A_PRESENTATION = "hello~"


@pytest.fixture
def limited(tmp_path):
    from verifier import create_app, service_of

    def make(**limits):
        app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path), "RPC_URL": "http://127.0.0.1:9",
                          "VERIFIER_TRUSTED_ROOTS": "did:example:root", **limits})
        made.append(app)
        return app.test_client()

    made: list = []
    yield make
    for app in made:
        service_of(app).close()


def test_the_api_answers_429_with_retry_after_past_the_limit(limited):
    client = limited(VERIFIER_RATE_LIMIT="3/60")
    for _ in range(3):
        assert client.post("/api/v1/verify", data=NOT_A_PRESENTATION, content_type="text/plain").status_code == 400
    refused = client.post("/api/v1/verify", data=NOT_A_PRESENTATION, content_type="text/plain")
    assert refused.status_code == 429
    assert refused.mimetype == "application/json"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "too many verification requests" in refused.get_json()["error"]
    page = client.post("/verify", data={"presentation": NOT_A_PRESENTATION})  # the pages share the limit
    assert page.status_code == 429
    assert page.mimetype == "text/html"
    assert "Retry-After" in page.headers
    assert "too many verification requests" in page.get_data(as_text=True)


def test_each_client_has_its_own_count(limited):
    client = limited(VERIFIER_RATE_LIMIT="1/60")
    assert client.post("/api/v1/verify", data=NOT_A_PRESENTATION, content_type="text/plain").status_code == 400
    assert client.post("/api/v1/verify", data=NOT_A_PRESENTATION, content_type="text/plain").status_code == 429
    other = client.post("/api/v1/verify", data=NOT_A_PRESENTATION, content_type="text/plain",
                        environ_base={"REMOTE_ADDR": "192.0.2.9"})
    assert other.status_code == 400


def test_a_forwarded_for_header_does_not_make_a_new_client_without_trusted_proxies(limited):
    client = limited(VERIFIER_RATE_LIMIT="1/60")
    client.post("/api/v1/verify", data=NOT_A_PRESENTATION, content_type="text/plain")
    spoofed = client.post("/api/v1/verify", data=NOT_A_PRESENTATION, content_type="text/plain",
                          headers={"X-Forwarded-For": "198.51.100.1"})
    assert spoofed.status_code == 429


def test_new_openid4vp_requests_are_limited(limited):
    client = limited(VERIFIER_OPENID4VP_RATE_LIMIT="2/60")
    for _ in range(2):
        assert client.post("/openid4vp/new", data={"claim": ["title"]}).status_code == 303
    refused = client.post("/openid4vp/new", data={"claim": ["title"]})
    assert refused.status_code == 429
    assert "Retry-After" in refused.headers
    assert client.get("/openid4vp/new").status_code == 200  # the form itself is not counted


def test_off_disables_a_limit(limited):
    client = limited(VERIFIER_RATE_LIMIT="off")
    for _ in range(5):
        assert client.post("/api/v1/verify", data=NOT_A_PRESENTATION, content_type="text/plain").status_code == 400


@pytest.mark.parametrize("value", ["fast", "0/60", "10/0", "10", "-1/60"])
def test_a_bad_limit_setting_fails_at_start_up(limited, value):
    with pytest.raises(ConfigurationError, match="MICROCRED_VERIFIER_RATE_LIMIT"):
        limited(VERIFIER_RATE_LIMIT=value)


def test_a_store_that_cannot_answer_fails_closed_with_503(limited):
    with socket.socket() as bound_not_listening:  # a Redis URL where nothing answers
        bound_not_listening.bind(("127.0.0.1", 0))
        port = bound_not_listening.getsockname()[1]
        client = limited(REDIS_URL=f"redis://127.0.0.1:{port}/0")
        counted = client.post("/api/v1/verify", data=NOT_A_PRESENTATION, content_type="text/plain")
        created = client.post("/openid4vp/new", data={"claim": ["title"]})
    for answer in (counted, created):
        assert answer.status_code == 503
        assert str(port) not in answer.get_data(as_text=True)
        assert "Traceback" not in answer.get_data(as_text=True)


def test_wallet_answers_and_evidence_downloads_count_against_the_verification_limit(limited):
    """Each OpenID4VP answer may carry presentations to verify and each evidence file is signed: both cost."""
    client = limited(VERIFIER_RATE_LIMIT="2/60")
    for _ in range(2):
        assert client.post("/openid4vp/response", data={"state": "x" * 22}).status_code == 400
    assert client.post("/openid4vp/response", data={"state": "x" * 22}).status_code == 429
    other = limited(VERIFIER_RATE_LIMIT="1/60")
    elsewhere = {"REMOTE_ADDR": "192.0.2.7"}  # a client of its own: the store is shared with the app above
    assert other.post("/evidence/" + "a" * 24, environ_base=elsewhere).status_code == 404
    assert other.post("/evidence/" + "a" * 24, environ_base=elsewhere).status_code == 429
