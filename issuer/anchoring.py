"""Anchoring that converges: the chain is made to hold the archive's latest Status List Token.

IETF Token Status List (draft-ietf-oauth-status-list) tokens are anchored on
the StatusRegistry (``contracts/IStatusRegistry.sol``): per (issuer DID, list
id) the SHA-256 of the latest token and a version that only goes up.

:func:`converge` compares, for every signed list, the version and hash *on
chain* with the archive's latest version — never a flag or a recorded error —
and anchors whatever is behind:

- chain == archive (same version, same hash): in sync; the archive is told so
  (a run killed after its transaction was mined, or another anchorer, did it);
- chain < archive — a version never anchored, one whose anchoring was killed,
  or one the chain *lost* (a node restarted from an older state): the
  archive's latest version is anchored;
- chain > archive, or the same version with another hash: nothing is sent;
  the list is reported with the reason (an archive restored from a backup, or
  a second archive for the same DID).

What is recorded as anchored is also what verifiers are served: the anchored
version's token is kept beside the newest (``anchored_token``), and the
public endpoints serve it while a newer version waits for its anchor
(:func:`issuer.list_keeper.served_token`), so a pending change never makes
the list's hash disagree with the chain's.

Racing anchorers (a revoke and the service's background retry, two revokes)
converge too: when a transaction fails, chain and archive are read again, and
a change already held by a newer anchored version counts as anchored
(:attr:`AnchorOutcome.made_version` says which version it was made in).

Several lists behind at once (a revocation changes a credential's IETF list
and its Open Badge twin's Bitstring list; several lists left pending while the
ledger was down) are anchored in ONE transaction when the anchor offers
``anchor_many`` (StatusRegistry ``anchorMany``, all or nothing). If that
transaction fails for any reason, each list goes the one-by-one way above,
which reads chain and archive again: so the batch is only ever a shortcut,
and what converges stays what the one-list rules say.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from credentials.errors import InvalidInput, MicrocredError
from issuer.archive import Archive, StatusListRecord
from issuer.fault_hook import fault_point

__all__ = ["StatusAnchor", "ManyListAnchor", "ListToAnchor", "AnchorOutcome", "converge"]

#: Reads of chain and archive per list before giving up on a list that keeps moving.
_ATTEMPTS = 4


class StatusAnchor(Protocol):
    """What anchoring needs from the StatusRegistry (:class:`issuer.ledger_link.LedgerStatusAnchor`).

    ``latest_anchor`` returns None for a list never anchored, else an object with
    ``version``, ``sha256`` (bytes) and ``block_number``.
    """

    def anchor(self, issuer_did: str, list_id: str, sha256: bytes, version: int,
               compressed_list: bytes | None = None) -> Any: ...

    def latest_anchor(self, issuer_did: str, list_id: str) -> Any: ...


class ManyListAnchor(StatusAnchor, Protocol):
    """An anchor that can also anchor several lists in one transaction (``anchors``: objects with the
    fields of :class:`ledger.status.ListAnchor`: ``list_id``, ``sha256``, ``version``, ``compressed_list``)."""

    def anchor_many(self, issuer_did: str, anchors: Sequence[Any]) -> Any: ...


@dataclass(frozen=True)
class AnchorOutcome:
    """Where one list stands after anchoring: ``version`` is the version on chain when ``anchored``.

    ``tx`` is set when this run sent the transaction; ``made_version`` is the
    version the caller's change was made in, when an older one than ``version``
    (the newer anchored version holds the change).
    """

    list_id: str
    version: int
    anchored: bool
    tx: str | None = None
    block: int | None = None
    error: str | None = None
    made_version: int | None = None


def _digest(record: StatusListRecord) -> bytes:
    return bytes.fromhex(record.token_sha256 or "")


def _record_error(archive: Archive, record: StatusListRecord, message: str) -> None:
    if record.anchor_error != message:
        with archive.transaction():
            archive.update_status_list(record.id, anchor_error=message)


def _record_synced(archive: Archive, record: StatusListRecord, *, block: int | None, tx: str | None) -> None:
    """The chain holds ``record``'s version: recorded with its token, which verifiers are served from now on."""
    with archive.transaction():
        archive.record_anchored(record.id, version=record.version, token=record.token, block=block, tx=tx)


class _ListAnchoring:
    """Converging one list: read the chain, then the archive, decide, repeat while they move."""

    def __init__(self, archive: Archive, issuer_did: str, anchor: Any, list_id: str, made: int | None):
        self.archive, self.issuer_did, self.anchor = archive, issuer_did, anchor
        self.list_id, self.made = list_id, made

    def _record(self) -> StatusListRecord:
        record = self.archive.status_list(self.list_id)
        if record is None:
            raise InvalidInput(f"no status list {self.list_id!r}")
        return record

    def _outcome(self, version: int, anchored: bool, **values: Any) -> AnchorOutcome:
        made = self.made if self.made is not None and self.made < version else None
        return AnchorOutcome(self.list_id, version, anchored, made_version=made, **values)

    def _chain(self) -> tuple[int, bytes | None, int | None]:
        reader = getattr(self.anchor, "latest_anchor", None)
        if reader is None:  # an anchor that cannot read: trust what the archive recorded
            record = self._record()
            return record.anchored_version, _digest(record) if record.anchored_version == record.version else None, \
                record.anchored_block
        current = reader(self.issuer_did, self.list_id)
        if current is None:
            return 0, None, None
        return int(current.version), bytes(current.sha256), getattr(current, "block_number", None)

    def run(self, *, report: bool) -> AnchorOutcome | None:
        failed: tuple[int, str] | None = None  # (chain version when the anchor failed, why)
        for _ in range(_ATTEMPTS):
            try:
                chain_version, chain_sha256, chain_block = self._chain()
            except MicrocredError as exc:
                return self._fail(str(exc))
            record = self._record()
            if chain_version == record.version and chain_sha256 == _digest(record):
                behind = record.anchored_version != record.version or record.anchor_error is not None
                if behind:
                    _record_synced(self.archive, record, block=chain_block, tx=None)
                return self._outcome(record.version, True, block=chain_block) if behind or report else None
            if chain_version >= record.version:
                return self._fail(
                    f"the chain holds version {chain_version} of status list {self.list_id}, "
                    f"{'newer than' if chain_version > record.version else 'with another hash than'} this "
                    f"archive's version {record.version} (was the archive restored from a backup?)")
            if failed is not None and failed[0] == chain_version:
                return self._fail(failed[1])  # nobody else moved the chain: the refusal stands
            fault_point("anchoring")
            try:
                receipt = self.anchor.anchor(self.issuer_did, self.list_id, _digest(record), record.version,
                                             (record.token or "").encode("ascii"))
            except MicrocredError as exc:
                failed = (chain_version, str(exc))
                continue  # read both again: a racing anchorer may hold this change already
            fault_point("anchor-sent")
            tx = getattr(receipt, "transaction_hash", None)
            block = getattr(receipt, "block_number", None)
            _record_synced(self.archive, record, block=block, tx=str(tx) if tx is not None else None)
            return self._outcome(record.version, True, tx=str(tx) if tx else None, block=block)
        return self._fail(failed[1] if failed else f"status list {self.list_id} kept changing while anchoring")

    def _fail(self, message: str) -> AnchorOutcome:
        record = self._record()
        _record_error(self.archive, record, message)
        return AnchorOutcome(self.list_id, record.version, False, error=message, made_version=self.made)


@dataclass(frozen=True)
class ListToAnchor:
    """One list of an ``anchor_many`` call (the fields of :class:`ledger.status.ListAnchor`)."""

    list_id: str
    sha256: bytes
    version: int
    compressed_list: bytes | None


def _anchor_together(archive: Archive, issuer_did: str, anchor: Any,
                     report: Mapping[str, int | None]) -> dict[str, AnchorOutcome]:
    """Anchor in one transaction every pending list the chain holds behind the archive, when there are
    several; their outcomes by list id (empty: nothing sent together, or the transaction failed)."""
    if getattr(anchor, "anchor_many", None) is None or getattr(anchor, "latest_anchor", None) is None:
        return {}
    pending = [r for r in archive.status_lists() if r.version > 0 and r.anchor_pending]
    if len(pending) < 2:
        return {}
    behind = []
    try:
        for record in pending:
            current = anchor.latest_anchor(issuer_did, record.id)
            if (0 if current is None else int(current.version)) < record.version:
                behind.append(record)
    except MicrocredError:
        return {}  # the one-by-one way reads again and records why
    if len(behind) < 2:
        return {}
    fault_point("anchoring")
    try:
        receipt = anchor.anchor_many(issuer_did, [
            ListToAnchor(r.id, _digest(r), r.version, (r.token or "").encode("ascii")) for r in behind])
    except MicrocredError:
        return {}
    fault_point("anchor-sent")
    tx = getattr(receipt, "transaction_hash", None)
    block = getattr(receipt, "block_number", None)
    outcomes = {}
    for record in behind:
        _record_synced(archive, record, block=block, tx=str(tx) if tx is not None else None)
        made = report.get(record.id)
        outcomes[record.id] = AnchorOutcome(record.id, record.version, True, tx=str(tx) if tx else None, block=block,
                                            made_version=made if made is not None and made < record.version else None)
    return outcomes


def converge(archive: Archive, issuer_did: str, anchor: StatusAnchor | None, *,
             report: Mapping[str, int | None] | None = None) -> list[AnchorOutcome]:
    """Anchor every signed list whose chain state is behind the archive; outcomes in list order.

    An outcome is returned for each list that needed anything (anchored now,
    found in sync after all, or failed) and for each list in ``report`` (list
    id → the version the caller made there, or None).
    """
    report = dict(report or {})
    outcomes = []
    together = _anchor_together(archive, issuer_did, anchor, report) if anchor is not None else {}
    for record in archive.status_lists():
        if record.version == 0:
            continue
        wanted = record.id in report
        if anchor is None:
            if record.anchor_pending or wanted:
                outcomes.append(AnchorOutcome(record.id, record.version, False, error="no ledger configured",
                                              made_version=report.get(record.id)))
            continue
        if record.id in together:
            outcomes.append(together[record.id])
            continue
        outcome = _ListAnchoring(archive, issuer_did, anchor, record.id, report.get(record.id)).run(report=wanted)
        if outcome is not None:
            outcomes.append(outcome)
    return outcomes
