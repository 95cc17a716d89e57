"""The wallet's outbound requests go through the one strict fetcher (issue 10, B15 and C).

A learner pastes or scans a link that makes the wallet server fetch something:
an OpenID4VCI ``credential_offer_uri`` or an OpenID4VP ``request_uri``. Such a
link must never turn the wallet into a probe of its own network: loopback,
private and link-local addresses are refused before any packet is sent (a real
loopback server records whether it was contacted), loopback only with
``MICROCRED_DEV_LOOPBACK``, the client identifier is checked before the request
is fetched, and no remote answer is ever shown on the page.
"""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, urlencode

import pytest

SECRET = "INTERNAL-SECRET-7f3a"


class _Recorder(ThreadingHTTPServer):
    """A loopback HTTP server that counts every connection it accepts (whatever is said on it)."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _SecretHandler)
        self.contacts = 0
        self.status = 500

    def process_request(self, request, client_address):
        self.contacts += 1
        super().process_request(request, client_address)


class _SecretHandler(BaseHTTPRequestHandler):
    def _answer(self):
        body = f'{{"error": "{SECRET}", "error_description": "{SECRET} at 10.1.2.3"}}'.encode()
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer  # noqa: N815 - http.server's names

    def log_message(self, *args):
        pass


@pytest.fixture
def recorder():
    server = _Recorder()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def no_connect(monkeypatch):
    """Any outbound connection attempt is recorded and fails (so a test never waits on a real network)."""
    attempts: list = []
    real_connect = socket.socket.connect

    def connect(sock, address):
        host = address[0] if isinstance(address, tuple) else address
        if host in ("127.0.0.1", "::1"):
            return real_connect(sock, address)  # the recorder, which counts for itself
        attempts.append(address)
        raise ConnectionRefusedError("blocked by the test")

    monkeypatch.setattr(socket.socket, "connect", connect)
    return attempts


def _offer_by_reference(url: str) -> str:
    return "openid-credential-offer://?credential_offer_uri=" + quote(url, safe="")


def _vp_link(client_id: str, request_uri: str) -> str:
    return "openid4vp://?" + urlencode({"client_id": client_id, "request_uri": request_uri})


def _loopback_links(base: str) -> list[tuple[str, str]]:
    return [
        ("paste offer", _offer_by_reference(f"{base}/offer")),
        ("scan offer", _offer_by_reference(f"{base}/offer")),
        ("scan request", _vp_link(f"redirect_uri:{base}/cb", f"{base}/request")),
        ("review request", _vp_link(f"redirect_uri:{base}/cb", f"{base}/request")),
    ]


def _send(client, where: str, link: str):
    if where == "paste offer":
        return client.add(link)
    if where == "review request":
        return client.submit("/openid4vp/review?" + urlencode({"request": link}), "/openid4vp/review",
                             {"request": link})
    return client.submit("/credentials/scan", "/credentials/scan", {"scanned": link})


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_loopback_link_is_not_fetched_without_the_development_setting(app, signed_in, recorder, scheme):
    assert not app.config.get("DEV_LOOPBACK")
    base = f"{scheme}://127.0.0.1:{recorder.server_address[1]}"
    for where, link in _loopback_links(base):
        response = _send(signed_in, where, link)
        assert response.status_code == 400, (where, signed_in.last_page)
        assert recorder.contacts == 0, f"{where}: the wallet contacted its own loopback server"
        assert SECRET not in signed_in.last_page
        assert "10.1.2.3" not in signed_in.last_page
        expected = "this machine" if scheme == "https" else "must use https"
        assert expected in signed_in.last_page, (where, signed_in.last_page)


@pytest.mark.parametrize("address", [
    "169.254.169.254", "10.0.0.7", "192.168.1.1", "172.16.0.1", "100.64.0.1", "[fd00::1]", "[fe80::1]",
    "[::ffff:127.0.0.1]", "0.0.0.0", "224.0.0.1",
])
def test_private_and_link_local_links_are_refused_before_connecting(signed_in, no_connect, address):
    for where, link in _loopback_links(f"https://{address}"):
        response = _send(signed_in, where, link)
        assert response.status_code == 400, (where, signed_in.last_page)
        assert no_connect == [], f"{where}: the wallet tried to connect to {no_connect}"
        assert "not fetched" in signed_in.last_page or "not reachable" in signed_in.last_page, signed_in.last_page


def test_with_the_development_setting_loopback_is_fetched_but_no_remote_body_is_shown(app, signed_in, recorder):
    app.config["DEV_LOOPBACK"] = True
    base = f"http://127.0.0.1:{recorder.server_address[1]}"
    response = signed_in.add(_offer_by_reference(f"{base}/offer"))
    assert recorder.contacts == 1  # the setting really lets loopback through (so the refusals above mean something)
    assert response.status_code == 502, signed_in.last_page  # the remote failed (5xx): try again later
    assert f"127.0.0.1:{recorder.server_address[1]} failed (HTTP 500)" in signed_in.last_page
    assert SECRET not in signed_in.last_page
    assert "10.1.2.3" not in signed_in.last_page
    recorder.status = 400  # a refusal by the remote: 400, still without its words
    response = signed_in.add(_offer_by_reference(f"{base}/offer"))
    assert response.status_code == 400
    assert "refused the request (HTTP 400)" in signed_in.last_page
    assert SECRET not in signed_in.last_page
    assert "10.1.2.3" not in signed_in.last_page
    response = signed_in.add(_offer_by_reference("http://127.0.0.1:1/offer"))  # nobody listens there
    assert response.status_code == 502
    assert "could not reach 127.0.0.1:1" in signed_in.last_page


@pytest.mark.parametrize("client_id, message", [
    ("x509_san_dns:verifier.example", "trusts no authority that certifies verifiers"),  # no verifier anchors
    ("some-verifier", "unsupported client identifier"),
    ("redirect_uri:https://verifier.example/cb", "another host"),
    ("redirect_uri:ftp://verifier.example/cb", "must use https"),
    ("decentralized_identifier:did:web:verifier.example", "did:key"),
])
def test_the_client_id_is_checked_before_the_request_uri_is_fetched(app, signed_in, recorder, client_id, message):
    app.config["DEV_LOOPBACK"] = True  # even where loopback may be fetched
    request_uri = f"http://127.0.0.1:{recorder.server_address[1]}/request"
    response = _send(signed_in, "review request", _vp_link(client_id, request_uri))
    assert response.status_code == 400, signed_in.last_page
    assert message in signed_in.last_page, signed_in.last_page
    assert recorder.contacts == 0


def test_the_development_setting_comes_from_the_environment(tmp_path, monkeypatch):
    from wallet import create_app
    from wallet.transport import client_from_config

    assert not client_from_config(create_app({"DATA_DIR": str(tmp_path / "a")}).config).fetcher.policy.allow_loopback
    monkeypatch.setenv("MICROCRED_DEV_LOOPBACK", "1")
    app = create_app({"DATA_DIR": str(tmp_path / "b")})
    policy = client_from_config(app.config).fetcher.policy
    assert policy.allow_loopback
    assert not policy.allow_http
    assert not policy.allow_private


def _by_value(response_uri: str) -> str:
    import json

    return "openid4vp://?" + urlencode({
        "client_id": f"redirect_uri:{response_uri}", "response_type": "vp_token", "response_mode": "direct_post",
        "response_uri": response_uri, "nonce": "n-1", "state": "s-1",
        "dcql_query": json.dumps(
            {"credentials": [{"id": "q", "format": "dc+sd-jwt",
                              "meta": {"vct_values": ["urn:microcred:vct:micro-credential:1"]},
                              "claims": [{"path": ["title"]}]}]}),
    })


def test_a_verifier_that_cannot_be_reached_at_send_time_gets_nothing(app, held, recorder):
    from wallet_helpers import db_rows

    client, credential_id = held
    app.config["DEV_LOOPBACK"] = True
    for response_uri, status in ((f"http://127.0.0.1:{recorder.server_address[1]}/cb", 502),
                                 ("http://127.0.0.1:1/cb", 502)):
        review = _send(client, "review request", _by_value(response_uri))
        assert review.status_code == 302, client.last_page
        client.get(review.headers["Location"])
        sent = client.post(review.headers["Location"] + "/send", {"credential-q": str(credential_id)})
        assert sent.status_code == status, client.last_page
        assert "nothing was shared" in client.last_page
        assert SECRET not in client.last_page
        assert db_rows(app, "SELECT COUNT(*) FROM shares")[0][0] == 0
    assert recorder.contacts == 1
