"""The employer's pages (paste, photo, result, receipt), `microcred verify` exit codes, and an
OpenID4VP round trip, against the real Anvil."""

from __future__ import annotations

import io
import json
import re
from html import unescape
from urllib.parse import urlsplit

import pytest

from tests.verifier.conftest import CLAIMS
from tests.verifier.openid4vp_wallet import fetch_request, link_params, post_answer, request_text, result_url

pytestmark = pytest.mark.integration


def test_scan_page_is_strict_and_self_contained(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    html = response.get_data(as_text=True)
    assert "<script>" not in html
    assert "style=" not in html
    assert re.findall(r'(?:src|href)="(https?:)', html) == []
    assert client.get("/static/shared/vendor/jsqr/jsQR.js").status_code == 200
    assert client.get("/static/shared/vendor/jsqr/LICENSE").status_code == 200


def test_pasted_presentation_shows_the_verdict_and_the_certificate(client, make_issuer):
    issuer = make_issuer()
    response = client.post("/verify", data={"presentation": issuer.present()})
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert 'data-verified="true"' in html
    assert "Verified" in html
    assert CLAIMS["title"] in html
    assert "Workload (ECTS credits)" in html
    assert "Università di Prova" in html
    assert "Is it still valid (not revoked)?" in html
    assert "Print receipt" in html
    assert "Agenzia di Accreditamento" in html  # the accreditation chain


def test_rejected_presentation_names_the_failed_check(client, make_issuer):
    issuer = make_issuer()
    presentation = issuer.present()
    client.post("/verify", data={"presentation": presentation})
    html = unescape(client.post("/verify", data={"presentation": presentation}).get_data(as_text=True))
    assert 'data-verified="false"' in html
    assert "Not verified" in html
    assert "already shown" in html


def test_photo_of_a_qr_code_is_decoded_server_side(client, make_issuer):
    import segno

    issuer = make_issuer()
    presentation = issuer.present(paths=[("title",), ("ects",)])
    picture = io.BytesIO()
    segno.make(presentation, error="l").save(picture, kind="png", scale=4, border=4)
    response = client.post("/verify/photo", data={"photo": (io.BytesIO(picture.getvalue()), "qr.png")},
                           content_type="multipart/form-data")
    assert response.status_code == 200
    assert 'data-verified="true"' in response.get_data(as_text=True)
    not_an_image = client.post("/verify/photo", data={"photo": (io.BytesIO(b"hello"), "x.png")},
                               content_type="multipart/form-data")
    assert not_an_image.status_code == 400


def test_link_mode_presentation_is_fetched_strictly(client, make_issuer, status_server):
    issuer = make_issuer()
    link = status_server.serve("/share/abc", issuer.present(), content_type="application/dc+sd-jwt")
    assert client.post("/api/v1/verify", data=link, content_type="text/plain").get_json()["verified"] is True
    redirect = status_server.serve("/share/redirect", b"", status=302, headers={"Location": link})
    answer = client.post("/api/v1/verify", data=redirect, content_type="text/plain").get_json()
    assert answer["verified"] is False
    assert "redirect" in answer["checks"][0]["detail"]


def test_link_to_a_host_that_is_not_allowed(ledger_data_dir, anvil, status_server):
    from verifier import create_app

    app = create_app({"DATA_DIR": str(ledger_data_dir), "RPC_URL": anvil.url, "VERIFIER_FETCH_ALLOW_HTTP": True})
    answer = app.test_client().post("/api/v1/verify", data=status_server.base + "/share/abc",
                                    content_type="text/plain").get_json()
    assert answer["verified"] is False
    assert "this machine" in answer["checks"][0]["detail"]


def test_cli_exit_codes(ledger_env, monkeypatch, make_issuer, tmp_path):
    from click.testing import CliRunner

    from verifier.cli import verify

    monkeypatch.setenv("MICROCRED_VERIFIER_FETCH_ALLOW_HTTP", "true")
    monkeypatch.setenv("MICROCRED_VERIFIER_FETCH_ALLOW_LOOPBACK", "true")
    issuer = make_issuer()
    runner = CliRunner()
    good = runner.invoke(verify, ["-"], input=issuer.present())
    assert good.exit_code == 0, good.output
    assert json.loads(good.stdout)["verified"] is True
    bad = runner.invoke(verify, ["-"], input="not a presentation")
    assert bad.exit_code == 1
    assert json.loads(bad.stdout)["checks"][0]["status"] == "failed"
    path = tmp_path / "p.txt"
    path.write_text(issuer.present())
    monkeypatch.setenv("MICROCRED_RPC_URL", "http://127.0.0.1:9")
    undecided = runner.invoke(verify, [str(path)])
    assert undecided.exit_code == 2
    assert json.loads(undecided.stdout)["verified"] is False


def test_openid4vp_round_trip(client, make_issuer):
    issuer = make_issuer()
    created = client.post("/openid4vp/new", data={"claim": ["title", "ects", "eqf_level"]})
    assert created.status_code == 303
    page = client.get(created.location).get_data(as_text=True)
    link = request_text(page)
    assert link.startswith("openid4vp://?")
    assert set(link_params(link)) == {"client_id", "request_uri"}  # by reference: a short QR code
    request = fetch_request(client, link)
    assert request["response_type"] == "vp_token"
    assert request["response_mode"] == "direct_post.jwt"
    assert request["client_id"] == "redirect_uri:" + request["response_uri"]
    query = request["dcql_query"]["credentials"][0]
    assert [c["path"] for c in query["claims"]] == [["title"], ["ects"], ["eqf_level"]]
    status_url = urlsplit(created.location).path + "/status"
    assert client.get(status_url).get_json() == {"state": "opened"}

    paths = [tuple(c["path"]) for c in query["claims"]]
    presentation = issuer.present(paths=paths, nonce=request["nonce"], audience=request["client_id"])
    answered = post_answer(client, request, {query["id"]: [presentation]})
    assert answered.status_code == 200
    assert "/openid4vp/done?response_code=" in answered.get_json()["redirect_uri"]
    assert client.get(status_url).get_json() == {"state": "answered"}
    result = unescape(client.get(result_url(page)).get_data(as_text=True))
    assert 'data-verified="true"' in result
    assert CLAIMS["title"] in result
    again = post_answer(client, request, {query["id"]: [presentation]})
    assert again.status_code == 400
    assert again.get_json()["error"] == "invalid_request"


def test_openid4vp_wrong_nonce_is_not_verified(client, make_issuer):
    issuer = make_issuer()
    created = client.post("/openid4vp/new", data={"claim": ["title"], "response_mode": "direct_post"})
    page = unescape(client.get(created.location).get_data(as_text=True))
    request = fetch_request(client, request_text(page))
    presentation = issuer.present(paths=[("title",)], nonce="not-the-nonce", audience=request["client_id"])
    assert post_answer(client, request, {"microcredential": [presentation]}).status_code == 200
    result = unescape(client.get(result_url(page)).get_data(as_text=True))
    assert 'data-verified="false"' in result
    assert "nonce" in result
    assert client.post("/openid4vp/response", data={"state": "unknown"}).status_code == 400
