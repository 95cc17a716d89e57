"""The wallet's second fetch of a status list whose hash was not the anchored one asks caches to revalidate.

As the verifier does (tests/ledger/test_view_revalidate.py): a CDN or proxy keeping the list before a revocation
for its ``max-age`` answers the stale version until asked ``Cache-Control: no-cache`` / ``Pragma: no-cache``
(RFC 9111 §5.2.1.4, §5.4). The wallet here is built by its own ``create_app`` on a real Anvil deployment; the
cache is a real HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import shutil

import pytest

from tests.stale_cache import FRESH, stale_cache_server

pytestmark = pytest.mark.integration


@pytest.fixture
def stale_cache():
    with stale_cache_server() as served:
        yield served


@pytest.mark.parametrize("kind", ["status", "list_status"])  # a Token Status List; a W3C status list credential
def test_the_wallets_second_fetch_asks_a_cache_to_revalidate(tmp_path, ledger_data_dir, anvil, ledger,
                                                             accredit_issuer, stale_cache, kind):
    from ledger.config import DEPLOYMENT_FILE
    from wallet import create_app
    from wallet.freshness import close_app

    base, seen = stale_cache
    issuer = accredit_issuer()
    list_id = f"wallet-revalidated-{kind}"
    ledger.status.anchor(issuer.did, list_id, hashlib.sha256(FRESH.encode("ascii")).digest(), 1,
                         account=issuer.account)
    data_dir = tmp_path / "wallet"
    data_dir.mkdir()
    shutil.copy(ledger_data_dir / DEPLOYMENT_FILE, data_dir / DEPLOYMENT_FILE)
    app = create_app({"TESTING": True, "DATA_DIR": str(data_dir), "SESSION_COOKIE_SECURE": False,
                      "PUBLIC_URL": "http://127.0.0.1:5001", "RPC_URL": anvil.url, "CONFIRMATIONS": 0,
                      "DEV_LOOPBACK": True})
    try:
        check = app.config["TRUST_CHECK"]
        check._open()
        evidence = getattr(check.view, kind)(issuer.did, f"{base}/status/{list_id}")
    finally:
        close_app(app)

    assert evidence.token == FRESH, "the cache's stale list was handed over: the second fetch was not revalidated"
    assert seen == [("", ""), ("no-cache", "no-cache")]
