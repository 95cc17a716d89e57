"""A live badge (issue 13 §7): a stored credential's status is checked again when it is shown and stale.

A stored badge is *stale* when its last check is older than
``WALLET_STATUS_MAX_AGE`` seconds, or when the wallet's ledger view has seen a
StatusRegistry anchoring event (``StatusListAnchored``, ``contracts/IStatusRegistry.sol``)
of the credential's issuer since that check started: :func:`mark_stale` counts
such events per credential (``status_events``); a check records the count it
started from (``status_events_seen``), so an event that arrives while a check
is running leaves the credential stale. Every list of that issuer is marked,
not only the one anchored: a credential may name several lists (a W3C
revocation and a suspension entry), and a re-check is cheap.

Bounded on the request path. Stale credentials are checked again by a small
pool (:data:`WORKERS` daemon threads per process; a credential already queued is not
queued twice; at most :data:`MAX_QUEUED` wait). A page waits for them at most
:data:`REQUEST_WAIT_S` seconds; the cards still being checked say "Checking…"
(never their older badge) and the page reloads itself. The ledger view keeps a
list's anchor and token per list, dropped by the same events, so a thousand
credentials on three lists cost three anchor reads and three fetches; the
rest is signature work in the pool, off the request path. Each check has the
chain deadline of :data:`wallet.checking.CHECK_DEADLINE_S`: with the chain
down the badge says "could not check", never "verified".

:func:`current_badge` is the badge the OpenID4VP consent page shows
(:func:`wallet.checking.status_of`: valid, revoked, suspended, expired,
unknown), checked again first when stale.
"""

from __future__ import annotations

import atexit
import json
import logging
import queue
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future
from concurrent.futures import wait as wait_for_futures
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, current_app

from infra.serving import on_worker_start
from wallet.checking import (
    CHECK_DEADLINE_S,
    STATUS_UNKNOWN,
    Badge,
    LedgerTrustCheck,
    TrustCheck,
    badge_for,
    status_of,
    unverified_badge,
)
from wallet.db import DB_FILE, get_db, open_database

__all__ = ["WORKERS", "MAX_QUEUED", "REQUEST_WAIT_S", "RELOAD_AFTER_S", "CurrentBadge", "StatusFreshness",
           "is_stale", "store_badge", "check_row", "mark_stale", "shown_state", "refresh_shown", "current_badge",
           "init_app", "freshness_of", "ledger_checks_of", "close_app"]

#: Threads per process checking stale credentials.
WORKERS = 2
#: Credentials waiting for a check, per process; more are left stale until a later page asks again.
MAX_QUEUED = 2_000
#: Seconds a page waits for its stale credentials before showing the rest as "Checking…".
REQUEST_WAIT_S = 2.0
#: Seconds a page asks the browser to wait before reloading to show what was being checked.
RELOAD_AFTER_S = 3
_EXTENSION = "microcred_wallet_freshness"
_STATE_COLUMNS = ("id, account_id, raw, format, verified, checked_at, status_events, status_events_seen, "
                  "issuance_proof")

log = logging.getLogger(__name__)


def is_stale(row: Mapping[str, Any], now: int, max_age: int) -> bool:
    """Whether a stored credential's badge needs a new check: a signed one, checked too long ago or since an event."""
    if not row["verified"]:
        return False  # a document kept as unverified has nothing to check
    return now - int(row["checked_at"]) > max_age or row["status_events"] != row["status_events_seen"]


def store_badge(db: Any, account_id: int, credential_id: int, badge: Badge, *, now: int, events_seen: int) -> None:
    """Keep a check's badge, and the event count it started from (the caller holds the transaction or not)."""
    db.execute(
        "UPDATE credentials SET badge = ?, badge_detail = ?, registry_name = ?, checked_at = ?, status_events_seen = ? "
        "WHERE id = ? AND account_id = ?",
        [badge.state, badge.detail_json(), badge.issuer_name, now, events_seen, credential_id, account_id],
    )


def check_row(row: Mapping[str, Any], trust_check: TrustCheck | None, now: int) -> Badge:
    """The badge of a stored credential checked now (a document kept as unverified stays so)."""
    if not row["verified"]:
        return unverified_badge()
    try:
        kept = row["issuance_proof"]
    except (IndexError, KeyError):  # a row read without the column
        kept = None
    return badge_for(row["raw"], row["format"], now=now, trust_check=trust_check,
                     issuance_proof=json.loads(kept) if kept else None)


def mark_stale(db_path: Path, issuers: Iterable[str] | None) -> int:
    """Count an anchoring event for the credentials of ``issuers`` (None: every credential); how many were marked."""
    db = open_database(db_path)
    try:
        with db.conn:
            if issuers is None:
                cursor = db.execute("UPDATE credentials SET status_events = status_events + 1 WHERE verified = 1")
                return cursor.rowcount
            marked = 0
            for issuer in sorted(set(issuers)):
                cursor = db.execute("UPDATE credentials SET status_events = status_events + 1 "
                                    "WHERE issuer = ? AND verified = 1", [issuer])
                marked += cursor.rowcount
            return marked
    finally:
        db.close()


class StatusFreshness:
    """The re-checks of one wallet process: :data:`WORKERS` daemon threads writing fresh badges into the database.

    Daemon threads, so that a process exits without waiting for a queue of checks against a hung node;
    :meth:`close` drops what waits and lets running checks end (each within its chain deadline).
    """

    def __init__(self, db_path: Path, max_age: int):
        self.db_path = db_path
        self.max_age = max_age
        self._lock = threading.RLock()
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._workers: list[threading.Thread] = []
        self._queued: dict[int, Future[None]] = {}
        self._closed = False

    @property
    def running(self) -> bool:
        """Whether worker threads of this pool run in this process."""
        with self._lock:
            return any(worker.is_alive() for worker in self._workers)

    def start(self) -> None:
        """Start the worker threads in this process, once (again in a forked child); never after :meth:`close`."""
        with self._lock:
            if self._closed or any(worker.is_alive() for worker in self._workers):
                return
            self._workers = [threading.Thread(target=self._work, name=f"wallet-status-{number}", daemon=True)
                             for number in range(WORKERS)]
            for worker in self._workers:
                worker.start()

    def on_anchor_events(self, events: Sequence[Any] | None) -> None:
        """The ledger view's listener: mark the credentials of each anchoring issuer stale (never raises)."""
        try:
            mark_stale(self.db_path, None if events is None else (event.issuer_did for event in events))
        except sqlite3.Error as exc:
            log.warning("could not mark credentials stale after a status list was anchored: %s", exc)

    def submit(self, credential_ids: Iterable[int], trust_check: TrustCheck,
               clock: Callable[[], float]) -> dict[int, Future[None]]:
        """Queue a check of each credential not queued yet; the futures of every one asked for that is queued."""
        with self._lock:
            if self._closed:
                return {}
            self.start()  # an app never served (a TESTING app's client, a command) has not started it
            found: dict[int, Future[None]] = {}
            for credential_id in credential_ids:
                future = self._queued.get(credential_id)
                if future is None:
                    if len(self._queued) >= MAX_QUEUED:
                        continue  # stays stale; a later page asks again
                    future = Future()
                    self._queued[credential_id] = future
                    self._queue.put(_Job(credential_id, trust_check, clock, future))
                found[credential_id] = future
            return found

    def _work(self) -> None:
        while (job := self._queue.get()) is not None:
            if not job.future.set_running_or_notify_cancel():
                continue  # dropped by close()
            try:
                self._check(job.credential_id, job.trust_check, job.clock)
            except Exception as exc:  # a trust check's bug must not end the worker; the page shows "Checking…"
                log.exception("checking the status of a credential failed")
                job.future.set_exception(exc)
            else:
                job.future.set_result(None)
            finally:
                with self._lock:
                    self._queued.pop(job.credential_id, None)

    def _check(self, credential_id: int, trust_check: TrustCheck, clock: Callable[[], float]) -> None:
        db = open_database(self.db_path)
        try:
            cursor = db.execute(f"SELECT {_STATE_COLUMNS} FROM credentials WHERE id = ?", [credential_id])
            values = cursor.fetchone()
            if values is None:
                return  # removed meanwhile
            row = dict(zip([d[0] for d in cursor.description], values, strict=True))
            now = int(clock())
            badge = check_row(row, trust_check, now)
            with db.conn:
                store_badge(db, row["account_id"], credential_id, badge, now=now, events_seen=row["status_events"])
        except sqlite3.Error as exc:
            log.warning("could not keep the new badge of a credential: %s", exc)
        finally:
            db.close()

    def close(self) -> None:
        """Drop what waits; let running checks end (each within its chain deadline)."""
        with self._lock:
            self._closed = True
            waiting, self._queued = list(self._queued.values()), {}
            workers, self._workers = self._workers, []
        for future in waiting:
            future.cancel()  # a running one is not cancelled: it ends by itself
        for _ in workers:
            self._queue.put(None)
        for worker in workers:
            if worker is not threading.current_thread():
                worker.join(timeout=CHECK_DEADLINE_S + 1)


@dataclass(frozen=True)
class _Job:
    credential_id: int
    trust_check: TrustCheck
    clock: Callable[[], float]
    future: Future[None]


def freshness_of(app: Flask) -> StatusFreshness:
    return app.extensions[_EXTENSION]


def ledger_checks_of(app: Flask) -> LedgerTrustCheck | None:
    """The app's chain-backed trust check, when it is one (None for a plain function or no check)."""
    check = app.config.get("TRUST_CHECK")
    return check if isinstance(check, LedgerTrustCheck) else None


def shown_state(db: Any, account_id: int, credential_id: int | None = None) -> list[dict[str, Any]]:
    """What :func:`refresh_shown` needs of the account's credentials (or of one): no raw text, no view."""
    query = "SELECT id, verified, checked_at, status_events, status_events_seen FROM credentials WHERE account_id = ?"
    params: list[Any] = [account_id]
    if credential_id is not None:
        query, params = query + " AND id = ?", [account_id, credential_id]
    cursor = db.execute(query, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


def refresh_shown(rows: Sequence[Mapping[str, Any]], *, wait: float | None = None) -> set[int]:
    """Check again the stale ones among ``rows`` (from :func:`shown_state`), waiting at most
    ``wait`` seconds (default :data:`REQUEST_WAIT_S`); the ids still being checked (their stored badge is out of
    date)."""
    trust_check = current_app.config["TRUST_CHECK"]
    if trust_check is None:
        return set()  # nothing to check against: the badge says "not checked" and stays so
    freshness = freshness_of(current_app)
    clock = current_app.config["CLOCK"]
    now = int(clock())
    stale = [int(row["id"]) for row in rows if is_stale(row, now, freshness.max_age)]
    if not stale:
        return set()
    futures = freshness.submit(stale, trust_check, clock)
    done, pending = wait_for_futures(futures.values(), timeout=REQUEST_WAIT_S if wait is None else wait)
    unfinished = {credential_id for credential_id, future in futures.items() if future in pending}
    return unfinished | {credential_id for credential_id in stale if credential_id not in futures}


@dataclass(frozen=True)
class CurrentBadge:
    """A stored credential's badge now: ``status`` (valid, revoked, suspended, expired, unknown) and its sentence."""

    status: str
    label: str
    state: str
    checked_at: int


def current_badge(account_id: int, credential_id: int) -> CurrentBadge | None:
    """The badge of credential ``credential_id`` of ``account_id``, checked again first when stale (in a request).

    None when the account holds no such credential. While a check cannot finish within the chain
    deadline the status is ``unknown`` ("still being checked"): only ``valid`` may be offered as valid.
    """
    db = get_db()
    query = f"SELECT {_STATE_COLUMNS}, badge, badge_detail FROM credentials WHERE id = ? AND account_id = ?"
    cursor = db.execute(query, [credential_id, account_id])
    values = cursor.fetchone()
    if values is None:
        return None
    row = dict(zip([d[0] for d in cursor.description], values, strict=True))
    if refresh_shown([row], wait=CHECK_DEADLINE_S + 1):
        return CurrentBadge(STATUS_UNKNOWN, "Its status is still being checked", "checking", int(row["checked_at"]))
    cursor = db.execute(query, [credential_id, account_id])
    values = cursor.fetchone()
    if values is None:
        return None
    row = dict(zip([d[0] for d in cursor.description], values, strict=True))
    detail = json.loads(row["badge_detail"])
    return CurrentBadge(status_of(row["badge"], detail.get("checks") or ()), str(detail.get("label", "")),
                        row["badge"], int(row["checked_at"]))


def init_app(app: Flask) -> None:
    """Re-checks for ``app`` (called by the app factory): the pool is started in each serving process, after any
    fork; with a chain-backed check, anchoring events mark credentials stale, and the ledger view is opened in each
    serving process (retrying while the chain is down). Both are stopped by :func:`close_app`, at the latest at exit."""
    freshness = StatusFreshness(Path(app.config["DATA_DIR"]) / DB_FILE, int(app.config["WALLET_STATUS_MAX_AGE"]))
    app.extensions[_EXTENSION] = freshness
    on_worker_start(app, freshness.start)
    checks = ledger_checks_of(app)
    if checks is not None:
        checks.on_anchor_events(freshness.on_anchor_events)
        on_worker_start(app, checks.watch)
    atexit.register(_close_at_exit, weakref.ref(app))  # not keeping the app alive until then


def _close_at_exit(app_ref: weakref.ref[Flask]) -> None:
    app = app_ref()
    if app is not None:
        close_app(app)


def close_app(app: Flask) -> None:
    """Stop the app's re-checks and its ledger view's watcher (at exit, or when a test is done with it)."""
    freshness = app.extensions.get(_EXTENSION)
    if freshness is not None:
        freshness.close()
    checks = ledger_checks_of(app)
    if checks is not None:
        checks.close()
