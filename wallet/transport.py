"""Outbound HTTP for the wallet (issuer and verifier endpoints), never an open proxy.

Only ``https://`` URLs (plain ``http://`` to a loopback host when the app
allows it, for the local demo and tests), no credentials in URLs, no
redirects followed, a timeout and a size limit on every answer. The transport
is a callable so tests can plug another service's Flask test client in its
place: ``(method, url, headers, body) -> HttpResponse``.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from credentials.errors import InvalidInput
from credentials.jose import json_loads
from credentials.presentation_codec import is_loopback_host

__all__ = [
    "MAX_RESPONSE_BYTES",
    "HttpResponse",
    "Transport",
    "RemoteError",
    "check_url",
    "urllib_transport",
    "client_from_config",
    "Client",
]

MAX_RESPONSE_BYTES = 512 * 1024


class RemoteError(InvalidInput):
    """A remote endpoint could not be reached or answered badly."""


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: Mapping[str, str]
    body: bytes


Transport = Callable[[str, str, Mapping[str, str], "bytes | None"], HttpResponse]


def check_url(url: Any, *, allow_http_loopback: bool, what: str) -> str:
    """``url`` if it is an acceptable endpoint URL; InvalidInput saying why not."""
    if not isinstance(url, str) or not url:
        raise InvalidInput(f"the {what} must be a URL")
    parts = urlsplit(url)
    if not parts.hostname:
        raise InvalidInput(f"the {what} has no host: {url[:80]!r}")
    if parts.username or parts.password:
        raise InvalidInput(f"the {what} must not carry a user name or password")
    if parts.fragment:
        raise InvalidInput(f"the {what} must not have a fragment")
    if parts.scheme == "https":
        return url
    if parts.scheme == "http" and allow_http_loopback and is_loopback_host(parts.hostname):
        return url
    raise InvalidInput(f"the {what} must use https, found {url[:80]!r}")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def urllib_transport(timeout: float) -> Transport:
    opener = urllib.request.build_opener(_NoRedirect())

    def send(method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> HttpResponse:
        request = urllib.request.Request(url, data=body, method=method, headers=dict(headers))
        try:
            with opener.open(request, timeout=timeout) as answer:
                data = answer.read(MAX_RESPONSE_BYTES + 1)
                return HttpResponse(answer.status, dict(answer.headers), data)
        except urllib.error.HTTPError as exc:
            data = exc.read(MAX_RESPONSE_BYTES + 1) if exc.fp else b""
            return HttpResponse(exc.code, dict(exc.headers or {}), data)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise RemoteError(f"could not reach {urlsplit(url).netloc}: {getattr(exc, 'reason', exc)}") from exc

    return send


class Client:
    """JSON and form requests over a transport, with the URL rules applied."""

    def __init__(self, transport: Transport, *, allow_http_loopback: bool):
        self.transport = transport
        self.allow_http_loopback = allow_http_loopback

    def check(self, url: Any, what: str) -> str:
        return check_url(url, allow_http_loopback=self.allow_http_loopback, what=what)

    def request(self, method: str, url: str, *, what: str, headers: Mapping[str, str] | None = None,
                body: bytes | None = None) -> HttpResponse:
        self.check(url, what)
        response = self.transport(method, url, dict(headers or {}), body)
        if len(response.body) > MAX_RESPONSE_BYTES:
            raise RemoteError(f"the {what} answered with more than {MAX_RESPONSE_BYTES} bytes")
        if 300 <= response.status < 400:
            raise RemoteError(f"the {what} answered with a redirect, which the wallet does not follow")
        return response

    def json(self, method: str, url: str, *, what: str, headers: Mapping[str, str] | None = None,
             body: bytes | None = None, accept_errors: bool = False) -> tuple[int, Any]:
        response = self.request(method, url, what=what, headers={"Accept": "application/json", **(headers or {})}, body=body)
        if response.status >= 400 and not accept_errors:
            raise RemoteError(f"the {what} refused the request (HTTP {response.status}): {_error_text(response.body)}")
        try:
            return response.status, json_loads(response.body, what=f"the {what}'s answer")
        except InvalidInput as exc:
            raise RemoteError(f"the {what} did not answer with JSON: {exc}") from exc

    def post_json(self, url: str, payload: Any, *, what: str, headers: Mapping[str, str] | None = None) -> Any:
        body = json.dumps(payload).encode("utf-8")
        return self.json("POST", url, what=what, body=body, headers={"Content-Type": "application/json", **(headers or {})})[1]


def _error_text(body: bytes) -> str:
    try:
        document = json.loads(body)
    except ValueError:
        return body[:200].decode("utf-8", "replace")
    if isinstance(document, dict) and "error" in document:
        return f"{document.get('error')}: {str(document.get('error_description', ''))[:200]}"
    return body[:200].decode("utf-8", "replace")


def client_from_config(config: Mapping[str, Any]) -> Client:
    transport = config.get("HTTP_TRANSPORT") or urllib_transport(float(config.get("HTTP_TIMEOUT", 5.0)))
    return Client(transport, allow_http_loopback=bool(config.get("ALLOW_HTTP_LOOPBACK", True)))
