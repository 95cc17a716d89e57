"""The one strict outbound HTTP(S) client of every service (ARCHITECTURE.md "Defaults, configuration, scale").

Every request a service makes to a URL it did not choose itself — a status
list, a holder's presentation link, a credential offer, issuer metadata, the
token, nonce and credential endpoints, an OpenID4VP ``request_uri`` and its
``direct_post`` answer — goes through :class:`StrictFetcher`, so that no
service is an open proxy into its own network:

- ``https`` only (RFC 9110 §4.2.2); plain ``http`` only to this machine in
  development, or where an operator allowed it; no user name or password in
  the URL; an optional host allow-list (``*.example`` matches sub-domains);
- the host is resolved once and **every** resolved address must be public
  (:func:`infra._addresses.address_kind`: the IANA Special-Purpose Address
  Registries, RFC 6890, with IPv4-mapped/-compatible, 6to4, Teredo and NAT64
  forms judged by what they embed) unless the policy allows its kind; the
  connection goes to an address that was checked (no second lookup, so no
  DNS rebinding window), with TLS SNI and certificate check for the name;
- the path and query are percent-encoded (RFC 3986 §2.1) where they hold
  characters a request line cannot carry;
- no redirect is followed (a 3xx is an error), the body is read incrementally
  up to a size limit, and one deadline covers the whole exchange (lookup,
  connect, TLS, headers, body), not each read;
- a remote error body is logged, never put into an exception message.

Loopback addresses (and plain ``http`` to them) are fetched only with the
development setting ``MICROCRED_DEV_LOOPBACK=1`` (:meth:`FetchPolicy.from_config`).

Errors (:mod:`infra.errors`, drawn in the one tree of :mod:`credentials.errors`):
:class:`FetchRefused` (the URL is not one we fetch; nothing was sent, 400),
:class:`RemoteUnreachable` (nobody answered, or a 5xx: try again later, 502)
and :class:`UnusableAnswer` (an answer, but not the one asked for, 400), both
a :class:`FetchError`.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import logging
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote, urlsplit

from credentials.presentation_codec import is_loopback_host
from infra._addresses import LOOPBACK, PRIVATE_KINDS, PUBLIC, address_kind
from infra.errors import FetchError, FetchRefused, RemoteUnreachable, UnusableAnswer

__all__ = [
    "FetchError", "FetchRefused", "RemoteUnreachable", "UnusableAnswer", "FetchPolicy", "Response", "StrictFetcher",
    "Target", "Transport", "REVALIDATE_HEADERS",
    "address_kind", "config_flag", "DEV_LOOPBACK_SETTING",
]

DEFAULT_MAX_BYTES = 1024 * 1024
DEFAULT_TIMEOUT_S = 5.0
DEV_LOOPBACK_SETTING = "DEV_LOOPBACK"  # app.config key; MICROCRED_DEV_LOOPBACK in the environment
_CHUNK = 16 * 1024
_MAX_ADDRESSES = 8
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"
_QUERY_SAFE = _PATH_SAFE + "?"
_HOST_NAME = re.compile(r"^(?=.{1,253}\.?$)[a-z0-9_](?:[a-z0-9_-]{0,62})(?:\.[a-z0-9_](?:[a-z0-9_-]{0,62}))*\.?$")
_log = logging.getLogger(__name__)
#: Sent by ``get(..., revalidate=True)``: a shared cache must check with the origin before it answers
#: (RFC 9111 §5.2.1.4; ``Pragma`` for HTTP/1.0 caches, §5.4).
REVALIDATE_HEADERS = {"Cache-Control": "no-cache", "Pragma": "no-cache"}


# ---------------------------------------------------------------- policy

def config_flag(value: Any) -> bool:
    """A boolean setting as it comes from ``app.config`` (``MICROCRED_X=1`` arrives as the int 1)."""
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


@dataclass(frozen=True)
class FetchPolicy:
    """What may be fetched. Empty ``allowed_hosts``: any host whose addresses pass."""

    allowed_hosts: frozenset[str] = frozenset()
    allow_http: bool = False       # plain http to any allowed host (development only)
    allow_loopback: bool = False   # loopback addresses, over https or http (MICROCRED_DEV_LOOPBACK)
    allow_private: bool = False    # RFC 1918, unique-local and CGNAT addresses (an intranet deployment)
    max_bytes: int = DEFAULT_MAX_BYTES
    timeout: float = DEFAULT_TIMEOUT_S  # one deadline for the whole exchange
    ca_file: str | None = field(default=None)  # extra trusted CA certificates (PEM), besides the system's

    @classmethod
    def from_config(cls, config: Mapping[str, Any], **overrides: Any) -> FetchPolicy:
        """The policy of a service's settings: ``DEV_LOOPBACK``, ``FETCH_ALLOW_PRIVATE``, ``FETCH_CA_FILE``."""
        dev = config_flag(config.get(DEV_LOOPBACK_SETTING))
        policy = cls(allow_loopback=dev, allow_private=config_flag(config.get("FETCH_ALLOW_PRIVATE")),
                     ca_file=config.get("FETCH_CA_FILE") or None)
        return replace(policy, **overrides)

    def permits(self, kind: str) -> bool:
        return kind == PUBLIC or (kind == LOOPBACK and self.allow_loopback) or \
            (kind in PRIVATE_KINDS and self.allow_private)


@dataclass(frozen=True)
class Target:
    """A checked URL: what goes on the wire (``request_target`` percent-encoded, ``host`` in IDNA form)."""

    url: str
    scheme: str
    host: str
    port: int
    request_target: str

    @property
    def authority(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]  # names in lower case
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


#: ``(method, url, headers, body) -> Response``: a stand-in for the network (tests plug a Flask test client).
Transport = Callable[[str, str, Mapping[str, str], "bytes | None"], Response]


def _pattern(pattern: str) -> str:
    """An allow-list entry in the form hosts are compared in (lower case, IDNA)."""
    wildcard, name = pattern.startswith("*."), pattern.removeprefix("*.").lower().rstrip(".")
    with contextlib.suppress(UnicodeError):
        name = name.encode("idna").decode("ascii")
    return f"*.{name}" if wildcard else name


def _host_allowed(host: str, allowed: Collection[str]) -> bool:
    if not allowed:
        return True
    for pattern in map(_pattern, allowed):
        if host == pattern or (pattern.startswith("*.") and (host.endswith(pattern[1:]) or host == pattern[2:])):
            return True
    return False


def _ascii_host(raw: str, what: str) -> str:
    host = raw.lower()
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise FetchRefused(f"the {what} has a host name that is not valid") from None
    if not _HOST_NAME.match(host):
        raise FetchRefused(f"the {what} has a host name that is not valid")
    return host.rstrip(".")


# ---------------------------------------------------------------- the fetcher

class StrictFetcher:
    """HTTP(S) under a :class:`FetchPolicy`; :meth:`request` is also a :data:`Transport`."""

    def __init__(self, policy: FetchPolicy, *, transport: Transport | None = None):
        self.policy = policy
        self.transport = transport
        self._tls: ssl.SSLContext | None = None

    def check_url(self, url: Any, *, what: str = "link") -> Target:
        """The :class:`Target` of ``url`` if its form is acceptable; FetchRefused saying why not. No network."""
        if not isinstance(url, str) or not url.strip():
            raise FetchRefused(f"the {what} must be a URL")
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError:
            raise FetchRefused(f"the {what} is not a valid URL") from None
        scheme = parts.scheme.lower()
        if scheme not in ("https", "http"):
            raise FetchRefused(f"the {what} must use https, found {scheme or 'no scheme'!r}")
        if parts.username is not None or parts.password is not None:
            raise FetchRefused(f"the {what} must not carry a user name or password")
        if not parts.hostname:
            raise FetchRefused(f"the {what} has no host")
        host = _ascii_host(parts.hostname, what)
        loopback_allowed = self.policy.allow_loopback and is_loopback_host(host)
        if scheme == "http" and not self.policy.allow_http and not loopback_allowed:
            raise FetchRefused(f"the {what} must use https, found 'http'")
        if port == 0:
            raise FetchRefused(f"the {what} has no valid port")
        if not _host_allowed(host, self.policy.allowed_hosts):
            raise FetchRefused(f"the host {host} is not on this service's allow-list")
        request_target = quote(parts.path or "/", safe=_PATH_SAFE)
        if parts.query:
            request_target += "?" + quote(parts.query, safe=_QUERY_SAFE)
        return Target(url.strip(), scheme, host, port or (443 if scheme == "https" else 80), request_target)

    def get(self, url: str, *, accept: str = "*/*", what: str = "link", revalidate: bool = False) -> Response:
        """GET ``url``; anything but 200 is a FetchError. ``revalidate``: ask every cache on the way to check
        with the origin first (:data:`REVALIDATE_HEADERS`), for an answer a cache may have kept stale."""
        headers = {"Accept": accept, **(REVALIDATE_HEADERS if revalidate else {})}
        response = self.request("GET", url, headers=headers, what=what)
        if response.status != 200:
            authority = self.check_url(url, what=what).authority
            raise FetchError.of_status(f"{authority} answered HTTP {response.status}", response.status)
        return response

    def get_text(self, url: str, *, accept: str, what: str = "link", encoding: str = "ascii",
                 revalidate: bool = False) -> str:
        """GET ``url`` whose answer must be text in ``encoding``, stripped: ASCII for a compact JWT or an SD-JWT,
        ``utf-8`` for JSON documents and credentials. ``revalidate``: as for :meth:`get`."""
        body = self.get(url, accept=accept, what=what, revalidate=revalidate).body
        try:
            return body.decode(encoding).strip()
        except UnicodeDecodeError:
            name = "ASCII" if encoding == "ascii" else encoding.upper()
            raise UnusableAnswer(f"the answer of {self.check_url(url, what=what).authority} is not {name} text "
                                 f"(expected a {what})", status=200) from None

    def request(self, method: str, url: str, headers: Mapping[str, str] | None = None, body: bytes | None = None,
                *, what: str = "link") -> Response:
        """Send one request; return the answer whatever its status, except a redirect (FetchError)."""
        target = self.check_url(url, what=what)
        headers = dict(headers or {})
        for name, value in headers.items():
            if not isinstance(value, str) or any(c in value for c in "\r\n\0") or not value.isascii():
                raise FetchRefused(f"the request header {name} holds characters a header cannot carry")
        if self.transport is not None:
            response = self.transport(method, target.url, headers, body)
        else:
            response = self._exchange(target, method, headers, body, time.monotonic() + self.policy.timeout, what)
        if 300 <= response.status < 400:
            raise UnusableAnswer(f"{target.authority} answered with a redirect, which is not followed",
                                 status=response.status)
        if len(response.body) > self.policy.max_bytes:
            raise FetchError.of_status(f"{target.authority} sent more than {self.policy.max_bytes} bytes",
                                       response.status)
        if response.status >= 400:
            _log.info("%s %s answered HTTP %s: %r", method, target.authority, response.status, response.body[:300])
        return response

    __call__ = request

    # ------------------------------------------------------------ the wire

    def _addresses(self, target: Target, what: str, deadline: float) -> list[tuple[int, Any]]:
        """Resolve once (within the deadline) and check every address; ``(family, sockaddr)`` to connect to."""
        found: list = []

        def lookup() -> None:
            try:
                found.append(socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM,
                                                proto=socket.IPPROTO_TCP))
            except (OSError, UnicodeError) as exc:
                found.append(exc)

        worker = threading.Thread(target=lookup, name="fetch-lookup", daemon=True)
        worker.start()
        worker.join(max(0.0, deadline - time.monotonic()))
        if not found:
            raise RemoteUnreachable(f"could not reach {target.authority}: its name was not found in time")
        if isinstance(found[0], BaseException) or not found[0]:
            raise RemoteUnreachable(f"could not reach {target.authority}: its name cannot be found")
        addresses = []
        for family, _, _, _, sockaddr in found[0][:_MAX_ADDRESSES]:
            kind = address_kind(sockaddr[0])
            if kind == LOOPBACK and not self.policy.allow_loopback:
                raise FetchRefused(f"the {what} points at this machine ({target.host}), which is not fetched "
                                   "outside development")
            if not self.policy.permits(kind):
                raise FetchRefused(f"the {what} points at a {kind} address ({target.host}), which is not fetched")
            if target.scheme == "http" and not self.policy.allow_http and kind != LOOPBACK:
                raise FetchRefused(f"the {what} must use https, found 'http'")
            addresses.append((family, sockaddr))
        return addresses

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            context = ssl.create_default_context()
            if self.policy.ca_file:
                context.load_verify_locations(cafile=self.policy.ca_file)
            self._tls = context
        return self._tls

    def _connect(self, target: Target, addresses: list[tuple[int, Any]], deadline: float) -> socket.socket:
        for family, sockaddr in addresses:
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.settimeout(max(0.001, deadline - time.monotonic()))
                sock.connect(sockaddr)
                return sock
            except OSError:
                sock.close()
        raise RemoteUnreachable(f"could not reach {target.authority}")

    def _exchange(self, target: Target, method: str, headers: Mapping[str, str], body: bytes | None,
                  deadline: float, what: str) -> Response:
        addresses = self._addresses(target, what, deadline)
        sock = self._connect(target, addresses, deadline)
        expired = threading.Event()
        live = [sock]

        def cut() -> None:  # the deadline: whatever is blocked on this socket returns now
            expired.set()
            with contextlib.suppress(OSError):
                socket.socket.shutdown(live[0], socket.SHUT_RDWR)

        watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), cut)
        watchdog.daemon = True
        watchdog.start()
        connection = http.client.HTTPConnection(target.host, target.port)
        try:
            if target.scheme == "https":
                live[0] = self._tls_context().wrap_socket(sock, server_hostname=target.host)
            connection.sock = live[0]
            response = self._send(connection, target, method, headers, body)
            if expired.is_set():
                raise RemoteUnreachable(f"could not reach {target.authority}: no full answer within "
                                        f"{self.policy.timeout:g} s")
            return response
        except (OSError, http.client.HTTPException, ValueError) as exc:
            if isinstance(exc, (FetchError, FetchRefused)):
                raise
            if expired.is_set():
                raise RemoteUnreachable(f"could not reach {target.authority}: no full answer within "
                                        f"{self.policy.timeout:g} s") from None
            _log.info("fetching %s failed: %r", target.authority, exc)
            reason = "its certificate is not valid for it" if isinstance(exc, ssl.SSLCertVerificationError) \
                else "the connection failed"
            raise RemoteUnreachable(f"could not reach {target.authority}: {reason}") from None
        finally:
            watchdog.cancel()
            connection.close()
            live[0].close()

    def _send(self, connection: http.client.HTTPConnection, target: Target, method: str,
              headers: Mapping[str, str], body: bytes | None) -> Response:
        connection.putrequest(method, target.request_target, skip_host=True, skip_accept_encoding=True)
        connection.putheader("Host", target.authority)
        connection.putheader("Connection", "close")
        connection.putheader("User-Agent", "microcred")
        for name, value in headers.items():
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        answer = connection.getresponse()
        limit = self.policy.max_bytes
        declared = answer.getheader("Content-Length")
        if declared and declared.strip().isdigit() and int(declared) > limit:
            raise FetchError.of_status(f"{target.authority} sent more than {limit} bytes", answer.status)
        received = bytearray()
        while chunk := answer.read1(_CHUNK):
            received += chunk
            if len(received) > limit:
                raise FetchError.of_status(f"{target.authority} sent more than {limit} bytes", answer.status)
        headers_out: dict[str, str] = {}
        for name, value in answer.getheaders():
            key = name.lower()
            headers_out[key] = f"{headers_out[key]}, {value}" if key in headers_out else value
        return Response(answer.status, headers_out, bytes(received))
