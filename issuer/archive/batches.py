"""Archived issuing batches, so that an interrupted batch is finished from the archive.

A batch is recorded (state ``pending``) together with its credentials — ids,
status list slots, claims — *before* anything is signed; each signed
credential's SHA-256 is recorded after its file is written, and the batch
becomes ``delivered`` once its folder is complete. So no signed credential
exists that the archive does not know (European Maturity Model for
Micro-credentials, Table 1 step 3: issue, then archive for verification,
revocation and re-issue).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from issuer.archive.credentials import CredentialRecord
from issuer.archive.store import ArchiveStore

__all__ = ["BATCH_PENDING", "BATCH_DELIVERED", "BatchRecord", "BatchTable"]

BATCH_PENDING = "pending"
BATCH_DELIVERED = "delivered"


@dataclass(frozen=True)
class BatchRecord:
    """One issuing batch: its id, the SHA-256 of its rows, where its files go, and its state."""

    id: str
    content_sha256: str
    state: str
    out_dir: str | None
    created_at: int
    size: int
    delivered_at: int | None


class BatchTable(ArchiveStore):
    """The archive's ``batches`` table (and the credentials of each batch)."""

    def insert_batch(self, batch: BatchRecord) -> None:
        """Insert a batch (call inside :meth:`transaction`)."""
        self.db.table("batches").insert(asdict(batch))

    def batch(self, batch_id: str) -> BatchRecord | None:
        rows = list(self.db.query("SELECT * FROM batches WHERE id = ?", [batch_id]))
        return BatchRecord(**rows[0]) if rows else None

    def batch_credentials(self, batch_id: str) -> list[CredentialRecord]:
        """The credentials of a batch in the order of its input, each row's twins after it (re-issues excluded)."""
        sql = ("SELECT * FROM credentials WHERE batch_id = ? AND replaces IS NULL "
               "ORDER BY batch_row, twin_of IS NOT NULL, rowid")
        cursor = self.conn.execute(sql, [batch_id])  # rows as tuples: a batch reads back every credential it archived
        names = [column[0] for column in cursor.description]
        return [CredentialRecord.from_row(dict(zip(names, row, strict=True))) for row in cursor]

    def mark_batch_delivered(self, batch_id: str, *, out_dir: str | None, at: int) -> None:
        with self.transaction() as conn:
            conn.execute("UPDATE batches SET state = ?, out_dir = COALESCE(?, out_dir), delivered_at = ? WHERE id = ?",
                         [BATCH_DELIVERED, out_dir, at, batch_id])
