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
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable

import sqlite_utils
from sqlite_utils import Database

from credentials.errors import ConfigurationError

__all__ = ["Migrations", "MIGRATIONS_TABLE", "applied_names", "schema_version", "apply_migrations"]

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
        "applied_at": str(datetime.datetime.now(datetime.timezone.utc)),
    })


def _refuse_unknown(db: Database, migrations: Migrations, what: str) -> None:
    unknown = [name for name in applied_names(db, migrations) if name not in migrations.names]
    if unknown:
        raise ConfigurationError(
            f"{what} was upgraded by a newer microcred: expected migrations among {list(migrations.names)}, "
            f"found {unknown}"
        )
