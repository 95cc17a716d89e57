"""The issuer's archive (SQLite): what was issued, the status lists, offers and nonces.

European Maturity Model for Micro-credentials, Table 1 step 3: the issuer
"archives it for verification, revocation and re-issue". The archive keeps,
per credential, the claims that were signed (enough to sign them again for a
new holder key), the holder key, the status list and index, the status, and
the SHA-256 of the issued SD-JWT — not the SD-JWT itself, which holds the
learner's data a second time and is the learner's to keep.

The archive is the source of truth for statuses: a Status List Token is
rebuilt from it (:meth:`Archive.status_entries`) and signed with a version
one higher each time something changes; anchoring records which version the
StatusRegistry holds. Tables are created with sqlite-utils; writes that must
stay together run in one ``BEGIN IMMEDIATE`` transaction (:meth:`Archive.transaction`),
so a reader never sees half of a change and two processes never interleave one.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from credentials.errors import InvalidInput

__all__ = [
    "STATUS_NAMES",
    "DELIVERY_FILE",
    "DELIVERY_OFFER",
    "DELIVERY_REDEEMED",
    "CredentialRecord",
    "StatusListRecord",
    "UnknownCredential",
    "Archive",
]

#: Archive status names and the Token Status List values they stand for.
STATUS_NAMES = {"valid": 0x00, "revoked": 0x01, "suspended": 0x02}
DELIVERY_FILE = "file"
DELIVERY_OFFER = "offer"
DELIVERY_REDEEMED = "redeemed"
_BUSY_TIMEOUT_MS = 10_000

_CREDENTIAL_COLUMNS = {
    "id": str, "batch_id": str, "student_id": str, "given_name": str, "family_name": str,
    "title": str, "claims": str, "holder_jwk": str, "list_id": str, "idx": int, "status": str,
    "delivery": str, "issued_at": int, "sd_jwt_sha256": str, "replaces": str, "replaced_by": str,
    "offer_id": str,
}
_LIST_COLUMNS = {
    "id": str, "size": int, "bits": int, "created_at": int, "used": int, "version": int,
    "token": str, "token_sha256": str, "signed_at": int, "anchored_version": int,
    "anchored_tx": str, "anchored_block": int, "anchor_error": str,
}
_OFFER_COLUMNS = {
    "id": str, "credential_id": str, "pre_authorized_code": str, "created_at": int, "expires_at": int,
    "redeemed_at": int, "access_token_sha256": str, "token_expires_at": int,
}
_NONCE_COLUMNS = {"value": str, "expires_at": int}
#: Built once (``json.dumps`` with options builds an encoder per call); same text as before.
_CLAIMS_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_JWK_JSON = json.JSONEncoder()


class UnknownCredential(InvalidInput):
    """A credential id that the archive does not hold."""


@dataclass(frozen=True)
class CredentialRecord:
    """One archived credential."""

    id: str
    batch_id: str
    student_id: str
    given_name: str
    family_name: str
    title: str
    claims: dict[str, Any]
    holder_jwk: dict[str, str] | None
    list_id: str
    idx: int
    status: str
    delivery: str
    issued_at: int
    sd_jwt_sha256: str | None
    replaces: str | None
    replaced_by: str | None
    offer_id: str | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "CredentialRecord":
        values = dict(row)
        values["claims"] = json.loads(values["claims"])
        values["holder_jwk"] = json.loads(values["holder_jwk"]) if values["holder_jwk"] else None
        return cls(**values)

    def to_row(self) -> dict[str, Any]:
        row = {name: getattr(self, name) for name in _CREDENTIAL_COLUMNS}
        row["claims"] = _CLAIMS_JSON.encode(self.claims)
        row["holder_jwk"] = _JWK_JSON.encode(self.holder_jwk) if self.holder_jwk else None
        return row


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


class Archive:
    """The SQLite archive of one issuer."""

    def __init__(self, path: Path | str):
        self.path = str(path)
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=_BUSY_TIMEOUT_MS / 1000,
                               check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        if self.path != ":memory:":
            conn.execute("PRAGMA journal_mode = WAL")
        self.conn = conn
        self.db = sqlite_utils.Database(conn)
        self._create_tables()

    def _create_tables(self) -> None:
        db = self.db
        if "credentials" not in db.table_names():
            db["credentials"].create(_CREDENTIAL_COLUMNS, pk="id", not_null={"claims", "list_id", "idx", "status"})
            db["credentials"].create_index(["list_id", "idx"], unique=True)
            db["credentials"].create_index(["student_id"])
            db["credentials"].create_index(["batch_id"])
        if "status_lists" not in db.table_names():
            db["status_lists"].create(_LIST_COLUMNS, pk="id", defaults={"version": 0, "anchored_version": 0, "used": 0})
        if "offers" not in db.table_names():
            db["offers"].create(_OFFER_COLUMNS, pk="id")
            db["offers"].create_index(["pre_authorized_code"], unique=True)
            db["offers"].create_index(["access_token_sha256"])
        if "nonces" not in db.table_names():
            db["nonces"].create(_NONCE_COLUMNS, pk="value")

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``, or ``ROLLBACK`` on any exception."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # --- credentials ---------------------------------------------------------------

    def insert_credentials(self, records: Iterable[CredentialRecord]) -> None:
        """Insert records (call inside :meth:`transaction`)."""
        columns = list(_CREDENTIAL_COLUMNS)
        sql = f"INSERT INTO credentials ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
        self.conn.executemany(sql, ([row[c] for c in columns] for row in (r.to_row() for r in records)))

    def credential(self, credential_id: str) -> CredentialRecord:
        rows = list(self.db.query("SELECT * FROM credentials WHERE id = ?", [credential_id]))
        if not rows:
            raise UnknownCredential(f"no credential with id {credential_id!r} in this issuer's archive")
        return CredentialRecord.from_row(rows[0])

    def credentials(self, *, search: str | None = None, limit: int = 200, offset: int = 0) -> list[CredentialRecord]:
        """Newest first; ``search`` matches id, student id, names or title."""
        where, params = "", []
        if search:
            where = ("WHERE id = ? OR student_id LIKE ? OR given_name LIKE ? OR family_name LIKE ? "
                     "OR title LIKE ?")
            pattern = f"%{search}%"
            params = [search, pattern, pattern, pattern, pattern]
        sql = f"SELECT * FROM credentials {where} ORDER BY issued_at DESC, rowid DESC LIMIT ? OFFSET ?"
        return [CredentialRecord.from_row(row) for row in self.db.query(sql, [*params, limit, offset])]

    def count_credentials(self) -> dict[str, int]:
        counts = {name: 0 for name in STATUS_NAMES}
        for row in self.db.query("SELECT status, COUNT(*) AS n FROM credentials GROUP BY status"):
            counts[row["status"]] = row["n"]
        return counts

    def set_status(self, credential_ids: Iterable[str], status: str) -> None:
        """Set statuses (call inside :meth:`transaction`)."""
        if status not in STATUS_NAMES:
            raise InvalidInput(f"status must be one of {', '.join(STATUS_NAMES)}, found {status!r}")
        self.conn.executemany("UPDATE credentials SET status = ? WHERE id = ?", ((status, i) for i in credential_ids))

    def update_credential(self, credential_id: str, **values: Any) -> None:
        unknown = sorted(set(values) - set(_CREDENTIAL_COLUMNS))
        if unknown:
            raise InvalidInput(f"unknown credential column(s) {unknown}")
        assignments = ", ".join(f"{name} = ?" for name in values)
        self.conn.execute(f"UPDATE credentials SET {assignments} WHERE id = ?", [*values.values(), credential_id])

    def used_indices(self, list_id: str) -> set[int]:
        return {row[0] for row in self.conn.execute("SELECT idx FROM credentials WHERE list_id = ?", [list_id])}

    def status_entries(self, list_id: str) -> list[tuple[int, int]]:
        """``(index, status value)`` of every entry that is not VALID."""
        rows = self.conn.execute(
            "SELECT idx, status FROM credentials WHERE list_id = ? AND status != 'valid'", [list_id]
        )
        return [(idx, STATUS_NAMES[status]) for idx, status in rows]

    # --- status lists --------------------------------------------------------------

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
        unknown = sorted(set(values) - set(_LIST_COLUMNS))
        if unknown:
            raise InvalidInput(f"unknown status list column(s) {unknown}")
        assignments = ", ".join(f"{name} = ?" for name in values)
        self.conn.execute(f"UPDATE status_lists SET {assignments} WHERE id = ?", [*values.values(), list_id])

    # --- OpenID4VCI offers and nonces ----------------------------------------------

    def insert_offers(self, offers: Iterable[dict[str, Any]]) -> None:
        columns = list(_OFFER_COLUMNS)
        sql = f"INSERT INTO offers ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
        self.conn.executemany(sql, ([offer.get(c) for c in columns] for offer in offers))

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
