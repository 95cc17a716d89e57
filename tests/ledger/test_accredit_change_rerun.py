"""``microcred accredit suspend|revoke|reinstate`` run again after a run killed once its transaction was mined.

What such a kill leaves: the change on the TrustRegistry and nothing printed. The same command run again
finds the entry already as asked and says so, exit 0 ("already suspended: … nothing to do"), instead of
ending in the contract's "AlreadySuspended" / "AlreadyRevoked" / "NotSuspended", exit 1. A change the entry
cannot take (suspending or reinstating a revoked entry) is still refused.
"""

from __future__ import annotations

import pytest
from eth_account import Account

from ledger.artifacts import Role
from tests.ledger.cli_runner import one_line_error, run

pytestmark = pytest.mark.integration

VCT = "urn:microcred:vct:micro-credential:1"


def _accredited(ledger, chain, unique_did, label: str) -> str:
    did = unique_did(label)
    ledger.trust.accredit(ledger.deployment.root_did, did, role=Role.ISSUER, vcts=[VCT], legal_name="Uni Prova",
                          country="IT", valid_from=chain.block_timestamp() - 10, valid_until=None,
                          controller=Account.create().address)
    return did


def test_a_suspend_killed_once_mined_is_nothing_to_do_when_run_again(ledger, ledger_env, chain, unique_did):
    did = _accredited(ledger, chain, unique_did, "killed-suspend")
    ledger.trust.suspend(did)  # what the killed run sent
    code, out, err = run(["accredit", "suspend", did], ledger_env)
    assert code == 0, err
    assert f"already suspended: {did}" in out
    assert "nothing to do" in out
    assert ledger.trust.entry(did).status == "suspended"


def test_a_reinstate_killed_once_mined_is_nothing_to_do_when_run_again(ledger, ledger_env, chain, unique_did):
    did = _accredited(ledger, chain, unique_did, "killed-reinstate")
    ledger.trust.suspend(did)
    ledger.trust.reinstate(did)  # what the killed run sent
    code, out, err = run(["accredit", "reinstate", did], ledger_env)
    assert code == 0, err
    assert f"already active: {did}" in out
    assert "nothing to do" in out
    assert ledger.trust.entry(did).status == "active"


def test_a_revoke_killed_once_mined_is_nothing_to_do_when_run_again(ledger, ledger_env, chain, unique_did):
    did = _accredited(ledger, chain, unique_did, "killed-revoke")
    ledger.trust.revoke(did)  # what the killed run sent
    code, out, err = run(["accredit", "revoke", did], ledger_env)
    assert code == 0, err
    assert f"already revoked: {did}" in out
    assert "nothing to do" in out


def test_a_revoked_entry_is_still_refused_a_suspend_or_a_reinstate(ledger, ledger_env, chain, unique_did):
    did = _accredited(ledger, chain, unique_did, "revoked-then")
    ledger.trust.revoke(did)
    for command in ("suspend", "reinstate"):
        code, _, err = run(["accredit", command, did], ledger_env)
        assert code == 1, err
        assert "AlreadyRevoked" in one_line_error(err)


def test_an_unknown_did_is_still_refused(ledger, ledger_env, unique_did):
    did = unique_did("never-accredited")
    for command in ("suspend", "reinstate", "revoke"):
        code, _, err = run(["accredit", command, did], ledger_env)
        assert code == 1, err
        assert "UnknownDid" in one_line_error(err)
