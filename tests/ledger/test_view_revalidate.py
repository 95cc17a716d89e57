"""A status list fetched again after its hash did not match the anchor asks caches to revalidate, on a real Anvil.

A CDN or proxy cache between verifier and issuer may keep serving the version before a revocation for up to
its ``max-age`` (the issuer sends 300 s). When the served list does not hash to the anchor, the view confirms the
head and fetches the list again: that second request carries ``Cache-Control: no-cache`` and ``Pragma: no-cache``
(RFC 9111 §5.2.1.4, §5.4) so that the cache asks the issuer; the first request of each list does not (a cache
in front of the issuer keeps its whole use). The server here is a real HTTP server on 127.0.0.1 that answers as
such a cache does: the stale version unless the request asks it to revalidate.
"""

from __future__ import annotations

import hashlib

import pytest

from tests.stale_cache import FRESH, STALE, stale_cache_server

pytestmark = pytest.mark.integration


@pytest.fixture
def stale_cache():
    with stale_cache_server() as served:
        yield served


def _anchored_fresh(ledger, accredit_issuer, list_id: str):
    issuer = accredit_issuer()
    ledger.status.anchor(issuer.did, list_id, hashlib.sha256(FRESH.encode("ascii")).digest(), 1,
                         account=issuer.account)
    return issuer


@pytest.mark.parametrize("kind", ["status", "list_status"])  # a Token Status List; a W3C status list credential
def test_the_verifiers_second_fetch_asks_a_cache_to_revalidate(ledger_data_dir, anvil, ledger, accredit_issuer,
                                                               stale_cache, kind):
    from verifier.service import VerifierService

    base, seen = stale_cache
    issuer = _anchored_fresh(ledger, accredit_issuer, f"revalidated-{kind}")
    service = VerifierService({"DATA_DIR": str(ledger_data_dir), "RPC_URL": anvil.url, "DEV_LOOPBACK": True,
                               "VERIFIER_POLL_INTERVAL": 3600})
    try:
        evidence = getattr(service.ledger_view(), kind)(issuer.did, f"{base}/status/revalidated-{kind}")
    finally:
        service.close()

    assert evidence.token == FRESH, "the cache's stale list was handed over: the second fetch was not revalidated"
    assert evidence.anchored_sha256 == hashlib.sha256(FRESH.encode("ascii")).digest()
    assert seen == [("", ""), ("no-cache", "no-cache")]


def test_a_list_that_matches_at_once_is_fetched_once_without_no_cache(ledger, accredit_issuer, stale_cache):
    from infra.fetch import FetchPolicy, StrictFetcher
    from ledger.view import LedgerView

    base, seen = stale_cache
    issuer = accredit_issuer()
    ledger.status.anchor(issuer.did, "stale-is-current", hashlib.sha256(STALE.encode("ascii")).digest(), 1,
                         account=issuer.account)
    fetcher = StrictFetcher(FetchPolicy(allow_loopback=True))

    def fetch(uri: str) -> str:
        return fetcher.get_text(uri, accept="application/statuslist+jwt", what="status list")

    def refetch(uri: str) -> str:
        return fetcher.get_text(uri, accept="application/statuslist+jwt", what="status list", revalidate=True)

    view = LedgerView(ledger, fetch, refetch_token=refetch)
    view.refresh()
    evidence = view.status(issuer.did, f"{base}/status/stale-is-current")

    assert evidence.token == STALE
    assert seen == [("", "")]
