"""Fail closed and recover: the chain stops mid-test (→ 503, verified false), then comes back (→ 200).

Runs its own Anvil (state persisted, restarted on the same port) so the shared one is never stopped.
"""

from __future__ import annotations

import time

import pytest

from tests.own_anvil import accredit_tao_and_issuer, dedicated_ledger
from tests.verifier.conftest import AnchoringIssuer, StatusServer
from tests.waiting import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def own_chain(tmp_path):
    with dedicated_ledger(tmp_path, persist_state=True) as (devnet, record, ledger):
        yield devnet, record, ledger, tmp_path


def _published_issuer(ledger, status_server: StatusServer, name: str):
    """An accredited did:key issuer (its TAO ``did:web:tao.<name>.example``) whose status list is anchored."""
    from credentials.dids import did_key_from_public_key
    from credentials.jose import PrivateKey
    from credentials.microcredential import MICRO_CREDENTIAL_VCT

    key = PrivateKey.generate("ES256")
    did = did_key_from_public_key(key.public_key())
    _, issuer_account = accredit_tao_and_issuer(ledger, f"did:web:tao.{name}.example", did,
                                                vcts=[MICRO_CREDENTIAL_VCT], legal_name=f"{name.title()} University")
    issuer = AnchoringIssuer(key, did, issuer_account, ledger, status_server, f"{name}-list")
    issuer.publish()
    return issuer


def test_chain_down_gives_503_and_recovers_after_restart(own_chain, status_server: StatusServer):

    from verifier import create_app, service_of

    devnet, record, ledger, data_dir = own_chain
    issuer = _published_issuer(ledger, status_server, "outage")

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


def test_evidence_made_before_a_restart_cannot_be_decided_after_it(own_chain, status_server: StatusServer,
                                                                     monkeypatch):
    """What the README says of the durable devnet: Anvil reloads the blocks, their logs and the head's state, not
    the state at older blocks, so the recheck of evidence made before a restart (it reads the status anchor at the
    evidence's block) cannot decide (exit 2) once newer blocks came before the restart."""
    from click.testing import CliRunner

    from tests.verifier.test_evidence import _download
    from verifier import create_app, service_of
    from verifier.cli import EXIT_UNDECIDED, EXIT_VERIFIED, verify

    devnet, record, ledger, data_dir = own_chain
    issuer = _published_issuer(ledger, status_server, "restart")
    app = create_app({"TESTING": True, "DATA_DIR": str(data_dir), "RPC_URL": record.url,
                      "VERIFIER_FETCH_ALLOW_HTTP": True, "VERIFIER_FETCH_ALLOW_LOOPBACK": True})
    try:
        text = _download(app.test_client(), issuer.present())
    finally:
        service_of(app).close()
    evidence = data_dir / "evidence.json"
    evidence.write_text(text, encoding="utf-8")
    for name, value in {"MICROCRED_DATA_DIR": str(data_dir), "MICROCRED_RPC_URL": record.url,
                        "MICROCRED_VERIFIER_FETCH_ALLOW_HTTP": "true",
                        "MICROCRED_VERIFIER_FETCH_ALLOW_LOOPBACK": "true"}.items():
        monkeypatch.setenv(name, value)
    before = CliRunner().invoke(verify, ["--evidence", str(evidence)])
    assert before.exit_code == EXIT_VERIFIED, before.output

    for _ in range(3):  # the evidence's block is no longer the head
        ledger.chain.w3.provider.make_request("evm_mine", [])
    still = CliRunner().invoke(verify, ["--evidence", str(evidence)])
    assert still.exit_code == EXIT_VERIFIED, still.output  # the running node still has the older block's state
    devnet.stop()
    devnet.start(port=record.port, persist_state=True)
    after = CliRunner().invoke(verify, ["--evidence", str(evidence)])
    assert after.exit_code == EXIT_UNDECIDED, after.output
    assert "revocation: cannot say: the status anchor cannot be read" in after.output
    assert "BlockOutOfRangeError" in after.output
    assert "issuer_trust: unchanged" in after.output  # events (logs) and the head's state came back
