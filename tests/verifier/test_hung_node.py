"""A node that stops answering (issue 10, B7): one deadline per verification, not a timeout per call.

Attack: with Anvil frozen (SIGSTOP: its sockets accept, nothing answers) a
verification waited on one RPC timeout after another and the 503 came after
30–39 s, tying up a worker all that time. Now the whole trust + status
resolution of a request ends within ``MICROCRED_VERIFIER_DEADLINE`` (default
5 s) as ``unavailable`` → 503, and the verifier recovers once the node answers.

Runs its own Anvil, since freezing the shared one would stall every other test.
The bound asserted below is a hang guard (three times the deadline), not a
timing benchmark.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time

import pytest

from ledger.config import LedgerSettings
from tests.own_anvil import accredit_tao_and_issuer, dedicated_ledger
from tests.verifier.conftest import AnchoringIssuer
from tests.waiting import wait_for

pytestmark = pytest.mark.integration

HANG_GUARD_S = 15.0


@pytest.fixture
def frozen_chain(tmp_path, status_server):
    """A dedicated Anvil with a deployment, an accredited did:key issuer and its anchored list."""
    from credentials.dids import did_key_from_public_key
    from credentials.jose import PrivateKey
    from credentials.microcredential import MICRO_CREDENTIAL_VCT

    with dedicated_ledger(tmp_path) as (_, record, ledger):
        try:
            key = PrivateKey.generate("ES256")
            did = did_key_from_public_key(key.public_key())
            _, controller = accredit_tao_and_issuer(ledger, "did:web:tao.hung.example", did,
                                                    vcts=[MICRO_CREDENTIAL_VCT], legal_name="Hung University")
            issuer = AnchoringIssuer(key, did, controller, ledger, status_server, "hung-list")
            issuer.publish()
            yield record, issuer, tmp_path
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(record.pid, signal.SIGCONT)


def test_a_hung_node_gives_503_within_the_deadline_and_the_verifier_recovers(frozen_chain):
    from verifier import create_app, service_of

    record, issuer, data_dir = frozen_chain
    config = {"TESTING": True, "DATA_DIR": str(data_dir), "RPC_URL": record.url, "VERIFIER_FETCH_ALLOW_HTTP": True,
              "VERIFIER_FETCH_ALLOW_LOOPBACK": True, "VERIFIER_POLL_INTERVAL": 0.05}
    app = create_app(config)
    client = app.test_client()
    try:
        def verify():
            return client.post("/api/v1/verify", json={"presentation": issuer.present()})

        assert verify().get_json()["verified"] is True

        os.kill(record.pid, signal.SIGSTOP)
        try:
            time.sleep(1.2)  # past the view's 1 s freshness window: cached answers are no longer trusted
            started = time.monotonic()
            down = verify()
            took = time.monotonic() - started
            page = client.post("/verify", data={"presentation": issuer.present()})
        finally:
            os.kill(record.pid, signal.SIGCONT)
        answer = down.get_json()
        assert down.status_code == 503, answer
        assert answer["verified"] is False, answer
        assert took < HANG_GUARD_S, f"the verification hung for {took:.1f} s"
        checks = {c["check"]: c for c in answer["checks"]}
        assert checks["issuer_trust"]["status"] == "unavailable"
        assert checks["revocation"]["status"] in ("unavailable", "skipped")
        assert "did not answer" in checks["issuer_trust"]["detail"]
        for text in (down.get_data(as_text=True), page.get_data(as_text=True)):
            assert f":{record.port}" not in text  # the operator's log has the node's address

        back = wait_for(lambda: (answer := verify()).status_code == 200 and answer, within=15, step=0.2,
                        what="the verifier to answer 200 once the node runs again")
        assert back.status_code == 200
        assert back.get_json()["verified"] is True
    finally:
        service_of(app).close()


def test_the_wallets_trust_check_ends_within_its_deadline_on_a_hung_node(frozen_chain):
    """The wallet checks issuer trust and status on import with the same chain view: same deadline."""
    import urllib.request

    from wallet.checking import BADGE_UNAVAILABLE, BADGE_VERIFIED, badge_for, ledger_trust_check

    record, issuer, data_dir = frozen_chain

    def fetch_status_token(uri: str) -> str:
        with urllib.request.urlopen(uri, timeout=5) as answer:
            return answer.read().decode("ascii")

    check = ledger_trust_check(LedgerSettings(data_dir, record.url, 0), fetch_status_token)
    credential = issuer.credential()
    assert badge_for(credential, "dc+sd-jwt", now=int(time.time()), trust_check=check).state == BADGE_VERIFIED

    os.kill(record.pid, signal.SIGSTOP)
    try:
        time.sleep(0.5)  # the view's watcher is now stuck on the frozen node
        started = time.monotonic()
        badge = badge_for(credential, "dc+sd-jwt", now=int(time.time()), trust_check=check)
        took = time.monotonic() - started
    finally:
        os.kill(record.pid, signal.SIGCONT)
    assert badge.state == BADGE_UNAVAILABLE
    assert took < HANG_GUARD_S, f"the wallet's check hung for {took:.1f} s"
    assert not any(f":{record.port}" in c["detail"] for c in badge.checks)
