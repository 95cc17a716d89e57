"""Chain reorganisations and confirmations: the running LedgerView answers from the canonical chain.

Attack (issue 10, B6): a verifier cached an anchor; a reorganisation replaced
the block(s) it had processed with blocks that anchor a revocation; a fresh
verifier saw the revocation, the running one still said "verified", even after
more blocks were mined (it only read events *after* the block number it had
processed, never noticing that the block itself had changed).

Each test runs its own node (a reorganisation rewrites history, which the
session chain's other tests must not see). :class:`tests.evm_nodes.Fork` marks
where history forks; ``replace([(raw_signed_tx, block_offset), …])`` replaces
every block since by as many new ones, the given transactions mined in the
block at ``block_offset`` (0 = the first replaced block): ``anvil_reorg`` on
Anvil, snapshot and revert on Hardhat Network (``MICROCRED_TEST_NODE``).
"""

from __future__ import annotations

import hashlib

import pytest

from tests.evm_nodes import Fork
from tests.own_anvil import accredit_tao_and_issuer, dedicated_ledger

pytestmark = pytest.mark.integration

VCT = "urn:microcred:vct:micro-credential:1"
LIST_ID = "reorg-list"


@pytest.fixture
def own_ledger(tmp_path):
    """A dedicated Anvil (no state kept) with both registries, an accredited TAO and issuer."""
    with dedicated_ledger(tmp_path) as (_, _, ledger):
        try:
            tao, issuer = accredit_tao_and_issuer(ledger, "did:web:tao.reorg.example", "did:web:uni.reorg.example",
                                                  vcts=[VCT], legal_name="Reorg University")
            yield ledger, tao, issuer
        finally:
            for view in _VIEWS:
                view.stop()
            _VIEWS.clear()


ISSUER = "did:web:uni.reorg.example"
TAO = "did:web:tao.reorg.example"
URI = f"https://uni.reorg.example/status/{LIST_ID}"


def _rpc(ledger, method: str, params: list):
    with ledger.chain.guard(method):
        answer = ledger.chain.w3.provider.make_request(method, params)
    assert "error" not in answer, answer
    return answer.get("result")


def _signed(ledger, function, account) -> str:
    """``function`` as a raw signed transaction for the next nonce of ``account`` (not sent)."""
    w3 = ledger.chain.w3
    transaction = function.build_transaction({
        "from": account.address, "chainId": ledger.chain.chain_id(), "gas": 500_000,
        "nonce": w3.eth.get_transaction_count(account.address, "latest"),
        "maxFeePerGas": 2 * int(w3.eth.get_block("latest")["baseFeePerGas"]) + 10**9, "maxPriorityFeePerGas": 10**9,
    })
    return "0x" + account.sign_transaction(transaction).raw_transaction.hex()


def _anchor_tx(ledger, issuer, digest: bytes, version: int) -> str:
    return _signed(ledger, ledger.status.contract.functions.anchor(ISSUER, LIST_ID, digest, version), issuer)


def _anchor(ledger, issuer, digest: bytes, version: int) -> None:
    from ledger.status import StatusRegistryClient

    StatusRegistryClient(ledger.chain, ledger.status.contract, account=issuer).anchor(ISSUER, LIST_ID, digest, version)


def _mine(ledger, blocks: int) -> None:
    for _ in range(blocks):
        _rpc(ledger, "evm_mine", [])


_VIEWS: list = []


def _view(ledger, **options):
    from ledger.view import LedgerView

    # The token source is the injected I/O (the view hashes and keeps what it returns); no chain is faked.
    view = LedgerView(ledger, lambda uri: "token", **options)
    _VIEWS.append(view)  # its watcher thread is stopped with the fixture's Anvil
    view.refresh()
    return view


GOOD = hashlib.sha256(b"list: all valid").digest()
REVOKED = hashlib.sha256(b"list: index 7 revoked").digest()


@pytest.mark.parametrize(("depth", "offset", "mined_after"), [(1, 0, 0), (1, 0, 3), (3, 2, 0), (3, 0, 3)],
                         ids=["same-height", "three-blocks-later", "depth-3", "depth-3-then-three-blocks"])
def test_a_reorg_that_anchors_a_revocation_is_seen_by_the_running_view(own_ledger, depth, offset, mined_after):
    ledger, _, issuer = own_ledger
    _anchor(ledger, issuer, GOOD, 1)
    fork = Fork(ledger.chain)
    _mine(ledger, depth)  # the blocks the reorganisation will replace
    view = _view(ledger)
    assert view.status(ISSUER, URI).anchored_sha256 == GOOD  # cached at the processed head

    fork.replace([(_anchor_tx(ledger, issuer, REVOKED, 2), offset)])
    _mine(ledger, mined_after)
    assert ledger.status.latest_anchor(ISSUER, LIST_ID).sha256 == REVOKED  # what a fresh verifier reads

    view.refresh()  # what the watcher thread does every poll interval
    answer = view.status(ISSUER, URI)
    assert answer.anchored_sha256 == REVOKED
    assert answer.anchored_version == 2


def test_a_reorg_that_removes_an_anchor_is_seen_by_the_running_view(own_ledger):
    ledger, _, issuer = own_ledger
    _anchor(ledger, issuer, GOOD, 1)
    view = _view(ledger)
    fork = Fork(ledger.chain)
    _anchor(ledger, issuer, REVOKED, 2)
    view.refresh()
    assert view.status(ISSUER, URI).anchored_sha256 == REVOKED

    fork.replace([])  # the block of version 2 is replaced by an empty one
    _mine(ledger, 2)
    view.refresh()
    assert view.status(ISSUER, URI).anchored_sha256 == GOOD


def test_a_reorg_that_revokes_an_accreditation_is_seen_by_the_running_view(own_ledger):
    ledger, tao, _ = own_ledger
    fork = Fork(ledger.chain)
    _mine(ledger, 1)
    view = _view(ledger)
    at = ledger.chain.block_timestamp()
    assert view.trust(ISSUER, VCT, at).accredited is True  # cached

    fork.replace([(_signed(ledger, ledger.trust.contract.functions.revoke(ISSUER), tao), 0)])
    view.refresh()
    answer = view.trust(ISSUER, VCT, at)
    assert answer.accredited is False
    assert "revoked" in answer.reason


def test_reads_wait_for_the_configured_confirmations(own_ledger):
    ledger, _, issuer = own_ledger
    _anchor(ledger, issuer, GOOD, 1)
    _mine(ledger, 2)
    view = _view(ledger, confirmations=2)
    assert view.status(ISSUER, URI).anchored_sha256 == GOOD

    _anchor(ledger, issuer, REVOKED, 2)  # at the head: not yet confirmed
    view.refresh()
    assert view.status(ISSUER, URI).anchored_sha256 == GOOD
    _mine(ledger, 1)
    view.refresh()
    assert view.status(ISSUER, URI).anchored_sha256 == GOOD  # one confirmation of two
    _mine(ledger, 1)
    view.refresh()
    assert view.status(ISSUER, URI).anchored_sha256 == REVOKED


def test_reads_are_pinned_to_the_processed_block_hash(own_ledger):
    """A read at a block the chain no longer has is never answered from the replacing block."""
    from ledger.chain import BlockRef

    ledger, _, issuer = own_ledger
    from ledger.errors import LedgerError

    _anchor(ledger, issuer, GOOD, 1)
    fork = Fork(ledger.chain)
    _mine(ledger, 1)
    header = ledger.chain.block_header("latest")
    pinned = BlockRef(header.number, header.hash)
    assert ledger.status.latest_anchor(ISSUER, LIST_ID, block=pinned).sha256 == GOOD
    fork.replace([(_anchor_tx(ledger, issuer, REVOKED, 2), 0)])
    with pytest.raises(LedgerError):
        ledger.status.latest_anchor(ISSUER, LIST_ID, block=pinned)
    assert ledger.status.latest_anchor(ISSUER, LIST_ID, block=ledger.chain.block_header(header.number).ref) \
        .sha256 == REVOKED


def test_a_read_at_a_block_a_reorg_removed_is_made_again_at_the_new_block(own_ledger):
    """Between two polls, a cache miss reads at the processed hash; the node refuses it; the view catches up."""
    ledger, _, issuer = own_ledger
    _anchor(ledger, issuer, GOOD, 1)
    fork = Fork(ledger.chain)
    _mine(ledger, 1)
    view = _view(ledger, poll_interval=3600, max_lag=3600)  # no poll in between: the read itself must notice
    fork.replace([(_anchor_tx(ledger, issuer, REVOKED, 2), 0)])
    answer = view.status(ISSUER, URI)  # not cached yet: read at the hash that is gone
    assert answer.anchored_sha256 == REVOKED
    assert answer.anchored_version == 2
