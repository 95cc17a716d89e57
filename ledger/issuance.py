"""Typed client for the IssuanceRegistry (``contracts/IIssuanceRegistry.sol``) and the verifier's resolver.

An issuer anchors the RFC 9162 Merkle root of each issuing batch with
:meth:`IssuanceRegistryClient.anchor_batch`: ONE transaction whatever the
batch's size, sent by the issuer's controller account (the TrustRegistry
controller of its DID). :meth:`IssuanceRegistryClient.anchor_of` reads who
anchored a root, in which block, over how many leaves.

:class:`IssuanceAnchorSource` is the :data:`credentials.issuance_anchor.IssuanceAnchorResolver`
of the verifier: it reads ``anchorOf(root)`` at the :class:`~ledger.view.LedgerView`'s
processed block (head − ``MICROCRED_CONFIRMATIONS``, pinned to its hash like
every other read of the view), then the anchor block's time and the
controller of the issuer's DID *at that block*. A root not found there is
read once more after confirming the head afresh (a batch anchored since the
watcher's last poll is not "not anchored"). A failure to read is
:class:`~credentials.verification_model.Unavailable` in the user's terms; the
exception goes to the log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from credentials.errors import InvalidInput, MicrocredError
from credentials.issuance_anchor import IssuanceAnchor
from credentials.merkle import HASH_SIZE
from credentials.verification_model import Unavailable
from ledger._events import ContractClient
from ledger.chain import BlockId, BlockRef, TransactionResult, signer_of
from ledger.errors import LedgerError, LedgerUnavailable

__all__ = ["BatchAnchor", "BatchAnchorEvent", "IssuanceRegistryClient", "IssuanceAnchorSource"]

_ZERO_ADDRESS = "0x" + "00" * 20
#: Controllers read from the TrustRegistry's events kept at most (per DID and anchor block; then started over).
_CONTROLLERS_KEPT = 1024
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchAnchor:
    """``anchorOf(root)``: who anchored the root, in which block, over how many credentials."""

    root: bytes
    issuer: str
    block_number: int
    size: int


@dataclass(frozen=True)
class BatchAnchorEvent:
    """One ``BatchAnchored`` event."""

    issuer: str
    root: bytes
    size: int
    block_number: int
    log_index: int
    transaction_hash: str


def _check_root(root: bytes) -> bytes:
    if not isinstance(root, bytes | bytearray) or len(root) != HASH_SIZE:
        raise InvalidInput(f"expected a {HASH_SIZE}-byte Merkle root, found "
                           f"{len(root) if isinstance(root, bytes | bytearray) else type(root).__name__}")
    return bytes(root)


class IssuanceRegistryClient(ContractClient):
    """Reads and writes a deployed IssuanceRegistry; ``account`` is the issuer's controller."""

    def anchor_of(self, root: bytes, *, block: BlockId = "latest") -> BatchAnchor | None:
        """The anchor of ``root`` as of ``block``, or None if it was never anchored."""
        issuer, block_number, size = self.chain.call(
            self.contract, "anchorOf", _check_root(root), block=block,
            action=f"read the anchor of batch root {bytes(root).hex()[:16]}…",
        )
        issuer = to_checksum_address(issuer)
        if issuer == to_checksum_address(_ZERO_ADDRESS):
            return None
        return BatchAnchor(bytes(root), issuer, int(block_number), int(size))

    def anchor_batch(self, root: bytes, size: int, *, account: LocalAccount | None = None) -> TransactionResult:
        """Anchor the Merkle root of a batch of ``size`` credentials (one transaction)."""
        digest = _check_root(root)
        signer = signer_of(account, self.account, expected="the issuer's controller account to sign the batch anchor")
        return self.chain.send(self.contract, "anchorBatch", digest, int(size), account=signer,
                               action=f"anchor batch root {digest.hex()[:16]}… ({size} credentials)")

    def anchor_events(self, issuer: str | None = None, *, from_block: int = 0,
                      to_block: BlockId = "latest") -> list[BatchAnchorEvent]:
        """``BatchAnchored`` events in ``[from_block, to_block]`` (of ``issuer`` if given), in chain order."""
        topics: list[bytes | None] = [self._decoder.topic("BatchAnchored")]
        if issuer is not None:
            topics.append(bytes(12) + bytes.fromhex(to_checksum_address(issuer)[2:]))
        last = self.chain.block_number() if to_block == "latest" else to_block
        if isinstance(last, int) and from_block > last:
            return []
        raw_logs = self.chain.get_logs(self.address, from_block=from_block, to_block=last, topics=topics,
                                       action="read the issuance registry's events")
        events = [BatchAnchorEvent(issuer=d.args["issuer"], root=bytes(d.args["root"]), size=int(d.args["size"]),
                                   block_number=d.block_number, log_index=d.log_index,
                                   transaction_hash=d.transaction_hash)
                  for d in filter(None, map(self._decoder.decode, raw_logs))]
        events.sort(key=lambda e: (e.block_number, e.log_index))
        return events


class IssuanceAnchorSource:
    """The verifier's ``issuance_anchor`` resolver over a :class:`ledger.view.LedgerView`.

    ``(issuer DID, root) -> IssuanceAnchor | Unavailable``: the anchor read at
    the view's processed block, the anchor block's timestamp, and the
    controller of the issuer's DID in the TrustRegistry at the anchor block
    (None when the DID had no entry then).
    """

    def __init__(self, view: Any):
        self.view = view
        ledger = view.ledger
        if ledger.issuance is None:
            raise InvalidInput("the deployment has no IssuanceRegistry; run `microcred deploy` again")
        self.client: IssuanceRegistryClient = ledger.issuance
        self.trust = ledger.trust
        self.chain_id = ledger.deployment.chain_id
        self.deployment_block = ledger.deployment.deployment_block
        self.registry = self.client.address
        self._controllers: dict[tuple[str, str], str | None] = {}

    def __call__(self, issuer_did: str, root: bytes) -> IssuanceAnchor | Unavailable:
        try:
            anchor, _ = self.view.read_at_head(lambda block: self.client.anchor_of(root, block=block))
            if anchor is None:  # maybe anchored since the watcher's last block: confirm the head once more
                self.view.refresh()
                anchor, _ = self.view.read_at_head(lambda block: self.client.anchor_of(root, block=block))
            if anchor is None:
                return IssuanceAnchor(self.chain_id, self.registry)
            at = self.view.ledger.chain.block_header(anchor.block_number)
            if at is None:
                return Unavailable("the ledger's answer could not be used")
            entry = self._entry(issuer_did, at.ref)
        except (MicrocredError, ConnectionError, ValueError) as exc:
            _log.warning("issuance anchor of %s unreadable: %s", root.hex()[:16], exc)
            return Unavailable("the ledger did not answer" if isinstance(exc, ConnectionError)
                               else "the ledger's answer could not be used")
        return IssuanceAnchor(self.chain_id, self.registry, anchor.issuer, anchor.block_number, at.timestamp,
                              anchor.size, entry)

    def _entry(self, issuer_did: str, block: BlockRef) -> str | None:
        try:
            link = self.trust.entry(issuer_did, block=block)
        except InvalidInput:
            return None  # not a DID the registry can hold: no account of it anchored anything
        except LedgerUnavailable:
            raise
        except LedgerError as exc:  # the node keeps no state that old: a pruned node, a devnet restarted from its file
            _log.info("the registry's state at block %s is not served (%s); reading its events", block.number, exc)
            return self._controller_from_events(issuer_did, block)
        return None if link is None else link.controller

    def _controller_from_events(self, issuer_did: str, block: BlockRef) -> str | None:
        """The controller of ``issuer_did`` at ``block`` told by the TrustRegistry's events up to that block (the
        block's logs stay where its state is no longer served): its ``Accredited`` controller, then each
        ``ControllerTransferred`` (the registry's only ways to set one); None when it had no entry. Kept per DID
        and block hash: events at or below the processed head are settled."""
        key = (issuer_did, block.hash)
        if key in self._controllers:
            return self._controllers[key]
        controller = None
        for event in self.trust.events(from_block=self.deployment_block, to_block=block.number):
            if event.did != issuer_did:
                continue
            if event.name == "Accredited":
                controller = str(event.args["controller"])
            elif event.name == "ControllerTransferred":
                controller = str(event.args["to"])
        if len(self._controllers) >= _CONTROLLERS_KEPT:
            self._controllers.clear()
        self._controllers[key] = controller
        return controller

