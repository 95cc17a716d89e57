"""Per-client rate limits counted in the shared store (issue 10, B18).

A limit is written ``N/S``: at most N requests per S seconds per client, e.g.
``MICROCRED_VERIFIER_RATE_LIMIT=120/60``; ``off`` disables one (for a
deployment whose reverse proxy limits already). Counters live in
:mod:`infra.store`, so every worker and every instance sharing the store counts
the same hits. A refused request raises :class:`RateLimited`, which each
service answers with HTTP 429 and ``Retry-After`` (RFC 6585 §4; RFC 9110
§10.2.3).

The client is the request's remote address as the WSGI server (or, behind a
configured number of trusted proxies, ``werkzeug.middleware.proxy_fix``)
reports it; this module does not read forwarding headers itself. An IPv6 client
is counted by its /64 and an IPv4-mapped address as its IPv4 address
(:func:`client_key`).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from credentials.errors import ConfigurationError, RateLimited
from infra.store import Store

__all__ = ["RateLimit", "RateLimited", "parse_rate_limit", "rate_limit_check", "client_key", "enforce"]

_SPEC = re.compile(r"\s*(\d{1,9})\s*/\s*(\d{1,9})\s*")
_OFF = {"off", "none", "unlimited"}


@dataclass(frozen=True)
class RateLimit:
    """At most ``limit`` requests per ``window`` seconds."""

    limit: int
    window: int

    def __str__(self) -> str:
        return f"{self.limit}/{self.window}"


def parse_rate_limit(value: Any, *, setting: str) -> RateLimit | None:
    """``"120/60"`` → RateLimit(120, 60); ``"off"`` → None; anything else: ConfigurationError naming ``setting``."""
    if isinstance(value, RateLimit):
        return value
    if isinstance(value, str) and value.strip().lower() in _OFF:
        return None
    match = _SPEC.fullmatch(value) if isinstance(value, str) else None
    if match is None or int(match.group(1)) < 1 or int(match.group(2)) < 1:
        raise ConfigurationError(f"{setting} must be N/S (at most N requests per S seconds, both >= 1) or 'off', "
                                 f"found {value!r}")
    return RateLimit(int(match.group(1)), int(match.group(2)))


def rate_limit_check(name: str) -> Callable[[Any], Any]:
    """The start-up check of the rate-limit setting ``MICROCRED_<name>`` (:class:`infra.settings.Setting`'s
    ``check``): a value :func:`parse_rate_limit` refuses is a ConfigurationError naming the variable."""

    def check(value: Any) -> Any:
        parse_rate_limit(value, setting=f"MICROCRED_{name}")
        return value

    return check


def client_key(client: str | None) -> str:
    """Whose count a request adds to: an IPv6 client's /64 (one host holds a whole /64, RFC 4291 §2.5.1, and may
    take a new address for each request), an IPv4-mapped IPv6 address's IPv4 address, any other text as it is."""
    if not client:
        return "unknown"
    if ":" not in client:  # an IPv4 address (or other text): itself; parsing it cost ~5 us on every request
        return client
    return _ipv6_key(client)


@lru_cache(maxsize=4096)
def _ipv6_key(client: str) -> str:
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return client
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return client


def enforce(store: Store, namespace: str, limit: RateLimit | None, client: str | None, *, what: str) -> None:
    """Count one request of ``client``; raise :class:`RateLimited` past ``limit``."""
    if limit is None:
        return
    decision = store.hit(namespace, client_key(client), limit.window, limit.limit)
    if not decision.allowed:
        raise RateLimited(what, decision.retry_after)
