"""StatusRegistry against a real Anvil: anchoring, carried lists, events, and every guard."""

from __future__ import annotations

import hashlib
import zlib

import pytest
from eth_utils import keccak

from credentials.errors import InvalidInput
from ledger.artifacts import Role, Standing
from ledger.errors import TransactionReverted
from ledger.status import ListAnchor

pytestmark = pytest.mark.integration

LIST_ID = "https://issuer.example/status/1"


def _digest(label: str) -> bytes:
    return hashlib.sha256(label.encode()).digest()


def _reverts(error_name: str):
    return pytest.raises(TransactionReverted, match=rf"\({error_name}\)")


def test_anchor_and_read_back(ledger, accredit_issuer):
    issuer = accredit_issuer()
    assert ledger.status.latest_anchor(issuer.did, LIST_ID) is None
    result = ledger.status.anchor(issuer.did, LIST_ID, _digest("v1"), 1, account=issuer.account)
    anchor = ledger.status.latest_anchor(issuer.did, LIST_ID)
    assert anchor is not None
    assert (anchor.sha256, anchor.version, anchor.block_number) == (_digest("v1"), 1, result.block_number)
    assert anchor.block_timestamp == ledger.chain.block_timestamp(result.block_number)


def test_versions_go_up_and_history_stays_readable(ledger, accredit_issuer):
    issuer = accredit_issuer()
    first = ledger.status.anchor(issuer.did, LIST_ID, _digest("a"), 1, account=issuer.account)
    ledger.status.anchor(issuer.did, LIST_ID, _digest("b"), 5, account=issuer.account)
    assert ledger.status.latest_anchor(issuer.did, LIST_ID).version == 5
    assert ledger.status.latest_anchor(issuer.did, LIST_ID, block=first.block_number).sha256 == _digest("a")
    with _reverts("VersionNotIncreasing") as caught:
        ledger.status.anchor(issuer.did, LIST_ID, _digest("c"), 5, account=issuer.account)
    assert caught.value.error_args == {"listId": LIST_ID, "current": 5, "given": 5}
    with _reverts("VersionNotIncreasing"):
        ledger.status.anchor(issuer.did, LIST_ID, _digest("c"), 4, account=issuer.account)


def test_lists_are_separate_per_issuer_and_list_id(ledger, accredit_issuer):
    one, two = accredit_issuer(), accredit_issuer()
    ledger.status.anchor(one.did, LIST_ID, _digest("one"), 3, account=one.account)
    ledger.status.anchor(two.did, LIST_ID, _digest("two"), 1, account=two.account)
    ledger.status.anchor(one.did, LIST_ID + "b", _digest("one-b"), 1, account=one.account)
    assert ledger.status.latest_anchor(one.did, LIST_ID).sha256 == _digest("one")
    assert ledger.status.latest_anchor(two.did, LIST_ID).sha256 == _digest("two")
    assert ledger.status.latest_anchor(one.did, LIST_ID + "b").version == 1


def test_event_carries_the_compressed_list_when_asked(ledger, accredit_issuer):
    issuer = accredit_issuer()
    bits = bytearray(16_384)
    bits[100] = 0b0000_0100
    compressed = zlib.compress(bytes(bits), 9)
    since = ledger.status.latest_block()
    ledger.status.anchor(issuer.did, LIST_ID, _digest("plain"), 1, account=issuer.account)
    ledger.status.anchor(issuer.did, LIST_ID, _digest("carried"), 2, compressed, account=issuer.account)
    events = ledger.status.anchor_events(issuer.did, LIST_ID, from_block=since + 1)
    assert [(e.version, e.sha256, e.compressed_list) for e in events] == [
        (1, _digest("plain"), None), (2, _digest("carried"), compressed)]
    assert all(e.issuer_did == issuer.did and e.list_id == LIST_ID for e in events)
    carried = ledger.status.latest_carried_list(issuer.did, LIST_ID)
    assert zlib.decompress(carried.compressed_list) == bytes(bits)


def test_events_since_a_block_for_cache_invalidation(ledger, accredit_issuer):
    issuer = accredit_issuer()
    ledger.status.anchor(issuer.did, LIST_ID, _digest("old"), 1, account=issuer.account)
    seen = ledger.status.latest_block()
    assert ledger.status.anchor_events(issuer.did, from_block=seen + 1) == []
    ledger.status.anchor(issuer.did, LIST_ID, _digest("new"), 2, account=issuer.account)
    fresh = ledger.status.anchor_events(from_block=seen + 1)
    assert [(e.issuer_did, e.version) for e in fresh] == [(issuer.did, 2)]
    assert ledger.status.latest_block() > seen


def test_raw_event_topics_are_the_hashes(ledger, accredit_issuer):
    issuer = accredit_issuer()
    result = ledger.status.anchor(issuer.did, LIST_ID, _digest("t"), 1, account=issuer.account)
    (log,) = result.logs
    assert bytes(log["topics"][1]) == keccak(text=issuer.did)
    assert bytes(log["topics"][2]) == keccak(text=LIST_ID)


# ------------------------------------------------------------------ several lists in one transaction


def test_anchor_many_anchors_every_list_in_one_transaction(ledger, accredit_issuer):
    issuer = accredit_issuer()
    ietf, bitstring = "ietf-list", "bitstring-list"
    ledger.status.anchor(issuer.did, ietf, _digest("ietf v1"), 1, account=issuer.account)
    since = ledger.status.latest_block()
    result = ledger.status.anchor_many(issuer.did, [
        ListAnchor(ietf, _digest("ietf v2"), 2, b"ietf token"),
        ListAnchor(bitstring, _digest("bitstring v1"), 1),
    ], account=issuer.account)
    assert [bytes(log["topics"][2]) for log in result.logs] == [keccak(text=ietf), keccak(text=bitstring)]
    events = ledger.status.anchor_events(issuer.did, from_block=since + 1)
    assert [(e.list_id, e.version, e.sha256, e.compressed_list, e.transaction_hash) for e in events] == [
        (ietf, 2, _digest("ietf v2"), b"ietf token", result.transaction_hash),
        (bitstring, 1, _digest("bitstring v1"), None, result.transaction_hash),
    ]
    for list_id, version in ((ietf, 2), (bitstring, 1)):
        anchor = ledger.status.latest_anchor(issuer.did, list_id)
        assert (anchor.version, anchor.block_number) == (version, result.block_number)


def test_anchor_many_is_all_or_nothing(ledger, accredit_issuer):
    issuer = accredit_issuer()
    ledger.status.anchor(issuer.did, "held", _digest("held v3"), 3, account=issuer.account)
    with _reverts("VersionNotIncreasing") as caught:
        ledger.status.anchor_many(issuer.did, [
            ListAnchor("fresh", _digest("fresh v1"), 1),
            ListAnchor("held", _digest("held v2"), 2),
        ], account=issuer.account)
    assert caught.value.error_args == {"listId": "held", "current": 3, "given": 2}
    assert ledger.status.latest_anchor(issuer.did, "fresh") is None


def test_anchor_many_keeps_every_guard(ledger, accredit_issuer, new_account):
    issuer = accredit_issuer()
    with _reverts("NoListsGiven"):
        ledger.status.chain.transact(ledger.status.contract.functions.anchorMany(issuer.did, []), issuer.account,
                                     action="anchor no list")
    with pytest.raises(InvalidInput, match="at least one"):
        ledger.status.anchor_many(issuer.did, [], account=issuer.account)
    with _reverts("NotController"):
        ledger.status.anchor_many(issuer.did, [ListAnchor("a", _digest("a"), 1)], account=new_account())
    with _reverts("EmptyListId"):
        ledger.status.anchor_many(issuer.did, [ListAnchor("a", _digest("a"), 1), ListAnchor("", _digest("b"), 1)],
                                  account=issuer.account)
    with _reverts("NotAnIssuer"):
        ledger.status.anchor_many(issuer.tao_did, [ListAnchor("a", _digest("a"), 1)], account=issuer.tao_account)
    assert ledger.status.latest_anchor(issuer.did, "a") is None


# ------------------------------------------------------------------ guards


def test_wrong_controller(ledger, accredit_issuer, new_account):
    issuer = accredit_issuer()
    intruder = new_account()
    with _reverts("NotController") as caught:
        ledger.status.anchor(issuer.did, LIST_ID, _digest("x"), 1, account=intruder)
    assert caught.value.error_args == {"caller": intruder.address, "controller": issuer.account.address}
    with _reverts("NotController"):  # not even the TAO that accredited it
        ledger.status.anchor(issuer.did, LIST_ID, _digest("x"), 1, account=issuer.tao_account)


def test_after_a_controller_transfer_only_the_new_controller_anchors(ledger, accredit_issuer, new_account):
    issuer = accredit_issuer()
    replacement = new_account()
    ledger.trust.propose_controller(issuer.did, replacement.address, account=issuer.account)
    ledger.status.anchor(issuer.did, LIST_ID, _digest("proposed"), 1, account=issuer.account)  # not yet handed over
    with _reverts("NotController"):
        ledger.status.anchor(issuer.did, LIST_ID, _digest("early"), 2, account=replacement)
    ledger.trust.accept_controller(issuer.did, account=replacement)
    with _reverts("NotController") as caught:
        ledger.status.anchor(issuer.did, LIST_ID, _digest("old key"), 2, account=issuer.account)
    assert caught.value.error_args == {"caller": issuer.account.address, "controller": replacement.address}
    ledger.status.anchor(issuer.did, LIST_ID, _digest("new key"), 2, account=replacement)
    assert ledger.status.latest_anchor(issuer.did, LIST_ID).sha256 == _digest("new key")


def test_unaccredited_issuer(ledger, unique_did, new_account):
    with _reverts("IssuerNotAccredited") as caught:
        ledger.status.anchor(unique_did(), LIST_ID, _digest("x"), 1, account=new_account())
    assert Standing(caught.value.error_args["standing"]) is Standing.UNKNOWN


def test_a_tao_does_not_anchor(ledger, accredit_issuer):
    issuer = accredit_issuer()
    with _reverts("NotAnIssuer") as caught:
        ledger.status.anchor(issuer.tao_did, LIST_ID, _digest("x"), 1, account=issuer.tao_account)
    assert Role(caught.value.error_args["role"]) is Role.TAO


@pytest.mark.parametrize("change, standing", [
    ("suspend", Standing.SUSPENDED),
    ("revoke", Standing.REVOKED),
    ("revoke_tao", Standing.ACCREDITOR_NOT_ACCREDITED),
])
def test_no_anchor_while_not_accredited(ledger, accredit_issuer, change, standing):
    issuer = accredit_issuer()
    ledger.status.anchor(issuer.did, LIST_ID, _digest("before"), 1, account=issuer.account)
    if change == "revoke_tao":
        ledger.trust.revoke(issuer.tao_did)
    else:
        getattr(ledger.trust, change)(issuer.did, account=issuer.tao_account)
    with _reverts("IssuerNotAccredited") as caught:
        ledger.status.anchor(issuer.did, LIST_ID, _digest("after"), 2, account=issuer.account)
    assert Standing(caught.value.error_args["standing"]) is standing
    assert ledger.status.latest_anchor(issuer.did, LIST_ID).version == 1


def test_no_anchor_after_expiry(ledger, accredit_issuer, advance_chain_time):
    issuer = accredit_issuer(valid_for=50)
    ledger.status.anchor(issuer.did, LIST_ID, _digest("in time"), 1, account=issuer.account)
    advance_chain_time(100)
    with _reverts("IssuerNotAccredited") as caught:
        ledger.status.anchor(issuer.did, LIST_ID, _digest("too late"), 2, account=issuer.account)
    assert Standing(caught.value.error_args["standing"]) is Standing.EXPIRED
    assert "expired" in str(caught.value)


def test_input_guards(ledger, accredit_issuer):
    issuer = accredit_issuer()
    with _reverts("EmptyListId"):
        ledger.status.anchor(issuer.did, "", _digest("x"), 1, account=issuer.account)
    with _reverts("ZeroDigest"):
        ledger.status.anchor(issuer.did, LIST_ID, bytes(32), 1, account=issuer.account)
    with pytest.raises(InvalidInput, match="32-byte"):
        ledger.status.anchor(issuer.did, LIST_ID, b"short", 1, account=issuer.account)
