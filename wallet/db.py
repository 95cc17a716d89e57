"""The wallet's SQLite store through sqlite-utils: WAL, schema migrations,
one connection per request on ``flask.g``, closed on teardown.

Migrations are sqlite-utils migration functions (:mod:`infra.migrations`),
applied in order at start-up and recorded by name in ``_sqlite_migrations``,
so an older data dir is brought up to date in place on the next start. Files
from before that counted migrations in ``PRAGMA user_version`` (1: the first
schema, 2: issue 10's session times and registry name) are adopted from it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from flask import Flask, current_app, g
from sqlite_utils import Database

from infra.migrations import Migrations, apply_migrations, enable_wal

__all__ = ["DB_FILE", "MIGRATIONS", "open_database", "migrate", "get_db", "init_app", "inserted_id"]

DB_FILE = "wallet.sqlite3"

#: The wallet's schema migrations, in order (``_sqlite_migrations``, set ``wallet``).
#: Never edit a released one: register a new one. Each runs its statements one by one.
MIGRATIONS = Migrations("wallet")

_ACCOUNTS_KEYS_CREDENTIALS_SHARES = (
    """CREATE TABLE accounts (
        id INTEGER PRIMARY KEY,
        username TEXT NOT NULL UNIQUE COLLATE NOCASE,
        password_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL
    )""",
    """CREATE TABLE holder_keys (
        id INTEGER PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        thumbprint TEXT NOT NULL,
        public_jwk TEXT NOT NULL,
        sealed BLOB NOT NULL,
        created_at INTEGER NOT NULL,
        UNIQUE (account_id, thumbprint)
    )""",
    """CREATE TABLE sessions (
        id_sha256 TEXT PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        created_at INTEGER NOT NULL
    )""",
    """CREATE INDEX sessions_account ON sessions(account_id)""",
    """CREATE TABLE credentials (
        id INTEGER PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        holder_key_id INTEGER NOT NULL REFERENCES holder_keys(id) ON DELETE CASCADE,
        format TEXT NOT NULL,
        raw TEXT NOT NULL,
        raw_sha256 TEXT NOT NULL,
        issuer TEXT NOT NULL,
        vct TEXT NOT NULL,
        title TEXT NOT NULL,
        issuer_name TEXT NOT NULL,
        ects REAL,
        eqf_level INTEGER,
        issued_on TEXT,
        badge TEXT NOT NULL,
        badge_detail TEXT NOT NULL,
        checked_at INTEGER NOT NULL,
        imported_at INTEGER NOT NULL,
        UNIQUE (account_id, raw_sha256)
    )""",
    """CREATE INDEX credentials_account ON credentials(account_id, imported_at)""",
    """CREATE TABLE shares (
        id TEXT PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        credential_id INTEGER NOT NULL REFERENCES credentials(id) ON DELETE CASCADE,
        mode TEXT NOT NULL,
        audience TEXT NOT NULL,
        disclosed TEXT NOT NULL,
        presentation TEXT,
        qr_text TEXT,
        token_sha256 TEXT UNIQUE,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        fetched_at INTEGER,
        withdrawn_at INTEGER
    )""",
    """CREATE INDEX shares_account ON shares(account_id, created_at)""",
    """CREATE TABLE signin_attempts (
        id INTEGER PRIMARY KEY,
        username TEXT NOT NULL COLLATE NOCASE,
        client TEXT NOT NULL,
        at INTEGER NOT NULL
    )""",
    """CREATE INDEX signin_attempts_username ON signin_attempts(username, at)""",
    """CREATE INDEX signin_attempts_client ON signin_attempts(client, at)""",
    """CREATE TABLE used_forms (
        form_id TEXT PRIMARY KEY,
        at INTEGER NOT NULL
    )""",
    """CREATE TABLE vp_requests (
        id TEXT PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        request TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        answered_at INTEGER
    )""",
)


@MIGRATIONS()
def m001_accounts_keys_credentials_shares(db: Database) -> None:
    """Accounts, sealed holder keys, sessions, credentials, shares, sign-in throttle, used forms,
    OpenID4VP requests (``PRAGMA user_version`` 1 before migrations were recorded by name)."""
    for statement in _ACCOUNTS_KEYS_CREDENTIALS_SHARES:
        db.execute(statement)


@MIGRATIONS()
def m002_session_times_registry_name(db: Database) -> None:
    """Idle timeout and fresh sign-in per session; the trust registry's name of a credential's issuer."""
    db.execute("ALTER TABLE sessions ADD COLUMN last_seen_at INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE sessions ADD COLUMN authenticated_at INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE credentials ADD COLUMN registry_name TEXT")


@MIGRATIONS()
def m003_imported_formats(db: Database) -> None:
    """Credentials from elsewhere (issue 12): kept as unverified or not, whether the credential names the
    wallet's key, the Annex I view's kind; each share's presentation format (a VP for whole credentials)."""
    db.execute("ALTER TABLE credentials ADD COLUMN verified INTEGER NOT NULL DEFAULT 1")
    db.execute("ALTER TABLE credentials ADD COLUMN subject_bound INTEGER NOT NULL DEFAULT 1")
    db.execute("ALTER TABLE credentials ADD COLUMN view_kind TEXT")
    db.execute("ALTER TABLE shares ADD COLUMN presentation_format TEXT NOT NULL DEFAULT 'dc+sd-jwt'")


@MIGRATIONS()
def m004_status_freshness(db: Database) -> None:
    """A live badge (issue 13): ``status_events`` counts the StatusRegistry anchoring events seen for the
    credential's issuer, ``status_events_seen`` the count its last check started from (stale while they differ);
    an index to find an issuer's credentials."""
    db.execute("ALTER TABLE credentials ADD COLUMN status_events INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE credentials ADD COLUMN status_events_seen INTEGER NOT NULL DEFAULT 0")
    db.execute("CREATE INDEX credentials_issuer ON credentials(issuer)")


@MIGRATIONS()
def m005_issuance_proofs(db: Database) -> None:
    """Issuance anchors (issue 14): the issuer's inclusion proof of a credential (JSON, credentials.merkle),
    kept as delivered and sent along when the credential is presented."""
    db.execute("ALTER TABLE credentials ADD COLUMN issuance_proof TEXT")


@MIGRATIONS()
def m006_passkeys(db: Database) -> None:
    """Passkeys (issue 15, WebAuthn Level 3): each account's registered credentials with their public key,
    signature counter and, for a PRF passkey, the account's vault key wrapped under its PRF output
    (wallet.sealing); the account's WebAuthn user handle and whether its holder keys are sealed under a vault.
    An account made with a passkey alone has an empty ``password_hash``, which no password matches."""
    db.execute("""CREATE TABLE passkeys (
        id INTEGER PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        credential_id TEXT NOT NULL UNIQUE,
        public_key BLOB NOT NULL,
        sign_count INTEGER NOT NULL,
        name TEXT NOT NULL,
        prf_capable INTEGER NOT NULL DEFAULT 0,
        prf_wrapped BLOB,
        created_at INTEGER NOT NULL,
        last_used_at INTEGER
    )""")
    db.execute("CREATE INDEX passkeys_account ON passkeys(account_id)")
    db.execute("ALTER TABLE accounts ADD COLUMN user_handle TEXT")
    db.execute("ALTER TABLE accounts ADD COLUMN vault_sealed INTEGER NOT NULL DEFAULT 0")


@MIGRATIONS()
def m007_account_language(db: Database) -> None:
    """Pages in four languages (issue 15): the language each account chose with the switcher (en, it, de, fr;
    NULL: none yet, the browser's decides; wallet.language)."""
    db.execute("ALTER TABLE accounts ADD COLUMN language TEXT")


def open_database(path: str | Path) -> Database:
    """A connection with WAL, foreign keys and a busy timeout."""
    connection = sqlite3.connect(str(path), timeout=10, check_same_thread=False)
    db = Database(connection)
    db.execute("PRAGMA foreign_keys = ON")
    if str(path) != ":memory:":
        enable_wal(connection)
    return db


def migrate(db: Database) -> int:
    """Apply the migrations not yet applied; return the schema version (how many the file holds).

    Safe when several processes start on one fresh file (gunicorn workers):
    each migration runs in ``BEGIN IMMEDIATE`` and re-reads what is pending
    under that lock (:func:`infra.migrations.apply_migrations`), so the
    others wait (busy timeout) and then find it applied. A file from before
    migrations were recorded by name is adopted from its ``PRAGMA user_version``.
    """
    return apply_migrations(db, MIGRATIONS, what="the wallet database", legacy=_numbered_migrations)


def _numbered_migrations(db: Database) -> list[str]:
    """The migrations a file numbered by ``PRAGMA user_version`` holds; the number is then retired (0)."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version:
        db.execute("PRAGMA user_version = 0")
    return list(MIGRATIONS.names[:version])


def inserted_id(cursor: sqlite3.Cursor) -> int:
    """The id of the row an ``INSERT`` through ``cursor`` just made."""
    if cursor.lastrowid is None:  # sqlite3 sets it after every INSERT
        raise sqlite3.DatabaseError("the database did not report the new row's id")
    return cursor.lastrowid


def get_db() -> Database:
    """The request's database connection (opened on first use)."""
    if "db" not in g:
        g.db = open_database(Path(current_app.config["DATA_DIR"]) / DB_FILE)
    return g.db


def _close_db(_exc: BaseException | None = None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.close()


def init_app(app: Flask) -> None:
    """Create and migrate the database file, and close connections on teardown."""
    db = open_database(Path(app.config["DATA_DIR"]) / DB_FILE)
    try:
        migrate(db)
    finally:
        db.close()
    app.teardown_appcontext(_close_db)
