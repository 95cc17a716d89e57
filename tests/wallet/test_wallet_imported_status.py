"""The wallet's badge for a credential from elsewhere reads its W3C status list (issue 12): an Open Badge 3.0 as
vc+jwt with a BitstringStatusListEntry, by an issuer accredited on the real Anvil, its list served by a loopback
server through the wallet's strict fetcher and anchored on the StatusRegistry. The badge says "not revoked"; once
the served list marks it revoked and the new list is anchored, checking again says revoked. (Before: the wallet's
trust check passed the core no W3C list resolver, so the badge read "could not check".)"""

from __future__ import annotations

import hashlib
import io
import shutil
import time

import pytest
from wallet_helpers import Clock, WalletClient, db_rows

from credentials.dids import did_key_from_public_key
from credentials.jose import PublicKey
from credentials.verification_types import OB3_TYPE
from tests.verifier.conftest import accredit_any, status_server  # noqa: F401 - fixtures used by name
from tests.verifier.imported_world import JwtIssuer, badge_jwt, bitstring_list_jwt

pytestmark = pytest.mark.integration
INDEX = 4321


@pytest.fixture
def chain_app(tmp_path, clock: Clock, ledger_data_dir, anvil):
    """A wallet on the session deployment (its deployment record copied into the wallet's data dir)."""
    from ledger.config import DEPLOYMENT_FILE
    from wallet import create_app
    from wallet.freshness import close_app

    data_dir = tmp_path / "var"
    data_dir.mkdir()
    shutil.copy(ledger_data_dir / DEPLOYMENT_FILE, data_dir / DEPLOYMENT_FILE)
    clock.now = int(time.time())
    app = create_app({
        "TESTING": True, "DATA_DIR": str(data_dir), "CLOCK": clock, "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 8 * 1024, "ARGON2_PARALLELISM": 1, "SESSION_COOKIE_SECURE": False,
        "PUBLIC_URL": "http://127.0.0.1:5001", "RPC_URL": anvil.url, "CONFIRMATIONS": 0, "DEV_LOOPBACK": True,
    })
    yield app
    close_app(app)  # its ledger view's watcher stops with the test, not at exit after the chain is gone


@pytest.fixture
def learner(chain_app) -> WalletClient:
    client = WalletClient(chain_app.test_client())
    client.signup()
    return client


def anchor(ledger, account, did: str, list_id: str, text: str, version: int) -> None:
    from ledger.status import StatusRegistryClient

    client = StatusRegistryClient(ledger.chain, ledger.status.contract, account=account)
    client.anchor(did, list_id, hashlib.sha256(text.encode()).digest(), version, None)


def upload(learner: WalletClient, text: str, filename: str) -> int:
    learner.get("/credentials/add")
    response = learner.post("/credentials/add", {"file": (io.BytesIO(text.encode("utf-8")), filename)},
                            content_type="multipart/form-data")
    assert response.status_code == 302, learner.last_page[:2000]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def badge_row(app, credential_id: int) -> tuple[str, str]:
    return db_rows(app, "SELECT badge, badge_detail FROM credentials WHERE id = ?", [credential_id])[0]


def test_an_open_badge_with_a_bitstring_list_shows_not_revoked_then_revoked(chain_app, learner, ledger,
                                                                          accredit_any,  # noqa: F811
                                                                          status_server):  # noqa: F811
    issuer = JwtIssuer()
    account = accredit_any(issuer.did, [OB3_TYPE])
    list_id = f"wallet-ob3-{issuer.did[-10:]}"
    url = f"{status_server.base}/status/{list_id}"
    listed = bitstring_list_jwt(issuer, url, valid_from=int(time.time()) - 60)
    status_server.serve(f"/status/{list_id}", listed, content_type="application/vc+jwt")
    anchor(ledger, account, issuer.did, list_id, listed, 1)
    holder = did_key_from_public_key(PublicKey.from_jwk(learner.holder_jwk(chain_app)))
    token = badge_jwt(issuer, holder, valid_from=int(time.time()) - 600, status_url=url, index=INDEX)

    credential_id = upload(learner, token, "badge.jwt")
    state, detail = badge_row(chain_app, credential_id)
    assert state == "verified", detail
    assert "not revoked" in detail
    assert "anchored at block" in detail
    learner.get(f"/credentials/{credential_id}")
    assert "Verified: trusted issuer, not revoked" in learner.last_page

    revoked = bitstring_list_jwt(issuer, url, valid_from=int(time.time()) - 30, revoked=(INDEX,))
    status_server.serve(f"/status/{list_id}", revoked, content_type="application/vc+jwt")
    anchor(ledger, account, issuer.did, list_id, revoked, 2)
    learner.get(f"/credentials/{credential_id}")
    assert learner.post(f"/credentials/{credential_id}/recheck", {}).status_code == 302
    state, detail = badge_row(chain_app, credential_id)
    assert state == "failed", detail
    assert "is revoked" in detail
    learner.get(f"/credentials/{credential_id}")
    assert "Problem found" in learner.last_page
    assert "revoked" in learner.last_page
