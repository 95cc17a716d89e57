"""IssuanceRegistry against a real Anvil: one transaction per batch root, read back, events, every guard;
and the verifier's resolver (ledger.issuance.IssuanceAnchorSource) at the view's confirmed block."""

from __future__ import annotations

import hashlib
import json

import pytest
from eth_utils import keccak

from credentials.issuance_anchor import IssuanceAnchor
from credentials.merkle import MerkleTree, leaf_hash
from credentials.verification_model import Unavailable
from ledger.deployment import Deployment
from ledger.errors import TransactionReverted
from ledger.issuance import IssuanceAnchorSource
from ledger.view import LedgerView
from tests.own_anvil import accredit_tao_and_issuer, dedicated_ledger

pytestmark = pytest.mark.integration


def _root(label: str, size: int = 3) -> bytes:
    return MerkleTree([leaf_hash(hashlib.sha256(f"{label}-{i}".encode()).digest()) for i in range(size)]).root


def _reverts(error_name: str):
    return pytest.raises(TransactionReverted, match=rf"\({error_name}\)")


def test_one_transaction_anchors_a_root_and_anchor_of_reads_it_back(ledger, new_account):
    issuer = new_account()
    root = _root("read-back", 10_000)
    assert ledger.issuance.anchor_of(root) is None
    result = ledger.issuance.anchor_batch(root, 10_000, account=issuer)
    anchor = ledger.issuance.anchor_of(root)
    assert (anchor.issuer, anchor.block_number, anchor.size) == (issuer.address, result.block_number, 10_000)
    assert ledger.issuance.anchor_of(root, block=result.block_number - 1) is None


def test_the_event_carries_issuer_root_and_size_with_issuer_and_root_indexed(ledger, new_account):
    issuer = new_account()
    since = ledger.chain.block_number()
    root = _root("event")
    result = ledger.issuance.anchor_batch(root, 3, account=issuer)
    (log,) = result.logs
    assert bytes(log["topics"][0]) == keccak(text="BatchAnchored(address,bytes32,uint64)")
    assert bytes(log["topics"][1])[-20:] == bytes.fromhex(issuer.address[2:])
    assert bytes(log["topics"][2]) == root
    (event,) = ledger.issuance.anchor_events(issuer.address, from_block=since + 1)
    assert (event.issuer, event.root, event.size, event.block_number) == (issuer.address, root, 3,
                                                                          result.block_number)
    assert ledger.issuance.anchor_events(new_account().address, from_block=since + 1) == []


def test_a_root_is_anchored_once_only_whoever_tries_again(ledger, new_account):
    first, second = new_account(), new_account()
    root = _root("once")
    result = ledger.issuance.anchor_batch(root, 3, account=first)
    for account in (first, second):
        with _reverts("AlreadyAnchored") as caught:
            ledger.issuance.anchor_batch(root, 3, account=account)
        assert caught.value.error_args == {"root": "0x" + root.hex(), "issuer": first.address,
                                           "blockNumber": result.block_number}
    assert ledger.issuance.anchor_of(root).issuer == first.address


def test_guards_zero_root_empty_and_oversized_batches(ledger, new_account):
    issuer = new_account()
    with _reverts("ZeroRoot"):
        ledger.issuance.anchor_batch(bytes(32), 1, account=issuer)
    with _reverts("EmptyBatch"):
        ledger.issuance.anchor_batch(_root("empty"), 0, account=issuer)
    with _reverts("BatchTooLarge") as caught:
        ledger.issuance.anchor_batch(_root("huge"), 2**48, account=issuer)
    assert caught.value.error_args == {"size": 2**48, "maxSize": 2**48 - 1}
    ledger.issuance.anchor_batch(_root("largest"), 2**48 - 1, account=issuer)
    assert ledger.issuance.anchor_of(_root("largest")).size == 2**48 - 1


def test_the_gas_of_a_batch_does_not_grow_with_its_size(ledger, new_account):
    issuer = new_account()
    one = ledger.issuance.anchor_batch(_root("gas-1", 1), 1, account=issuer).gas_used
    many = ledger.issuance.anchor_batch(_root("gas-10000", 10_000), 10_000, account=issuer).gas_used
    assert abs(one - many) <= 8 * 12  # only the size's calldata bytes differ (zero: 4 gas, non-zero: 16)
    assert many < 50_000


def test_the_deployment_records_the_registry_and_an_older_file_names_it_missing(ledger_data_dir, ledger, tmp_path):
    data = json.loads((ledger_data_dir / "deployment.json").read_text())
    assert data["contracts"]["IssuanceRegistry"]["address"] == ledger.issuance.address
    assert Deployment.load(ledger_data_dir / "deployment.json").missing_registries == ()
    del data["contracts"]["IssuanceRegistry"]
    older = tmp_path / "deployment.json"
    older.write_text(json.dumps(data))
    assert Deployment.load(older).missing_registries == ("IssuanceRegistry",)


def test_the_resolver_reads_the_anchor_its_block_time_and_the_issuers_controller(ledger, accredit_issuer,
                                                                                 new_account):
    issuer = accredit_issuer()
    view = LedgerView(ledger, lambda uri: "")
    try:
        source = IssuanceAnchorSource(view)
        root = _root("resolver")
        assert source(issuer.did, root) == IssuanceAnchor(ledger.deployment.chain_id, ledger.issuance.address)
        result = ledger.issuance.anchor_batch(root, 3, account=issuer.account)
        view.refresh()
        assert source(issuer.did, root) == IssuanceAnchor(
            ledger.deployment.chain_id, ledger.issuance.address, issuer.account.address, result.block_number,
            ledger.chain.block_timestamp(result.block_number), 3, issuer.account.address)
        stranger = new_account()
        other = _root("resolver-stranger")
        ledger.issuance.anchor_batch(other, 3, account=stranger)
        view.refresh()
        answer = source(issuer.did, other)
        assert (answer.anchored_by, answer.issuer_account) == (stranger.address, issuer.account.address)
        assert source("did:web:nobody.example", other).issuer_account is None
    finally:
        view.stop()


def test_the_resolver_honours_confirmations(ledger, accredit_issuer):
    issuer = accredit_issuer()
    view = LedgerView(ledger, lambda uri: "", confirmations=3)
    try:
        source = IssuanceAnchorSource(view)
        root = _root("confirmations")
        ledger.issuance.anchor_batch(root, 3, account=issuer.account)
        view.refresh()
        assert source(issuer.did, root).anchored_by is None  # not yet 3 blocks deep
        for _ in range(3):
            ledger.chain.w3.provider.make_request("evm_mine", [])
        view.refresh()
        assert source(issuer.did, root).anchored_by == issuer.account.address
    finally:
        view.stop()


def test_the_resolver_is_unavailable_when_the_node_is_down_and_recovers_after(tmp_path):
    with dedicated_ledger(tmp_path) as (devnet, _, own):
        _, issuer = accredit_tao_and_issuer(own, "did:web:tao.down.example", "did:web:uni.down.example",
                                            vcts=["urn:microcred:vct:micro-credential:1"], legal_name="Down Uni")
        view = LedgerView(own, lambda uri: "", max_lag=0.0)
        try:
            source = IssuanceAnchorSource(view)
            root = _root("down")
            own.issuance.anchor_batch(root, 3, account=issuer)
            assert source("did:web:uni.down.example", root).anchored_by == issuer.address
            devnet.stop()
            assert source("did:web:uni.down.example", root) == Unavailable("the ledger did not answer")
        finally:
            view.stop()


def test_microcred_deploy_deploys_again_over_a_deployment_without_the_registry(tmp_path, anvil):
    from click.testing import CliRunner

    from microcred.cli import main

    env = {"MICROCRED_DATA_DIR": str(tmp_path), "MICROCRED_RPC_URL": anvil.url}
    first = CliRunner().invoke(main, ["deploy"], env=env, catch_exceptions=False)
    assert first.exit_code == 0, first.output
    assert "IssuanceRegistry 0x" in first.stdout
    path = tmp_path / "deployment.json"
    data = json.loads(path.read_text())
    old_trust = data["contracts"]["TrustRegistry"]["address"]
    del data["contracts"]["IssuanceRegistry"]
    path.write_text(json.dumps(data))
    again = CliRunner().invoke(main, ["deploy"], env=env, catch_exceptions=False)
    assert again.exit_code == 0, again.output
    assert "lacks IssuanceRegistry" in again.stdout
    redeployed = json.loads(path.read_text())
    assert "IssuanceRegistry" in redeployed["contracts"]
    assert redeployed["contracts"]["TrustRegistry"]["address"] != old_trust
    unchanged = CliRunner().invoke(main, ["deploy"], env=env, catch_exceptions=False)
    assert "already deployed" in unchanged.stdout


def test_the_resolver_reads_the_controller_from_events_where_the_node_keeps_no_old_state(tmp_path):
    """A node restarted from its state file (and any pruned full node, past ~128 blocks) serves no state at old
    blocks: reading the issuer's entry at the anchor block fails there. The controller at that block is then
    read from the TrustRegistry's events (Accredited, then ControllerTransferred), which the node keeps. Before,
    every batch anchored before a devnet restart was 'cannot be read' (503) for good."""
    from eth_account import Account

    from ledger.devnet import ANVIL_DEV_KEYS
    from ledger.errors import LedgerError

    with dedicated_ledger(tmp_path, persist_state=True) as (devnet, record, ledger):
        issuer_did = "did:web:pruned.example"
        _, first = accredit_tao_and_issuer(ledger, "did:web:tao.pruned.example", issuer_did,
                                           vcts=["urn:example:vct"], legal_name="Pruned University")
        root = _root("pruned-node")
        anchored = ledger.issuance.anchor_batch(root, 3, account=first)
        second = Account.from_key(ANVIL_DEV_KEYS[3])  # the controller passes to another account after the anchor
        ledger.trust.propose_controller(issuer_did, second.address, account=first)
        ledger.trust.accept_controller(issuer_did, account=second)
        assert ledger.trust.entry(issuer_did).controller == second.address

        devnet.stop()
        devnet.start(port=record.port, persist_state=True)
        with pytest.raises(LedgerError):  # this node serves no state at the anchor's block any more
            ledger.trust.entry(issuer_did, block=anchored.block_number)
        view = LedgerView(ledger, lambda uri: "")
        try:
            answer = IssuanceAnchorSource(view)(issuer_did, root)
        finally:
            view.stop()
        assert not isinstance(answer, Unavailable), answer
        assert (answer.anchored_by, answer.block_number) == (first.address, anchored.block_number)
        assert answer.issuer_account == first.address  # the controller then, not today's
