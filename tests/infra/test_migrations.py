"""infra.migrations: sqlite-utils migration sets applied one transaction each, under a write lock."""

from __future__ import annotations

import datetime
import sqlite3

import pytest
from sqlite_utils import Database

from credentials.errors import ConfigurationError
from infra.migrations import MIGRATIONS_TABLE, Migrations, applied_names, apply_migrations, schema_version


def _open(path) -> Database:
    return Database(sqlite3.connect(str(path), timeout=10))


def _notes_set(*, fail_second: bool = False) -> Migrations:
    migrations = Migrations("notes")

    @migrations()
    def m001_notes(db: Database) -> None:
        db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        db.execute("INSERT INTO notes (body) VALUES ('first; with a semicolon')")

    @migrations()
    def m002_tags(db: Database) -> None:
        db.execute("CREATE TABLE tags (name TEXT PRIMARY KEY)")
        if fail_second:
            raise RuntimeError("the second migration fails half-way")

    return migrations


def test_a_semicolon_in_a_literal_or_a_trigger_body_is_no_statement_break(tmp_path):
    migrations = Migrations("audited")

    @migrations()
    def m001_audit(db: Database) -> None:
        db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT 'a;b')")
        db.execute("CREATE TABLE audit (what TEXT NOT NULL)")
        db.execute("""CREATE TRIGGER items_audit AFTER INSERT ON items BEGIN
            INSERT INTO audit (what) VALUES ('inserted; ' || new.name);
            INSERT INTO audit (what) VALUES ('done');
        END""")

    db = _open(tmp_path / "audited.sqlite3")
    assert apply_migrations(db, migrations, what="the test database") == 1
    db.execute("INSERT INTO items (id) VALUES (1)")
    assert [row[0] for row in db.execute("SELECT what FROM audit ORDER BY rowid")] == ["inserted; a;b", "done"]


def test_names_and_times_are_recorded_in_order(tmp_path):
    db = _open(tmp_path / "notes.sqlite3")
    before = datetime.datetime.now(datetime.UTC)
    assert apply_migrations(db, _notes_set(), what="the test database") == 2
    rows = list(db[MIGRATIONS_TABLE].rows_where(order_by="id"))
    assert [(row["migration_set"], row["name"]) for row in rows] == [("notes", "m001_notes"), ("notes", "m002_tags")]
    for row in rows:
        assert datetime.datetime.fromisoformat(row["applied_at"]) >= before
    assert schema_version(db, _notes_set()) == 2


def test_a_second_run_applies_nothing(tmp_path):
    path = tmp_path / "notes.sqlite3"
    apply_migrations(_open(path), _notes_set(), what="the test database")
    db = _open(path)
    assert apply_migrations(db, _notes_set(), what="the test database") == 2
    assert db.execute("SELECT COUNT(*) FROM notes").fetchone()[0] == 1
    assert db[MIGRATIONS_TABLE].count == 2


def test_a_failing_migration_is_rolled_back_whole_and_stays_pending(tmp_path):
    path = tmp_path / "notes.sqlite3"
    db = _open(path)
    with pytest.raises(RuntimeError, match="half-way"):
        apply_migrations(db, _notes_set(fail_second=True), what="the test database")
    assert not db.conn.in_transaction
    assert applied_names(db, _notes_set()) == ["m001_notes"]  # the first one committed on its own
    assert "tags" not in db.table_names()
    assert apply_migrations(db, _notes_set(), what="the test database") == 2
    assert "tags" in db.table_names()


def test_a_legacy_file_is_adopted_without_running_what_it_holds(tmp_path):
    db = _open(tmp_path / "legacy.sqlite3")
    db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    db.conn.commit()
    seen = []

    def legacy(database: Database) -> list[str]:
        seen.append(database.conn.in_transaction)
        return ["m001_notes"] if "notes" in database.table_names() else []

    assert apply_migrations(db, _notes_set(), what="the test database", legacy=legacy) == 2
    assert seen == [True]  # asked under the write lock
    assert db.execute("SELECT COUNT(*) FROM notes").fetchone()[0] == 0  # m001 was not run again
    assert applied_names(db, _notes_set()) == ["m001_notes", "m002_tags"]


def test_a_file_from_a_newer_microcred_is_refused_naming_what_is_unknown(tmp_path):
    path = tmp_path / "notes.sqlite3"
    newer = _notes_set()

    @newer()
    def m003_from_the_future(db: Database) -> None:
        db.execute("CREATE TABLE future (x)")

    apply_migrations(_open(path), newer, what="the test database")
    with pytest.raises(ConfigurationError) as raised:
        apply_migrations(_open(path), _notes_set(), what="the test database")
    assert "the test database was upgraded by a newer microcred" in str(raised.value)
    assert "m003_from_the_future" in str(raised.value)
