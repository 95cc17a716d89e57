"""Issuance anchored in Merkle batches (issue 14 §1): seal, anchor in one transaction, deliver the proofs.

RFC 9162 §2.1 trees (:mod:`credentials.merkle`) over the credentials of one
issuing batch; each root is anchored on the IssuanceRegistry
(``contracts/IIssuanceRegistry.sol``) in ONE transaction, whatever the
batch's size, by the issuer's controller account.

1. **Leaves** are recorded as credentials are signed, with their signatures'
   hashes (:meth:`issuer.service.IssuerService.sign_batch`, the OpenID4VCI
   credential endpoint): the SHA-256 of each issuer-signed JWT.
2. **Sealing** (:func:`seal`) puts every signed, unsealed credential of a
   batch (or of one redemption) into one tree, in one archive transaction.
   A tree never changes once sealed: the proofs it gives are final.
3. **Anchoring converges** (:func:`converge_issuance`), like status lists do
   (:mod:`issuer.anchoring`): for every tree the archive does not hold as
   anchored, the chain is read first — a root already anchored by this
   issuer's account (a run killed after its transaction was mined) is recorded
   as anchored; one anchored by another account is reported, never accepted;
   else ``anchorBatch(root, size)`` is sent. ``microcred issuer publish``, the
   issuer service's background loop and every later ``issuer issue`` run it,
   so a run killed between signing and anchoring is finished by the next.
   Trees recorded as anchored within the last :data:`RECHECK_BLOCKS` blocks of
   the head (or above it) are read again too, and anchored again when the
   chain lost them (a reorganisation, a node restarted from an older state).
4. **Proofs** (:func:`proof_for`) are rebuilt from the archive and name the
   ledger (chain id, registry address) read from ``deployment.json``.

No chain of its own: the ledger comes in as an :class:`IssuanceAnchorLink`
(:class:`issuer.ledger_link.LedgerStatusAnchor`); ``now`` is a parameter.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from credentials.errors import MicrocredError
from credentials.merkle import IssuanceProof, MerkleTree, leaf_hash
from issuer.archive import Archive, IssuanceTreeRecord
from issuer.fault_hook import fault_point

__all__ = ["IssuanceAnchorLink", "IssuanceOutcome", "RECHECK_BLOCKS", "seal", "converge_issuance", "proof_for",
           "proofs_for"]

#: Trees anchored this close to the chain's head (or above it) are checked again on every convergence.
RECHECK_BLOCKS = 128


class IssuanceAnchorLink(Protocol):
    """What issuance anchoring needs from the ledger (:class:`issuer.ledger_link.LedgerStatusAnchor`).

    ``issuance_anchor_of`` returns None for a root never anchored, else an object
    with ``issuer`` (the account), ``block_number`` and ``size``;
    ``issuance_account`` is the address the issuer anchors with;
    ``issuance_registry`` is ``(chain id, registry address)`` or None without one. An optional
    ``latest_block()`` (the head's number) lets recently anchored trees be checked again.
    """

    def issuance_anchor_of(self, root: bytes) -> Any: ...

    def anchor_issuance(self, root: bytes, size: int) -> Any: ...

    def issuance_account(self) -> str: ...

    def issuance_registry(self) -> tuple[int, str] | None: ...


@dataclass(frozen=True)
class IssuanceOutcome:
    """Where one tree stands: ``anchored`` with its block (``tx`` when this run sent it), or ``error``."""

    root: str
    size: int
    anchored: bool
    block: int | None = None
    tx: str | None = None
    error: str | None = None


def seal(archive: Archive, *, batch_id: str | None = None, credential_ids: Iterable[str] | None = None,
         now: int) -> str | None:
    """Seal the signed, unsealed credentials of ``batch_id`` (or just ``credential_ids``) into one tree;
    its root (hex), or None when there is nothing to seal. One archive transaction."""
    with archive.transaction():
        leaves = archive.unsealed_leaves(batch_id=batch_id, credential_ids=credential_ids)
        if not leaves:
            return None
        tree = MerkleTree([leaf_hash(bytes.fromhex(digest)) for _, digest in leaves])
        root = tree.root.hex()
        archive.insert_tree(root, batch_id, leaves, now=now)
    fault_point("issuance-sealed")
    return root


def _same_account(one: str | None, other: str | None) -> bool:
    return one is not None and other is not None and one.lower() == other.lower()


def _converge_one(archive: Archive, tree: IssuanceTreeRecord, link: IssuanceAnchorLink) -> IssuanceOutcome:
    root = bytes.fromhex(tree.root)
    try:
        account = link.issuance_account()
        current = link.issuance_anchor_of(root)
        tx = None
        if current is None:
            fault_point("issuance-anchoring")
            receipt = link.anchor_issuance(root, tree.size)
            fault_point("issuance-anchor-sent")
            tx = str(getattr(receipt, "transaction_hash", "")) or None
            current = link.issuance_anchor_of(root)
            if current is None:  # a node that lost the block it just mined: the next round sends it again
                raise MicrocredError(f"the batch root {tree.root[:16]}… was sent but the chain does not hold it")
    except MicrocredError as exc:
        if tree.anchor_error != str(exc):
            archive.update_issuance_tree(tree.root, anchor_error=str(exc))
        return IssuanceOutcome(tree.root, tree.size, False, error=str(exc))
    if not _same_account(current.issuer, account):
        message = (f"the batch root {tree.root[:16]}… was anchored by {current.issuer}, not by this issuer's "
                   f"account {account}; its proofs will fail verification")
        archive.update_issuance_tree(tree.root, anchor_error=message)
        return IssuanceOutcome(tree.root, tree.size, False, error=message)
    archive.update_issuance_tree(tree.root, anchored_block=int(current.block_number), anchored_tx=tx,
                                 anchored_by=current.issuer, anchor_error=None)
    return IssuanceOutcome(tree.root, tree.size, True, block=int(current.block_number), tx=tx)


def converge_issuance(archive: Archive, link: IssuanceAnchorLink | None, *,
                      roots: Iterable[str] | None = None) -> list[IssuanceOutcome]:
    """Anchor every tree the archive does not hold as anchored (only ``roots`` if given); an outcome each."""
    wanted = None if roots is None else set(roots)
    pending = [t for t in archive.issuance_trees(pending_only=True) if wanted is None or t.root in wanted]
    if link is None:
        return [IssuanceOutcome(t.root, t.size, False, error="no ledger configured") for t in pending]
    if wanted is None:
        pending += _lost(archive, link)
    return [_converge_one(archive, tree, link) for tree in pending]


def _lost(archive: Archive, link: IssuanceAnchorLink) -> list[IssuanceTreeRecord]:
    """Trees recorded as anchored near the head (or above it) whose root the chain no longer holds."""
    head_of = getattr(link, "latest_block", None)
    if head_of is None:
        return []
    try:
        since = int(head_of()) - RECHECK_BLOCKS
        lost = [tree for tree in archive.issuance_trees()
                if tree.anchored_block is not None and tree.anchored_block > since
                and link.issuance_anchor_of(bytes.fromhex(tree.root)) is None]
    except MicrocredError:
        return []  # the node cannot say now: the next convergence asks again
    for tree in lost:  # pending again until anchored again, so that nothing shows it as anchored meanwhile
        message = f"the chain no longer holds the anchor of block {tree.anchored_block}"
        archive.update_issuance_tree(tree.root, anchored_block=None, anchored_tx=None, anchored_by=None,
                                     anchor_error=message)
    return [replace(tree, anchored_block=None) for tree in lost]


def proof_for(archive: Archive, credential_id: str, registry: tuple[int, str] | None) -> dict[str, Any] | None:
    """The issuance proof JSON of a sealed credential (``registry``: chain id and address); None when the
    credential is not sealed or no registry is known."""
    root, index = archive.leaf_of(credential_id)
    if root is None or index is None or registry is None:
        return None
    tree = MerkleTree([leaf_hash(leaf) for leaf in archive.tree_leaves(root)])
    chain_id, address = registry
    return IssuanceProof.of(tree, index, chain_id=chain_id, registry=address).to_json()


def proofs_for(archive: Archive, credential_ids: Iterable[str],
               registry: tuple[int, str] | None) -> dict[str, dict[str, Any]]:
    """:func:`proof_for` of many credentials, each tree built once; only those that have one."""
    if registry is None:
        return {}
    chain_id, address = registry
    trees: dict[str, MerkleTree] = {}
    proofs = {}
    for credential_id in credential_ids:
        root, index = archive.leaf_of(credential_id)
        if root is None or index is None:
            continue
        if root not in trees:
            trees[root] = MerkleTree([leaf_hash(leaf) for leaf in archive.tree_leaves(root)])
        proofs[credential_id] = IssuanceProof.of(trees[root], index, chain_id=chain_id, registry=address).to_json()
    return proofs
