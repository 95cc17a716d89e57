"""Short-lived state shared by every worker and every instance of a service.

Three kinds of state must be the same whichever process answers a request
(ARCHITECTURE.md "Defaults, configuration, scale"): replay records (a KB-JWT
seen by worker 1 is refused by worker 2), OpenID4VP transactions (a request
created by one worker is answered through another) and rate-limit counters.
They sit behind one small interface, :class:`Store`, with two backends:

``SqliteStore`` (the default)
    one SQLite file in the data dir (:data:`STORE_FILE`), in WAL mode with a
    busy timeout, shared by all workers on one machine: ``--workers N`` is
    correct with no extra server. Insert-if-absent is a PRIMARY KEY and
    ``INSERT OR IGNORE`` (its row count says who won); every read-modify-write
    runs in a ``BEGIN IMMEDIATE`` transaction. Entries carry their expiry;
    expired ones are ignored on read and purged lazily. Durability
    (``synchronous = NORMAL`` in WAL mode): a record is in the log file, written
    to the operating system, when its statement returns, so it survives the
    crash of any process and every other connection sees it from its next
    statement; an operating-system crash or a power cut may roll back the
    records written since the log was last synced (at a checkpoint), never
    corrupt the file. Checkpoints (with their syncs) are made by a thread of
    each process (:mod:`infra.store_checkpoints`), not by the request whose
    write fills the log (issue 16). The replay table
    (``once``) has no index beside its key: every verification writes one
    record, and a second b-tree doubled that cost (issue 16), while the purge,
    which touches most pages either way, is faster scanning than through it.
``RedisStore`` (``MICROCRED_REDIS_URL`` set; Redis or Valkey; :mod:`infra.store_redis`)
    for several machines: ``SET NX PX`` for :meth:`~Store.add_once`, strings
    with a TTL for values, ``GETDEL`` for :meth:`~Store.pop`, and one Lua
    script (``INCR`` + ``PEXPIRE``) for rate-limit windows. Redis expires keys
    itself.

Nothing here is capped by count: entries live exactly their TTL, so memory is
bounded by traffic × TTL, and a full store never refuses anybody. When the
backend cannot answer, operations raise :class:`StoreUnavailable` (a
``ConnectionError``): replay then reads ``unavailable`` and the services answer
503, failing closed.

Rate limits are fixed windows: at most ``limit`` hits per ``window`` seconds
per key, counted from the first hit of a window; a refused hit learns how many
seconds remain (``Retry-After``, RFC 9110 §10.2.3).
"""

from __future__ import annotations

import logging
import math
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from infra import store_checks
from infra.errors import StoreUnavailable
from infra.store_checkpoints import Checkpointer
from infra.store_checks import RateDecision, checked, checked_limit
from infra.store_redis import ENV_REDIS_URL, RedisStore

__all__ = ["ENV_REDIS_URL", "PURGE_CHUNK", "STORE_FILE", "RateDecision", "Store", "StoreUnavailable", "SqliteStore",
           "RedisStore", "open_store"]

STORE_FILE = "shared-state.sqlite3"
#: Seconds between two purges of expired SQLite rows by one process.
PURGE_INTERVAL_S = 60.0
#: Rows of each table one write deletes at most when a purge is due; the writes after it go on until none is left.
PURGE_CHUNK = 250
#: Writes by one process between two checkpoints of the SQLite log by its background thread (one write is about
#: one page of log: SQLite's own automatic checkpoint comes after 1,000 pages).
CHECKPOINT_EVERY = 1000
#: Log pages past which a writing connection checkpoints itself (the background thread is behind, or gone).
_FALLBACK_CHECKPOINT_PAGES = 10_000
_log = logging.getLogger(__name__)
class Store(Protocol):
    """Short-lived shared state; every method is atomic across processes and machines sharing the store."""

    def add_once(self, namespace: str, key: str, ttl: float) -> bool:
        """Record ``key`` for ``ttl`` seconds; True if it was not recorded (and unexpired) before."""

    def put(self, namespace: str, key: str, value: str, ttl: float) -> None:
        """Set ``key`` to ``value`` for ``ttl`` seconds, replacing any value."""

    def get(self, namespace: str, key: str) -> str | None:
        """The unexpired value of ``key``, or None."""

    def pop(self, namespace: str, key: str) -> str | None:
        """Remove ``key`` and return its unexpired value; of concurrent callers, one alone gets it."""

    def hit(self, namespace: str, key: str, window: float, limit: int) -> RateDecision:
        """Count one hit on ``key``; allowed while the current window holds at most ``limit`` hits."""

    def close(self) -> None:
        """Release connections (the store reopens on next use)."""


_SCHEMA = """
CREATE TABLE IF NOT EXISTS once (namespace TEXT NOT NULL, key TEXT NOT NULL, expires_at REAL NOT NULL,
                                 PRIMARY KEY (namespace, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS kv (namespace TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
                               expires_at REAL NOT NULL, PRIMARY KEY (namespace, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS hits (namespace TEXT NOT NULL, key TEXT NOT NULL, window_start REAL NOT NULL,
                                 count INTEGER NOT NULL, expires_at REAL NOT NULL,
                                 PRIMARY KEY (namespace, key)) WITHOUT ROWID;
DROP INDEX IF EXISTS once_expiry;
CREATE INDEX IF NOT EXISTS kv_expiry ON kv (expires_at);
CREATE INDEX IF NOT EXISTS hits_expiry ON hits (expires_at);
"""


_ADD_ONCE = ("INSERT INTO once (namespace, key, expires_at) VALUES (?, ?, ?) ON CONFLICT (namespace, key) "
             "DO UPDATE SET expires_at = excluded.expires_at WHERE once.expires_at <= ?")


#: One chunk of a purge of ``kv`` or ``hits``: expired rows found through the table's expiry index.
_PURGE_INDEXED = ("DELETE FROM {table} WHERE (namespace, key) IN "
                  "(SELECT namespace, key FROM {table} WHERE expires_at <= ? LIMIT ?)")
#: One chunk of a purge of ``once``: expired rows after the last chunk's, in key order; the deleted keys.
_PURGE_ONCE = ("DELETE FROM once WHERE (namespace, key) IN (SELECT namespace, key FROM once "
               "WHERE (namespace, key) > (?, ?) AND expires_at <= ? ORDER BY namespace, key LIMIT ?) "
               "RETURNING namespace, key")

#: One rate-limit hit -> (window_start, count) after it.
_HIT = ("INSERT INTO hits (namespace, key, window_start, count, expires_at) VALUES (:namespace, :key, :now, 1, "
        ":now + :window) ON CONFLICT (namespace, key) DO UPDATE SET "
        "window_start = CASE WHEN hits.window_start + :window <= :now THEN :now ELSE hits.window_start END, "
        "count = CASE WHEN hits.window_start + :window <= :now THEN 1 ELSE hits.count + 1 END, "
        "expires_at = CASE WHEN hits.window_start + :window <= :now THEN :now + :window "
        "ELSE hits.window_start + :window END "
        "RETURNING window_start, count")


class SqliteStore:
    """The embedded backend: one SQLite file shared by every process on this machine.

    One connection per process (reopened after a fork, so a store made before
    gunicorn forks is safe), used under a lock by the process's threads;
    processes coordinate through SQLite's own locking (WAL, busy timeout).
    """

    def __init__(self, path: str | Path, *, clock: Callable[[], float] = time.time, busy_timeout: float = 5.0):
        self.path = Path(path)
        self._clock = clock
        self._busy_timeout = busy_timeout
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._cursor: sqlite3.Cursor | None = None
        self._pid = 0
        self._next_purge = 0.0
        self._purged_to = ("", "")  # the (namespace, key) the last chunk of a purge of ``once`` stopped at
        self._writes = 0  # since the last checkpoint asked of the background thread
        self._checkpointer: Checkpointer | None = None
        self._check_schema()

    def _check_schema(self) -> None:
        """Create the file and the tables now and read them once, so a bad data dir fails at start-up."""
        with self._transaction() as conn:
            for table in ("once", "kv", "hits"):
                conn.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchall()

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=self._busy_timeout, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute(f"PRAGMA wal_autocheckpoint = {_FALLBACK_CHECKPOINT_PAGES}")
        return conn

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None or self._pid != store_checks.pid:
            conn = self._open()
            conn.executescript(_SCHEMA)
            self._conn, self._cursor, self._pid = conn, conn.cursor(), store_checks.pid
        return self._conn

    def _wrote(self) -> None:
        """Count one write of this process (under the lock); every :data:`CHECKPOINT_EVERY`, wake the checkpointer."""
        self._writes += 1
        if self._writes >= CHECKPOINT_EVERY:
            self._writes = 0
            checkpointer = self._checkpointer
            if checkpointer is None or not checkpointer.serves(store_checks.pid):
                checkpointer = self._checkpointer = Checkpointer(self._open, str(self.path))
            checkpointer.wake()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                conn = self._connection()
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                    self._purge(conn)
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
                self._wrote()
            except sqlite3.Error as exc:
                _log.warning("shared store %s: %s", self.path, exc)
                self._abandon()
                raise StoreUnavailable("the shared state store cannot be written now") from None

    def _abandon(self) -> None:
        """Drop the connection after an error, so the next call starts from a clean one."""
        conn, self._conn = self._conn, None
        if conn is not None and self._pid == os.getpid():
            try:
                conn.close()
            except sqlite3.Error:
                _log.debug("closing a failed shared-store connection failed too", exc_info=True)

    def _purge(self, conn: sqlite3.Connection) -> None:
        """Delete at most :data:`PURGE_CHUNK` expired rows of each table (inside the caller's write transaction,
        which holds every process's write lock meanwhile); the next purge is due at once while rows were left,
        else in :data:`PURGE_INTERVAL_S`. ``kv`` and ``hits`` are read through their expiry indexes; ``once``,
        which has none, is walked in key order from where the last chunk stopped, so a pass reads it once."""
        now = self._clock()
        if now < self._next_purge:
            return
        counts = [conn.execute(_PURGE_INDEXED.format(table=table), (now, PURGE_CHUNK)).rowcount
                  for table in ("kv", "hits")]
        keys = conn.execute(_PURGE_ONCE, (*self._purged_to, now, PURGE_CHUNK)).fetchall()
        counts.append(len(keys))
        self._purged_to = max(keys) if len(keys) >= PURGE_CHUNK else ("", "")
        self._next_purge = now if max(counts) >= PURGE_CHUNK else now + PURGE_INTERVAL_S
        self._writes += sum(counts)  # up to a log page a deleted row: the background checkpoints keep pace

    def add_once(self, namespace: str, key: str, ttl: float) -> bool:
        checked(namespace, key, ttl)
        now = self._clock()
        # One statement, atomic on its own: a new key is inserted, an expired one taken over, a live one left
        # alone (0 rows). Every verification writes one, so no BEGIN / COMMIT round trips (issue 16).
        return self._write_one(_ADD_ONCE, (namespace, key, now + ttl, now)) == 1

    def _write_one(self, sql: str, parameters: tuple[Any, ...]) -> int:
        """Run one writing statement in autocommit (its own transaction); rows changed. Purges when due."""
        if self._clock() >= self._next_purge:
            with self._transaction() as conn:
                return int(conn.execute(sql, parameters).rowcount)
        with self._lock:
            try:
                conn, cursor = self._connection(), self._cursor  # one cursor kept, not one a call
                if cursor is None:
                    cursor = self._cursor = conn.cursor()
                changed = int(cursor.execute(sql, parameters).rowcount)
                self._wrote()
                return changed
            except sqlite3.Error as exc:
                _log.warning("shared store %s: %s", self.path, exc)
                self._abandon()
                raise StoreUnavailable("the shared state store cannot be written now") from None

    def _write_returning(self, sql: str, parameters: dict[str, Any]) -> tuple[Any, ...]:
        """Run one writing statement with ``RETURNING`` in autocommit; its one row. Read to the end, so the
        statement is done and its transaction committed before the lock is let go. Purges when due."""
        if self._clock() >= self._next_purge:
            with self._transaction() as conn:
                return tuple(conn.execute(sql, parameters).fetchall()[0])
        with self._lock:
            try:
                rows = self._connection().execute(sql, parameters).fetchall()
                self._wrote()
            except sqlite3.Error as exc:
                _log.warning("shared store %s: %s", self.path, exc)
                self._abandon()
                raise StoreUnavailable("the shared state store cannot be written now") from None
        return tuple(rows[0])

    def put(self, namespace: str, key: str, value: str, ttl: float) -> None:
        checked(namespace, key, ttl)
        if not isinstance(value, str):
            raise ValueError(f"a store value is a string, found {type(value).__name__}")
        with self._transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO kv (namespace, key, value, expires_at) VALUES (?, ?, ?, ?)",
                         (namespace, key, value, self._clock() + ttl))

    def get(self, namespace: str, key: str) -> str | None:
        checked(namespace, key)
        with self._transaction() as conn:
            row = conn.execute("SELECT value FROM kv WHERE namespace = ? AND key = ? AND expires_at > ?",
                               (namespace, key, self._clock())).fetchone()
        return row[0] if row else None

    def pop(self, namespace: str, key: str) -> str | None:
        checked(namespace, key)
        with self._transaction() as conn:
            row = conn.execute("DELETE FROM kv WHERE namespace = ? AND key = ? RETURNING value, expires_at",
                               (namespace, key)).fetchone()
        return row[0] if row and row[1] > self._clock() else None

    def hit(self, namespace: str, key: str, window: float, limit: int) -> RateDecision:
        checked(namespace, key)
        checked_limit(window, limit)
        now = self._clock()
        # One upsert, atomic on its own (every request counts one hit, issue 16): a window that has ended starts
        # again at 1, a running one counts one more; SET reads the row as it was before the statement.
        start, count = self._write_returning(_HIT, {"namespace": namespace, "key": key, "now": now, "window": window})
        if count <= limit:
            return RateDecision(True, 0)
        return RateDecision(False, max(1, math.ceil(start + window - now)))

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None
            checkpointer, self._checkpointer = self._checkpointer, None
        if checkpointer is not None and checkpointer.serves(os.getpid()):
            checkpointer.stop()


def open_store(data_dir: str | Path, redis_url: str | None = None, *,
               clock: Callable[[], float] = time.time) -> Store:
    """Redis at ``redis_url`` if given (else ``$MICROCRED_REDIS_URL``), otherwise SQLite in ``data_dir``."""
    url = redis_url if redis_url is not None else os.environ.get(ENV_REDIS_URL)
    if url:
        return RedisStore(url)
    return SqliteStore(Path(data_dir) / STORE_FILE, clock=clock)
