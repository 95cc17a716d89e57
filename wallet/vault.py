"""The secret that opens the signed-in learner's holder keys, and the passkey vault key held for a session.

An account whose holder keys are sealed under a passkey vault (:mod:`wallet.sealing`, PRF) can only use
them after a sign-in or confirmation with one of its PRF passkeys in this session. The vault key is then
kept in the session cookie, itself sealed (AES-256-GCM) under a key derived from the server secret and
bound to the session id, so neither the cookie alone nor the server's files alone open a holder key; it is
gone at sign-out. Every view that signs with a holder key asks :func:`holder_secret`.
"""

from __future__ import annotations

import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import abort, current_app, g, session

from credentials.errors import InvalidInput
from credentials.jose import b64url_decode, b64url_encode
from wallet.db import get_db
from wallet.sealing import NONCE_BYTES, derive_key, vault_sealing_secret

__all__ = ["LOCKED_MESSAGE", "remember_vault_key", "session_vault_key", "holder_secret", "is_vault_sealed"]

_SESSION_KEY = "vault"
_COOKIE_LABEL = b"microcred wallet session vault v1"
LOCKED_MESSAGE = ("Your holder keys are sealed with your passkey: sign in with that passkey (Account → "
                  "Confirm with a passkey) to share or add credentials.")


def _aead() -> AESGCM:
    return AESGCM(derive_key(current_app.extensions["microcred_wallet_secret"], _COOKIE_LABEL))


def _aad() -> bytes:
    return f"vault:{session.get('sid', '')}".encode()


def remember_vault_key(vault_key: bytes | None) -> None:
    """Keep ``vault_key`` for this session (after :func:`wallet.security.start_session`); None forgets it."""
    if vault_key is None:
        session.pop(_SESSION_KEY, None)
        return
    nonce = secrets.token_bytes(NONCE_BYTES)
    session[_SESSION_KEY] = b64url_encode(nonce + _aead().encrypt(nonce, vault_key, _aad()))


def session_vault_key() -> bytes | None:
    """This session's vault key, or None (never had one, or the cookie was not sealed for this session)."""
    kept = session.get(_SESSION_KEY)
    if not isinstance(kept, str):
        return None
    try:
        sealed = b64url_decode(kept)
        return _aead().decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], _aad())
    except (InvalidInput, InvalidTag, ValueError):
        return None


def is_vault_sealed(account_id: int) -> bool:
    row = get_db().execute("SELECT vault_sealed FROM accounts WHERE id = ?", [account_id]).fetchone()
    return bool(row and row[0])


def holder_secret() -> bytes:
    """The secret that opens the signed-in account's holder keys; 403 while they are sealed and not opened."""
    secret = current_app.extensions["microcred_wallet_secret"]
    if not is_vault_sealed(g.account["id"]):
        return secret
    vault = session_vault_key()
    if vault is None:
        abort(403, description=LOCKED_MESSAGE)
    return vault_sealing_secret(secret, vault)
