"""The background checkpoints of the SQLite store's write-ahead log (:mod:`infra.store`, issue 16).

A checkpoint copies the log into the database file and syncs both (SQLite's
``wal_checkpoint``, https://www.sqlite.org/wal.html#ckpt); made by SQLite
itself, it runs in the request whose write fills the log, which then waits
for the disk. Here a thread of each process makes it, woken by the store
after every :data:`infra.store.CHECKPOINT_EVERY` writes; the durability of a
record is the same (the log is synced at each checkpoint either way). A
writing connection checkpoints itself only past
:data:`infra.store._FALLBACK_CHECKPOINT_PAGES` log pages (the thread behind or
gone). Measured in a verifier (issue 16): the inline checkpoint's syncs made a
replay record's 99th percentile 2.8 ms; 0.25 ms with this thread.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Callable
from contextlib import suppress

__all__ = ["Checkpointer"]

_log = logging.getLogger(__name__)


class Checkpointer:
    """One process's background thread that checkpoints the SQLite log when woken (``PASSIVE``: it never waits
    for, nor blocks, a writer), on a connection of its own; started on the first checkpoint due, so a process
    that writes little (a server's master before it forks its workers) never starts it."""

    def __init__(self, connect: Callable[[], sqlite3.Connection], name: str):
        self._connect = connect
        self._name = name
        self._pid = os.getpid()
        self._due = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="shared-store-checkpoints", daemon=True)
        self._thread.start()

    def serves(self, pid: int) -> bool:
        """Whether this is the running checkpointer of process ``pid`` (a forked child starts its own)."""
        return self._pid == pid and self._thread.is_alive()

    def wake(self) -> None:
        self._due.set()

    def stop(self) -> None:
        self._stopping = True
        self._due.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            while True:
                self._due.wait()
                self._due.clear()
                if self._stopping:
                    return
                try:
                    conn = conn or self._connect()
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as exc:  # the writers go on; one of them checkpoints past the fallback
                    _log.warning("shared store %s: checkpoint: %s", self._name, exc)
                    conn, failed = None, conn
                    if failed is not None:
                        with suppress(sqlite3.Error):
                            failed.close()
        finally:
            if conn is not None:
                conn.close()
