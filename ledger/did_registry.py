"""Typed client for the DidRegistry contract (``contracts/IDidRegistry.sol``): the ``did:mcr`` method's ledger side.

:class:`DidRegistryClient` registers a ``did:mcr`` DID with its first key,
adds keys, rotates (the new key added and the old one ended in ONE
transaction), revokes a key, and hands control over in two steps; it reads a
DID's record at any block (:meth:`DidRegistryClient.record`), which
:mod:`credentials.did_mcr` turns into a DID document and the key valid at a
block. The verifier's and the wallet's key resolvers read it through
:meth:`ledger.view.LedgerView.did_record`: at the block the view has processed
(head − ``MICROCRED_CONFIRMATIONS``, pinned to its hash). A DID of another
chain is refused.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from credentials.did_mcr import DidRecord, McrDid, MethodRecord, key_id_of, key_type_of
from credentials.errors import InvalidDid
from credentials.jose import PublicKey, b64url_decode
from ledger._events import ContractClient, DecodedLog
from ledger.chain import BlockId, BlockRef, TransactionResult, signer_of
from ledger.trust import check_address

__all__ = ["DidChange", "DidRegistryClient", "key_id_from_kid"]

_SALT_BYTES = 32


@dataclass(frozen=True)
class DidChange:
    """A mined change of a DID: the DID, the key it concerns (DID URL) and the transaction."""

    did: str
    kid: str | None
    transaction: TransactionResult


def key_id_from_kid(did: str, kid: str) -> bytes:
    """The 32-byte key id named by ``kid`` (``<did>#<thumbprint>``, ``#<thumbprint>`` or the thumbprint alone)."""
    did_part, hash_sign, fragment = kid.partition("#")
    if not hash_sign:
        did_part, fragment = "", kid
    if did_part not in ("", did) or not fragment:
        raise InvalidDid(f"expected a key of {did} (#<thumbprint>), found {kid[:100]!r}")
    try:
        key_id = b64url_decode(fragment)
    except (ValueError, TypeError):
        key_id = b""
    if len(key_id) != 32:
        raise InvalidDid(f"expected a base64url SHA-256 thumbprint after '#', found {fragment[:60]!r}")
    return key_id


def _method_input(key: PublicKey) -> tuple[bytes, int, bytes]:
    return (key_id_of(key), key_type_of(key), key.raw_bytes())


class DidRegistryClient(ContractClient):
    """Reads and changes a deployed DidRegistry; ``account`` signs changes unless one is passed."""

    def _did(self, did: str) -> McrDid:
        parsed = McrDid(did)
        if parsed.chain_id != self.chain.chain_id():
            raise InvalidDid(f"{parsed} belongs to chain {parsed.chain_id}; this ledger is chain "
                             f"{self.chain.chain_id()}")
        return parsed

    # ------------------------------------------------------------------ reads

    def record(self, did: str, *, block: BlockId = "latest") -> DidRecord | None:
        """The DID's record as of ``block`` (every key it ever had), or None when it is not registered."""
        parsed = self._did(did)
        (raw,) = self.chain.call(self.contract, "recordOf", parsed.identifier, block=block,
                                 action=f"read the DID record of {parsed}")
        controller, registered_at, methods = raw
        if int(controller, 16) == 0:
            return None
        number = block.number if isinstance(block, BlockRef) else block if isinstance(block, int) \
            else self.chain.block_number()
        return DidRecord(
            did=parsed.text, controller=to_checksum_address(controller), registered_at_block=int(registered_at),
            methods=tuple(MethodRecord(
                key_id=bytes(key_id), key_type=int(key_type), public_key=bytes(public_key),
                valid_from_block=int(valid_from), valid_until_block=int(valid_until) or None,
                revoked_at_block=int(revoked_at) or None, added_by=to_checksum_address(added_by))
                for key_id, key_type, public_key, valid_from, valid_until, revoked_at, added_by in methods),
            read_at_block=int(number),
        )

    def events(self, *, from_block: int = 0, to_block: BlockId = "latest", did: str | None = None) -> list[DecodedLog]:
        """The registry's events in ``[from_block, to_block]`` in chain order; only ``did``'s when given."""
        topics: list[bytes | None] | None = None
        if did is not None:
            topics = [None, self._did(did).identifier.ljust(32, b"\0")]
        raw_logs = self.chain.get_logs(self.address, from_block=from_block, to_block=to_block, topics=topics,
                                       action="read the DID registry's events")
        found = [event for event in map(self.decode_log, raw_logs) if event is not None]
        return sorted(found, key=lambda e: (e.block_number, e.log_index))

    def did_for(self, registrant: str, salt: bytes) -> str:
        """The DID ``register`` gives ``registrant`` for ``salt``."""
        (identifier,) = self.chain.call(self.contract, "identifierFor", check_address(registrant), salt,
                                        action="compute a did:mcr identifier")
        return McrDid.of(self.chain.chain_id(), bytes(identifier)).text

    def pending_controller(self, did: str, *, block: BlockId = "latest") -> str | None:
        (pending,) = self.chain.call(self.contract, "pendingControllerOf", self._did(did).identifier, block=block,
                                     action=f"read the pending controller of {did}")
        return None if int(pending, 16) == 0 else to_checksum_address(pending)

    # ---------------------------------------------------------------- changes

    def register(self, key: PublicKey, *, salt: bytes | None = None,
                 account: LocalAccount | None = None) -> DidChange:
        """Register a new DID controlled by the signing account, with ``key`` valid from this block."""
        signer = signer_of(account, self.account)
        salt = secrets.token_bytes(_SALT_BYTES) if salt is None else salt
        did = self.did_for(signer.address, salt)
        tx = self._transact(f"register {did}", signer, "register", salt, _method_input(key))
        return DidChange(did, f"{did}#{key.thumbprint()}", tx)

    def add_method(self, did: str, key: PublicKey, *, account: LocalAccount | None = None) -> DidChange:
        """Add ``key`` to ``did`` (the other keys stay valid)."""
        parsed = self._did(did)
        tx = self._transact(f"add a key to {parsed}", account, "addMethod", parsed.identifier, _method_input(key))
        return DidChange(parsed.text, f"{parsed}#{key.thumbprint()}", tx)

    def rotate(self, did: str, old_kid: str, new_key: PublicKey, *, account: LocalAccount | None = None) -> DidChange:
        """Add ``new_key`` and end the key ``old_kid`` at the same block, in one transaction."""
        parsed = self._did(did)
        old = key_id_from_kid(parsed.text, old_kid)
        tx = self._transact(f"rotate the key of {parsed}", account, "rotate", parsed.identifier, old,
                            _method_input(new_key))
        return DidChange(parsed.text, f"{parsed}#{new_key.thumbprint()}", tx)

    def revoke(self, did: str, kid: str, *, account: LocalAccount | None = None) -> DidChange:
        """Revoke the key ``kid``: it ends at this block (unless it ended before) and is marked revoked."""
        parsed = self._did(did)
        key_id = key_id_from_kid(parsed.text, kid)
        tx = self._transact(f"revoke a key of {parsed}", account, "revokeMethod", parsed.identifier, key_id)
        return DidChange(parsed.text, kid if "#" in kid else f"{parsed}#{kid}", tx)

    def propose_controller(self, did: str, new_controller: str, *,
                           account: LocalAccount | None = None) -> TransactionResult:
        """Step 1 of 2: the controller proposes ``new_controller``."""
        parsed = self._did(did)
        return self._transact(f"propose {new_controller} as the controller of {parsed}", account,
                              "proposeController", parsed.identifier, check_address(new_controller))

    def cancel_controller_transfer(self, did: str, *, account: LocalAccount | None = None) -> TransactionResult:
        parsed = self._did(did)
        return self._transact(f"cancel the controller transfer of {parsed}", account, "cancelControllerTransfer",
                              parsed.identifier)

    def accept_controller(self, did: str, *, account: LocalAccount | None = None) -> TransactionResult:
        """Step 2 of 2: the proposed address (the signing account) takes control."""
        parsed = self._did(did)
        return self._transact(f"accept control of {parsed}", account, "acceptController", parsed.identifier)

    def _transact(self, action: str, account: LocalAccount | None, function_name: str, *args: Any) -> TransactionResult:
        return self.chain.send(self.contract, function_name, *args, account=signer_of(account, self.account),
                               action=action)

