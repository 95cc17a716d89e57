"""Archived status lists: size, the latest signed Status List Token, and what the chain holds.

The archive is the source of truth for statuses: a Status List Token
(draft-ietf-oauth-status-list) is rebuilt from the credentials' statuses and
signed with a version one higher each time something changes; anchoring
records which version the StatusRegistry holds (``anchored_version``), so a
list whose ``version`` is ahead is still to be anchored.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from credentials.errors import InvalidInput
from issuer.archive.store import ArchiveStore

__all__ = ["StatusListRecord", "StatusListTable"]


@dataclass(frozen=True)
class StatusListRecord:
    """One status list: its size, the latest signed token, and what is anchored."""

    id: str
    size: int
    bits: int
    created_at: int
    used: int
    version: int
    token: str | None
    token_sha256: str | None
    signed_at: int | None
    anchored_version: int
    anchored_tx: str | None
    anchored_block: int | None
    anchor_error: str | None

    @property
    def anchor_pending(self) -> bool:
        return self.version > self.anchored_version


_LIST_COLUMNS = frozenset(field.name for field in fields(StatusListRecord))


class StatusListTable(ArchiveStore):
    """The archive's ``status_lists`` table."""

    def status_lists(self) -> list[StatusListRecord]:
        return [StatusListRecord(**row) for row in self.db.query("SELECT * FROM status_lists ORDER BY created_at, id")]

    def status_list(self, list_id: str) -> StatusListRecord | None:
        rows = list(self.db.query("SELECT * FROM status_lists WHERE id = ?", [list_id]))
        return StatusListRecord(**rows[0]) if rows else None

    def insert_status_list(self, list_id: str, *, size: int, bits: int, created_at: int) -> None:
        self.conn.execute(
            "INSERT INTO status_lists (id, size, bits, created_at, used, version, anchored_version) "
            "VALUES (?, ?, ?, ?, 0, 0, 0)",
            [list_id, size, bits, created_at],
        )

    def update_status_list(self, list_id: str, **values: Any) -> None:
        unknown = sorted(set(values) - _LIST_COLUMNS)
        if unknown:
            raise InvalidInput(f"unknown status list column(s) {unknown}")
        assignments = ", ".join(f"{name} = ?" for name in values)
        self.conn.execute(f"UPDATE status_lists SET {assignments} WHERE id = ?", [*values.values(), list_id])
