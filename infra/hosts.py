"""Which ``Host`` a service answers, and whose ``X-Forwarded-*`` headers it believes.

A service answers only the host names of its public URL (plus
``MICROCRED_TRUSTED_HOSTS``); any other ``Host`` gets 400 before a view runs
(Flask 3.1 ``TRUSTED_HOSTS``, checked by werkzeug's ``get_host``), so DNS
rebinding (a hostile name resolving to the service) and link poisoning (a
forged ``Host`` copied into an emitted URL) fail. A loopback public URL
(``http://127.0.0.1:5001``) trusts every loopback name, since they reach the
same socket; an app built without a public URL trusts loopback names only.

Absolute URLs a service emits come from its configured public URL;
``microcred … serve`` always sets one (default: the address it binds). Only
an app built without one (a test client, a bare WSGI import) falls back to
the request's own host URL, which the check above has limited to trusted names.

Behind a reverse proxy, ``MICROCRED_TRUSTED_PROXIES=N`` (default 0) wraps the
app in werkzeug's ``ProxyFix`` for N hops of ``X-Forwarded-For/-Proto/-Host/
-Port/-Prefix``; with 0 those headers are ignored. A forwarded host is then
checked against the trusted hosts like a direct one.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import request
from werkzeug.exceptions import SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wsgi import get_host

from credentials.errors import ConfigurationError

__all__ = ["LOOPBACK_NAMES", "configure_hosts", "trusted_hosts_for", "public_base_url"]

LOOPBACK_NAMES = ("localhost", "127.0.0.1")
_TRUSTED_HOSTS = "TRUSTED_HOSTS"
_TRUSTED_PROXIES = "TRUSTED_PROXIES"
_PUBLIC_URL_KEY = "microcred_public_url"


def _names(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = value.split(",")
    return [str(name).strip().lower() for name in value if str(name).strip()]


def _host_of(public_url: str) -> str:
    parts = urlsplit(public_url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ConfigurationError(f"expected the public URL as http(s)://host[:port][/path], found {public_url!r}")
    return parts.hostname.lower()


def trusted_hosts_for(public_url: str | None, extra: Any = None) -> list[str]:
    """The host names to answer: the public URL's (all loopback names for a loopback one) and ``extra``."""
    names = _names(extra)
    host = _host_of(public_url) if public_url else None
    if host is None or host in LOOPBACK_NAMES or host.startswith("127."):
        names += LOOPBACK_NAMES
    if host is not None:
        names.append(host)
    return sorted(set(names))


class _RefuseForeignHosts:
    """WSGI middleware: 400 for a ``Host`` not in ``trusted``, before Flask builds a request context.

    Flask's own ``TRUSTED_HOSTS`` check (kept as a second line) fails inside the
    request context, where error pages that build URLs would then fail too.
    """

    _BODY = b"400 Bad Request: this service does not answer to that host name.\n"

    _REMEMBERED = 256

    def __init__(self, wsgi_app: Any, trusted: list[str]):
        self.wsgi_app = wsgi_app
        self.trusted = trusted
        # get_host's verdict for each recent (Host, server name, port, scheme): what it reads, nothing else.
        # Checking again costs ~6 µs per request (IDNA-encoding every trusted name); the memo is bounded.
        self._verdicts: dict[tuple[Any, ...], bool] = {}

    def _trusted(self, environ: dict) -> bool:
        key = (environ.get("HTTP_HOST"), environ.get("SERVER_NAME"), environ.get("SERVER_PORT"),
               environ.get("wsgi.url_scheme"))
        verdict = self._verdicts.get(key)
        if verdict is None:
            try:
                get_host(environ, self.trusted)
                verdict = True
            except SecurityError:
                verdict = False
            if len(self._verdicts) >= self._REMEMBERED:
                self._verdicts.clear()
            self._verdicts[key] = verdict
        return verdict

    def __call__(self, environ: dict, start_response: Any) -> Any:
        host = environ.get("HTTP_HOST")
        if host and host != host.lower():
            environ["HTTP_HOST"] = host.lower()  # a host name is case-insensitive (RFC 3986 §3.2.2)
        if not self._trusted(environ):
            start_response("400 Bad Request", [("Content-Type", "text/plain; charset=utf-8"),
                                               ("Content-Length", str(len(self._BODY))),
                                               ("X-Content-Type-Options", "nosniff"), ("Cache-Control", "no-store")])
            return [self._BODY]
        return self.wsgi_app(environ, start_response)


def configure_hosts(app: Any, public_url: str | None) -> None:
    """Set ``TRUSTED_HOSTS`` from ``public_url`` and ``MICROCRED_TRUSTED_HOSTS``;
    honour ``MICROCRED_TRUSTED_PROXIES``."""
    app.config[_TRUSTED_HOSTS] = trusted_hosts_for(public_url, app.config.get(_TRUSTED_HOSTS))
    app.wsgi_app = _RefuseForeignHosts(app.wsgi_app, app.config[_TRUSTED_HOSTS])
    app.extensions[_PUBLIC_URL_KEY] = public_url.rstrip("/") if public_url else None
    raw = app.config.get(_TRUSTED_PROXIES, 0)
    try:
        hops = int(raw)
        if hops < 0 or isinstance(raw, bool):
            raise ValueError
    except (TypeError, ValueError):
        raise ConfigurationError(f"MICROCRED_TRUSTED_PROXIES must be a whole number of proxy hops >= 0, "
                                 f"found {raw!r}") from None
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops)


def public_base_url(app: Any) -> str:
    """The service's public base URL without a trailing '/' (the request's, checked, when none is configured)."""
    configured = app.extensions.get(_PUBLIC_URL_KEY)
    if configured:
        return configured
    return request.host_url.rstrip("/")
