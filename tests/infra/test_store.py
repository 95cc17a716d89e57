"""The shared-state store contract (infra.store), written once and run on both backends.

``sqlite``: the embedded file store. ``redis``: a real ``redis-server``
started by the session fixture ``redis_server`` (tests/conftest.py). Each
test uses its own key prefix, so tests never see each other's entries.
Expiry tests wait for the entry to expire after a short TTL (tests.waiting);
nothing asserts how long anything took.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import socket
import sqlite3
import sys
import threading
import uuid
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pytest

from infra.store import CHECKPOINT_EVERY, PURGE_CHUNK, STORE_FILE, RedisStore, SqliteStore, StoreUnavailable, open_store
from tests.waiting import wait_for

SHORT_TTL = 0.2
EXPIRY_WITHIN = 10.0  # a deadline for what expires after SHORT_TTL, generous for a loaded machine


def _make(backend: str, where: str, prefix: str):
    if backend == "redis":
        return RedisStore(where, prefix=prefix)
    return SqliteStore(where)


@pytest.fixture(params=["sqlite", "redis"])
def backend(request, tmp_path):
    """(backend name, where: a file path or a Redis URL, key prefix)."""
    prefix = f"t{uuid.uuid4().hex[:12]}"
    if request.param == "redis":
        return "redis", request.getfixturevalue("redis_server"), prefix
    return "sqlite", str(tmp_path / STORE_FILE), prefix


@pytest.fixture
def store(backend):
    made = _make(*backend)
    yield made
    made.close()


def test_add_once_is_true_only_the_first_time(store):
    assert store.add_once("replay", "kb-1", 60) is True
    assert store.add_once("replay", "kb-1", 60) is False
    assert store.add_once("replay", "kb-2", 60) is True
    assert store.add_once("other", "kb-1", 60) is True  # namespaces are separate


def test_add_once_forgets_after_its_ttl(store):
    assert store.add_once("replay", "short", SHORT_TTL) is True
    wait_for(lambda: store.add_once("replay", "short", 60), within=EXPIRY_WITHIN, what="the short entry to expire")
    assert store.add_once("replay", "short", 60) is False


def test_put_get_pop(store):
    assert store.get("tx", "s1") is None
    assert store.pop("tx", "s1") is None
    store.put("tx", "s1", '{"nonce": "n"}', 60)
    assert store.get("tx", "s1") == '{"nonce": "n"}'
    assert store.get("tx", "s1") == '{"nonce": "n"}'  # get does not consume
    store.put("tx", "s1", "replaced", 60)
    assert store.pop("tx", "s1") == "replaced"
    assert store.pop("tx", "s1") is None
    assert store.get("tx", "s1") is None
    store.put("tx", "ü/ö:§ key", "value with ünïcode", 60)
    assert store.get("tx", "ü/ö:§ key") == "value with ünïcode"


def test_values_expire(store):
    store.put("tx", "gone", "v", SHORT_TTL)
    store.put("tx", "popped-late", "v", SHORT_TTL)
    wait_for(lambda: store.get("tx", "gone") is None, within=EXPIRY_WITHIN, what="the first value to expire")
    wait_for(lambda: store.get("tx", "popped-late") is None, within=EXPIRY_WITHIN, what="the second value to expire")
    assert store.pop("tx", "popped-late") is None


def test_hit_allows_up_to_the_limit_then_says_when_to_retry(store):
    for _ in range(3):
        assert store.hit("rate", "client-a", 60, 3) == (True, 0)
    allowed, retry_after = store.hit("rate", "client-a", 60, 3)
    assert allowed is False
    assert 1 <= retry_after <= 60
    assert store.hit("rate", "client-b", 60, 3).allowed  # per key
    assert store.hit("other", "client-a", 60, 3).allowed  # per namespace


def test_hit_starts_a_new_window_after_the_old_one(store):
    assert store.hit("rate", "c", SHORT_TTL, 1).allowed
    assert not store.hit("rate", "c", SHORT_TTL, 1).allowed
    # A refused hit does not move the window, so polling with hits waits for the next window.
    wait_for(lambda: store.hit("rate", "c", SHORT_TTL, 1).allowed, within=EXPIRY_WITHIN, what="a new window")


@pytest.mark.parametrize("call", [
    lambda s: s.add_once("Bad Namespace", "k", 1), lambda s: s.add_once("ns", "", 1),
    lambda s: s.add_once("ns", "k", 0), lambda s: s.put("ns", "k", b"bytes", 1),
    lambda s: s.put("ns", "k", "v", float("inf")), lambda s: s.hit("ns", "k", 60, 0),
    lambda s: s.hit("ns", "k", -1, 5),
])
def test_bad_arguments_are_refused(store, call):
    with pytest.raises(ValueError):
        call(store)


def test_only_one_of_many_threads_wins_add_once_and_pop(store):
    barrier = threading.Barrier(8)

    def race(operation):
        barrier.wait()
        return operation()

    with ThreadPoolExecutor(8) as pool:
        wins = list(pool.map(lambda _: race(lambda: store.add_once("replay", "contended", 60)), range(8)))
    assert wins.count(True) == 1
    store.put("tx", "contended", "the answer", 60)
    with ThreadPoolExecutor(8) as pool:
        popped = list(pool.map(lambda _: race(lambda: store.pop("tx", "contended")), range(8)))
    assert popped.count("the answer") == 1
    assert popped.count(None) == 7


def _claim_in_a_process(backend: tuple[str, str, str], keys: list[str]) -> list[str]:
    store = _make(*backend)
    try:
        won = [key for key in keys if store.add_once("replay", key, 60)]
        won += [f"pop:{key}" for key in keys if store.pop("tx", key) is not None]
        store.hit("rate", "shared", 60, 1000)
        return won
    finally:
        store.close()


def test_processes_sharing_a_store_see_each_others_records(backend):
    """Four processes race for the same keys: each key is won once, in total, across processes."""
    keys = [f"k{n}" for n in range(40)]
    store = _make(*backend)
    for key in keys:
        store.put("tx", key, "v", 60)
    with ProcessPoolExecutor(4, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = list(pool.map(_claim_in_a_process, [backend] * 4, [keys] * 4))
    won = [key for result in results for key in result]
    assert sorted(won) == sorted(keys + [f"pop:{key}" for key in keys])
    assert store.hit("rate", "shared", 60, 1000).allowed
    assert not store.hit("rate", "shared", 60, 5).allowed  # the four processes' hits counted here too
    store.close()


@pytest.mark.parametrize("operation", [
    lambda store: store.add_once("replay", "k", 60), lambda store: store.hit("rate", "c", 60, 5),
    lambda store: store.put("tx", "k", "v", 60), lambda store: store.get("tx", "k"),
    lambda store: store.pop("tx", "k")], ids=["add_once", "hit", "put", "get", "pop"])
def test_every_operation_of_an_unreachable_redis_is_unavailable_not_a_crash(operation):
    with socket.socket() as bound_not_listening:  # connections to it are refused
        bound_not_listening.bind(("127.0.0.1", 0))
        port = bound_not_listening.getsockname()[1]
        store = RedisStore(f"redis://127.0.0.1:{port}/0", timeout=0.5)
        with pytest.raises(StoreUnavailable) as caught:
            operation(store)
        store.close()
    assert isinstance(caught.value, ConnectionError)
    assert str(port) not in str(caught.value)


def test_an_unusable_sqlite_path_is_unavailable(tmp_path):
    (tmp_path / STORE_FILE).mkdir()  # a directory where the file should be
    with pytest.raises(StoreUnavailable) as caught:
        SqliteStore(tmp_path / STORE_FILE)
    assert str(tmp_path) not in str(caught.value)


def test_sqlite_purges_expired_rows_so_the_file_stays_small(tmp_path):
    now = [1_000_000.0]
    store = SqliteStore(tmp_path / STORE_FILE, clock=lambda: now[0])
    for n in range(200):
        store.add_once("replay", f"k{n}", 10)
        store.put("tx", f"k{n}", "v", 10)
        store.hit("rate", f"k{n}", 10, 5)
    now[0] += 3600
    store.add_once("replay", "fresh", 10)
    with sqlite3.connect(tmp_path / STORE_FILE) as db:
        counts = [db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for table in ("once", "kv", "hits")]
    assert counts == [1, 0, 0]
    store.close()


def _expired_left(path) -> list[int]:
    with sqlite3.connect(path) as db:
        return [db.execute(f"SELECT COUNT(*) FROM {table} WHERE expires_at <= 1000010").fetchone()[0]
                for table in ("once", "kv", "hits")]


def test_a_purge_is_made_in_bounded_chunks_spread_over_the_writes_that_follow(tmp_path):
    """A purge holds the write lock of every process sharing the store: one DELETE of everything expired (~0.3 s
    for 420,000 replay records) stalled every worker's next verification that long (issue 16). Each write that
    finds a purge due deletes at most PURGE_CHUNK rows of each table; the writes after it go on where it stopped
    until nothing expired is left, and the live records are never touched."""
    path = tmp_path / STORE_FILE
    now = [1_000_000.0]
    store = SqliteStore(path, clock=lambda: now[0])
    expired = PURGE_CHUNK * 3 + 17
    with sqlite3.connect(path) as db:
        db.executemany("INSERT INTO once VALUES ('replay', ?, 1000010)", ((f"old{n:06}",) for n in range(expired)))
        db.executemany("INSERT INTO kv VALUES ('tx', ?, 'v', 1000010)", ((f"old{n:06}",) for n in range(expired)))
        db.executemany("INSERT INTO hits VALUES ('rate', ?, 1000000, 1, 1000010)",
                       ((f"old{n:06}",) for n in range(expired)))
    for n in range(50):  # live records among them (keys sort before, among and after the expired ones)
        assert store.add_once("replay", f"old{n * 97:06}x", 1e9 - now[0])
    now[0] += 3600
    left = [expired] * 3
    writes = 0
    while left != [0, 0, 0]:
        store.add_once("replay", f"new{writes}", 60)
        writes += 1
        after = _expired_left(path)
        assert all(0 <= before - then <= PURGE_CHUNK for before, then in zip(left, after, strict=True))
        assert after != left or after == [0, 0, 0]
        left = after
        assert writes <= 10
    assert writes == 4
    for n in range(50):
        assert store.add_once("replay", f"old{n * 97:06}x", 60) is False  # the live records stay
    store.close()


def test_a_replay_record_is_one_b_tree_insert_even_in_a_store_made_before(tmp_path):
    """The replay table has no index beside its primary key (issue 16: a second b-tree doubled the cost of every
    verification's insert, and made the purge four times slower); a file made with the old index loses it."""
    with sqlite3.connect(tmp_path / STORE_FILE) as db:
        db.executescript("CREATE TABLE once (namespace TEXT NOT NULL, key TEXT NOT NULL, expires_at REAL NOT NULL,"
                         " PRIMARY KEY (namespace, key)) WITHOUT ROWID;"
                         " CREATE INDEX once_expiry ON once (expires_at);"
                         " INSERT INTO once VALUES ('replay', 'kept', 1e12);")
    store = SqliteStore(tmp_path / STORE_FILE)
    assert store.add_once("replay", "kept", 60) is False  # the records of the old file still count
    assert store.add_once("replay", "new", 60) is True
    store.close()
    with sqlite3.connect(tmp_path / STORE_FILE) as db:
        indexes = db.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'once' "
                             "AND sql IS NOT NULL").fetchall()
    assert indexes == []


def test_a_rate_limit_hit_is_one_statement_that_holds_no_lock_after_it(tmp_path):
    """Every request counts one hit: one upsert in autocommit (issue 16), not BEGIN / SELECT / INSERT / COMMIT;
    and it leaves no write transaction open behind it (another connection writes at once)."""
    store = SqliteStore(tmp_path / STORE_FILE)
    store.hit("rate", "warm", 60, 5)  # the connection opened, its first purge made
    statements: list[str] = []
    store._connection().set_trace_callback(statements.append)
    assert store.hit("rate", "client", 60, 2) == (True, 0)
    assert store.hit("rate", "client", 60, 2) == (True, 0)
    assert store.hit("rate", "client", 60, 2).allowed is False
    assert len(statements) == 3
    with sqlite3.connect(tmp_path / STORE_FILE, timeout=0) as other:
        other.execute("INSERT INTO kv VALUES ('tx', 'k', 'v', 1e12)")
    store.close()


def _hits_in_a_process(path: str, count: int) -> int:
    store = SqliteStore(path)
    try:
        return sum(store.hit("rate", "shared", 60, 10_000).allowed for _ in range(count))
    finally:
        store.close()


def test_hits_of_processes_racing_on_one_key_are_each_counted(tmp_path):
    path = str(tmp_path / STORE_FILE)
    SqliteStore(path).close()
    with ProcessPoolExecutor(4, mp_context=multiprocessing.get_context("spawn")) as pool:
        allowed = sum(pool.map(_hits_in_a_process, [path] * 4, [50] * 4))
    assert allowed == 200
    store = SqliteStore(path)
    assert store.hit("rate", "shared", 60, 201).allowed  # the 201st
    assert not store.hit("rate", "shared", 60, 201).allowed  # the 202nd: every one of the 200 was counted
    store.close()


def test_sqlite_uses_wal_so_readers_do_not_block_writers(tmp_path):
    SqliteStore(tmp_path / STORE_FILE).close()
    with sqlite3.connect(tmp_path / STORE_FILE) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_open_store_picks_redis_when_a_url_is_set(tmp_path, redis_server, monkeypatch):
    monkeypatch.delenv("MICROCRED_REDIS_URL", raising=False)
    assert isinstance(open_store(tmp_path), SqliteStore)
    assert (tmp_path / STORE_FILE).exists()
    monkeypatch.setenv("MICROCRED_REDIS_URL", redis_server)
    chosen = open_store(tmp_path / "unused")
    assert isinstance(chosen, RedisStore)
    assert chosen.add_once("replay", uuid.uuid4().hex, 5)
    assert not (tmp_path / "unused").exists()


def _record_then_die(path: str, key: str) -> None:
    store = SqliteStore(path)
    assert store.add_once("replay", key, 60)
    os.kill(os.getpid(), signal.SIGKILL)  # no close, no exit handlers: as a worker killed mid-request


def test_a_replay_record_survives_the_crash_of_the_process_that_wrote_it(tmp_path):
    """Durability the verifier relies on (WAL, synchronous = NORMAL): once add_once returned, the record is in
    the log the operating system holds, so a worker killed right after still refuses the replay everywhere."""
    path = str(tmp_path / STORE_FILE)
    SqliteStore(path).close()
    child = multiprocessing.get_context("spawn").Process(target=_record_then_die, args=(path, "shown-once"))
    child.start()
    child.join(60)
    assert child.exitcode == -signal.SIGKILL
    store = SqliteStore(path)
    assert store.add_once("replay", "shown-once", 60) is False
    store.close()


def _checkpointers() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "shared-store-checkpoints"]


def test_writes_leave_the_checkpoint_of_the_log_to_a_background_thread(tmp_path):
    """A write that fills the log does not copy it into the database itself (with the two syncs that costs,
    issue 16): its connection checkpoints only past a fallback size, and a thread of the process checkpoints
    every CHECKPOINT_EVERY writes; the records are in the database file then, and close() stops the thread."""
    path = tmp_path / STORE_FILE
    store = SqliteStore(path)
    assert store._connection().execute("PRAGMA wal_autocheckpoint").fetchone()[0] > 5 * CHECKPOINT_EVERY
    assert _checkpointers() == []  # nothing started for a store that has written little
    size_before = path.stat().st_size
    for n in range(CHECKPOINT_EVERY):
        assert store.add_once("replay", f"{n:064x}", 60)
    assert len(_checkpointers()) == 1
    wait_for(lambda: path.stat().st_size > size_before + 20 * 4096, within=30,
             what="the background checkpoint to copy the log's pages into the database file")
    assert store.add_once("replay", f"{0:064x}", 60) is False
    store.close()
    assert _checkpointers() == []
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM once").fetchone()[0] == CHECKPOINT_EVERY


def _in_forked_child(store: SqliteStore, parent_key: str) -> None:
    parent_connection = store._conn
    ok = store.add_once("replay", parent_key, 60) is False and store.add_once("replay", "child", 60) is True
    os._exit(0 if ok and store._conn is not parent_connection else 1)


def test_a_store_made_before_a_fork_opens_its_own_connection_in_the_child(tmp_path):
    """The process id the store compares is kept up to date by a fork hook, not asked of the system on every
    operation (issue 16); a forked child still gets a connection of its own and sees the parent's records."""
    store = SqliteStore(tmp_path / STORE_FILE)
    assert store.add_once("replay", "parent", 60)
    child = multiprocessing.get_context("fork").Process(target=_in_forked_child, args=(store, "parent"))
    child.start()
    child.join(60)
    assert child.exitcode == 0
    assert store.add_once("replay", "child", 60) is False
    store.close()


def test_a_store_operation_does_not_ask_the_system_for_the_process_id(tmp_path, monkeypatch):
    store = SqliteStore(tmp_path / STORE_FILE)
    store.add_once("replay", "warm", 60)
    asked: list[str] = []
    real = os.getpid
    # Who asks: other code may ask meanwhile (a redis connection of an earlier test freed now asks in its __del__).
    monkeypatch.setattr(os, "getpid", lambda: asked.append(sys._getframe(1).f_code.co_filename) or real())
    for n in range(20):
        assert store.add_once("replay", f"k{n}", 60)
        assert store.hit("rate", "client", 60, 100).allowed
    assert [caller for caller in asked if os.sep + "infra" + os.sep in caller] == []
    store.close()


def test_a_redis_replay_record_is_one_round_trip_on_the_threads_own_connection(redis_server):
    """add_once sends SET NX PX on a connection of the calling thread's own, not through the client's per-command
    machinery (issue 16: it cost twice the round trip); each thread has its own, close() drops them, and the
    store connects again on next use."""
    store = RedisStore(redis_server, prefix=f"t{uuid.uuid4().hex[:12]}")

    def refused(*args, **kwargs):
        raise AssertionError("the client's per-command path was used")

    store._redis.execute_command = refused
    assert store.add_once("replay", "k", 60) is True
    assert store.add_once("replay", "k", 60) is False
    with ThreadPoolExecutor(4) as pool:
        firsts = list(pool.map(lambda n: store.add_once("replay", f"t{n % 4}", 60), range(8)))
    assert sorted(firsts) == [False] * 4 + [True] * 4
    assert len(store._own) >= 2
    store.close()
    assert len(store._own) == 0
    assert store.add_once("replay", "k", 60) is False  # connected again, the record still there
    store.close()


def test_a_redis_store_whose_connections_were_dropped_recovers(redis_server):
    import redis

    store = RedisStore(redis_server, prefix=f"t{uuid.uuid4().hex[:12]}")
    assert store.add_once("replay", "before", 60)
    admin = redis.Redis.from_url(redis_server)
    admin.client_kill_filter(_type="normal", skipme=True)  # as a Redis restart does to every client
    admin.close()
    answers = []
    for _ in range(2):
        try:
            answers.append(store.add_once("replay", "after", 60))
            break
        except StoreUnavailable:  # the first use of a dropped connection may fail (closed), the next connects
            answers.append("unavailable")
    assert answers[-1] is True
    assert store.add_once("replay", "before", 60) is False
    store.close()


def test_the_redis_connection_of_a_thread_that_ended_is_closed_with_it(redis_server):
    """A server may make a thread per request (the development server does): the store must not keep each
    thread's connection open after the thread is gone."""
    store = RedisStore(redis_server, prefix=f"t{uuid.uuid4().hex[:12]}")
    for n in range(20):
        thread = threading.Thread(target=store.add_once, args=("replay", f"k{n}", 60))
        thread.start()
        thread.join()
    gc.collect()
    assert len(store._own) == 0
    assert store.add_once("replay", "k7", 60) is False
    store.close()


def test_redis_hits_and_values_go_through_the_threads_own_connection(redis_server):
    """hit (EVALSHA of the counting script), put, get and pop take add_once's path, not the client's per-command
    machinery (issue 16: a rate-limit hit, one per HTTP request, cost three times a replay record through it)."""
    store = RedisStore(redis_server, prefix=f"t{uuid.uuid4().hex[:12]}")

    def refused(*args, **kwargs):
        raise AssertionError("the client's per-command path was used")

    store._redis.execute_command = refused
    assert [store.hit("rate", "c", 60, 2).allowed for _ in range(3)] == [True, True, False]
    assert 1 <= store.hit("rate", "c", 60, 2).retry_after <= 60
    store.put("tx", "k", "value é", 60)
    assert store.get("tx", "k") == "value é"
    assert store.pop("tx", "k") == "value é"
    assert store.get("tx", "k") is None
    assert store.pop("tx", "k") is None
    store.close()


def test_a_redis_hit_loads_its_script_again_when_the_server_lost_it(redis_server):
    """A restarted Redis (or SCRIPT FLUSH) no longer holds the counting script: the hit sends it with EVAL."""
    import redis

    store = RedisStore(redis_server, prefix=f"t{uuid.uuid4().hex[:12]}")
    assert store.hit("rate", "c", 60, 2).allowed
    admin = redis.Redis.from_url(redis_server)
    admin.script_flush()
    assert store.hit("rate", "c", 60, 2).allowed  # counted: 2
    assert admin.script_exists(store._hit_sha) == [True]
    admin.close()
    assert not store.hit("rate", "c", 60, 2).allowed
    store.close()


def test_a_redis_error_reply_is_unavailable_and_the_store_goes_on(redis_server):
    """A command the server refuses (the counter's key holds no number) fails closed, and the next one works."""
    store = RedisStore(redis_server, prefix=f"t{uuid.uuid4().hex[:12]}")
    store.put("rate", "c", "not a number", 60)
    with pytest.raises(StoreUnavailable) as caught:
        store.hit("rate", "c", 60, 5)
    assert "not an integer" not in str(caught.value)
    assert store.pop("rate", "c") == "not a number"
    assert store.hit("rate", "c", 60, 5).allowed
    store.close()
