"""Load an earlier schema's dump into a file; read a file's schema and rows to compare."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def load_dump(name: str, path: Path) -> Path:
    """Write the database of ``<name>.sql`` to ``path``."""
    connection = sqlite3.connect(str(path))
    try:
        connection.executescript((HERE / f"{name}.sql").read_text(encoding="utf-8"))
    finally:
        connection.close()
    return path


def _normal_sql(sql: str | None) -> str | None:
    """SQL text up to whitespace: ``ALTER TABLE … ADD COLUMN`` writes ``\\n, "col" INTEGER)`` where
    ``CREATE TABLE`` has ``,\\n   "col" INTEGER\\n)``; nothing else is normalised."""
    if sql is None:
        return None
    return re.sub(r"\s*([(),])\s*", r"\1", re.sub(r"\s+", " ", sql)).strip()


def schema_of(path: Path, *, exact: bool = True) -> list[tuple[Any, ...]]:
    """``sqlite_master`` (SQL text exact, or up to whitespace) and every table's columns."""
    connection = sqlite3.connect(str(path))
    try:
        master = connection.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
        ).fetchall()
        columns = [
            (table, *column)
            for (table,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            for column in connection.execute(f'PRAGMA table_xinfo("{table}")')
        ]
    finally:
        connection.close()
    if not exact:
        master = [(kind, name, table, _normal_sql(sql)) for kind, name, table, sql in master]
    return [*master, *columns]


def rows_of(path: Path, tables: list[str] | None = None) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table (or of ``tables``) but the migration records, in rowid order."""
    connection = sqlite3.connect(str(path))
    connection.row_factory = sqlite3.Row
    try:
        names = tables or [
            name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if name != "_sqlite_migrations"
        ]
        return {
            name: [dict(row) for row in connection.execute(f'SELECT * FROM "{name}" ORDER BY rowid')]
            for name in names
        }
    finally:
        connection.close()


def user_version(path: Path) -> int:
    connection = sqlite3.connect(str(path))
    try:
        return connection.execute("PRAGMA user_version").fetchone()[0]
    finally:
        connection.close()
