"""The wallet's outbound HTTP: issuer and verifier endpoints through the one strict fetcher.

Every request goes through :class:`infra.fetch.StrictFetcher` (https only,
public addresses checked after resolution, no redirects, size and time caps;
loopback only with ``MICROCRED_DEV_LOOPBACK``). :class:`Client` adds what the
OpenID4VCI and OpenID4VP clients need on top — JSON answers, form and JSON
bodies — and never puts a remote answer into a message a learner sees (the
fetcher logs it). Tests may plug another service's Flask test client in
place of the network with ``HTTP_TRANSPORT`` (``(method, url, headers, body)
-> Response``); the URL rules still apply.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from credentials.errors import InvalidInput
from credentials.jose import json_loads
from infra.errors import FetchError, FetchRefused, RemoteUnreachable, UnusableAnswer
from infra.fetch import FetchPolicy, Response, StrictFetcher

__all__ = ["MAX_RESPONSE_BYTES", "HttpResponse", "Client", "client_from_config", "FetchError", "FetchRefused"]

MAX_RESPONSE_BYTES = 512 * 1024
HttpResponse = Response  # the name the tests' transports build


class Client:
    """JSON and form requests over a :class:`StrictFetcher`."""

    def __init__(self, fetcher: StrictFetcher):
        self.fetcher = fetcher

    def check(self, url: Any, what: str) -> str:
        """``url`` if its form is one the wallet fetches (no network); FetchRefused saying why not."""
        self.fetcher.check_url(url, what=what)
        return url

    def request(self, method: str, url: str, *, what: str, headers: Mapping[str, str] | None = None,
                body: bytes | None = None) -> Response:
        return self.fetcher.request(method, url, headers, body, what=what)

    def json(self, method: str, url: str, *, what: str, headers: Mapping[str, str] | None = None,
             body: bytes | None = None) -> Any:
        """The JSON answer; an HTTP error status or a body that is not JSON is a FetchError (its text logged)."""
        response = self.request(method, url, what=what, headers={"Accept": "application/json", **(headers or {})},
                                body=body)
        authority = self.fetcher.check_url(url, what=what).authority
        if response.status >= 500:
            raise RemoteUnreachable(f"the {what} at {authority} failed (HTTP {response.status}); try again later",
                                    status=response.status)
        if response.status >= 400:
            raise UnusableAnswer(f"the {what} at {authority} refused the request (HTTP {response.status})",
                                 status=response.status)
        try:
            return json_loads(response.body, what=f"the {what}'s answer")
        except InvalidInput:
            raise UnusableAnswer(f"the {what} at {authority} did not answer with JSON",
                                 status=response.status) from None

    def post_json(self, url: str, payload: Any, *, what: str, headers: Mapping[str, str] | None = None) -> Any:
        body = json.dumps(payload).encode("utf-8")
        return self.json("POST", url, what=what, body=body,
                         headers={"Content-Type": "application/json", **(headers or {})})


def client_from_config(config: Mapping[str, Any]) -> Client:
    """The client of a wallet app's settings (``DEV_LOOPBACK``, ``HTTP_TIMEOUT``, ``HTTP_TRANSPORT``, …)."""
    policy = FetchPolicy.from_config(config, max_bytes=MAX_RESPONSE_BYTES,
                                     timeout=float(config.get("HTTP_TIMEOUT", 5.0)))
    return Client(StrictFetcher(policy, transport=config.get("HTTP_TRANSPORT")))
