"""No internal details in answers (issue 10, D).

Attack: an RPC URL (which can hold an API key, ``…/v3/SECRET``) and the
server's ``deployment.json`` path reached anonymous clients through the check
details of ``/api/v1/verify`` and the result page. Check details now say what
failed in the user's terms; the operator's log gets the detail.
"""

from __future__ import annotations

import logging
import shutil

import pytest

from ledger.devnet import free_port

pytestmark = pytest.mark.integration


def _answers(app, presentation: str) -> tuple[dict, str, str]:
    client = app.test_client()
    api = client.post("/api/v1/verify", json={"presentation": presentation})
    page = client.post("/verify", data={"presentation": presentation})
    assert api.status_code == 503
    assert page.status_code == 200
    return api.get_json(), api.get_data(as_text=True), page.get_data(as_text=True)


def _app(**config):
    from verifier import create_app

    return create_app({"TESTING": True, "VERIFIER_FETCH_ALLOW_HTTP": True, "VERIFIER_FETCH_ALLOW_LOOPBACK": True,
                       **config})


def test_an_rpc_url_with_a_key_never_reaches_the_client(make_issuer, ledger_data_dir, tmp_path, caplog):
    from verifier import service_of

    data_dir = tmp_path / "secret-data-dir"
    shutil.copytree(ledger_data_dir, data_dir)
    port = free_port()  # nothing listens there
    app = _app(DATA_DIR=str(data_dir), RPC_URL=f"http://127.0.0.1:{port}/v3/SECRETKEY")
    try:
        with caplog.at_level(logging.WARNING):
            answer, api_text, page_text = _answers(app, make_issuer().present())
    finally:
        service_of(app).close()
    checks = {c["check"]: c for c in answer["checks"]}
    assert checks["issuer_trust"]["status"] == "unavailable"
    assert "the ledger did not answer" in checks["issuer_trust"]["detail"]
    for text in (api_text, page_text):
        assert "SECRETKEY" not in text
        assert f":{port}" not in text
        assert str(data_dir) not in text
        assert "deployment.json" not in text
    assert "SECRETKEY" in caplog.text  # the operator learns which node failed


def test_a_missing_deployment_file_is_not_named_to_the_client(make_issuer, anvil, tmp_path, caplog):
    from verifier import service_of

    data_dir = tmp_path / "empty-data-dir"
    data_dir.mkdir()
    app = _app(DATA_DIR=str(data_dir), RPC_URL=anvil.url)
    try:
        with caplog.at_level(logging.WARNING):
            answer, api_text, page_text = _answers(app, make_issuer().present())
    finally:
        service_of(app).close()
    checks = {c["check"]: c for c in answer["checks"]}
    assert checks["issuer_trust"]["status"] == "unavailable"
    assert "not set up" in checks["issuer_trust"]["detail"]
    for text in (api_text, page_text):
        assert str(data_dir) not in text
        assert "deployment.json" not in text
        assert f":{anvil.port}" not in text
    assert "deployment.json" in caplog.text


def test_health_and_shared_assets_show_nothing_internal(app, ledger_data_dir, anvil):
    """``/healthz`` and ``/static/shared/…`` (added with the production serving and the one scanner)."""
    client = app.test_client()
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.get_json()["status"] == "ok"
    text = health.get_data(as_text=True)
    assert str(ledger_data_dir) not in text
    assert anvil.url not in text
    for path in ("/static/shared/../settings.py", "/static/shared/%2e%2e/fetch.py", "/static/shared/nope.js"):
        assert client.get(path).status_code == 404
