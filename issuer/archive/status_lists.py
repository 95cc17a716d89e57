"""Archived status lists: size, the latest signed Status List Token, and what the chain holds.

The archive is the source of truth for statuses: a Status List Token
(draft-ietf-oauth-status-list) is rebuilt from the credentials' statuses and
signed with a version one higher each time something changes; anchoring
records which version the StatusRegistry holds (``anchored_version``) and that
version's token (``anchored_token``), so a list whose ``version`` is ahead is
still to be anchored, and meanwhile verifiers are served the anchored token
(:func:`issuer.list_keeper.served_token`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from credentials.errors import InvalidInput
from issuer.archive.store import ArchiveStore

__all__ = ["LIST_KIND_IETF", "LIST_KIND_BITSTRING", "StatusListRecord", "StatusListTable"]

#: An IETF Token Status List (``statuslist+jwt``) or a W3C Bitstring Status List (``vc+jwt``).
LIST_KIND_IETF, LIST_KIND_BITSTRING = "ietf", "bitstring"


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
    kind: str = LIST_KIND_IETF
    #: The token of ``anchored_version`` (None: nothing anchored yet, or anchored before the archive kept it).
    anchored_token: str | None = None

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

    def status_lists_of(self, kind: str) -> list[StatusListRecord]:
        sql = "SELECT * FROM status_lists WHERE kind = ? ORDER BY created_at, id"
        return [StatusListRecord(**row) for row in self.db.query(sql, [kind])]

    def insert_status_list(self, list_id: str, *, size: int, bits: int, created_at: int,
                           kind: str = LIST_KIND_IETF) -> None:
        if kind not in (LIST_KIND_IETF, LIST_KIND_BITSTRING):
            raise InvalidInput(f"expected a status list kind {LIST_KIND_IETF!r} or {LIST_KIND_BITSTRING!r}, "
                               f"found {kind!r}")
        self.conn.execute(
            "INSERT INTO status_lists (id, size, bits, created_at, used, version, anchored_version, kind) "
            "VALUES (?, ?, ?, ?, 0, 0, 0, ?)",
            [list_id, size, bits, created_at, kind],
        )

    def record_anchored(self, list_id: str, *, version: int, token: str | None, block: int | None,
                        tx: str | None) -> None:
        """The chain holds ``version`` of the list, whose token is ``token``; never moves the record back to an
        older version than one already recorded as anchored (two anchorers finishing out of order)."""
        values: dict[str, Any] = {"anchored_version": version, "anchored_token": token, "anchor_error": None,
                                  "anchored_block": block}
        if tx is not None:
            values["anchored_tx"] = tx
        assignments = ", ".join(f"{name} = ?" for name in values)
        self.conn.execute(f"UPDATE status_lists SET {assignments} WHERE id = ? AND anchored_version <= ?",
                          [*values.values(), list_id, version])

    def update_status_list(self, list_id: str, **values: Any) -> None:
        unknown = sorted(set(values) - _LIST_COLUMNS)
        if unknown:
            raise InvalidInput(f"unknown status list column(s) {unknown}")
        assignments = ", ".join(f"{name} = ?" for name in values)
        self.conn.execute(f"UPDATE status_lists SET {assignments} WHERE id = ?", [*values.values(), list_id])
