"""The registrar's staff accounts and the audit log of status changes (issue 15, §5).

Accounts (``microcred issuer staff add|remove|list``) sign in to the
registrar's pages with a password, stored as an Argon2id hash (RFC 9106,
its second recommended parameters; OWASP Password Storage cheat sheet), in the
issuer's folder beside the archive (``staff.sqlite``, mode 0600). Two roles:

==============  ===============================================================
``viewer``      sees the issued credentials, the status lists and the audit log
``registrar``   also revokes (one credential, or many from a CSV file)
==============  ===============================================================

While no account exists the pages answer the machine itself only (loopback),
as before accounts existed; once one exists, every client signs in, loopback
too (a reverse proxy on the same machine makes every client look local).

The audit log keeps every status change made from the pages: who (the
account, or ``local`` before accounts existed), when, what (one credential,
or a file's summary and digest), and the reason given. Entries are only ever
added (OWASP Logging cheat sheet: who, when, what, outcome).
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from credentials.errors import InvalidInput

__all__ = ["ROLES", "ROLE_VIEWER", "ROLE_REGISTRAR", "LOCAL_ACTOR", "STAFF_FILE", "MIN_PASSWORD_LENGTH",
           "MAX_PASSWORD_LENGTH", "MAX_REASON_LENGTH", "StaffMember", "AuditEntry", "StaffBook"]

ROLE_VIEWER, ROLE_REGISTRAR = "viewer", "registrar"
ROLES = (ROLE_VIEWER, ROLE_REGISTRAR)
#: Who the audit log names for a change made before any staff account existed (loopback only).
LOCAL_ACTOR = "local (no staff accounts; this machine only)"
STAFF_FILE = "staff.sqlite"
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
MAX_REASON_LENGTH = 500
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,63}$")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS staff (
    username TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash TEXT NOT NULL, created_at INTEGER NOT NULL,
    session_epoch INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, actor TEXT NOT NULL, role TEXT NOT NULL,
    action TEXT NOT NULL, subject TEXT NOT NULL, count INTEGER NOT NULL, reason TEXT NOT NULL,
    client TEXT);
"""


@dataclass(frozen=True)
class StaffMember:
    """An account: its name, role, and the epoch its sessions carry (a change signs every session out)."""

    username: str
    role: str
    created_at: int
    session_epoch: int = 0

    @property
    def may_change(self) -> bool:
        return self.role == ROLE_REGISTRAR


@dataclass(frozen=True)
class AuditEntry:
    """One change made from the registrar's pages."""

    at: int
    actor: str
    role: str
    action: str
    subject: str
    count: int
    reason: str
    client: str | None = None


_DUMMY_HASHES: dict[tuple[int, int, int], str] = {}


def _dummy_hash(hasher: PasswordHasher) -> str:
    """A hash to verify an unknown name against, so the time taken does not tell names apart."""
    params = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
    if params not in _DUMMY_HASHES:
        _DUMMY_HASHES[params] = hasher.hash("no such account, never a real password")
    return _DUMMY_HASHES[params]


def check_username(username: str) -> str:
    name = username.strip().lower()
    if not _USERNAME.fullmatch(name):
        raise InvalidInput("expected a user name of 2 to 64 characters: lower-case letters, digits, '.', '_', '@', "
                           f"'-', starting with a letter or digit; found {username[:80]!r}")
    return name


def check_reason(reason: str) -> str:
    """The reason a registrar gave for a change: required, printable, at most :data:`MAX_REASON_LENGTH`."""
    text = " ".join(reason.split())
    if not text:
        raise InvalidInput("give a reason for the change; it is kept in the audit log")
    if len(text) > MAX_REASON_LENGTH or not text.isprintable():
        raise InvalidInput(f"a reason is at most {MAX_REASON_LENGTH} printable characters, found {len(text)}")
    return text


class StaffBook:
    """The issuer's ``staff.sqlite``: accounts and the audit log. Opened per use; cheap, and safe across forks."""

    def __init__(self, path: Path, hasher: PasswordHasher | None = None):
        self.path = Path(path)
        self.hasher = hasher or PasswordHasher()  # Argon2id, RFC 9106's second recommended option

    @classmethod
    def of_home(cls, home_path: Path, hasher: PasswordHasher | None = None) -> StaffBook:
        return cls(Path(home_path) / STAFF_FILE, hasher)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        fresh = not self.path.exists()
        with closing(sqlite3.connect(self.path, timeout=10)) as conn:
            if fresh:
                os.chmod(self.path, 0o600)
            conn.row_factory = sqlite3.Row
            conn.executescript(_SCHEMA)
            with conn:
                yield conn

    # ------------------------------------------------------------ accounts

    def has_accounts(self) -> bool:
        if not self.path.exists():
            return False
        with self._db() as db:
            return db.execute("SELECT 1 FROM staff LIMIT 1").fetchone() is not None

    def add(self, username: str, role: str, password: str, *, now: int) -> StaffMember:
        """A new account (InvalidInput if the name is taken, the role unknown or the password short)."""
        name = check_username(username)
        if role not in ROLES:
            raise InvalidInput(f"expected a role of {', '.join(ROLES)}, found {role!r}")
        if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
            raise InvalidInput(f"expected a password of {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters, "
                               f"found {len(password)}")
        password_hash = self.hasher.hash(password)
        with self._db() as db:
            if db.execute("SELECT 1 FROM staff WHERE username = ?", [name]).fetchone():
                raise InvalidInput(f"a staff account named {name} exists already")
            db.execute("INSERT INTO staff (username, role, password_hash, created_at) VALUES (?, ?, ?, ?)",
                       [name, role, password_hash, now])
        return StaffMember(name, role, now)

    def remove(self, username: str) -> None:
        """Delete an account; its sessions end with it (InvalidInput if there is none)."""
        name = username.strip().lower()
        with self._db() as db:
            if db.execute("DELETE FROM staff WHERE username = ?", [name]).rowcount == 0:
                raise InvalidInput(f"there is no staff account named {name[:80]!r}")

    def members(self) -> list[StaffMember]:
        if not self.path.exists():
            return []
        with self._db() as db:
            rows = db.execute("SELECT username, role, created_at, session_epoch FROM staff ORDER BY username")
            return [StaffMember(**dict(row)) for row in rows]

    def member(self, username: str) -> StaffMember | None:
        if not self.path.exists():
            return None
        with self._db() as db:
            row = db.execute("SELECT username, role, created_at, session_epoch FROM staff WHERE username = ?",
                             [username]).fetchone()
        return StaffMember(**dict(row)) if row else None

    def check_password(self, username: str, password: str) -> StaffMember | None:
        """The account when ``password`` is right, else None; an unknown name costs the same work."""
        name = username.strip().lower()[:64]
        with self._db() as db:
            row = db.execute("SELECT username, role, created_at, session_epoch, password_hash FROM staff "
                             "WHERE username = ?", [name]).fetchone()
        stored = row["password_hash"] if row else _dummy_hash(self.hasher)
        try:
            self.hasher.verify(stored, password[:MAX_PASSWORD_LENGTH])
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if row is None:
            return None
        return StaffMember(row["username"], row["role"], row["created_at"], row["session_epoch"])

    # ------------------------------------------------------------ audit log

    def record(self, entry: AuditEntry) -> None:
        with self._db() as db:
            db.execute("INSERT INTO audit (at, actor, role, action, subject, count, reason, client) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       [entry.at, entry.actor, entry.role, entry.action, entry.subject, entry.count, entry.reason,
                        entry.client])

    def audit(self, *, limit: int = 50) -> list[AuditEntry]:
        """The latest entries, newest first."""
        if not self.path.exists():
            return []
        with self._db() as db:
            rows = db.execute("SELECT at, actor, role, action, subject, count, reason, client FROM audit "
                              "ORDER BY id DESC LIMIT ?", [limit])
            return [AuditEntry(**dict(row)) for row in rows]
