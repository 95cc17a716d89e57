"""Fail closed and recover: the chain stops mid-test (→ 503, verified false), then comes back (→ 200).

Runs its own Anvil (state persisted, restarted on the same port) so the shared one is never stopped.
"""

from __future__ import annotations

import time

import pytest

from tests.tooling import missing_tool
from tests.verifier.conftest import AnchoringIssuer, StatusServer
from tests.waiting import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def own_chain(tmp_path):
    from eth_account import Account

    from ledger.chain import Chain
    from ledger.config import DEPLOYMENT_FILE
    from ledger.deployment import attach, deploy
    from ledger.devnet import ANVIL_DEV_KEYS, Devnet, DevnetError, find_anvil

    try:
        find_anvil()
    except DevnetError as exc:
        missing_tool(f"Anvil is not installed: {exc}")
    devnet = Devnet(tmp_path / "devnet")
    record = devnet.start(persist_state=True)
    try:
        chain = Chain(record.url)
        root = Account.from_key(ANVIL_DEV_KEYS[0])
        deployment = deploy(chain, root)
        deployment.save(tmp_path / DEPLOYMENT_FILE)
        yield devnet, record, attach(chain, deployment, account=root), tmp_path
    finally:
        devnet.stop()


def test_chain_down_gives_503_and_recovers_after_restart(own_chain, status_server: StatusServer):
    from eth_account import Account

    from credentials.dids import did_key_from_public_key
    from credentials.jose import PrivateKey
    from credentials.microcredential import MICRO_CREDENTIAL_VCT
    from ledger.artifacts import Role
    from ledger.devnet import ANVIL_DEV_KEYS
    from verifier import create_app, service_of

    devnet, record, ledger, data_dir = own_chain
    tao_account, issuer_account = Account.from_key(ANVIL_DEV_KEYS[1]), Account.from_key(ANVIL_DEV_KEYS[2])
    start = min(ledger.chain.block_timestamp(), int(time.time())) - 3600
    key = PrivateKey.generate("ES256")
    did = did_key_from_public_key(key.public_key())
    ledger.trust.accredit(ledger.deployment.root_did, "did:web:tao.outage.example", role=Role.TAO,
                          vcts=[MICRO_CREDENTIAL_VCT], legal_name="Agency", country="IT", valid_from=start,
                          valid_until=None, controller=tao_account.address)
    ledger.trust.accredit("did:web:tao.outage.example", did, role=Role.ISSUER, vcts=[MICRO_CREDENTIAL_VCT],
                          legal_name="Outage University", country="IT", valid_from=start, valid_until=None,
                          controller=issuer_account.address, account=tao_account)
    issuer = AnchoringIssuer(key, did, issuer_account, ledger, status_server, "outage-list")
    issuer.publish()

    app = create_app({"TESTING": True, "DATA_DIR": str(data_dir), "RPC_URL": record.url,
                      "VERIFIER_FETCH_ALLOW_HTTP": True, "VERIFIER_FETCH_ALLOW_LOOPBACK": True,
                      "VERIFIER_POLL_INTERVAL": 0.05})
    client = app.test_client()
    try:
        def verify():
            return client.post("/api/v1/verify", json={"presentation": issuer.present()})

        first = verify()
        assert first.status_code == 200
        assert first.get_json()["verified"] is True

        devnet.stop()
        time.sleep(1.2)  # past the service's 1 s freshness window: cached answers are no longer trusted
        down = verify()
        answer = down.get_json()
        assert down.status_code == 503
        assert answer["verified"] is False
        checks = {c["check"]: c for c in answer["checks"]}
        assert checks["issuer_trust"]["status"] == "unavailable"
        assert checks["revocation"]["status"] == "unavailable"
        assert checks["signature"]["status"] == "passed"
        assert "did not answer" in checks["revocation"]["detail"]

        devnet.start(port=record.port, persist_state=True)
        back = wait_for(lambda: (answer := verify()).status_code == 200 and answer, within=15, step=0.2,
                        what="the verifier to answer 200 once the node is back")
        assert back.status_code == 200
        assert back.get_json()["verified"] is True
    finally:
        service_of(app).close()
