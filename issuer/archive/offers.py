"""Archived OpenID4VCI credential offers (pre-authorized code flow) and the nonces of key proofs.

OpenID for Verifiable Credential Issuance 1.0: an offer carries a
pre-authorized code, redeemed once for an access token (kept as its SHA-256);
the Nonce Endpoint's ``c_nonce`` values are kept until they expire and are
consumed by the one proof that uses them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from credentials.errors import InvalidInput
from issuer.archive.store import ArchiveStore

__all__ = ["OfferTable"]

_OFFER_COLUMNS = ("id", "credential_id", "pre_authorized_code", "created_at", "expires_at", "redeemed_at",
                  "access_token_sha256", "token_expires_at")
_INSERT = f"INSERT INTO offers ({', '.join(_OFFER_COLUMNS)}) VALUES ({', '.join('?' for _ in _OFFER_COLUMNS)})"


class OfferTable(ArchiveStore):
    """The archive's ``offers`` and ``nonces`` tables."""

    def insert_offers(self, offers: Iterable[dict[str, Any]]) -> None:
        self.conn.executemany(_INSERT, ([offer.get(c) for c in _OFFER_COLUMNS] for offer in offers))

    def offer(self, offer_id: str) -> dict[str, Any] | None:
        rows = list(self.db.query("SELECT * FROM offers WHERE id = ?", [offer_id]))
        return rows[0] if rows else None

    def offer_by(self, column: str, value: str) -> dict[str, Any] | None:
        if column not in ("pre_authorized_code", "access_token_sha256"):
            raise InvalidInput(f"offers cannot be looked up by {column!r}")
        rows = list(self.db.query(f"SELECT * FROM offers WHERE {column} = ?", [value]))
        return rows[0] if rows else None

    def update_offer(self, offer_id: str, **values: Any) -> None:
        unknown = sorted(set(values) - set(_OFFER_COLUMNS))
        if unknown:
            raise InvalidInput(f"unknown offer column(s) {unknown}")
        assignments = ", ".join(f"{name} = ?" for name in values)
        self.conn.execute(f"UPDATE offers SET {assignments} WHERE id = ?", [*values.values(), offer_id])

    def add_nonce(self, value: str, expires_at: int, *, now: int) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM nonces WHERE expires_at <= ?", [now])
            conn.execute("INSERT INTO nonces (value, expires_at) VALUES (?, ?)", [value, expires_at])

    def consume_nonce(self, value: str, *, now: int) -> bool:
        """True exactly once for a nonce that was issued and has not expired."""
        with self.transaction() as conn:
            cursor = conn.execute("DELETE FROM nonces WHERE value = ? AND expires_at > ?", [value, now])
            return cursor.rowcount == 1
