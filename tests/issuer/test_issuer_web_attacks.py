"""Attacks on the issuer's web service that got through in round 4 (each test failed before its fix).

- A reverse proxy on the issuer's own machine (the README's nginx set-up) made
  every client look like 127.0.0.1: with no staff account yet, the registrar's
  pages, meant for "this machine only", answered anyone on the network.
- Text a learner's row or a registrar put into a credential (title, names,
  reasons) reached the issuer's pages with its bidirectional controls obeyed
  (CVE-2021-42574, "Trojan Source"), where the wallet and verifier show them.
- A revocation whose anchor failed showed the ledger's error as it was on the
  registrar's pages: server paths, and the node's URL (which may hold an API
  key) with the exception's text.
- The OpenID4VCI endpoints (offer, token, nonce, credential) had no limit:
  each ``POST /nonce`` writes a row into the archive.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from _issuer_support import NOW, make_csv, make_row

from issuer.batch import parse_csv
from issuer.web import create_app

RLO = "\u202e"


@pytest.fixture
def app(home, data_dir, anchor):
    return create_app({"TESTING": True, "DATA_DIR": str(data_dir), "ISSUER": "uni", "STATUS_ANCHOR": anchor,
                       "CLOCK": lambda: NOW})


@pytest.mark.parametrize("header", [
    ("X-Forwarded-For", "203.0.113.9"),
    ("Forwarded", "for=203.0.113.9;proto=https"),
    ("X-Real-IP", "203.0.113.9"),
])
def test_a_client_forwarded_by_a_proxy_on_this_machine_is_not_this_machine(app, header):
    client = app.test_client()
    assert client.get("/registrar/").status_code == 200  # this machine itself, no proxy: as before
    forwarded = client.get("/registrar/", headers=[header])
    assert forwarded.status_code == 403
    assert "microcred issuer staff add" in unescape(forwarded.get_data(as_text=True))
    bulk = client.get("/registrar/bulk/", headers=[header])
    assert bulk.status_code == 403


def test_a_forwarded_client_is_not_this_machine_behind_a_trusted_proxy_either(home, data_dir, anchor):
    app = create_app({"TESTING": True, "DATA_DIR": str(data_dir), "ISSUER": "uni", "STATUS_ANCHOR": anchor,
                      "CLOCK": lambda: NOW, "TRUSTED_PROXIES": 1})
    spoofed = app.test_client().get("/registrar/", headers={"X-Forwarded-For": "127.0.0.1"},
                                    environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert spoofed.status_code == 403


def test_bidi_controls_on_the_issuers_pages_are_shown_not_obeyed(app, service, defaults):
    row = make_row(1, title=f"Data Protection {RLO}wal ni tseb")
    offered = service.issue_batch(parse_csv(make_csv([row]), defaults), now=NOW).issued[0]
    client = app.test_client()
    pages = (f"/offers/{offered.offer_id}", "/registrar/", f"/registrar/credentials/{offered.credential_id}/revoke")
    for path in pages:
        page = client.get(path)
        assert page.status_code == 200, path
        html = page.get_data(as_text=True)
        assert RLO not in html, path
        assert "Data Protection [U+202E]wal ni tseb" in unescape(html), path


def test_the_registrar_pages_never_show_the_nodes_url_or_server_paths(home, data_dir, service, defaults):
    """The anchoring error went to the pages as it was: the data dir's path here, and with a deployment the node's
    URL (which may hold an API key) with the exception's text; they belong in the operator's log only."""
    app = create_app({"TESTING": True, "DATA_DIR": str(data_dir), "ISSUER": "uni", "CLOCK": lambda: NOW})
    issued = service.issue_batch(parse_csv(make_csv([make_row(1)]), defaults), now=NOW).issued[0]
    client = app.test_client()
    form = client.get(f"/registrar/credentials/{issued.credential_id}/revoke").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    revoked = client.post(f"/registrar/credentials/{issued.credential_id}/revoke",
                          data={"csrf_token": token, "reason": "issued in error"}, follow_redirects=True)
    assert revoked.status_code == 200
    for page in (unescape(revoked.get_data(as_text=True)), unescape(client.get("/registrar/").get_data(as_text=True))):
        assert "NOT anchored yet" in page or "anchor pending" in page
        assert str(data_dir) not in page
        assert "deployment.json" not in page
        assert "the issuer's log names the cause" in page


def test_openid4vci_requests_past_the_limit_get_429_and_write_nothing(home, data_dir, anchor, service):
    """Every POST /nonce wrote a row into the archive (the store of the status lists), with no limit."""
    app = create_app({"TESTING": True, "DATA_DIR": str(data_dir), "ISSUER": "uni", "STATUS_ANCHOR": anchor,
                      "CLOCK": lambda: NOW, "ISSUER_OID4VCI_RATE_LIMIT": "120/60"})
    client = app.test_client()
    answers = [client.post("/nonce").status_code for _ in range(120)]
    assert answers == [200] * 120
    refused = client.post("/nonce")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "too many credential requests" in refused.get_json()["error"]
    assert client.post("/token", data={"grant_type": "x"}).status_code == 429
    with service.archive.transaction() as conn:
        assert conn.execute("SELECT COUNT(*) FROM nonces").fetchone()[0] == 120
    other = client.post("/nonce", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 200  # another client is not held back
    assert client.get("/.well-known/openid-credential-issuer").status_code == 200  # metadata is not counted


def _chunked_post(port: int, host: str, path: str, megabytes: int) -> str:
    """POST ``megabytes`` of JSON in chunks (no Content-Length) over a real socket; the answer's text."""
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                           "Transfer-Encoding: chunked\r\nAuthorization: Bearer not-a-token\r\n\r\n".encode())
        piece = b'"' + b"a" * (1024 * 1024 - 2) + b'",'
        try:
            connection.sendall(b"1\r\n[\r\n")
            for _ in range(megabytes):
                connection.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
            connection.sendall(b"2\r\n0]\r\n0\r\n\r\n")
        except OSError:  # the server answered and closed before the whole body: as it should
            pass
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += connection.recv(65536)
        head, body = answer.split(b"\r\n\r\n", 1)
        length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
        while len(body) < length:
            body += connection.recv(65536)
        return (head + b"\r\n\r\n" + body).decode("latin-1")


def test_a_chunked_body_is_capped_like_any_other(home, data_dir, anchor):
    """POST /credential checked only Content-Length: a body sent in chunks has none, and was read whole into
    memory (50 MB, or 5 GB) before the access token was even looked at. Now only 64 KB + 1 byte is read."""
    import threading
    from urllib.parse import urlsplit

    from werkzeug.serving import make_server

    app = create_app({"DATA_DIR": str(data_dir), "ISSUER": "uni", "STATUS_ANCHOR": anchor, "CLOCK": lambda: NOW,
                      "ANCHOR_RETRY_SECONDS": 0})
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        host = urlsplit(home.identity.base_url).netloc
        answer = _chunked_post(http.server_port, host, "/credential", 4)
        assert answer.startswith("HTTP/1.1 400")  # the OAuth error of any body over the limit, not 401 after reading
        assert "the request is over 65536 bytes" in answer
    finally:
        http.shutdown()
        thread.join(timeout=5)


def _staff_sign_in(client, username: str, password: str):
    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      client.get("/registrar/sign-in").get_data(as_text=True)).group(1)
    return client.post("/registrar/sign-in", data={"csrf_token": token, "username": username, "password": password,
                                                   "next": "/registrar/"})


def test_a_staff_cookie_copied_before_sign_out_is_worth_nothing_after(app, home):
    """The session lives in the signed cookie alone: a copy taken before sign-out (a shared computer, a stolen
    cookie) kept the registrar's pages, revoke included, for STAFF_SESSION_HOURS."""
    from argon2 import PasswordHasher

    from issuer.staff import StaffBook

    password = "correct horse battery staple"
    StaffBook.of_home(home.path, PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)).add(
        "ada", "registrar", password, now=NOW)
    client = app.test_client()
    assert _staff_sign_in(client, "ada", password).status_code == 302
    copied = client.get_cookie("session").value
    page = client.get("/registrar/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/registrar/sign-out", data={"csrf_token": token}).status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", copied)
    replayed = thief.get("/registrar/")
    assert replayed.status_code == 302
    assert replayed.headers["Location"].startswith("/registrar/sign-in")
    assert _staff_sign_in(client, "ada", password).status_code == 302  # signing in again works
    assert client.get("/registrar/").status_code == 200


def test_a_removed_then_recreated_staff_account_gets_no_old_sessions(app, home):
    from argon2 import PasswordHasher

    from issuer.staff import StaffBook

    book = StaffBook.of_home(home.path, PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    book.add("ada", "registrar", "correct horse battery staple", now=NOW - 100)
    client = app.test_client()
    assert _staff_sign_in(client, "ada", "correct horse battery staple").status_code == 302
    book.remove("ada")
    book.add("ada", "viewer", "another long password here", now=NOW)  # someone else, later, by that name
    assert client.get("/registrar/").status_code == 302


def test_pages_with_learners_data_or_an_offer_are_never_cached(app, service, defaults):
    """The registrar's pages (learners' names and student numbers, the audit log) and a learner's offer page went
    out without Cache-Control: a browser or a proxy could keep them, and Back after sign-out showed them again."""
    offered = service.issue_batch(parse_csv(make_csv([make_row(1)]), defaults), now=NOW).issued[0]
    client = app.test_client()
    for path in ("/registrar/", "/registrar/bulk/", f"/registrar/credentials/{offered.credential_id}/revoke",
                 f"/offers/{offered.offer_id}", f"/offers/{offered.offer_id}/qr.svg"):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert answer.headers.get("Cache-Control") == "no-store", path
    status_list = client.get(f"/status/{service.archive.status_lists()[0].id}")
    assert status_list.headers["Cache-Control"].startswith("public, max-age")  # public lists stay cacheable
