"""The wallet database is upgraded in place from each earlier schema (tests/legacy_databases)."""

from __future__ import annotations

import pytest

from infra.migrations import applied_names
from tests.legacy_databases.legacy import load_dump, rows_of, schema_of, user_version
from wallet.db import DB_FILE, MIGRATIONS, migrate, open_database

#: Columns later migrations added, and what an upgraded row holds in them.
ADDED = {
    "sessions": {"last_seen_at": 0, "authenticated_at": 0},
    "credentials": {"registry_name": None, "verified": 1, "subject_bound": 1, "view_kind": None, "status_events": 0,
                    "status_events_seen": 0, "issuance_proof": None},
    "shares": {"presentation_format": "dc+sd-jwt"},
    "accounts": {"user_handle": None, "vault_sealed": 0, "language": None},
}
#: Tables later migrations added (empty in an upgraded file).
NEW_TABLES = {"passkeys"}
#: Each earlier wallet: numbered by user_version (v1, v2), and migrations recorded by name up to m002.
DUMPS = ["wallet-v1", "wallet-v2", "wallet-m002"]


def _fresh(path):
    db = open_database(path)
    try:
        migrate(db)
    finally:
        db.close()
    return path


@pytest.mark.parametrize("dump", DUMPS)
def test_an_earlier_wallet_database_is_upgraded_keeping_every_row(dump, tmp_path):
    path = load_dump(dump, tmp_path / DB_FILE)
    before = rows_of(path)
    db = open_database(path)
    try:
        assert migrate(db) == len(MIGRATIONS)
        assert applied_names(db, MIGRATIONS) == list(MIGRATIONS.names)
    finally:
        db.close()
    after = rows_of(path)
    assert set(after) == set(before) | NEW_TABLES
    assert all(not after[table] for table in NEW_TABLES)
    for table, rows in before.items():
        assert len(after[table]) == len(rows), table
        for old, new in zip(rows, after[table], strict=True):
            assert {name: new[name] for name in old} == old, table
            added = {name: value for name, value in new.items() if name not in old}
            assert added == {name: ADDED[table][name] for name in added}, table
    assert user_version(path) == 0  # the version lives in _sqlite_migrations now


@pytest.mark.parametrize("dump", DUMPS)
def test_an_upgraded_wallet_database_has_exactly_the_fresh_schema(dump, tmp_path):
    upgraded = _fresh(load_dump(dump, tmp_path / "upgraded.sqlite3"))
    fresh = _fresh(tmp_path / "fresh.sqlite3")
    assert schema_of(upgraded) == schema_of(fresh)


def test_the_wallet_app_starts_on_an_earlier_database_and_uses_its_rows(tmp_path):
    from wallet import create_app

    data_dir = tmp_path / "var"
    data_dir.mkdir()
    load_dump("wallet-v1", data_dir / DB_FILE)
    app = create_app({"TESTING": True, "DATA_DIR": str(data_dir), "PUBLIC_URL": "http://127.0.0.1:5001"})
    with app.app_context():
        from wallet.db import get_db

        accounts = [row["username"] for row in get_db().query("SELECT username FROM accounts ORDER BY id")]
        sessions = list(get_db().query("SELECT last_seen_at, authenticated_at FROM sessions"))
    assert accounts == ["ada", "Grace; Hopper"]
    assert sessions == [{"last_seen_at": 0, "authenticated_at": 0}]


def test_credentials_stored_before_imported_formats_stay_verified_bound_and_shown(tmp_path):
    """A wallet of before issue 12: its credentials count as verified and bound (they were checked
    and bound on import then), their shares as SD-JWT presentations; the new columns do not hide them."""
    path = load_dump("wallet-m002", tmp_path / DB_FILE)
    db = open_database(path)
    try:
        migrate(db)
        rows = db.execute("SELECT format, verified, subject_bound FROM credentials ORDER BY id").fetchall()
        shares = db.execute("SELECT presentation_format FROM shares").fetchall()
    finally:
        db.close()
    assert rows == [("dc+sd-jwt", 1, 1), ("vc+jwt", 1, 1)]
    assert {s[0] for s in shares} == {"dc+sd-jwt"}


def _open_at(path: str, barrier) -> str:
    barrier.wait(timeout=30)
    try:
        open_database(path).close()
    except Exception as exc:  # noqa: BLE001 (reported to the parent)
        return f"{type(exc).__name__}: {exc}"
    return "opened"


def test_workers_opening_one_fresh_database_at_once_all_switch_it_to_wal(tmp_path):
    """SQLite answers a connection that must upgrade its lock while another switches the journal
    mode with 'database is locked' at once, without the busy timeout: a race that 6 processes on a
    fresh file lost about once in 20 rounds, so 150 rounds show it."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    manager = context.Manager()
    failures = []
    with context.Pool(6) as pool:
        for attempt in range(150):
            path = str(tmp_path / f"wallet-{attempt}.sqlite3")
            outcomes = pool.starmap(_open_at, [(path, manager.Barrier(6))] * 6)
            failures += [outcome for outcome in outcomes if outcome != "opened"]
    manager.shutdown()
    assert failures == []
