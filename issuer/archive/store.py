"""The archive's SQLite file: a connection per thread, transactions, and disk errors named in one line.

One :class:`ArchiveStore` is opened per process (per gunicorn worker in the
issuer web app) and shared by its threads: each thread gets a connection of
its own on first use (Python's ``sqlite3`` objects are not for sharing), in
WAL mode with a busy timeout, so readers never wait for the writer, never see
another thread's unfinished transaction, and writers queue on SQLite's lock
(``BEGIN IMMEDIATE``) instead of failing. Opening applies the schema
migrations (:mod:`issuer.archive.schema`) under that lock, so processes
starting together on a fresh file create it once. Not to be shared across a
fork: open it in the process that uses it.

A full, read-only or failing disk comes out as :class:`~infra.errors.StorageError`
naming the cause in one line (:func:`storage_error`); a transaction is then
rolled back, never half-written (SQLite "Atomic Commit",
https://sqlite.org/atomiccommit.html).
"""

from __future__ import annotations

import errno
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import sqlite_utils

from infra.errors import StorageError
from infra.migrations import apply_migrations, enable_wal
from issuer.archive.schema import ARCHIVE_MIGRATIONS

__all__ = ["ArchiveStore", "storage_error"]

_BUSY_TIMEOUT_MS = 10_000
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


@contextmanager
def _disk_errors_named() -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as exc:
        translated = storage_error(exc)
        if translated is None:
            raise
        raise translated from exc


class ArchiveStore:
    """The archive file, one connection per thread; the tables' methods build on this."""

    def __init__(self, path: Path | str):
        self.path = str(path)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._databases: list[sqlite_utils.Database] = []
        self._closed = False
        with _disk_errors_named():
            apply_migrations(self.db, ARCHIVE_MIGRATIONS, what="the issuer's archive")

    @property
    def db(self) -> sqlite_utils.Database:
        """This thread's connection, as a sqlite-utils ``Database`` (opened on first use)."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = self._open()
        return db

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's ``sqlite3`` connection (autocommit: transactions are explicit)."""
        return self.db.conn

    def _open(self) -> sqlite_utils.Database:
        with self._lock:
            if self._closed:
                raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
            if self.path == ":memory:" and self._databases:
                return self._databases[0]  # one in-memory database (tests), so one connection
            with _disk_errors_named():
                conn = sqlite3.connect(self.path, isolation_level=None, timeout=_BUSY_TIMEOUT_MS / 1000,
                                       check_same_thread=False)
                try:
                    conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
                    if self.path != ":memory:":
                        enable_wal(conn)
                    db = sqlite_utils.Database(conn)
                except BaseException:
                    conn.close()
                    raise
            self._databases.append(db)
            return db

    def close(self) -> None:
        """Close every thread's connection."""
        with self._lock:
            self._closed = True
            databases, self._databases = self._databases, []
        for db in databases:
            db.close()

    def roll_back_unfinished(self) -> bool:
        """Roll back a transaction this thread left open (a bug: :meth:`transaction` never does);
        True if there was one. Called when a request ends, so the next one on this thread starts clean."""
        db = getattr(self._local, "db", None)
        if db is None or not db.conn.in_transaction:
            return False
        db.conn.execute("ROLLBACK")
        return True

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``, or ``ROLLBACK`` on any exception (also a failed commit).

        A disk error (full, read-only, failing) comes out as :class:`StorageError`
        naming it; SQLite may already have rolled back on its own, and the rollback
        here then does not hide the cause behind "no transaction is active".
        """
        with _disk_errors_named():
            conn = self.conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    with suppress(sqlite3.Error):  # the error being raised says more than the failed rollback
                        conn.execute("ROLLBACK")
                raise
