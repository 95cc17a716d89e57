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

A batch is recorded (table ``batches``, state ``pending``) together with its
credentials — ids, status list slots, claims — *before* anything is signed;
each signed credential's SHA-256 is recorded after its file is written, and
the batch becomes ``delivered`` once its folder is complete. So no signed
credential exists that the archive does not know, and an interrupted batch is
finished from what the archive holds.

Errors: a full, read-only or failing disk raises :class:`StorageError` (one
line naming the cause); the transaction is rolled back, never half-written.
"""

from __future__ import annotations

import errno
import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from credentials.errors import InvalidInput, UnknownCredential
from infra.errors import StorageError

__all__ = [
    "STATUS_NAMES",
    "DELIVERY_FILE",
    "DELIVERY_OFFER",
    "DELIVERY_REDEEMED",
    "BATCH_PENDING",
    "BATCH_DELIVERED",
    "CredentialRecord",
    "StatusListRecord",
    "BatchRecord",
    "UnknownCredential",
    "StorageError",
    "storage_error",
    "Archive",
]

#: Archive status names and the Token Status List values they stand for.
STATUS_NAMES = {"valid": 0x00, "revoked": 0x01, "suspended": 0x02}
DELIVERY_FILE = "file"
DELIVERY_OFFER = "offer"
DELIVERY_REDEEMED = "redeemed"
BATCH_PENDING = "pending"
BATCH_DELIVERED = "delivered"
_BUSY_TIMEOUT_MS = 10_000

_CREDENTIAL_COLUMNS = {
    "id": str, "batch_id": str, "student_id": str, "given_name": str, "family_name": str,
    "title": str, "claims": str, "holder_jwk": str, "list_id": str, "idx": int, "status": str,
    "delivery": str, "issued_at": int, "sd_jwt_sha256": str, "replaces": str, "replaced_by": str,
    "offer_id": str, "batch_row": int,
}
_BATCH_COLUMNS = {
    "id": str, "content_sha256": str, "state": str, "out_dir": str, "created_at": int, "size": int,
    "delivered_at": int,
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


_SQLITE_CAUSES = {
    sqlite3.SQLITE_FULL: "the archive's disk is full",
    sqlite3.SQLITE_READONLY: "the archive is read-only",
    sqlite3.SQLITE_IOERR: "the archive's disk failed",
    sqlite3.SQLITE_CANTOPEN: "the archive cannot be opened",
}
_OS_CAUSES = {
    errno.ENOSPC: "disk is full", errno.EDQUOT: "disk quota is exceeded", errno.EROFS: "is read-only",
    errno.EACCES: "is not writable", errno.EPERM: "is not writable", errno.EIO: "disk failed",
}


def storage_error(exc: BaseException, *, where: str = "the archive") -> StorageError | None:
    """The :class:`StorageError` that ``exc`` (an SQLite or OS error) stands for, or None."""
    if isinstance(exc, StorageError):
        return exc
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        cause = _SQLITE_CAUSES.get(code & 0xFF) if isinstance(code, int) else None
        return StorageError(f"{cause} ({exc})") if cause else None
    if isinstance(exc, OSError) and exc.errno in _OS_CAUSES:
        owner = f"{where}'s" if _OS_CAUSES[exc.errno].startswith("disk") else where
        return StorageError(f"{owner} {_OS_CAUSES[exc.errno]} ({exc.strerror or exc})")
    return None


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
    #: The row (or entry) number of the credential in its batch's input.
    batch_row: int | None = None

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


class Archive:
    """The SQLite archive of one issuer."""

    def __init__(self, path: Path | str):
        self.path = str(path)
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=_BUSY_TIMEOUT_MS / 1000,
                                   check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            if self.path != ":memory:":
                conn.execute("PRAGMA journal_mode = WAL")
            self.conn = conn
            self.db = sqlite_utils.Database(conn)
            self._create_tables()
        except sqlite3.Error as exc:
            translated = storage_error(exc)
            if translated is None:
                raise
            raise translated from exc

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
        if "batch_row" not in db["credentials"].columns_dict:  # an archive from before batches were resumable
            db["credentials"].add_column("batch_row", int)
        if "batches" not in db.table_names():
            db["batches"].create(_BATCH_COLUMNS, pk="id", not_null={"content_sha256", "state"})

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``, or ``ROLLBACK`` on any exception (also a failed commit).

        A disk error (full, read-only, failing) comes out as :class:`StorageError`
        naming it; SQLite may already have rolled back on its own, and the rollback
        here then does not hide the cause behind "no transaction is active".
        """
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
                self.conn.execute("COMMIT")
            except BaseException:
                if self.conn.in_transaction:
                    try:
                        self.conn.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass  # the error being raised says more than the failed rollback
                raise
        except sqlite3.Error as exc:
            translated = storage_error(exc)
            if translated is None:
                raise
            raise translated from exc

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

    def record_signatures(self, hashes: dict[str, str]) -> None:
        """Record the SHA-256 of each signed SD-JWT by credential id (call inside :meth:`transaction`)."""
        self.conn.executemany("UPDATE credentials SET sd_jwt_sha256 = ? WHERE id = ?",
                              ((digest, i) for i, digest in hashes.items()))

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

    # --- batches --------------------------------------------------------------------

    def insert_batch(self, batch: BatchRecord) -> None:
        """Insert a batch (call inside :meth:`transaction`)."""
        self.db["batches"].insert(dict(batch.__dict__))

    def batch(self, batch_id: str) -> BatchRecord | None:
        rows = list(self.db.query("SELECT * FROM batches WHERE id = ?", [batch_id]))
        return BatchRecord(**rows[0]) if rows else None

    def batch_credentials(self, batch_id: str) -> list[CredentialRecord]:
        """The credentials of a batch in the order of its input (re-issues of its rows excluded)."""
        sql = "SELECT * FROM credentials WHERE batch_id = ? AND replaces IS NULL ORDER BY batch_row, rowid"
        return [CredentialRecord.from_row(row) for row in self.db.query(sql, [batch_id])]

    def mark_batch_delivered(self, batch_id: str, *, out_dir: str | None, at: int) -> None:
        with self.transaction() as conn:
            conn.execute("UPDATE batches SET state = ?, out_dir = COALESCE(?, out_dir), delivered_at = ? WHERE id = ?",
                         [BATCH_DELIVERED, out_dir, at, batch_id])

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
