"""The issuer's link to the ledger: a :class:`issuer.service.StatusAnchor` over ``ledger/``.

The connection is opened on the first anchor, not before, so that issuing,
revoking and serving work while the chain is down: a missing deployment, an
unreachable node or a refused transaction becomes a pending anchor with its
reason, retried by ``microcred issuer publish``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from issuer.identity import IssuerHome

__all__ = ["LedgerStatusAnchor"]


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

    def _status_client(self) -> Any:
        if self._client is None:
            from ledger.deployment import open_ledger
            from ledger.keys import load_key_file

            account = load_key_file(self.home.controller_key_path)
            self._client = open_ledger(self.settings, account=account).status
        return self._client

    def anchor(self, issuer_did: str, list_id: str, sha256: bytes, version: int,
               compressed_list: bytes | None = None) -> Any:
        """Anchor, idempotently: a version already on chain with this very hash counts as done.

        Two anchorers of one issuer (the service's retry thread and a
        ``publish`` run, say) may race for the same version; the loser finds
        its work done rather than failing.
        """
        from ledger.errors import TransactionReverted

        client = self._status_client()
        try:
            return client.anchor(issuer_did, list_id, sha256, version, compressed_list)
        except TransactionReverted as exc:
            if exc.error_name != "VersionNotIncreasing":
                raise
            current = client.latest_anchor(issuer_did, list_id)
            if current is None or current.version != version or current.sha256 != sha256:
                raise
            return _AlreadyAnchored(transaction_hash=None, block_number=current.block_number)
