"""Presentation links the verifier cannot or will not fetch (issue 10, A2 and C).

A link whose path holds non-ASCII characters crashed the fetcher
(``UnicodeEncodeError``, HTTP 500). Now every such link gets an answer: a
refused link (scheme, address) fails ``format`` with 400; a link that cannot
be reached leaves ``format`` unavailable with 503 ("could not reach …"); never
a 500, never a remote body or an internal address. No chain is needed: the
link is resolved before anything else is checked.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

SECRET = "INTERNAL-SECRET-51c0"


def _verifier(tmp_path, **settings):
    from verifier import create_app

    return create_app({"TESTING": True, "DATA_DIR": str(tmp_path), "RPC_URL": "http://127.0.0.1:9",
                       "VERIFIER_TRUSTED_ROOTS": "did:example:root", "VERIFIER_FETCH_TIMEOUT": 1.0, **settings})


@pytest.fixture(params=["MICROCRED_DEV_LOOPBACK", "VERIFIER_FETCH_ALLOW_*"])
def dev_client(request, tmp_path):
    """A verifier allowed to fetch from loopback (as in development), by either setting."""
    settings = {"DEV_LOOPBACK": True} if request.param == "MICROCRED_DEV_LOOPBACK" else \
        {"VERIFIER_FETCH_ALLOW_LOOPBACK": True, "VERIFIER_FETCH_ALLOW_HTTP": True}
    return _verifier(tmp_path, **settings).test_client()


@pytest.fixture
def strict_client(tmp_path):
    return _verifier(tmp_path).test_client()


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        self.server.paths.append(self.path)
        body = f"{SECRET} from 10.9.8.7".encode()
        self.send_response(self.server.status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def wallet_like_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.paths, server.status = [], 500
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


NON_ASCII = ["https://127.0.0.1:1/é", "https://127.0.0.1:1/s/ü?x=ß", "http://127.0.0.1:1/\u202e/x",
             "https://127.0.0.1:1/%E9%zz/€"]


@pytest.mark.parametrize("link", NON_ASCII)
def test_a_non_ascii_link_that_cannot_be_reached_is_unavailable_not_a_crash(dev_client, link):
    answer = dev_client.post("/api/v1/verify", json={"presentation": link})
    assert answer.status_code == 503, answer.get_data(as_text=True)
    body = answer.get_json()
    assert body["verified"] is False
    assert body["checks"][0]["check"] == "format"
    assert body["checks"][0]["status"] == "unavailable"
    assert "could not reach 127.0.0.1:1" in body["checks"][0]["detail"]
    page = dev_client.post("/verify", data={"presentation": link})
    assert page.status_code in (200, 503)
    assert "could not reach 127.0.0.1:1" in page.get_data(as_text=True)


@pytest.mark.parametrize("link", NON_ASCII)
def test_a_non_ascii_link_to_this_machine_is_refused(strict_client, link):
    answer = strict_client.post("/api/v1/verify", json={"presentation": link})
    assert answer.status_code == 400
    check = answer.get_json()["checks"][0]
    expected = "this machine" if link.startswith("https:") else "must use https"
    assert check["status"] == "failed", check
    assert expected in check["detail"], check
    page = strict_client.post("/verify", data={"presentation": link})
    assert page.status_code in (200, 400)
    assert expected in page.get_data(as_text=True)


def test_non_ascii_path_is_sent_percent_encoded_and_the_remote_body_never_shown(dev_client, wallet_like_server):
    link = f"http://127.0.0.1:{wallet_like_server.server_address[1]}/s/é?v=ü"
    answer = dev_client.post("/api/v1/verify", json={"presentation": link})
    assert wallet_like_server.paths == ["/s/%C3%A9?v=%C3%BC"]
    assert answer.status_code == 503  # a 5xx from the link's host: try again later
    text = answer.get_data(as_text=True)
    assert SECRET not in text
    assert "10.9.8.7" not in text
    assert "HTTP 500" in text
    wallet_like_server.status = 404  # a used or expired one-time link: the link is bad, not the service
    answer = dev_client.post("/api/v1/verify", json={"presentation": link})
    assert answer.status_code == 400
    assert answer.get_json()["checks"][0]["status"] == "failed"
    assert SECRET not in answer.get_data(as_text=True)


def test_the_development_setting_comes_from_the_environment(tmp_path, monkeypatch):
    from verifier import service_of

    assert not service_of(_verifier(tmp_path)).fetch_policy.allow_loopback
    monkeypatch.setenv("MICROCRED_DEV_LOOPBACK", "1")
    policy = service_of(_verifier(tmp_path)).fetch_policy
    assert policy.allow_loopback
    assert not policy.allow_http
    assert not policy.allow_private
