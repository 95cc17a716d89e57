"""Archived issuance trees: each signed credential's leaf, the Merkle tree it was sealed into, what is anchored.

Issue 14 §1 (RFC 9162 Merkle trees, :mod:`credentials.merkle`): when a
credential is signed its leaf input — the SHA-256 of its issuer-signed JWT —
is recorded (``issuance_leaves``), in the same transaction as the signature's
hash. Sealing (:mod:`issuer.issuance`) puts every signed, not yet sealed
credential of a batch into one tree (``issuance_trees``), in one transaction:
its root, its leaf inputs in order (``leaves``, 32 bytes each: a tree never
changes once sealed) and each credential's index. A credential signed again
(its file was lost) gets a new leaf and is sealed into a new tree; the old
tree keeps its leaves, so the proofs of the others stay valid.
Anchoring records the block, transaction and account the IssuanceRegistry
holds for the root, or why it could not (``anchor_error``); a tree without an
anchored block is still to be anchored. Any proof can be rebuilt from here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from credentials.errors import InvalidInput
from issuer.archive.store import ArchiveStore

__all__ = ["IssuanceTreeRecord", "IssuanceTable"]


@dataclass(frozen=True)
class IssuanceTreeRecord:
    """One sealed tree: its root (hex), batch, size, and what the chain holds for it."""

    root: str
    batch_id: str | None
    size: int
    leaves: bytes
    created_at: int
    anchored_block: int | None
    anchored_tx: str | None
    anchored_by: str | None
    anchor_error: str | None

    @property
    def anchored(self) -> bool:
        return self.anchored_block is not None


class IssuanceTable(ArchiveStore):
    """The archive's ``issuance_leaves`` and ``issuance_trees`` tables."""

    def record_leaves(self, batch_id: str | None, jwt_sha256: Mapping[str, str]) -> None:
        """Record (or replace, unsealed) each credential's leaf input by id (call inside :meth:`transaction`)."""
        self.conn.executemany(
            "INSERT INTO issuance_leaves (credential_id, batch_id, jwt_sha256, root, idx) VALUES (?, ?, ?, NULL, NULL) "
            "ON CONFLICT(credential_id) DO UPDATE SET jwt_sha256 = excluded.jwt_sha256, root = NULL, idx = NULL",
            ((credential_id, batch_id, digest) for credential_id, digest in jwt_sha256.items()))

    def unsealed_leaves(self, *, batch_id: str | None = None,
                        credential_ids: Iterable[str] | None = None) -> list[tuple[str, str]]:
        """``(credential id, leaf input hex)`` of signed credentials not yet in a tree, in signing order."""
        sql = "SELECT credential_id, jwt_sha256 FROM issuance_leaves WHERE root IS NULL"
        params: list[str] = []
        if batch_id is not None:
            sql += " AND batch_id = ?"
            params.append(batch_id)
        if credential_ids is not None:
            wanted = list(credential_ids)
            sql += f" AND credential_id IN ({', '.join('?' for _ in wanted)})"
            params.extend(wanted)
        return [(row[0], row[1]) for row in self.conn.execute(sql + " ORDER BY rowid", params)]

    def insert_tree(self, root: str, batch_id: str | None, leaves: list[tuple[str, str]], *, now: int) -> None:
        """Seal ``leaves`` (credential id, leaf input hex; in leaf order) into the tree of ``root``
        (call inside :meth:`transaction`)."""
        credential_ids = [credential_id for credential_id, _ in leaves]
        self.conn.execute(
            "INSERT OR IGNORE INTO issuance_trees (root, batch_id, size, leaves, created_at) VALUES (?, ?, ?, ?, ?)",
            [root, batch_id, len(leaves), b"".join(bytes.fromhex(digest) for _, digest in leaves), now])
        self.conn.executemany("UPDATE issuance_leaves SET root = ?, idx = ? WHERE credential_id = ?",
                              ((root, index, credential_id) for index, credential_id in enumerate(credential_ids)))

    def issuance_tree(self, root: str) -> IssuanceTreeRecord | None:
        rows = list(self.db.query("SELECT * FROM issuance_trees WHERE root = ?", [root]))
        return IssuanceTreeRecord(**rows[0]) if rows else None

    def issuance_trees(self, *, pending_only: bool = False) -> list[IssuanceTreeRecord]:
        """Every tree, oldest first (only those not yet anchored if ``pending_only``)."""
        where = " WHERE anchored_block IS NULL" if pending_only else ""
        return [IssuanceTreeRecord(**row)
                for row in self.db.query(f"SELECT * FROM issuance_trees{where} ORDER BY created_at, rowid")]

    def tree_leaves(self, root: str) -> list[bytes]:
        """The leaf inputs of a tree as sealed, in index order (empty for an unknown root)."""
        row = self.conn.execute("SELECT leaves FROM issuance_trees WHERE root = ?", [root]).fetchone()
        blob = bytes(row[0]) if row else b""
        return [blob[i:i + 32] for i in range(0, len(blob), 32)]

    def leaf_of(self, credential_id: str) -> tuple[str | None, int | None]:
        """``(root hex, index)`` of a credential's tree, or ``(None, None)`` when it is not sealed."""
        row = self.conn.execute("SELECT root, idx FROM issuance_leaves WHERE credential_id = ?",
                                [credential_id]).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def update_issuance_tree(self, root: str, **values: object) -> None:
        """Set what the chain holds for a tree (``anchored_block``, ``_tx``, ``_by``, ``anchor_error``)."""
        allowed = {"anchored_block", "anchored_tx", "anchored_by", "anchor_error"}
        if set(values) - allowed:
            raise InvalidInput(f"expected only {sorted(allowed)}, found {sorted(set(values) - allowed)}")
        assignments = ", ".join(f"{name} = ?" for name in values)
        with self.transaction() as conn:
            conn.execute(f"UPDATE issuance_trees SET {assignments} WHERE root = ?", [*values.values(), root])
