"""The one strict outbound fetcher (infra.fetch), against real local servers.

A real HTTPS server on loopback (a certificate made for the test, trusted
through ``ca_file``) answers the happy paths, redirects, oversized and error
answers; a raw socket server trickles bytes to prove the deadline covers the
whole exchange. Refusals are proved without network: the resolver is
replaced and any connection attempt fails the test.
"""

from __future__ import annotations

import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from credentials.errors import MicrocredError
from infra.fetch import FetchError, FetchPolicy, FetchRefused, StrictFetcher, address_kind

SECRET = "INTERNAL-SECRET-0c1d"

# ---------------------------------------------------------------- classification


@pytest.mark.parametrize("address, kind", [
    ("93.184.216.34", "public"), ("8.8.8.8", "public"), ("2606:4700:4700::1111", "public"),
    ("127.0.0.1", "loopback"), ("127.255.255.254", "loopback"), ("::1", "loopback"),
    ("10.0.0.1", "private"), ("172.16.0.1", "private"), ("172.31.255.255", "private"), ("192.168.1.1", "private"),
    ("100.64.0.1", "shared (carrier-grade NAT)"), ("100.127.255.254", "shared (carrier-grade NAT)"),
    ("169.254.169.254", "link-local"), ("fe80::1", "link-local"), ("fe80::1%eth0", "link-local"),
    ("fc00::1", "unique-local"), ("fd12:3456::1", "unique-local"),
    ("224.0.0.1", "multicast"), ("239.255.255.250", "multicast"), ("224.0.1.1", "multicast"), ("ff02::1", "multicast"),
    ("ff0e::1", "multicast"),
    ("0.0.0.0", "unspecified"), ("0.1.2.3", "unspecified"), ("::", "unspecified"),
    ("255.255.255.255", "broadcast"), ("240.0.0.1", "reserved"), ("192.0.0.9", "reserved"),
    ("192.0.2.1", "documentation"), ("198.51.100.7", "documentation"), ("203.0.113.9", "documentation"),
    ("2001:db8::1", "documentation"), ("198.18.0.1", "benchmarking"), ("fec0::1", "site-local"),
    ("::ffff:127.0.0.1", "IPv4-mapped"), ("::ffff:8.8.8.8", "IPv4-mapped"), ("::ffff:10.0.0.1", "IPv4-mapped"),
    ("::127.0.0.1", "IPv4-compatible"), ("::10.0.0.1", "IPv4-compatible"),
    ("2002:7f00:1::1", "6to4 embedding a loopback address"), ("2002:a00:1::1", "6to4 embedding a private address"),
    ("2002:a9fe:a9fe::1", "6to4 embedding a link-local address"),
    ("2001:0:4136:e378:8000:63bf:f5ff:fffe", "Teredo embedding a private address"),  # client 10.0.0.1
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", "Teredo embedding a loopback address"),  # client 127.0.0.1
    ("64:ff9b::7f00:1", "NAT64 embedding a loopback address"),
    ("64:ff9b::a9fe:a9fe", "NAT64 embedding a link-local address"),
    ("64:ff9b:1::1", "reserved"), ("100::1", "reserved"),
])
def test_address_kinds(address, kind):
    assert address_kind(address) == kind


def test_the_errors_are_one_family():
    assert issubclass(FetchRefused, MicrocredError)
    assert issubclass(FetchRefused, ValueError)
    assert issubclass(FetchError, MicrocredError)
    assert issubclass(FetchError, ConnectionError)
    assert FetchError("x").transient
    assert FetchError("x", status=503).transient
    assert not FetchError("x", status=404).transient


# ---------------------------------------------------------------- refusals without network


@pytest.fixture
def no_network(monkeypatch):
    """``resolve(host, answer)`` fixes what a name resolves to; connecting anywhere fails the test."""
    answers: dict[str, list[str]] = {}
    lookups: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        lookups.append(host)
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in answers[host]]

    def connect(sock, address):
        raise AssertionError(f"the fetcher connected to {address}")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    return answers, lookups


@pytest.mark.parametrize("address", [
    "127.0.0.1", "::1", "10.1.2.3", "172.20.0.5", "192.168.0.10", "100.64.1.1", "169.254.169.254", "fe80::1",
    "fd00::5", "224.0.0.251", "0.0.0.0", "255.255.255.255", "240.1.1.1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
    "::127.0.0.1", "2002:a00:1::1", "2001:0:4136:e378:8000:63bf:f5ff:fffe", "64:ff9b::a00:1", "ff02::1",
])
def test_a_name_resolving_to_a_non_public_address_is_refused_before_connecting(no_network, address):
    answers, _ = no_network
    answers["intranet.example"] = [address]
    with pytest.raises(FetchRefused) as refused:
        StrictFetcher(FetchPolicy()).get("https://intranet.example/status/1")
    assert address not in str(refused.value)  # the internal address is not told to the user


def test_every_resolved_address_is_checked(no_network):
    answers, _ = no_network
    answers["mixed.example"] = ["93.184.216.34", "10.0.0.1"]
    with pytest.raises(FetchRefused):
        StrictFetcher(FetchPolicy()).get("https://mixed.example/")


def test_the_development_setting_allows_loopback_but_never_mapped_or_link_local(no_network):
    answers, _ = no_network
    dev = StrictFetcher(FetchPolicy.from_config({"DEV_LOOPBACK": 1}))
    assert dev.policy.allow_loopback
    assert not FetchPolicy.from_config({"DEV_LOOPBACK": "0"}).allow_loopback
    for address in ("::ffff:127.0.0.1", "169.254.169.254", "10.0.0.1"):
        answers["x.example"] = [address]
        with pytest.raises(FetchRefused):
            dev.get("https://x.example/")
    answers["localhost"] = ["93.184.216.34"]  # a loopback *name* is not enough for plain http
    with pytest.raises(FetchRefused, match="must use https"):
        dev.get("http://localhost/")


def test_private_addresses_only_when_allowed(no_network):
    answers, _ = no_network
    answers["intranet.example"] = ["10.0.0.1"]
    lan = StrictFetcher(FetchPolicy(allow_private=True))
    with pytest.raises(AssertionError, match="connected to"):  # allowed: it goes as far as connecting
        lan.get("https://intranet.example/")
    answers["intranet.example"] = ["169.254.169.254"]
    with pytest.raises(FetchRefused):
        lan.get("https://intranet.example/")


@pytest.mark.parametrize("url, message", [
    ("ftp://files.example/x", "must use https"),
    ("http://issuer.example/x", "must use https"),
    ("file:///etc/passwd", "must use https"),
    ("https://user:secret@issuer.example/", "user name or password"),
    ("https:///path-only", "no host"),
    ("https://issuer.example:99999/", "not a valid URL"),
    ("https://issuer.example:0/", "no valid port"),
    ("https://exa mple.com/", "not valid"),
    ("https://[::1/", "not a valid URL"),
    ("", "must be a URL"),
])
def test_urls_that_are_not_fetched(no_network, url, message):
    with pytest.raises(FetchRefused, match=message):
        StrictFetcher(FetchPolicy()).get(url)
    assert no_network[1] == []  # not even looked up


def test_host_allow_list_and_idna(no_network):
    fetcher = StrictFetcher(FetchPolicy(allowed_hosts=frozenset({"*.uni.example", "bücher.example"})))
    assert fetcher.check_url("https://status.uni.example/l/1").host == "status.uni.example"
    assert fetcher.check_url("https://uni.example/").host == "uni.example"
    assert fetcher.check_url("https://BÜCHER.example/").host == "xn--bcher-kva.example"
    for url in ("https://uni.example.evil.test/", "https://evil.test/uni.example", "https://xuni.example/"):
        with pytest.raises(FetchRefused, match="allow-list"):
            fetcher.check_url(url)


def test_header_values_cannot_smuggle_lines(no_network):
    no_network[0]["issuer.example"] = ["93.184.216.34"]
    with pytest.raises(FetchRefused, match="header"):
        StrictFetcher(FetchPolicy()).request("POST", "https://issuer.example/credential",
                                             {"Authorization": "Bearer x\r\nX-Evil: 1"}, b"{}")


# ---------------------------------------------------------------- a real HTTPS server


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _send(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if not any(name == "Content-Length" for name, _ in headers):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802 - http.server's name
        self.server.seen.append(self.path)
        if self.path == "/redirect":
            self._send(302, headers=[("Location", "/ok")])
        elif self.path == "/big":
            self._send(200, b"x" * 5000)
        elif self.path == "/big-unannounced":  # no Content-Length: read until the server closes
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            for _ in range(10):
                self.wfile.write(b"y" * 1000)
            self.close_connection = True
        elif self.path == "/error":
            self._send(500, f"{SECRET} at 10.0.0.3".encode())
        else:
            self._send(200, b"hello", [("Content-Type", "text/plain"), ("Content-Length", "5")])

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.seen.append(self.path)
        self._send(200, self.headers["Content-Type"].encode() + b"|" + body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    from microcred.tls import ensure_certificate

    return ensure_certificate(tmp_path_factory.mktemp("tls"), "127.0.0.1")


@pytest.fixture
def https_server(tls_files):
    certificate, key = tls_files
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def fetcher(tls_files):
    return StrictFetcher(FetchPolicy(allow_loopback=True, ca_file=str(tls_files[0]), max_bytes=1000, timeout=5.0))


def _url(server, path, host="127.0.0.1"):
    return f"https://{host}:{server.server_address[1]}{path}"


def test_get_over_tls_to_the_checked_address(fetcher, https_server):
    response = fetcher.get(_url(https_server, "/ok"))
    assert (response.status, response.content_type, response.body) == (200, "text/plain", b"hello")
    assert fetcher.get_text(_url(https_server, "/ok", "localhost"), accept="text/plain") == "hello"


def test_loopback_needs_the_development_setting(tls_files, https_server):
    strict = StrictFetcher(FetchPolicy(ca_file=str(tls_files[0])))
    with pytest.raises(FetchRefused, match="this machine"):
        strict.get(_url(https_server, "/ok"))
    assert https_server.seen == []


def test_post_form_and_json(fetcher, https_server):
    form = fetcher.request("POST", _url(https_server, "/token"),
                           {"Content-Type": "application/x-www-form-urlencoded"}, b"grant_type=x&code=%C3%A9")
    assert form.body == b"application/x-www-form-urlencoded|grant_type=x&code=%C3%A9"
    answer = fetcher.request("POST", _url(https_server, "/credential"), {"Content-Type": "application/json"},
                             b'{"a":1}')
    assert answer.body == b'application/json|{"a":1}'


def test_a_redirect_is_not_followed(fetcher, https_server):
    with pytest.raises(FetchError, match="redirect") as error:
        fetcher.get(_url(https_server, "/redirect"))
    assert https_server.seen == ["/redirect"]
    assert not error.value.transient


@pytest.mark.parametrize("path", ["/big", "/big-unannounced"])
def test_size_cap(fetcher, https_server, path):
    with pytest.raises(FetchError, match="more than 1000 bytes"):
        fetcher.get(_url(https_server, path))


def test_a_remote_error_body_is_logged_not_told(fetcher, https_server, caplog):
    caplog.set_level("INFO", logger="infra.fetch")
    with pytest.raises(FetchError) as error:
        fetcher.get(_url(https_server, "/error"))
    assert "HTTP 500" in str(error.value)
    assert error.value.transient
    assert SECRET not in str(error.value)
    assert "10.0.0.3" not in str(error.value)
    assert SECRET in caplog.text


@pytest.mark.parametrize("path, sent", [
    ("/é", "/%C3%A9"), ("/s/ü?q=ß&r=1", "/s/%C3%BC?q=%C3%9F&r=1"), ("/a b", "/a%20b"), ("/x%2Fy", "/x%2Fy"),
    ("/\u202e", "/%E2%80%AE"), ("/r\r\nX: y", "/rX:%20y"), ("/p#frag", "/p"),
])
def test_non_ascii_and_control_characters_are_percent_encoded(fetcher, https_server, path, sent):
    assert fetcher.get(_url(https_server, path)).status == 200
    assert https_server.seen == [sent]


def test_the_certificate_is_checked_for_the_name(fetcher, https_server, monkeypatch):
    real = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: real("127.0.0.1", *a, **k))
    with pytest.raises(FetchError, match="certificate"):
        fetcher.get(_url(https_server, "/ok", "wallet.example"))  # 127.0.0.1 by DNS, but not its certificate
    assert https_server.seen == []


def test_one_lookup_and_the_connection_goes_to_the_checked_address(fetcher, https_server, monkeypatch):
    """DNS rebinding: the second answer (an internal address) is never asked for nor used."""
    real, calls = socket.getaddrinfo, []

    def rebinding(host, port, *args, **kwargs):
        calls.append(host)
        return real("127.0.0.1" if len(calls) == 1 else "10.255.255.1", port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    assert fetcher.get(_url(https_server, "/ok", "localhost")).body == b"hello"
    assert calls == ["localhost"]
    assert https_server.seen == ["/ok"]


# ---------------------------------------------------------------- one deadline, not one per read


@pytest.fixture
def trickler():
    """A server that sends one byte every 20 ms for as long as the client listens (``mode``: headers or body)."""
    listener = socket.create_server(("127.0.0.1", 0))
    state = {"mode": "headers", "stop": threading.Event()}

    def serve():
        listener.settimeout(0.2)
        while not state["stop"].is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            with connection:
                connection.recv(65536)
                head = b"HTTP/1.1 200 OK\r\n"
                if state["mode"] == "body":
                    head += b"Content-Length: 900\r\n\r\n"
                connection.sendall(head)
                for _ in range(1500):  # 30 s at most, whoever stops listening first
                    try:
                        connection.sendall(b"X-Slow: a\r\n" [:1] if state["mode"] == "headers" else b"z")
                    except OSError:
                        break
                    if state["stop"].wait(0.02):
                        break

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1], state
    state["stop"].set()
    thread.join(5)
    listener.close()


@pytest.mark.parametrize("mode", ["headers", "body"])
def test_a_trickling_server_hits_the_total_deadline(trickler, mode):
    port, state = trickler
    state["mode"] = mode
    fetcher = StrictFetcher(FetchPolicy(allow_loopback=True, timeout=0.5))
    with pytest.raises(FetchError, match=r"no full answer within 0\.5 s") as error:  # not the server giving up
        fetcher.get(f"http://127.0.0.1:{port}/slow")
    assert error.value.transient
