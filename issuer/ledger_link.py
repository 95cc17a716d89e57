"""The issuer's link to the ledger: a :class:`issuer.service.StatusAnchor` over ``ledger/``, and the
:class:`issuer.issuance.IssuanceAnchorLink` that anchors issuance batch roots on the IssuanceRegistry.

The connection is opened on the first anchor, not before, so that issuing,
revoking and serving work while the chain is down: a missing deployment, an
unreachable node or a refused transaction becomes a pending anchor with its
reason, retried by ``microcred issuer publish`` and by the issuer service.

The node's address is read again on every use (``MICROCRED_RPC_URL``, else the
devnet's ``devnet.json``): after ``microcred devnet stop`` / ``start`` moved the
node to another port, a running service follows it; and a connection that
failed is dropped, so the next attempt reconnects and re-reads the deployment.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from credentials.errors import MicrocredError
from issuer.identity import IssuerHome
from ledger.config import LedgerSettings
from ledger.errors import InvalidDeployment, TransactionReverted

__all__ = ["LedgerStatusAnchor"]

#: ``ledger.artifacts.ISSUANCE_REGISTRY``, the key of the registry in ``deployment.json`` (that module loads eth-abi).
_ISSUANCE_REGISTRY = "IssuanceRegistry"


@dataclass(frozen=True)
class _AlreadyAnchored:
    """What :meth:`LedgerStatusAnchor.anchor` returns when the chain already holds that anchor."""

    transaction_hash: str | None
    block_number: int


class LedgerStatusAnchor:
    """Anchors through the StatusRegistry with the issuer's controller key."""

    def __init__(self, home: IssuerHome, settings: Any = None):
        self.home = home
        self.settings = settings
        self._client: Any = None
        self._url: str | None = None

    def _ledger(self) -> Any:
        settings = self.settings or LedgerSettings.from_env()
        url = settings.resolve_rpc_url()
        if self._client is None or url != self._url:
            # Here: these load web3 (seconds to import), needed only when a list is anchored, not to issue or serve.
            from ledger.deployment import open_ledger
            from ledger.keys import load_key_file

            account = load_key_file(self.home.controller_key_path)
            self._client = open_ledger(settings, account=account)
            self._url = url
        return self._client

    def _status_client(self) -> Any:
        return self._ledger().status

    def _issuance_client(self) -> Any:
        client = self._ledger().issuance
        if client is None:
            raise InvalidDeployment("the deployment has no IssuanceRegistry (made by an older microcred); "
                                    "run `microcred deploy` again")
        return client

    # --- issuance anchors (issuer.issuance.IssuanceAnchorLink) -------------------------

    def issuance_registry(self) -> tuple[int, str] | None:
        """``(chain id, IssuanceRegistry address)`` from ``deployment.json`` (no node needed); None without one."""
        settings = self.settings or LedgerSettings.from_env()
        try:  # read as JSON: ledger.deployment loads web3, which issuing without a chain does not need
            data = json.loads(settings.deployment_path.read_text(encoding="utf-8"))
            chain_id, address = data["chain_id"], data["contracts"][_ISSUANCE_REGISTRY]["address"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if not isinstance(chain_id, int) or isinstance(chain_id, bool) or not isinstance(address, str):
            return None
        return chain_id, address

    def issuance_account(self) -> str:
        """The address the issuer anchors with (its controller key)."""
        return str(self._issuance_client().account.address)

    def issuance_anchor_of(self, root: bytes) -> Any:
        """The IssuanceRegistry's anchor of ``root`` (``issuer``, ``block_number``, ``size``), or None."""
        try:
            return self._issuance_client().anchor_of(root)
        except MicrocredError as exc:
            self._forget_on_failure(exc)
            raise

    def anchor_issuance(self, root: bytes, size: int) -> Any:
        """Anchor a batch root in one transaction (``anchorBatch``)."""
        try:
            return self._issuance_client().anchor_batch(root, size)
        except MicrocredError as exc:
            self._forget_on_failure(exc)
            raise

    def latest_block(self) -> int:
        """The chain's head block number."""
        try:
            return int(self._ledger().chain.block_number())
        except MicrocredError as exc:
            self._forget_on_failure(exc)
            raise

    def _forget_on_failure(self, exc: BaseException) -> None:
        if not isinstance(exc, TransactionReverted):  # the node or the deployment may have moved
            self._client = None

    def latest_anchor(self, issuer_did: str, list_id: str) -> Any:
        """The anchor the chain holds for the list (``version``, ``sha256``, ``block_number``), or None."""
        try:
            return self._status_client().latest_anchor(issuer_did, list_id)
        except MicrocredError as exc:
            self._forget_on_failure(exc)
            raise

    def anchor_many(self, issuer_did: str, anchors: Sequence[Any]) -> Any:
        """Anchor several lists in one transaction (``anchorMany``: all or nothing).

        No idempotent shortcut here: when it fails, :func:`issuer.anchoring.converge`
        takes each list the one-by-one way, which handles a racing anchorer.
        """
        client = self._status_client()
        try:  # anchors have ledger.status.ListAnchor's fields (issuer.anchoring.ListToAnchor)
            return client.anchor_many(issuer_did, anchors)
        except MicrocredError as exc:
            self._forget_on_failure(exc)
            raise

    def anchor(self, issuer_did: str, list_id: str, sha256: bytes, version: int,
               compressed_list: bytes | None = None) -> Any:
        """Anchor, idempotently: a version already on chain with this very hash counts as done.

        Two anchorers of one issuer (the service's retry thread and a
        ``publish`` run, say) may race for the same version; the loser finds
        its work done rather than failing.
        """
        client = self._status_client()
        try:
            return client.anchor(issuer_did, list_id, sha256, version, compressed_list)
        except MicrocredError as exc:
            self._forget_on_failure(exc)
            if not isinstance(exc, TransactionReverted):
                raise
            if exc.error_name != "VersionNotIncreasing":
                raise
            current = client.latest_anchor(issuer_did, list_id)
            if current is None or current.version != version or current.sha256 != sha256:
                raise
            return _AlreadyAnchored(transaction_hash=None, block_number=current.block_number)
