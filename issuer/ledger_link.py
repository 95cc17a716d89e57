"""The issuer's link to the ledger: a :class:`issuer.service.StatusAnchor` over ``ledger/``.

The connection is opened on the first anchor, not before, so that issuing,
revoking and serving work while the chain is down: a missing deployment, an
unreachable node or a refused transaction becomes a pending anchor with its
reason, retried by ``microcred issuer publish``.
"""

from __future__ import annotations

from typing import Any

from issuer.identity import IssuerHome

__all__ = ["LedgerStatusAnchor"]


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
        return self._status_client().anchor(issuer_did, list_id, sha256, version, compressed_list)
