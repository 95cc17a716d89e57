"""The log of status changes: who was revoked or suspended, why, from which file and line (issue 14, §4).

The Token Status List on chain says only *that* a credential is revoked or
suspended (draft-ietf-oauth-status-list); the reason the registrar gave stays
here, in the issuer's archive, written in the same transaction as the
status itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

from issuer.archive.store import ArchiveStore

__all__ = ["StatusChangeRecord", "StatusLogTable"]


@dataclass(frozen=True)
class StatusChangeRecord:
    """One credential's change: the new status, the registrar's note, the file and line it came from."""

    credential_id: str
    status: str
    reason: str | None
    source: str | None
    line: int | None
    changed_at: int


class StatusLogTable(ArchiveStore):
    """The archive's ``status_changes`` table."""

    def record_status_changes(self, records: Iterable[StatusChangeRecord]) -> None:
        """Append to the log (call inside :meth:`transaction`, with the status change itself)."""
        self.conn.executemany(
            "INSERT INTO status_changes (credential_id, status, reason, source, line, changed_at) "
            "VALUES (:credential_id, :status, :reason, :source, :line, :changed_at)",
            (asdict(record) for record in records))

    def status_changes(self, credential_id: str) -> list[StatusChangeRecord]:
        """The logged changes of one credential, oldest first."""
        sql = ("SELECT credential_id, status, reason, source, line, changed_at FROM status_changes "
               "WHERE credential_id = ? ORDER BY id")
        return [StatusChangeRecord(**row) for row in self.db.query(sql, [credential_id])]
