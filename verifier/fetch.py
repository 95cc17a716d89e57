"""Strict HTTP(S) GET for status lists and link-mode presentations (ARCHITECTURE.md "Holder-shown QR" ⚑).

The verifier fetches two kinds of things from URLs it did not choose: the
Status List Token a credential points at, and the presentation behind a
holder's link QR. Both go through :class:`StrictFetcher`, which is never an
open proxy:

- scheme allow-list (``https``; ``http`` only when configured), host
  allow-list when one is configured (``*.example`` matches sub-domains);
- the host is resolved once and every address must be public unless private or
  loopback addresses are allowed by configuration; the connection goes to that
  checked address (no second lookup, so no DNS rebinding), with SNI and
  certificate checks for the name;
- no redirects (a 3xx is an error), no credentials in the URL, a size limit
  read incrementally, a time limit on connect and on every read.

Failures raise :class:`FetchError` (a ``ConnectionError``: the thing could not
be fetched) or :class:`FetchRefused` (a ``ValueError``: the URL is not one we
fetch), with a sentence fit for the employer's screen.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from collections.abc import Collection
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from credentials.errors import MicrocredError

__all__ = ["FetchError", "FetchRefused", "FetchPolicy", "StrictFetcher"]

DEFAULT_MAX_BYTES = 1024 * 1024
DEFAULT_TIMEOUT_S = 3.0
_CHUNK = 16 * 1024


class FetchError(MicrocredError, ConnectionError):
    """The URL was acceptable, but nothing usable came back (down, timeout, status, size)."""


class FetchRefused(MicrocredError, ValueError):
    """The URL is not one this verifier fetches (scheme, host, address)."""


@dataclass(frozen=True)
class FetchPolicy:
    """What may be fetched. Empty ``allowed_hosts`` means any public host."""

    allowed_schemes: frozenset[str] = frozenset({"https"})
    allowed_hosts: frozenset[str] = frozenset()
    allow_loopback: bool = False
    allow_private: bool = False
    max_bytes: int = DEFAULT_MAX_BYTES
    timeout: float = DEFAULT_TIMEOUT_S
    accept: str = "*/*"
    extra_ca_file: str | None = field(default=None)


def _host_allowed(host: str, allowed: Collection[str]) -> bool:
    if not allowed:
        return True
    for pattern in allowed:
        pattern = pattern.lower()
        if pattern.startswith("*.") and (host.endswith(pattern[1:]) or host == pattern[2:]):
            return True
        if host == pattern:
            return True
    return False


class StrictFetcher:
    """GET with the rules of :class:`FetchPolicy`; :meth:`get` returns (content type, body)."""

    def __init__(self, policy: FetchPolicy):
        self.policy = policy

    def _check_url(self, url: str) -> tuple[str, str, int, str]:
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise FetchRefused(f"{url[:80]!r} is not a valid URL") from exc
        scheme = parts.scheme.lower()
        if scheme not in self.policy.allowed_schemes:
            raise FetchRefused(f"expected a URL with scheme {', '.join(sorted(self.policy.allowed_schemes))}, "
                               f"found {scheme or 'none'!r}")
        host = (parts.hostname or "").lower()
        if not host:
            raise FetchRefused("the URL has no host")
        if parts.username or parts.password:
            raise FetchRefused("the URL must not carry a user name or password")
        if not _host_allowed(host, self.policy.allowed_hosts):
            raise FetchRefused(f"the host {host!r} is not on this verifier's allow-list")
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return scheme, host, port or (443 if scheme == "https" else 80), path

    def _address(self, host: str, port: int) -> str:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise FetchError(f"the host {host!r} cannot be found") from exc
        addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
        for address in addresses:
            if address.is_loopback:
                if not self.policy.allow_loopback:
                    raise FetchRefused(f"the host {host!r} is this machine, which this verifier does not fetch from")
            elif address.is_private or address.is_link_local or address.is_reserved or address.is_multicast \
                    or address.is_unspecified:
                if not self.policy.allow_private:
                    raise FetchRefused(f"the host {host!r} has a private address, which this verifier does not fetch from")
        return str(addresses[0])

    def _connection(self, scheme: str, host: str, port: int, address: str) -> http.client.HTTPConnection:
        timeout = self.policy.timeout
        if scheme == "http":
            return http.client.HTTPConnection(address, port, timeout=timeout)
        context = ssl.create_default_context(cafile=self.policy.extra_ca_file)

        class _PinnedHttps(http.client.HTTPSConnection):
            def connect(self) -> None:  # connect to the checked address, verify the certificate for ``host``
                raw = socket.create_connection((address, port), timeout)
                self.sock = context.wrap_socket(raw, server_hostname=host)

        return _PinnedHttps(host, port, timeout=timeout, context=context)

    def get(self, url: str) -> tuple[str, bytes]:
        """Fetch ``url``; raise FetchRefused / FetchError as described above."""
        scheme, host, port, path = self._check_url(url)
        address = self._address(host, port)
        connection = self._connection(scheme, host, port, address)
        try:
            connection.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
            connection.putheader("Host", host if port in (80, 443) else f"{host}:{port}")
            connection.putheader("Accept", self.policy.accept)
            connection.putheader("Connection", "close")
            connection.endheaders()
            response = connection.getresponse()
            if 300 <= response.status < 400:
                raise FetchError(f"{host} answered with a redirect ({response.status}), which this verifier does not follow")
            if response.status != 200:
                raise FetchError(f"{host} answered {response.status} {response.reason}")
            declared = response.getheader("Content-Length")
            if declared and declared.isdigit() and int(declared) > self.policy.max_bytes:
                raise FetchError(f"{host} sent {declared} bytes, more than the limit of {self.policy.max_bytes}")
            body = bytearray()
            while chunk := response.read(_CHUNK):
                body += chunk
                if len(body) > self.policy.max_bytes:
                    raise FetchError(f"{host} sent more than the limit of {self.policy.max_bytes} bytes")
            return response.getheader("Content-Type", ""), bytes(body)
        except (OSError, http.client.HTTPException) as exc:
            if isinstance(exc, FetchError):
                raise
            raise FetchError(f"{host} did not answer in time or broke the connection ({type(exc).__name__})") from None
        finally:
            connection.close()
