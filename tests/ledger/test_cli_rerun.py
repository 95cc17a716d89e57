"""``microcred accredit grant`` run again after a run killed once its transaction was mined (real Anvil).

What such a kill leaves: the entry on the TrustRegistry, its controller not yet funded (on a devnet the
command funds it after the grant) and nothing printed. The same command run again says the DID is already
accredited as asked and funds the controller, instead of ending in "AlreadyRegistered" and leaving an
issuer that cannot pay for its anchors. A grant that differs from the entry on chain is still refused.
"""

from __future__ import annotations

import pytest
from eth_account import Account

from ledger.artifacts import Role
from ledger.keys import DEVNET_FUNDING_WEI
from tests.ledger.cli_runner import one_line_error, run

pytestmark = pytest.mark.integration

VCT = "urn:microcred:vct:micro-credential:1"


def test_a_grant_killed_after_its_transaction_finishes_when_run_again(ledger, ledger_env, chain, unique_did):
    did, controller = unique_did("killed-grant"), Account.create().address
    ledger.trust.accredit(ledger.deployment.root_did, did, role=Role.ISSUER, vcts=[VCT], legal_name="Uni Prova",
                          country="IT", valid_from=chain.block_timestamp() - 10, valid_until=None,
                          controller=controller)
    assert chain.balance(controller) == 0  # the kill came before the funding
    args = ["accredit", "grant", did, "--type", VCT, "--name", "Uni Prova", "--country", "IT",
            "--controller", controller]
    code, out, err = run(args, ledger_env)
    assert code == 0, err
    assert f"already accredited: {did}" in out
    assert "nothing to do" in out
    assert chain.balance(controller) >= DEVNET_FUNDING_WEI // 10
    code, out, err = run([*args[:6], "Another Name", *args[7:]], ledger_env)
    assert code == 1
    assert "AlreadyRegistered" in one_line_error(err)
