"""The benches' HTTP client: ``infra.fetch.StrictFetcher``, allowed nothing but this machine's 127.0.0.1.

The benches talk only to servers and nodes they started themselves on loopback (the verifier under load, an
Anvil for the gas figures); they use the product's one strict outbound client, with a policy that admits
plain http to 127.0.0.1 and refuses every other host before anything is sent.
"""

from __future__ import annotations

from functools import lru_cache

from infra.fetch import FetchPolicy, StrictFetcher

__all__ = ["LOOPBACK_HOST", "loopback_fetcher"]

LOOPBACK_HOST = "127.0.0.1"


@lru_cache(maxsize=16)
def loopback_fetcher(timeout: float, max_bytes: int = 16 * 1024 * 1024) -> StrictFetcher:
    """A fetcher of ``http://127.0.0.1:<port>/...`` and nothing else (one deadline of ``timeout`` seconds)."""
    return StrictFetcher(FetchPolicy(allowed_hosts=frozenset({LOOPBACK_HOST}), allow_loopback=True,
                                     timeout=timeout, max_bytes=max_bytes))
