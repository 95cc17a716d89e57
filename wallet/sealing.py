"""Secrets at rest: the server secret, sealed holder keys, passphrase-encrypted backups.

Holder keys (chosen design)
    Each private JWK is sealed with AES-256-GCM (NIST SP 800-38D) under a key
    derived by HKDF-SHA-256 (RFC 5869) from a 32-byte server secret kept in
    ``<data dir>/wallet-secret.key`` (mode 0600), outside the database. The
    account id and key thumbprint are the associated data, so a sealed key
    copied to another row does not open. Why not a key derived from the
    learner's password: the wallet must sign a Key Binding JWT whenever the
    learner shares, and re-asking the password at a desk is what the issue
    wants to avoid; a copy of the database alone (a backup, a stolen disk
    image of the DB) still reveals no key. The same secret, through another
    HKDF label, signs Flask's session cookies. The file is created whole, once,
    even when several workers start together (:mod:`infra.secret_files`).

Passkey-sealed holder keys (PRF)
    Where a passkey's authenticator supports the WebAuthn PRF extension
    (WebAuthn Level 3 §10.1.4, over CTAP 2.1 ``hmac-secret``), the account gets
    a random 32-byte *vault key* and its holder keys are sealed under
    HKDF(server secret || vault key) instead of the server secret alone. The
    vault key is stored only wrapped (AES-256-GCM) under a key derived by HKDF
    from each PRF passkey's output for :data:`PRF_SALT`, which the authenticator
    computes from a secret that never leaves it. So the database and the
    server secret together still open no key: a sign-in with one of those
    passkeys must hand the PRF output over first. During a session the vault
    key is kept only in the learner's session cookie, sealed under the server
    secret (:mod:`wallet.vault`).

Backups
    ``{"format": "microcred-wallet-backup", "version": 1, "kdf": {scrypt n r p
    salt}, "nonce", "ciphertext"}``: the passphrase goes through scrypt
    (RFC 7914, n=2^15, r=8, p=1), the plaintext JSON is sealed with
    AES-256-GCM, and the header (format, version, kdf) is the associated data.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from credentials.errors import ConfigurationError, InvalidInput
from credentials.jose import b64url_decode, b64url_encode, json_dumps, json_loads_object
from infra.secret_files import load_or_create_secret_file

__all__ = [
    "SECRET_FILE",
    "BACKUP_FORMAT",
    "BACKUP_VERSION",
    "MIN_PASSPHRASE_LENGTH",
    "load_or_create_secret",
    "derive_key",
    "seal_holder_key",
    "open_holder_key",
    "encrypt_backup",
    "decrypt_backup",
    "PRF_SALT",
    "VAULT_KEY_BYTES",
    "vault_sealing_secret",
    "wrap_vault_key",
    "unwrap_vault_key",
]

SECRET_FILE = "wallet-secret.key"
SECRET_BYTES = 32
NONCE_BYTES = 12
BACKUP_FORMAT = "microcred-wallet-backup"
BACKUP_VERSION = 1
MIN_PASSPHRASE_LENGTH = 10
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
_HOLDER_KEY_LABEL = b"microcred wallet holder keys v1"
_VAULT_SEALING_LABEL = b"microcred wallet holder keys under a passkey vault v1"
_PRF_WRAP_LABEL = b"microcred wallet passkey PRF wrapping key v1"
#: The PRF input every passkey is asked to evaluate (the output still differs per passkey).
PRF_SALT = hashlib.sha256(b"microcred wallet holder-key sealing, PRF input v1").digest()
VAULT_KEY_BYTES = 32
PRF_OUTPUT_BYTES = 32


def load_or_create_secret(data_dir: str | Path) -> bytes:
    """The 32-byte server secret, created (0600) on first use; the same for every worker."""
    path = Path(data_dir) / SECRET_FILE
    secret, _ = load_or_create_secret_file(path, lambda: secrets.token_bytes(SECRET_BYTES))
    if len(secret) != SECRET_BYTES:
        raise ConfigurationError(f"{path} must hold {SECRET_BYTES} bytes, found {len(secret)}")
    return secret


def derive_key(secret: bytes, label: bytes) -> bytes:
    """A 32-byte key for one purpose (HKDF-SHA-256, ``label`` as info)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(secret)


def _holder_aad(account_id: int, thumbprint: str) -> bytes:
    return f"holder-key:{account_id}:{thumbprint}".encode("ascii")


def seal_holder_key(
    secret: bytes,
    account_id: int,
    thumbprint: str,
    private_jwk: Mapping[str, str],
    *,
    random_bytes: Callable[[int], bytes] = secrets.token_bytes,
) -> bytes:
    """``nonce || AES-GCM(private JWK)`` bound to the account and key thumbprint."""
    nonce = random_bytes(NONCE_BYTES)
    aead = AESGCM(derive_key(secret, _HOLDER_KEY_LABEL))
    plaintext = json_dumps(dict(private_jwk)).encode("utf-8")
    return nonce + aead.encrypt(nonce, plaintext, _holder_aad(account_id, thumbprint))


def open_holder_key(secret: bytes, account_id: int, thumbprint: str, sealed: bytes) -> dict[str, Any]:
    """The private JWK; ConfigurationError if the server secret does not open it."""
    aead = AESGCM(derive_key(secret, _HOLDER_KEY_LABEL))
    try:
        plain = aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], _holder_aad(account_id, thumbprint))
    except InvalidTag as exc:
        raise ConfigurationError(
            "a holder key does not open with this server secret (was wallet-secret.key replaced?)"
        ) from exc
    return json_loads_object(plain, what="holder key")


def vault_sealing_secret(secret: bytes, vault_key: bytes) -> bytes:
    """The secret that seals the holder keys of an account with a passkey vault: both halves are needed."""
    if len(vault_key) != VAULT_KEY_BYTES:
        raise InvalidInput(f"a vault key has {VAULT_KEY_BYTES} bytes, found {len(vault_key)}")
    return derive_key(secret + vault_key, _VAULT_SEALING_LABEL)


def _vault_aad(account_id: int, credential_id: str) -> bytes:
    return f"vault:{account_id}:{credential_id}".encode("ascii")


def wrap_vault_key(
    prf_output: bytes,
    account_id: int,
    credential_id: str,
    vault_key: bytes,
    *,
    random_bytes: Callable[[int], bytes] = secrets.token_bytes,
) -> bytes:
    """``nonce || AES-GCM(vault key)`` under the key derived from one passkey's PRF output."""
    if len(prf_output) != PRF_OUTPUT_BYTES:
        raise InvalidInput(f"a PRF output has {PRF_OUTPUT_BYTES} bytes, found {len(prf_output)}")
    nonce = random_bytes(NONCE_BYTES)
    aead = AESGCM(derive_key(prf_output, _PRF_WRAP_LABEL))
    return nonce + aead.encrypt(nonce, vault_key, _vault_aad(account_id, credential_id))


def unwrap_vault_key(prf_output: bytes, account_id: int, credential_id: str, wrapped: bytes) -> bytes:
    """The vault key; InvalidInput if this PRF output does not open it."""
    if len(prf_output) != PRF_OUTPUT_BYTES:
        raise InvalidInput(f"a PRF output has {PRF_OUTPUT_BYTES} bytes, found {len(prf_output)}")
    aead = AESGCM(derive_key(prf_output, _PRF_WRAP_LABEL))
    try:
        return aead.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], _vault_aad(account_id, credential_id))
    except InvalidTag as exc:
        raise InvalidInput("the passkey's PRF output does not open this account's holder keys") from exc


def _scrypt(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


def encrypt_backup(
    contents: Mapping[str, Any],
    passphrase: str,
    *,
    random_bytes: Callable[[int], bytes] = secrets.token_bytes,
) -> str:
    """The backup file's text for ``contents`` under ``passphrase``."""
    if len(passphrase) < MIN_PASSPHRASE_LENGTH:
        raise InvalidInput(
            f"the passphrase must have at least {MIN_PASSPHRASE_LENGTH} characters, found {len(passphrase)}")
    salt, nonce = random_bytes(16), random_bytes(NONCE_BYTES)
    header = {
        "format": BACKUP_FORMAT,
        "version": BACKUP_VERSION,
        "kdf": {"name": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P, "salt": b64url_encode(salt)},
    }
    aead = AESGCM(_scrypt(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P))
    ciphertext = aead.encrypt(nonce, json_dumps(dict(contents)).encode("utf-8"), json_dumps(header).encode("utf-8"))
    return json_dumps({**header, "nonce": b64url_encode(nonce), "ciphertext": b64url_encode(ciphertext)})


def decrypt_backup(text: str | bytes, passphrase: str) -> dict[str, Any]:
    """The backup's contents; InvalidInput for a wrong passphrase or a damaged file."""
    document = json_loads_object(text, what="backup file")
    if document.get("format") != BACKUP_FORMAT or document.get("version") != BACKUP_VERSION:
        raise InvalidInput(
            f"expected a {BACKUP_FORMAT} file of version {BACKUP_VERSION}, "
            f"found format {str(document.get('format'))[:40]!r} version {str(document.get('version'))[:10]!r}"
        )
    kdf = document.get("kdf")
    if not isinstance(kdf, Mapping) or kdf.get("name") != "scrypt":
        raise InvalidInput("the backup's key derivation must be scrypt")
    n, r, p = kdf.get("n"), kdf.get("r"), kdf.get("p")
    if (n, r, p) != (SCRYPT_N, SCRYPT_R, SCRYPT_P):
        raise InvalidInput(
            f"expected scrypt parameters n={SCRYPT_N} r={SCRYPT_R} p={SCRYPT_P}, found n={n} r={r} p={p}")
    try:
        salt = b64url_decode(kdf.get("salt"))
        nonce = b64url_decode(document.get("nonce"))
        ciphertext = b64url_decode(document.get("ciphertext"))
    except InvalidInput as exc:
        raise InvalidInput(f"the backup file is damaged: {exc}") from exc
    if len(nonce) != NONCE_BYTES or len(salt) < 16:
        raise InvalidInput("the backup file is damaged: bad nonce or salt length")
    header = {"format": BACKUP_FORMAT, "version": BACKUP_VERSION, "kdf": dict(kdf)}
    aead = AESGCM(_scrypt(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P))  # n, r, p: checked equal above
    try:
        plain = aead.decrypt(nonce, ciphertext, json_dumps(header).encode("utf-8"))
    except InvalidTag as exc:
        raise InvalidInput("the passphrase is wrong, or the backup file was changed") from exc
    return json_loads_object(plain, what="backup contents")
