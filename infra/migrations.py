"""Schema migrations for the SQLite files of the wallet and the issuer archive.

One style for both: sqlite-utils' own migration sets (``sqlite_utils.Migrations``,
sqlite-utils 4, https://sqlite-utils.datasette.io/en/stable/python-api.html#migrations):
Python functions that take a ``Database``, registered in order with
``@migrations()``, recorded by name and time in the ``_sqlite_migrations``
table (one ``migration_set`` per file). A migration runs its statements one
by one through the ``Database``: no SQL script is ever split on ``;``, so a
``;`` inside a literal or a trigger body is just text.

:func:`apply_migrations` adds what several processes starting at once need
(gunicorn workers, a CLI beside a running service): each pending migration
runs in its own ``BEGIN IMMEDIATE`` transaction, together with the record of
it, after the pending list was read again under that lock. The others wait
(the connection's busy timeout) and then find it applied; a migration that
fails is rolled back whole and stays pending. An up-to-date file is checked
without taking the write lock.

Files from before migrations were recorded are adopted: ``legacy`` is told
the database under the lock and names the migrations its tables already hold
(the wallet's ``PRAGMA user_version``, the archive's tables), which are then
recorded without being run. A file that records a migration this code does
not know was written by a newer microcred and is refused.

:func:`enable_wal` switches a file to write-ahead logging so that processes
opening one fresh file at once all succeed (see its docstring for the race).
"""

from __future__ import annotations

import datetime
import sqlite3
import time
from collections.abc import Callable, Iterable

import sqlite_utils
from sqlite_utils import Database

from credentials.errors import ConfigurationError

__all__ = ["Migrations", "MIGRATIONS_TABLE", "applied_names", "schema_version", "apply_migrations", "enable_wal"]

MIGRATIONS_TABLE = sqlite_utils.Migrations.migrations_table

#: Given the database (under the write lock), the names of the migrations an
#: unversioned file already holds; called only while its set has no records.
Legacy = Callable[[Database], Iterable[str]]


class Migrations(sqlite_utils.Migrations):
    """A named, ordered set of migrations (sqlite-utils') that knows its names."""

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(migration.name for migration in self._migrations)

    def __len__(self) -> int:
        return len(self._migrations)


def applied_names(db: Database, migrations: Migrations) -> list[str]:
    """The names recorded as applied for this set, in the order they were applied."""
    return [migration.name for migration in migrations.applied(db)]


def schema_version(db: Database, migrations: Migrations) -> int:
    """How many of the set's migrations the file holds."""
    return len(applied_names(db, migrations))


def apply_migrations(db: Database, migrations: Migrations, *, what: str, legacy: Legacy | None = None) -> int:
    """Bring the file up to date, one ``BEGIN IMMEDIATE`` transaction per migration; return the version.

    ``what`` names the file in errors ("the wallet database").
    """
    if not migrations.pending(db):
        _refuse_unknown(db, migrations, what)
        return len(migrations)
    connection = db.conn
    while True:
        connection.execute("BEGIN IMMEDIATE")
        try:
            if legacy is not None and not applied_names(db, migrations):
                _adopt(db, migrations, legacy(db))
            _refuse_unknown(db, migrations, what)
            pending = migrations.pending(db)
            if pending:
                migrations.ensure_migrations_table(db)
                pending[0].fn(db)
                _record(db, migrations, pending[0].name)
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
        if not pending:
            return len(migrations)


def _adopt(db: Database, migrations: Migrations, names: Iterable[str]) -> None:
    held = list(names)
    expected = list(migrations.names[:len(held)])
    if held != expected:  # a programming error in a legacy hook: the order is the set's
        raise ValueError(f"expected legacy migrations to be a prefix of {list(migrations.names)}, found {held}")
    if held:
        migrations.ensure_migrations_table(db)
    for name in held:
        _record(db, migrations, name)


def _record(db: Database, migrations: Migrations, name: str) -> None:
    db.table(MIGRATIONS_TABLE).insert({
        "migration_set": migrations.name,
        "name": name,
        "applied_at": str(datetime.datetime.now(datetime.UTC)),
    })


def _refuse_unknown(db: Database, migrations: Migrations, what: str) -> None:
    unknown = [name for name in applied_names(db, migrations) if name not in migrations.names]
    if unknown:
        raise ConfigurationError(
            f"{what} was upgraded by a newer microcred: expected migrations among {list(migrations.names)}, "
            f"found {unknown}"
        )


def enable_wal(connection: sqlite3.Connection, *, within: float = 10.0) -> str:
    """Switch the file to WAL (https://sqlite.org/wal.html); return the journal mode it reports.

    Changing the journal mode needs an exclusive lock, and SQLite answers a
    connection that must upgrade its lock while another one switches with
    ``SQLITE_BUSY`` at once, without waiting out the busy timeout (it would
    deadlock otherwise: https://sqlite.org/lockingv3.html). Processes opening
    one fresh file together (gunicorn workers) lost that race about once in 20;
    so a busy answer is retried, with a short growing pause, for ``within``
    seconds. Call it outside any transaction.
    """
    deadline = time.monotonic() + within
    pause = 0.005
    while True:
        try:
            return str(connection.execute("PRAGMA journal_mode = WAL").fetchone()[0])
        except sqlite3.OperationalError as exc:
            if getattr(exc, "sqlite_errorcode", 0) & 0xFF != sqlite3.SQLITE_BUSY or time.monotonic() >= deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.1)
