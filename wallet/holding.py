"""Accounts and their holder keys (ES256, sealed at rest; see :mod:`wallet.sealing`).

An account starts with one holder key. A restored backup may add the keys of
another account or instance, so that credentials bound to them stay usable;
the newest key is the one new credentials are requested for.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlite_utils import Database

from credentials.dids import did_jwk_from_public_key, did_key_from_public_key
from credentials.errors import InvalidInput
from credentials.jose import PrivateKey, PublicKey
from wallet.db import inserted_id
from wallet.sealing import open_holder_key, seal_holder_key

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "MAX_PASSWORD_LENGTH",
    "HolderKeyRecord",
    "password_hasher",
    "create_account",
    "check_password",
    "check_username",
    "add_holder_key",
    "holder_keys",
    "current_holder_key",
    "private_holder_key",
    "holder_key_for",
    "delete_account",
]

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
MAX_USERNAME_LENGTH = 64


@dataclass(frozen=True)
class HolderKeyRecord:
    """A holder key as stored: its public half, thumbprint and the DIDs it answers to."""

    id: int
    account_id: int
    thumbprint: str
    public_key: PublicKey
    sealed: bytes

    @property
    def dids(self) -> tuple[str, str]:
        return did_key_from_public_key(self.public_key), did_jwk_from_public_key(self.public_key)


def password_hasher(config: Mapping[str, Any]) -> PasswordHasher:
    """Argon2id with the app's cost settings (RFC 9106 second recommended option by default)."""
    return PasswordHasher(
        time_cost=config.get("ARGON2_TIME_COST", 3),
        memory_cost=config.get("ARGON2_MEMORY_COST", 64 * 1024),
        parallelism=config.get("ARGON2_PARALLELISM", 4),
    )


def check_username(username: str) -> str:
    """The user name stripped; InvalidInput unless it has 3 to 64 printable characters."""
    username = username.strip()
    if not (3 <= len(username) <= MAX_USERNAME_LENGTH) or not username.isprintable():
        raise InvalidInput(f"choose a user name of 3 to {MAX_USERNAME_LENGTH} printable characters")
    return username


def _check_new_credentials(username: str, password: str | None) -> str:
    username = check_username(username)
    if password is not None and not (MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH):
        raise InvalidInput(f"choose a password of at least {MIN_PASSWORD_LENGTH} characters (found {len(password)})")
    return username


def create_account(db: Database, secret: bytes, hasher: PasswordHasher | None, username: str,
                   password: str | None, *, now: int) -> int:
    """A new account with a fresh ES256 holder key; InvalidInput if the name is taken.

    ``password`` None: an account signed into by passkey alone; its empty hash matches no password.
    """
    username = _check_new_credentials(username, password)
    password_hash = hasher.hash(password) if password is not None and hasher is not None else ""
    with db.atomic():
        if db.execute("SELECT 1 FROM accounts WHERE username = ?", [username]).fetchone():
            raise InvalidInput("this user name is taken; choose another")
        cursor = db.execute(
            "INSERT INTO accounts (username, password_hash, created_at) VALUES (?, ?, ?)",
            [username, password_hash, now],
        )
        account_id = inserted_id(cursor)
        add_holder_key(db, secret, account_id, PrivateKey.generate("ES256"), now=now)
    return account_id


def check_password(db: Database, hasher: PasswordHasher, username: str, password: str) -> int | None:
    """The account id when ``password`` is right, else None (same work either way)."""
    row = db.execute("SELECT id, password_hash FROM accounts WHERE username = ?", [username.strip()]).fetchone()
    stored = row[1] if row and row[1] else _DUMMY_HASH.get(hasher)  # passkey-only accounts: the same work
    try:
        hasher.verify(stored, password[:MAX_PASSWORD_LENGTH])
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    return row[0] if row and row[1] else None


class _DummyHash:
    """A hash to verify against for unknown users, so timing does not tell names apart."""

    def __init__(self) -> None:
        self._cache: dict[tuple[int, int, int], str] = {}

    def get(self, hasher: PasswordHasher) -> str:
        params = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
        if params not in self._cache:
            self._cache[params] = hasher.hash("no such account, never a real password")
        return self._cache[params]


_DUMMY_HASH = _DummyHash()


def add_holder_key(db: Database, secret: bytes, account_id: int, key: PrivateKey, *, now: int) -> int:
    """Store ``key`` for the account (or return the id it already has)."""
    public = key.public_key()
    thumbprint = public.thumbprint()
    row = db.execute(
        "SELECT id FROM holder_keys WHERE account_id = ? AND thumbprint = ?", [account_id, thumbprint]
    ).fetchone()
    if row:
        return row[0]
    cursor = db.execute(
        "INSERT INTO holder_keys (account_id, thumbprint, public_jwk, sealed, created_at) VALUES (?, ?, ?, ?, ?)",
        [account_id, thumbprint, json.dumps(public.to_jwk()),
         seal_holder_key(secret, account_id, thumbprint, key.to_jwk()), now],
    )
    return inserted_id(cursor)


def _record(row: tuple[Any, ...]) -> HolderKeyRecord:
    return HolderKeyRecord(
        id=row[0], account_id=row[1], thumbprint=row[2], public_key=PublicKey.from_jwk(json.loads(row[3])),
        sealed=row[4],
    )


_KEY_COLUMNS = "id, account_id, thumbprint, public_jwk, sealed"


def holder_keys(db: Database, account_id: int) -> list[HolderKeyRecord]:
    rows = db.execute(
        f"SELECT {_KEY_COLUMNS} FROM holder_keys WHERE account_id = ? ORDER BY id", [account_id]
    ).fetchall()
    return [_record(row) for row in rows]


def current_holder_key(db: Database, account_id: int) -> HolderKeyRecord:
    """The key new credentials are requested for (the newest)."""
    row = db.execute(
        f"SELECT {_KEY_COLUMNS} FROM holder_keys WHERE account_id = ? ORDER BY id DESC LIMIT 1", [account_id]
    ).fetchone()
    if row is None:
        raise InvalidInput("this account has no holder key")
    return _record(row)


def holder_key_for(db: Database, account_id: int, key_id: int) -> HolderKeyRecord:
    row = db.execute(
        f"SELECT {_KEY_COLUMNS} FROM holder_keys WHERE account_id = ? AND id = ?", [account_id, key_id]
    ).fetchone()
    if row is None:
        raise InvalidInput("that holder key is not one of this account's")
    return _record(row)


def private_holder_key(secret: bytes, record: HolderKeyRecord) -> PrivateKey:
    return PrivateKey.from_jwk(open_holder_key(secret, record.account_id, record.thumbprint, record.sealed))


def delete_account(db: Database, account_id: int) -> None:
    """Delete the account and, by cascade, its keys, credentials, shares and sessions."""
    with db.atomic():
        db.execute("DELETE FROM accounts WHERE id = ?", [account_id])
