"""Typed client for the StatusRegistry contract (``contracts/IStatusRegistry.sol``).

Per (issuer DID, list id) the registry holds the SHA-256 of the latest IETF
Token Status List token (draft-ietf-oauth-status-list), a version that only
goes up, and the block of the anchor. A verifier fetches the token, hashes it,
and compares with :meth:`StatusRegistryClient.latest_anchor`; when the
issuer's server is down it can read the list carried in an anchoring event
(:meth:`StatusRegistryClient.anchor_events`, ``compressed_list``: the
zlib-compressed bytes of the list, as in the token's ``lst`` before base64url).

:meth:`StatusRegistryClient.anchor_many` anchors several lists of one issuer
in ONE transaction (``anchorMany``): all or nothing, an event per list. A
revocation that touches a credential's IETF list and its Open Badge twin's W3C
Bitstring Status List (a ``vc+jwt`` BitstringStatusListCredential, anchored the
same way) is one transaction.

For caches: :meth:`StatusRegistryClient.latest_block` is one cheap RPC, and
``anchor_events(from_block=n + 1)`` returns exactly what changed after block n.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from credentials.errors import InvalidInput
from ledger._events import ContractClient
from ledger.chain import BlockId, TransactionResult, signer_of
from ledger.trust import check_did_syntax

__all__ = ["SHA256_LENGTH", "Anchor", "AnchorEvent", "ListAnchor", "StatusRegistryClient"]

SHA256_LENGTH = 32
_ANCHOR_SIGNER = "the issuer's controller account to sign the anchor"


@dataclass(frozen=True)
class Anchor:
    """The latest anchor of one status list."""

    issuer_did: str
    list_id: str
    sha256: bytes
    version: int
    block_number: int
    block_timestamp: int


@dataclass(frozen=True)
class AnchorEvent:
    """One ``StatusListAnchored`` event; ``compressed_list`` is None unless the anchor carried it."""

    issuer_did: str
    list_id: str
    sha256: bytes
    version: int
    block_timestamp: int
    block_number: int
    log_index: int
    transaction_hash: str
    compressed_list: bytes | None


@dataclass(frozen=True)
class ListAnchor:
    """One list to anchor with :meth:`StatusRegistryClient.anchor_many`; ``compressed_list`` None unless carried."""

    list_id: str
    sha256: bytes
    version: int
    compressed_list: bytes | None = None


def _check_digest(sha256: bytes) -> bytes:
    if not isinstance(sha256, bytes | bytearray):
        raise InvalidInput(f"expected a {SHA256_LENGTH}-byte SHA-256 digest, found {type(sha256).__name__}")
    if len(sha256) != SHA256_LENGTH:
        raise InvalidInput(f"expected a {SHA256_LENGTH}-byte SHA-256 digest, found {len(sha256)} bytes")
    return bytes(sha256)


class StatusRegistryClient(ContractClient):
    """Reads and writes a deployed StatusRegistry; ``account`` is the issuer's controller."""

    def latest_block(self) -> int:
        """The chain's latest block number (one cheap RPC)."""
        return self.chain.block_number()

    def latest_anchor(self, issuer_did: str, list_id: str, *, block: BlockId = "latest") -> Anchor | None:
        """The latest anchor of the list as of ``block``, or None if it was never anchored."""
        check_did_syntax(issuer_did)
        ((digest, version, anchored_at, block_number),) = self.chain.call(
            self.contract, "latestAnchor", issuer_did, list_id, block=block,
            action=f"read the anchor of status list {list_id!r}",
        )
        if version == 0:
            return None
        return Anchor(issuer_did, list_id, bytes(digest), int(version), int(block_number), int(anchored_at))

    def anchor(self, issuer_did: str, list_id: str, sha256: bytes, version: int,
               compressed_list: bytes | None = None, *, account: LocalAccount | None = None) -> TransactionResult:
        """Anchor ``sha256`` of the Status List Token at ``version``; optionally carry the list."""
        check_did_syntax(issuer_did)
        digest = _check_digest(sha256)
        signer = signer_of(account, self.account, expected=_ANCHOR_SIGNER)
        action = f"anchor status list {list_id!r} of {issuer_did}"
        if compressed_list is None:
            return self.chain.send(self.contract, "anchor", issuer_did, list_id, digest, int(version),
                                   account=signer, action=action)
        return self.chain.send(self.contract, "anchorWithList", issuer_did, list_id, digest, int(version),
                               bytes(compressed_list), account=signer, action=action)

    def anchor_many(self, issuer_did: str, anchors: Sequence[ListAnchor], *,
                    account: LocalAccount | None = None) -> TransactionResult:
        """Anchor several lists of ``issuer_did`` in one transaction: all or nothing, an event per list."""
        check_did_syntax(issuer_did)
        if not anchors:
            raise InvalidInput("expected at least one status list to anchor, found none")
        rows = [(a.list_id, _check_digest(a.sha256), int(a.version), bytes(a.compressed_list or b"")) for a in anchors]
        signer = signer_of(account, self.account, expected=_ANCHOR_SIGNER)
        names = ", ".join(repr(a.list_id) for a in anchors)
        return self.chain.send(self.contract, "anchorMany", issuer_did, rows, account=signer,
                               action=f"anchor status lists {names} of {issuer_did}")

    def anchor_events(self, issuer_did: str | None = None, list_id: str | None = None, *,
                      from_block: int = 0, to_block: BlockId = "latest") -> list[AnchorEvent]:
        """Anchoring events in ``[from_block, to_block]``, filtered by issuer and list, in chain order."""
        topics: list[bytes | None] = [
            self._decoder.topic("StatusListAnchored"),
            None if issuer_did is None else keccak(text=check_did_syntax(issuer_did)),
            None if list_id is None else keccak(text=list_id),
        ]
        last = self.chain.block_number() if to_block == "latest" else to_block
        if isinstance(last, int) and from_block > last:
            return []  # nothing newer yet (nodes refuse a range that starts after the head)
        raw_logs = self.chain.get_logs(self.address, from_block=from_block, to_block=last, topics=topics,
                                       action="read the status registry's events")
        events = []
        for decoded in filter(None, map(self._decoder.decode, raw_logs)):
            args = decoded.args
            events.append(AnchorEvent(
                issuer_did=args["issuerDid"], list_id=args["listId"], sha256=bytes(args["statusListSha256"]),
                version=int(args["version"]), block_timestamp=int(args["anchoredAt"]),
                block_number=decoded.block_number, log_index=decoded.log_index,
                transaction_hash=decoded.transaction_hash, compressed_list=bytes(args["compressedList"]) or None,
            ))
        events.sort(key=lambda e: (e.block_number, e.log_index))
        return events

    def latest_carried_list(self, issuer_did: str, list_id: str) -> AnchorEvent | None:
        """The newest anchoring event of this list that carried the list bytes, or None."""
        carried = [e for e in self.anchor_events(issuer_did, list_id) if e.compressed_list is not None]
        return carried[-1] if carried else None
