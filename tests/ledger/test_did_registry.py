"""DidRegistry (did:mcr) against a real Anvil: keys valid from/until a block, rotation in one transaction,
revocation, two-step control, every guard by custom error and events by their arguments."""

from __future__ import annotations

import pytest
from eth_utils import keccak

from credentials.did_mcr import KEY_TYPE_ED25519, KEY_TYPE_P256, McrDid, did_document, key_at, key_id_of
from credentials.errors import InvalidDid
from credentials.jose import PrivateKey
from ledger.errors import TransactionReverted

pytestmark = pytest.mark.integration


def _reverts(error_name: str):
    return pytest.raises(TransactionReverted, match=rf"\({error_name}\)")


def _events(ledger, tx, name):
    found = ledger.dids.events(from_block=tx.block_number, to_block=tx.block_number)
    return [e.args for e in found if e.name == name and e.transaction_hash == tx.transaction_hash]


@pytest.fixture
def registered(ledger, new_account):
    account = new_account()
    key = PrivateKey.generate("ES256").public_key()
    change = ledger.dids.register(key, account=account)
    return change.did, account, key, change


def test_register_gives_a_did_of_this_chain_whose_first_key_is_valid_from_its_block(ledger, registered):
    did, account, key, change = registered
    parsed = McrDid(did)
    assert parsed.chain_id == ledger.chain.chain_id()
    record = ledger.dids.record(did)
    assert record.controller == account.address
    assert record.registered_at_block == change.transaction.block_number
    (method,) = record.methods
    assert method.key_id == key_id_of(key)
    assert method.key_type == KEY_TYPE_P256
    assert method.valid_from_block == change.transaction.block_number
    assert method.valid_until_block is None
    assert method.revoked_at_block is None
    assert change.kid == f"{did}#{key.thumbprint()}"
    assert key_at(record, change.kid) == key
    (registered_event,) = _events(ledger, change.transaction, "DidRegistered")
    assert registered_event["controller"] == account.address
    assert registered_event["id"] == parsed.identifier
    (added,) = _events(ledger, change.transaction, "MethodAdded")
    assert added["by"] == account.address
    assert added["keyId"] == key_id_of(key)
    document = did_document(record)
    assert document["id"] == did
    assert document["assertionMethod"] == [change.kid]
    assert document["verificationMethod"][0]["publicKeyJwk"] == key.to_jwk()


def test_the_same_salt_cannot_register_twice_and_another_account_gets_another_did(ledger, new_account):
    account, other = new_account(), new_account()
    key = PrivateKey.generate("EdDSA").public_key()
    salt = b"\x01" * 32
    first = ledger.dids.register(key, salt=salt, account=account)
    with _reverts("IdentifierTaken"):
        ledger.dids.register(key, salt=salt, account=account)
    second = ledger.dids.register(key, salt=salt, account=other)
    assert second.did != first.did
    assert ledger.dids.record(second.did).methods[0].key_type == KEY_TYPE_ED25519


def test_rotate_adds_the_new_key_and_ends_the_old_in_one_transaction(ledger, registered):
    did, account, old_key, change = registered
    new_key = PrivateKey.generate("ES256").public_key()
    rotation = ledger.dids.rotate(did, change.kid, new_key, account=account)
    at = rotation.transaction.block_number
    record = ledger.dids.record(did)
    old, new = record.methods
    assert old.valid_until_block == at
    assert old.revoked_at_block is None
    assert new.valid_from_block == at
    assert new.valid_until_block is None
    assert [e["validUntilBlock"] for e in _events(ledger, rotation.transaction, "MethodEnded")] == [at]
    assert [e["validFromBlock"] for e in _events(ledger, rotation.transaction, "MethodAdded")] == [at]
    # no block where both or neither are valid
    assert old.valid_at(at - 1)
    assert not new.valid_at(at - 1)
    assert new.valid_at(at)
    assert not old.valid_at(at)
    assert did_document(record)["assertionMethod"] == [rotation.kid]
    assert key_at(record, change.kid, at - 1) == old_key
    with pytest.raises(InvalidDid, match=f"replaced at block {at}"):
        key_at(record, change.kid)
    with _reverts("MethodAlreadyEnded"):
        ledger.dids.rotate(did, change.kid, PrivateKey.generate().public_key(), account=account)


def test_revoke_ends_the_key_and_marks_it(ledger, registered):
    did, account, key, change = registered
    revocation = ledger.dids.revoke(did, change.kid, account=account)
    at = revocation.transaction.block_number
    (method,) = ledger.dids.record(did).methods
    assert method.revoked_at_block == at
    assert method.valid_until_block == at
    (event,) = _events(ledger, revocation.transaction, "MethodRevoked")
    assert event["by"] == account.address
    assert event["revokedAtBlock"] == at
    with _reverts("MethodAlreadyRevoked"):
        ledger.dids.revoke(did, change.kid, account=account)
    entry = did_document(ledger.dids.record(did))["verificationMethod"][0]
    assert entry["revoked"] is True
    assert entry["revokedAtBlock"] == at


def test_revoking_a_rotated_key_keeps_its_earlier_end(ledger, registered):
    did, account, _, change = registered
    rotation = ledger.dids.rotate(did, change.kid, PrivateKey.generate().public_key(), account=account)
    revocation = ledger.dids.revoke(did, change.kid, account=account)
    old = ledger.dids.record(did).methods[0]
    assert old.valid_until_block == rotation.transaction.block_number
    assert old.revoked_at_block == revocation.transaction.block_number


def test_only_the_controller_adds_rotates_or_revokes(ledger, registered, new_account):
    did, _, _, change = registered
    stranger = new_account()
    with _reverts("NotController"):
        ledger.dids.rotate(did, change.kid, PrivateKey.generate().public_key(), account=stranger)
    with _reverts("NotController"):
        ledger.dids.revoke(did, change.kid, account=stranger)
    with _reverts("NotController"):
        ledger.dids.add_method(did, PrivateKey.generate().public_key(), account=stranger)
    with _reverts("NotController"):
        ledger.dids.propose_controller(did, stranger.address, account=stranger)
    assert len(ledger.dids.record(did).methods) == 1


def test_control_changes_hands_in_two_steps(ledger, registered, new_account):
    did, account, _, change = registered
    successor, stranger = new_account(), new_account()
    with _reverts("NotPendingController"):
        ledger.dids.accept_controller(did, account=successor)
    with _reverts("NoPendingControllerTransfer"):
        ledger.dids.cancel_controller_transfer(did, account=account)
    proposed = ledger.dids.propose_controller(did, successor.address, account=account)
    (event,) = _events(ledger, proposed, "ControllerTransferProposed")
    assert (event["from"], event["to"]) == (account.address, successor.address)
    assert ledger.dids.pending_controller(did) == successor.address
    with _reverts("NotPendingController"):
        ledger.dids.accept_controller(did, account=stranger)
    ledger.dids.accept_controller(did, account=successor)
    assert ledger.dids.record(did).controller == successor.address
    assert ledger.dids.pending_controller(did) is None
    with _reverts("NotController"):
        ledger.dids.revoke(did, change.kid, account=account)
    ledger.dids.revoke(did, change.kid, account=successor)


def test_keys_are_checked_and_never_registered_twice(ledger, registered):
    did, account, key, change = registered
    with _reverts("DuplicateKeyId"):
        ledger.dids.add_method(did, key, account=account)
    identifier = McrDid(did).identifier
    contract = ledger.dids.contract
    for key_id, key_type, raw, error in (
        (b"\0" * 32, KEY_TYPE_P256, b"\x02" + b"\1" * 32, "ZeroKeyId"),
        (keccak(b"a"), KEY_TYPE_P256, b"\x05" + b"\1" * 32, "InvalidPublicKey"),
        (keccak(b"b"), KEY_TYPE_ED25519, b"\1" * 33, "InvalidPublicKey"),
        (keccak(b"c"), 0, b"\1" * 32, "InvalidPublicKey"),
    ):
        with _reverts(error):
            ledger.chain.transact(contract.functions.addMethod(identifier, (key_id, key_type, raw)), account)
    with _reverts("UnknownKeyId"):
        ledger.dids.revoke(did, "#" + "A" * 43, account=account)
    with _reverts("UnknownIdentifier"):
        ledger.dids.revoke(McrDid.of(ledger.chain.chain_id(), b"\7" * 16).text, "#" + change.kid.split("#")[1],
                          account=account)


def test_a_wrong_thumbprint_on_chain_makes_the_key_unusable(ledger, new_account):
    """The contract cannot compute a JWK thumbprint; the resolver checks it and fails closed."""
    account = new_account()
    key = PrivateKey.generate("ES256").public_key()
    wrong_id = keccak(b"not the thumbprint")
    contract = ledger.dids.contract
    tx = ledger.chain.transact(contract.functions.register(b"\2" * 32, (wrong_id, KEY_TYPE_P256, key.raw_bytes())),
                               account)
    (event,) = _events(ledger, tx, "DidRegistered")
    did = McrDid.of(ledger.chain.chain_id(), event["id"]).text
    record = ledger.dids.record(did)
    assert did_document(record)["verificationMethod"] == []
    with pytest.raises(InvalidDid, match="thumbprint that is not its own"):
        key_at(record, None)


def test_a_did_of_another_chain_is_refused(ledger):
    with pytest.raises(InvalidDid, match="belongs to chain 1"):
        ledger.dids.record(McrDid.of(1, b"\1" * 16).text)


def test_a_did_holds_at_most_max_methods(fresh_ledger, new_account):
    account = new_account()
    change = fresh_ledger.dids.register(PrivateKey.generate().public_key(), account=account)
    (maximum,) = fresh_ledger.chain.call(fresh_ledger.dids.contract, "MAX_METHODS")
    for _ in range(maximum - 1):
        fresh_ledger.dids.add_method(change.did, PrivateKey.generate().public_key(), account=account)
    with _reverts("TooManyMethods"):
        fresh_ledger.dids.add_method(change.did, PrivateKey.generate().public_key(), account=account)
