"""TrustRegistry against a real Anvil: the chain of trust, every guard by custom error, events by args."""

from __future__ import annotations

import pytest
from eth_utils import keccak
from web3 import Web3

from credentials.errors import InvalidInput
from ledger.artifacts import Role, Standing
from ledger.errors import TransactionReverted

pytestmark = pytest.mark.integration

VCT = "urn:microcred:vct:micro-credential:1"
OTHER_VCT = "urn:microcred:vct:other:1"


def _reverts(error_name: str):
    return pytest.raises(TransactionReverted, match=rf"\({error_name}\)")


def _tao(ledger, unique_did, new_account, *, vcts=(VCT,), max_eqf_level=None, valid_until=None, valid_from=None):
    now = ledger.chain.block_timestamp()
    did, account = unique_did("tao"), new_account()
    ledger.trust.accredit(ledger.deployment.root_did, did, role=Role.TAO, vcts=list(vcts), legal_name="Agency",
                          country="IT", valid_from=now - 3600 if valid_from is None else valid_from,
                          valid_until=valid_until, controller=account.address, max_eqf_level=max_eqf_level)
    return did, account


def test_chain_of_trust_up_to_the_root(ledger, accredit_issuer):
    issuer = accredit_issuer()
    now = ledger.chain.block_timestamp()
    found = ledger.trust.accreditation_at(issuer.did, VCT, now)
    assert found is not None
    assert [link.did for link in found.chain] == [issuer.did, issuer.tao_did, ledger.deployment.root_did]
    assert [link.role for link in found.chain] == [Role.ISSUER, Role.TAO, Role.ROOT]
    assert found.accredited_by == issuer.tao_did
    assert found.legal_name == "Test university"
    assert found.country == "IT"
    assert found.entry.controller == issuer.account.address
    assert found.root_did == ledger.deployment.root_did


def test_not_accredited_for_another_type_or_unknown_did(ledger, accredit_issuer, unique_did):
    issuer = accredit_issuer()
    now = ledger.chain.block_timestamp()
    assert ledger.trust.accreditation_at(issuer.did, OTHER_VCT, now) is None
    assert ledger.trust.lookup(issuer.did, OTHER_VCT, now).standing is Standing.TYPE_NOT_ACCREDITED
    stranger = unique_did("stranger")
    assert ledger.trust.lookup(stranger, VCT, now).standing is Standing.UNKNOWN
    assert ledger.trust.entry(stranger) is None


def test_any_did_method_is_accepted(ledger, new_account):
    did = "did:jwk:eyJrdHkiOiJFQyIsImNydiI6IlAtMjU2IiwieCI6IjEiLCJ5IjoiMiJ9"
    now = ledger.chain.block_timestamp()
    ledger.trust.accredit(ledger.deployment.root_did, did, vcts=[VCT], legal_name="Foreign issuer", country="FR",
                          valid_from=now - 1, valid_until=None, controller=new_account().address)
    assert ledger.trust.accreditation_at(did, VCT, now) is not None


def test_accredited_event_carries_the_grant(ledger, accredit_issuer):
    before = ledger.chain.block_number()
    issuer = accredit_issuer(max_eqf_level=6)
    events = [e for e in ledger.trust.events(from_block=before + 1) if e.name == "Accredited"]
    mine = [e for e in events if e.did == issuer.did]
    assert len(mine) == 1
    args = mine[0].args
    assert args["didHash"] == keccak(text=issuer.did)
    assert args["accreditedBy"] == issuer.tao_did
    assert args["accreditedByHash"] == keccak(text=issuer.tao_did)
    assert args["grant"]["vcts"] == [VCT]
    assert args["grant"]["maxEqfLevel"] == 6
    assert args["grant"]["controller"] == issuer.account.address


def test_suspend_reinstate_and_revoke_change_the_standing(ledger, accredit_issuer, advance_chain_time):
    issuer = accredit_issuer()
    before = ledger.chain.block_number()
    ledger.trust.suspend(issuer.did, account=issuer.tao_account)
    at = advance_chain_time(1)
    assert ledger.trust.lookup(issuer.did, VCT, at).standing is Standing.SUSPENDED
    ledger.trust.reinstate(issuer.did, account=issuer.tao_account)
    assert ledger.trust.lookup(issuer.did, VCT, advance_chain_time(1)).accredited
    result = ledger.trust.revoke(issuer.did)  # the root may revoke what a TAO granted
    revoked_at = ledger.chain.block_timestamp(result.block_number)
    later = advance_chain_time(1)
    assert ledger.trust.lookup(issuer.did, VCT, later).standing is Standing.REVOKED
    # credentials issued before the revocation still check
    assert ledger.trust.accreditation_at(issuer.did, VCT, revoked_at - 1) is not None
    names = [(e.name, e.args["by"]) for e in ledger.trust.events(from_block=before + 1) if e.did == issuer.did]
    assert names == [("Suspended", issuer.tao_account.address), ("Reinstated", issuer.tao_account.address),
                     ("Revoked", ledger.deployment.root_address)]


def test_lookup_at_an_earlier_block(ledger, accredit_issuer):
    issuer = accredit_issuer()
    block_before = ledger.chain.block_number()
    ledger.trust.suspend(issuer.did, account=issuer.tao_account)
    assert ledger.trust.lookup(issuer.did, VCT, block=block_before).accredited
    assert not ledger.trust.lookup(issuer.did, VCT).accredited


def test_revoking_the_tao_breaks_the_chain(ledger, accredit_issuer, advance_chain_time):
    issuer = accredit_issuer()
    ledger.trust.revoke(issuer.tao_did)
    found = ledger.trust.lookup(issuer.did, VCT, advance_chain_time(1))
    assert found.standing is Standing.ACCREDITOR_NOT_ACCREDITED


def test_expiry_and_renewal(ledger, accredit_issuer, advance_chain_time):
    issuer = accredit_issuer(valid_for=100)
    assert ledger.trust.lookup(issuer.did, VCT, advance_chain_time(200)).standing is Standing.EXPIRED
    now = ledger.chain.block_timestamp()
    ledger.trust.renew(issuer.did, now + 1000, account=issuer.tao_account)
    assert ledger.trust.lookup(issuer.did, VCT, now).accredited


def test_not_yet_valid(ledger, unique_did, new_account):
    now = ledger.chain.block_timestamp()
    did = unique_did()
    ledger.trust.accredit(ledger.deployment.root_did, did, vcts=[VCT], legal_name="Later", country="IT",
                          valid_from=now + 10_000, valid_until=None, controller=new_account().address)
    assert ledger.trust.lookup(did, VCT, now).standing is Standing.NOT_YET_VALID


# ------------------------------------------------- two-step controller transfer


def _address_topic(address: str) -> bytes:
    return bytes(12) + bytes.fromhex(address[2:])


def _bad_checksum(address: str) -> str:
    """``address`` with the case of its first letter flipped: same bytes, broken EIP-55 checksum."""
    i = next(i for i, c in enumerate(address) if i > 1 and c.isalpha())
    return address[:i] + address[i].swapcase() + address[i + 1:]


def _events_of(ledger, did: str, since: int, *names: str):
    return [e for e in ledger.trust.events(from_block=since + 1) if e.did == did and e.name in names]


def test_controller_transfer_takes_a_proposal_and_an_acceptance(ledger, accredit_issuer, new_account):
    issuer = accredit_issuer()
    replacement = new_account()
    since = ledger.chain.block_number()
    ledger.trust.propose_controller(issuer.did, replacement.address, account=issuer.account)
    # proposed only: the old controller is still in charge, and the proposal is readable
    assert ledger.trust.entry(issuer.did).controller == issuer.account.address
    assert ledger.trust.pending_controller(issuer.did) == replacement.address
    ledger.trust.accept_controller(issuer.did, account=replacement)
    assert ledger.trust.entry(issuer.did).controller == replacement.address
    assert ledger.trust.pending_controller(issuer.did) is None
    events = _events_of(ledger, issuer.did, since, "ControllerTransferProposed", "ControllerTransferred")
    assert [(e.name, e.args["from"], e.args["to"], e.args["didHash"]) for e in events] == [
        ("ControllerTransferProposed", issuer.account.address, replacement.address, keccak(text=issuer.did)),
        ("ControllerTransferred", issuer.account.address, replacement.address, keccak(text=issuer.did)),
    ]
    # the old key has lost control; the new one has it
    with _reverts("NotController") as caught:
        ledger.trust.propose_controller(issuer.did, issuer.account.address, account=issuer.account)
    assert caught.value.error_args == {"caller": issuer.account.address, "controller": replacement.address}
    ledger.trust.propose_controller(issuer.did, issuer.account.address, account=replacement)


def test_only_the_proposed_address_may_accept(ledger, accredit_issuer, new_account):
    issuer = accredit_issuer()
    replacement, intruder = new_account(), new_account()
    with _reverts("NotPendingController") as caught:  # nothing proposed yet
        ledger.trust.accept_controller(issuer.did, account=intruder)
    assert caught.value.error_args == {"caller": intruder.address, "pending": "0x" + "00" * 20}
    ledger.trust.propose_controller(issuer.did, replacement.address, account=issuer.account)
    for wrong in (intruder, issuer.account, issuer.tao_account):
        with _reverts("NotPendingController") as caught:
            ledger.trust.accept_controller(issuer.did, account=wrong)
        assert caught.value.error_args == {"caller": wrong.address, "pending": replacement.address}
    with _reverts("NotPendingController"):  # the root cannot take an entry over either
        ledger.trust.accept_controller(issuer.did)
    assert ledger.trust.entry(issuer.did).controller == issuer.account.address


def test_only_the_controller_may_propose(ledger, accredit_issuer, new_account, unique_did):
    issuer = accredit_issuer()
    intruder = new_account()
    for wrong in (intruder, issuer.tao_account, ledger.trust.account):  # not even the grantor or the root
        with _reverts("NotController") as caught:
            ledger.trust.propose_controller(issuer.did, intruder.address, account=wrong)
        assert caught.value.error_args == {"caller": wrong.address, "controller": issuer.account.address}
    assert ledger.trust.pending_controller(issuer.did) is None
    with _reverts("UnknownDid"):
        ledger.trust.propose_controller(unique_did(), intruder.address, account=intruder)


def test_a_typo_leaves_the_old_controller_in_charge(ledger, accredit_issuer, new_account):
    issuer = accredit_issuer()
    typo = "0x" + "de" * 19 + "ad"  # an address nobody holds a key for
    since = ledger.chain.block_number()
    ledger.trust.propose_controller(issuer.did, typo, account=issuer.account)
    # the registry is not bricked: the old controller still anchors and can correct the proposal
    ledger.status.anchor(issuer.did, "list-after-typo", bytes(31) + b"\x01", 1, account=issuer.account)
    right = new_account()
    ledger.trust.propose_controller(issuer.did, right.address, account=issuer.account)
    assert ledger.trust.pending_controller(issuer.did) == right.address
    # or cancel it altogether: then nobody may accept
    ledger.trust.cancel_controller_transfer(issuer.did, account=issuer.account)
    assert ledger.trust.pending_controller(issuer.did) is None
    with _reverts("NotPendingController"):
        ledger.trust.accept_controller(issuer.did, account=right)
    with _reverts("NoPendingTransfer"):
        ledger.trust.cancel_controller_transfer(issuer.did, account=issuer.account)
    with _reverts("ZeroController"):  # the zero address is never a proposal (cancel is explicit)
        ledger.trust.propose_controller(issuer.did, "0x" + "00" * 20, account=issuer.account)
    with pytest.raises(InvalidInput, match="20-byte hex address"):  # a typo the EIP-55 checksum catches
        ledger.trust.propose_controller(issuer.did, _bad_checksum(right.address), account=issuer.account)
    assert ledger.trust.entry(issuer.did).controller == issuer.account.address
    events = _events_of(ledger, issuer.did, since, "ControllerTransferProposed", "ControllerTransferCancelled",
                        "ControllerTransferred")
    assert [(e.name, e.args["to"]) for e in events] == [
        ("ControllerTransferProposed", Web3.to_checksum_address(typo)),
        ("ControllerTransferProposed", right.address),
        ("ControllerTransferCancelled", right.address),
    ]


def test_the_root_changes_hands_in_two_steps(fresh_ledger, new_account, unique_did):
    ledger, root_did = fresh_ledger, fresh_ledger.deployment.root_did
    old_root, new_root = ledger.trust.account, new_account()
    typo = "0x" + "00" * 19 + "01"
    ledger.trust.propose_controller(root_did, typo)
    tao, tao_account = _tao(ledger, unique_did, new_account)  # the old root still accredits after a typo
    ledger.trust.propose_controller(root_did, new_root.address)
    with _reverts("NotPendingController"):
        ledger.trust.accept_controller(root_did, account=tao_account)
    ledger.trust.accept_controller(root_did, account=new_root)
    assert ledger.trust.entry(root_did).controller == new_root.address
    now = ledger.chain.block_timestamp()
    grant = {"vcts": [VCT], "legal_name": "X", "country": "IT", "valid_from": now, "valid_until": None,
             "controller": new_account().address}
    with _reverts("NotController"):
        ledger.trust.accredit(root_did, unique_did(), **grant, account=old_root)
    with _reverts("NotGrantor"):  # the old root's override power is gone too
        ledger.trust.suspend(tao, account=old_root)
    ledger.trust.accredit(root_did, unique_did(), **grant, account=new_root)
    ledger.trust.suspend(tao, account=new_root)


def test_no_one_step_controller_setter_is_left(ledger):
    functions = {item["name"] for item in ledger.trust.contract.abi if item["type"] == "function"}
    assert "setController" not in functions
    assert {"proposeController", "acceptController", "cancelControllerTransfer",
            "pendingControllerOf"} <= functions


def test_controller_transfers_can_be_filtered_by_address(ledger, accredit_issuer, new_account):
    issuer = accredit_issuer()
    replacement = new_account()
    since = ledger.chain.block_number()
    ledger.trust.propose_controller(issuer.did, replacement.address, account=issuer.account)
    ledger.trust.accept_controller(issuer.did, account=replacement)
    for name, position, address in (("ControllerTransferProposed", 2, issuer.account.address),
                                    ("ControllerTransferProposed", 3, replacement.address),
                                    ("ControllerTransferred", 3, replacement.address)):
        topics: list = [ledger.trust.event_topic(name), keccak(text=issuer.did), None, None]
        topics[position] = _address_topic(address)
        logs = ledger.chain.get_logs(ledger.trust.address, from_block=since + 1, to_block="latest", topics=topics)
        decoded = [ledger.trust.decode_log(log) for log in logs]
        assert [(d.name, d.args["from"], d.args["to"]) for d in decoded] == [
            (name, issuer.account.address, replacement.address)]
    stranger = _address_topic(new_account().address)
    topic = ledger.trust.event_topic("ControllerTransferred")
    assert ledger.chain.get_logs(ledger.trust.address, from_block=since + 1, to_block="latest",
                                 topics=[topic, None, None, stranger]) == []


def test_who_changed_an_accreditation_is_an_indexed_topic(ledger, accredit_issuer):
    issuer = accredit_issuer()
    since = ledger.chain.block_number()
    ledger.trust.suspend(issuer.did, account=issuer.tao_account)
    ledger.trust.reinstate(issuer.did, account=issuer.tao_account)
    ledger.trust.renew(issuer.did, ledger.chain.block_timestamp() + 10_000, account=issuer.tao_account)
    ledger.trust.revoke(issuer.did)
    by_tao = ledger.chain.get_logs(ledger.trust.address, from_block=since + 1, to_block="latest",
                                   topics=[None, keccak(text=issuer.did), _address_topic(issuer.tao_account.address)])
    assert [ledger.trust.decode_log(log).name for log in by_tao] == ["Suspended", "Reinstated", "Renewed"]
    by_root = ledger.chain.get_logs(ledger.trust.address, from_block=since + 1, to_block="latest",
                                    topics=[None, keccak(text=issuer.did),
                                            _address_topic(ledger.trust.account.address)])
    assert [(d.name, d.args["by"]) for d in map(ledger.trust.decode_log, by_root)] == [
        ("Revoked", ledger.trust.account.address)]


def test_an_accreditation_can_be_found_by_its_controller(ledger, accredit_issuer):
    since = ledger.chain.block_number()
    issuer = accredit_issuer()
    topic = ledger.trust.event_topic("Accredited")
    logs = ledger.chain.get_logs(ledger.trust.address, from_block=since + 1, to_block="latest",
                                 topics=[topic, None, None, _address_topic(issuer.account.address)])
    (found,) = [ledger.trust.decode_log(log) for log in logs]
    assert found.args["did"] == issuer.did
    assert found.args["controller"] == issuer.account.address


# ------------------------------------------------------------------ guards


def test_grant_must_be_well_formed(ledger, unique_did, new_account):
    root, now, controller = ledger.deployment.root_did, ledger.chain.block_timestamp(), new_account().address
    base = {"vcts": [VCT], "legal_name": "X", "country": "IT", "valid_from": now, "valid_until": now + 10,
            "controller": controller}
    with _reverts("InvalidValidity"):
        ledger.trust.accredit(root, unique_did(), **(base | {"valid_until": now}))
    with _reverts("NoTypes"):
        ledger.trust.accredit(root, unique_did(), **(base | {"vcts": []}))
    with _reverts("ZeroController"):
        ledger.trust.accredit(root, unique_did(), **(base | {"controller": "0x" + "00" * 20}))
    with _reverts("InvalidRole"):
        ledger.trust.accredit(root, unique_did(), role=Role.ROOT, **base)
    with _reverts("InvalidEqfLevel"):
        ledger.trust.accredit(root, unique_did(), max_eqf_level=9, **base)


def test_only_the_accreditors_controller_may_accredit(ledger, unique_did, new_account):
    tao, _ = _tao(ledger, unique_did, new_account)
    now = ledger.chain.block_timestamp()
    intruder = new_account()
    with _reverts("NotController") as caught:
        ledger.trust.accredit(tao, unique_did(), vcts=[VCT], legal_name="X", country="IT", valid_from=now,
                              valid_until=None, controller=intruder.address, account=intruder)
    assert caught.value.error_args["caller"] == intruder.address


def test_unknown_accreditor_and_duplicate_did(ledger, accredit_issuer, unique_did, new_account):
    now = ledger.chain.block_timestamp()
    with _reverts("UnknownDid"):
        ledger.trust.accredit(unique_did(), unique_did(), vcts=[VCT], legal_name="X", country="IT",
                              valid_from=now, valid_until=None, controller=new_account().address)
    issuer = accredit_issuer()
    with _reverts("AlreadyRegistered"):
        ledger.trust.accredit(ledger.deployment.root_did, issuer.did, vcts=[VCT], legal_name="X", country="IT",
                              valid_from=now, valid_until=None, controller=new_account().address)


def test_an_issuer_cannot_accredit(ledger, accredit_issuer, unique_did, new_account):
    issuer = accredit_issuer()
    now = ledger.chain.block_timestamp()
    with _reverts("NotAnAccreditor"):
        ledger.trust.accredit(issuer.did, unique_did(), vcts=[VCT], legal_name="X", country="IT", valid_from=now,
                              valid_until=None, controller=new_account().address, account=issuer.account)


def test_a_suspended_tao_cannot_accredit(ledger, unique_did, new_account):
    tao, tao_account = _tao(ledger, unique_did, new_account)
    ledger.trust.suspend(tao)
    now = ledger.chain.block_timestamp()
    with _reverts("AccreditorNotActive") as caught:
        ledger.trust.accredit(tao, unique_did(), vcts=[VCT], legal_name="X", country="IT", valid_from=now,
                              valid_until=None, controller=new_account().address, account=tao_account)
    assert Standing(caught.value.error_args["standing"]) is Standing.SUSPENDED


def test_a_tao_cannot_accredit_beyond_its_own_scope(ledger, unique_did, new_account):
    now = ledger.chain.block_timestamp()
    tao, tao_account = _tao(ledger, unique_did, new_account, max_eqf_level=6, valid_until=now + 10_000)
    grant = {"vcts": [VCT], "legal_name": "X", "country": "IT", "valid_from": now, "valid_until": now + 100,
             "controller": new_account().address, "account": tao_account}
    with _reverts("TypeOutOfScope") as caught:
        ledger.trust.accredit(tao, unique_did(), **(grant | {"vcts": [VCT, OTHER_VCT]}))
    assert caught.value.error_args == {"vct": OTHER_VCT}
    with _reverts("EqfLevelOutOfScope"):
        ledger.trust.accredit(tao, unique_did(), max_eqf_level=7, **grant)
    with _reverts("EqfLevelOutOfScope"):
        ledger.trust.accredit(tao, unique_did(), **grant)  # asking for "no limit" from a limited TAO
    with _reverts("ValidityOutOfScope"):
        ledger.trust.accredit(tao, unique_did(), max_eqf_level=6, **(grant | {"valid_until": now + 20_000}))
    with _reverts("ValidityOutOfScope"):
        ledger.trust.accredit(tao, unique_did(), max_eqf_level=6, **(grant | {"valid_from": now - 7200}))
    ledger.trust.accredit(tao, unique_did(), max_eqf_level=6, **grant)  # within scope: accepted


def test_only_the_grantor_or_root_may_change_an_accreditation(ledger, accredit_issuer, new_account):
    issuer = accredit_issuer()
    other = new_account()
    for change in (ledger.trust.suspend, ledger.trust.revoke):
        with _reverts("NotGrantor"):
            change(issuer.did, account=other)
    with _reverts("NotGrantor"):
        ledger.trust.suspend(issuer.did, account=issuer.account)  # not even the issuer itself
    with _reverts("CannotChangeRoot"):
        ledger.trust.revoke(ledger.deployment.root_did)


def test_state_transitions_are_guarded(ledger, accredit_issuer, unique_did):
    issuer = accredit_issuer()
    with _reverts("NotSuspended"):
        ledger.trust.reinstate(issuer.did)
    ledger.trust.suspend(issuer.did)
    with _reverts("AlreadySuspended"):
        ledger.trust.suspend(issuer.did)
    ledger.trust.revoke(issuer.did)
    for change in (ledger.trust.suspend, ledger.trust.reinstate, ledger.trust.revoke):
        with _reverts("AlreadyRevoked"):
            change(issuer.did)
    with _reverts("UnknownDid"):
        ledger.trust.suspend(unique_did())

