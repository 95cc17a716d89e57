"""Passkeys: WebAuthn Level 3 (W3C) registration and authentication for wallet accounts.

The server side is py_webauthn (pip ``webauthn``, Duo Labs), chosen over
Yubico's ``fido2`` because it is a relying-party-only library: its two verify
functions take the expected challenge, RP ID and origin as arguments, check
the signature counter themselves (§6.1.1) and keep no state of their own, so
the ceremony state lives where the wallet wants it. ``fido2`` is as well
kept but mostly a client / CTAP library whose ``Fido2Server`` leaves the
counter to the caller.

Ceremonies
    Each page that can use a passkey gets fresh options: a 32-byte random
    challenge kept in the shared store (:mod:`infra.store`, namespace
    ``passkey-ceremony``) under a random ceremony id for
    :data:`CEREMONY_TTL` seconds, with what the ceremony is for (sign-in,
    sign-up, adding a passkey, confirming) and whose it is. The answer names the
    ceremony id; the entry is *popped*, so a challenge is good for one answer
    across every worker and machine, and a ceremony of one kind cannot be
    spent on another.
Relying party
    The RP ID is the host of the wallet's ``PUBLIC_URL`` and the one origin
    accepted is that URL's scheme, host and port. An IP address cannot be an
    RP ID (WebAuthn §5.1.3, a "valid domain"), so a wallet served at
    ``http://127.0.0.1`` offers no passkeys; ``http://localhost`` is a secure
    context and works.
Errors
    Every refusal (an answer that does not verify, a ceremony unknown, spent,
    expired or of another kind) is :class:`~credentials.errors.InvalidInput`
    saying why: 400, or 401 at sign-in.
Counters
    A stored counter that is not below the authenticator's new one
    (unless both are 0, as synced passkeys report) is refused as a possible
    clone; a counter that moved is written with compare-and-set, so two
    simultaneous answers with the same count do not both pass.
User verification
    Required on every ceremony: a passkey stands in for the password.
PRF
    A passkey whose authenticator answers the ``prf`` extension can seal the
    account's holder keys (:func:`wallet.sealing.vault_sealing_secret`); see
    :func:`open_vault`.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlsplit

from sqlite_utils import Database
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from credentials.errors import InvalidInput
from infra.store import Store
from wallet.db import inserted_id
from wallet.holding import holder_keys
from wallet.sealing import (
    PRF_SALT,
    VAULT_KEY_BYTES,
    open_holder_key,
    seal_holder_key,
    unwrap_vault_key,
    vault_sealing_secret,
    wrap_vault_key,
)

__all__ = ["CEREMONY_TTL", "PURPOSES", "RelyingParty", "relying_party", "Ceremony",
           "registration_options", "authentication_options", "take_ceremony", "verify_registration",
           "add_passkey", "verify_authentication", "account_passkeys", "open_vault", "unseal_vault",
           "prf_salt_b64"]

CEREMONY_TTL = 120
_NAMESPACE = "passkey-ceremony"
PURPOSES = ("signin", "signup", "add", "confirm")
#: ES256 and EdDSA, as the wallet's own keys; RS256 for Windows Hello.
_ALGORITHMS = [COSEAlgorithmIdentifier.ECDSA_SHA_256, COSEAlgorithmIdentifier.EDDSA,
               COSEAlgorithmIdentifier.RSASSA_PKCS1_v1_5_SHA_256]
MAX_CREDENTIAL_JSON = 16 * 1024
MAX_PASSKEYS = 20


@dataclass(frozen=True)
class RelyingParty:
    """Who the passkeys are for: the RP ID (a domain) and the one origin answers must come from."""

    rp_id: str
    origin: str
    name: str = "microcred wallet"


def _is_ip_address(host: str) -> bool:
    try:
        ip_address(host)
    except ValueError:
        return False
    return True


def relying_party(public_url: str | None) -> RelyingParty | None:
    """The relying party of the wallet at ``public_url``; None when it cannot have passkeys (no URL, an IP)."""
    if not public_url:
        return None
    parts = urlsplit(public_url)
    host = parts.hostname or ""
    if _is_ip_address(host):
        return None  # WebAuthn relying party ids are domain names
    if not host or parts.scheme not in ("https", "http"):
        return None
    port = f":{parts.port}" if parts.port else ""
    return RelyingParty(rp_id=host, origin=f"{parts.scheme}://{host}{port}")


@dataclass(frozen=True)
class Ceremony:
    """A ceremony as kept in the store until its answer comes."""

    purpose: str
    challenge: bytes
    account_id: int | None = None
    username: str | None = None
    user_handle: str | None = None


def prf_salt_b64() -> str:
    return bytes_to_base64url(PRF_SALT)


def _begin(store: Store, ceremony: Ceremony) -> str:
    ceremony_id = secrets.token_urlsafe(24)
    store.put(_NAMESPACE, ceremony_id, json.dumps({
        "purpose": ceremony.purpose, "challenge": bytes_to_base64url(ceremony.challenge),
        "account_id": ceremony.account_id, "username": ceremony.username, "user_handle": ceremony.user_handle,
    }), CEREMONY_TTL)
    return ceremony_id


def take_ceremony(store: Store, ceremony_id: str, purpose: str) -> Ceremony:
    """The ceremony, removed from the store (one answer per challenge); InvalidInput if none of ``purpose``."""
    if not isinstance(ceremony_id, str) or not ceremony_id or len(ceremony_id) > 64:
        raise InvalidInput("this passkey form is missing its ceremony; reload the page and try again")
    kept = store.pop(_NAMESPACE, ceremony_id)
    if kept is None:
        raise InvalidInput("this passkey request expired or was used already; reload the page and try again")
    data = json.loads(kept)
    if data.get("purpose") != purpose:
        raise InvalidInput(f"this passkey answer was for {data.get('purpose')!r}, not {purpose!r}")
    return Ceremony(purpose, base64url_to_bytes(data["challenge"]), data.get("account_id"), data.get("username"),
                    data.get("user_handle"))


def _descriptors(credential_ids: list[str]) -> list[PublicKeyCredentialDescriptor]:
    return [PublicKeyCredentialDescriptor(id=base64url_to_bytes(value)) for value in credential_ids]


def registration_options(rp: RelyingParty, store: Store, purpose: str, *, username: str, user_handle: str,
                         account_id: int | None = None, exclude: list[str] | None = None) -> tuple[str, str]:
    """(ceremony id, options JSON) for ``navigator.credentials.create``: a discoverable credential, UV required."""
    challenge = secrets.token_bytes(32)
    options = generate_registration_options(
        rp_id=rp.rp_id, rp_name=rp.name, user_name=username, user_id=base64url_to_bytes(user_handle),
        challenge=challenge, timeout=CEREMONY_TTL * 1000, exclude_credentials=_descriptors(exclude or []),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED, user_verification=UserVerificationRequirement.REQUIRED),
        supported_pub_key_algs=_ALGORITHMS,
    )
    ceremony_id = _begin(store, Ceremony(purpose, challenge, account_id, username, user_handle))
    return ceremony_id, options_to_json(options)


def authentication_options(rp: RelyingParty, store: Store, purpose: str, *, account_id: int | None = None,
                           allow: list[str] | None = None) -> tuple[str, str]:
    """(ceremony id, options JSON) for ``navigator.credentials.get``; ``allow`` empty: any passkey of this site."""
    challenge = secrets.token_bytes(32)
    options = generate_authentication_options(
        rp_id=rp.rp_id, challenge=challenge, timeout=CEREMONY_TTL * 1000, allow_credentials=_descriptors(allow or []),
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return _begin(store, Ceremony(purpose, challenge, account_id)), options_to_json(options)


def _credential_json(text: str) -> dict[str, Any]:
    if not isinstance(text, str) or not text or len(text) > MAX_CREDENTIAL_JSON:
        raise InvalidInput("no passkey answer came with the form (is JavaScript on?)")
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested deeper than the parser goes
        raise InvalidInput("the passkey answer is not JSON") from exc
    if not isinstance(value, dict) or not isinstance(value.get("id"), str):
        raise InvalidInput("the passkey answer is not a WebAuthn credential")
    return value


def verify_registration(rp: RelyingParty, ceremony: Ceremony, credential_text: str) -> Any:
    """py_webauthn's VerifiedRegistration of the ``create()`` answer; InvalidInput naming what failed."""
    credential = _credential_json(credential_text)
    try:
        return verify_registration_response(
            credential=credential, expected_challenge=ceremony.challenge, expected_rp_id=rp.rp_id,
            expected_origin=rp.origin, require_user_verification=True, supported_pub_key_algs=_ALGORITHMS)
    except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
        raise InvalidInput(f"the new passkey was not accepted: {str(exc)[:160]}") from exc


def add_passkey(db: Database, account_id: int, verified: Any, *, name: str, prf_capable: bool, now: int) -> int:
    """Store a verified passkey for the account (call inside a transaction)."""
    credential_id = bytes_to_base64url(verified.credential_id)
    if db.execute("SELECT 1 FROM passkeys WHERE credential_id = ?", [credential_id]).fetchone():
        raise InvalidInput("this passkey is registered already")
    count = db.execute("SELECT COUNT(*) FROM passkeys WHERE account_id = ?", [account_id]).fetchone()[0]
    if count >= MAX_PASSKEYS:
        raise InvalidInput(f"an account has at most {MAX_PASSKEYS} passkeys; remove one first")
    cursor = db.execute(
        "INSERT INTO passkeys (account_id, credential_id, public_key, sign_count, name, prf_capable, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [account_id, credential_id, verified.credential_public_key, verified.sign_count, name[:60] or "Passkey",
         int(prf_capable), now])
    return inserted_id(cursor)


def account_passkeys(db: Database, account_id: int) -> list[dict[str, Any]]:
    rows = db.execute(
        "SELECT id, credential_id, name, prf_capable, prf_wrapped IS NOT NULL, created_at, last_used_at "
        "FROM passkeys WHERE account_id = ? ORDER BY id", [account_id]).fetchall()
    keys = ("id", "credential_id", "name", "prf_capable", "seals", "created_at", "last_used_at")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def verify_authentication(rp: RelyingParty, db: Database, ceremony: Ceremony, credential_text: str, *,
                          now: int) -> dict[str, Any]:
    """The passkey row (with ``account_id``) that signed the ``get()`` answer; its counter is moved on."""
    credential = _credential_json(credential_text)
    row = db.execute(
        "SELECT passkeys.id, passkeys.account_id, public_key, sign_count, prf_wrapped, accounts.user_handle "
        "FROM passkeys JOIN accounts ON accounts.id = passkeys.account_id WHERE credential_id = ?",
        [credential["id"][:512]]).fetchone()
    if row is None:
        raise InvalidInput("this passkey is not registered with this wallet (was it removed?)")
    passkey_id, account_id, public_key, sign_count, prf_wrapped, user_handle = row
    if ceremony.account_id is not None and ceremony.account_id != account_id:
        raise InvalidInput("this passkey belongs to another account")
    sent_handle = (credential.get("response") or {}).get("userHandle")
    if sent_handle and sent_handle != user_handle:
        raise InvalidInput("the passkey's user handle is not its account's")
    try:
        verified = verify_authentication_response(
            credential=credential, expected_challenge=ceremony.challenge, expected_rp_id=rp.rp_id,
            expected_origin=rp.origin, credential_public_key=public_key, credential_current_sign_count=sign_count,
            require_user_verification=True)
    except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
        raise InvalidInput(f"the passkey's answer did not verify: {str(exc)[:160]}") from exc
    with db.atomic():
        moved = db.execute("UPDATE passkeys SET sign_count = ?, last_used_at = ? WHERE id = ? AND sign_count = ?",
                           [verified.new_sign_count, now, passkey_id, sign_count]).rowcount
    if moved != 1:
        raise InvalidInput("the passkey was used twice at once; sign in again")
    return {"id": passkey_id, "account_id": account_id, "prf_wrapped": prf_wrapped}


def _reseal(db: Database, account_id: int, old_secret: bytes, new_secret: bytes) -> None:
    for record in holder_keys(db, account_id):
        private_jwk = open_holder_key(old_secret, account_id, record.thumbprint, record.sealed)
        db.execute("UPDATE holder_keys SET sealed = ? WHERE id = ?",
                   [seal_holder_key(new_secret, account_id, record.thumbprint, private_jwk), record.id])


def open_vault(db: Database, secret: bytes, account_id: int, passkey: dict[str, Any], prf_output: bytes | None,
               session_vault: bytes | None) -> bytes | None:
    """The account's vault key after a ceremony with ``passkey`` (None: the holder keys stay server-sealed or locked).

    - no PRF output: the session's vault key, if any;
    - the passkey wraps the vault key: unwrapped with the PRF output;
    - the account has no vault yet: one is made, every holder key is sealed again under it, and this passkey
      wraps it (from now on the server alone cannot open the keys);
    - the account has a vault and this session holds it: this passkey wraps it too.
    """
    if prf_output is None:
        return session_vault
    sealed = db.execute("SELECT vault_sealed FROM accounts WHERE id = ?", [account_id]).fetchone()[0]
    credential_id = str(passkey["id"])
    if passkey.get("prf_wrapped") is not None:
        return unwrap_vault_key(prf_output, account_id, credential_id, passkey["prf_wrapped"])
    with db.atomic():
        if not sealed:
            vault = secrets.token_bytes(VAULT_KEY_BYTES)
            _reseal(db, account_id, secret, vault_sealing_secret(secret, vault))
            db.execute("UPDATE accounts SET vault_sealed = 1 WHERE id = ?", [account_id])
        elif session_vault is not None:
            vault = session_vault
        else:
            return None
        db.execute("UPDATE passkeys SET prf_wrapped = ?, prf_capable = 1 WHERE id = ?",
                   [wrap_vault_key(prf_output, account_id, credential_id, vault), passkey["id"]])
    return vault


def unseal_vault(db: Database, secret: bytes, account_id: int, vault: bytes) -> None:
    """Seal the holder keys under the server secret again (the last sealing passkey is being removed)."""
    with db.atomic():
        _reseal(db, account_id, vault_sealing_secret(secret, vault), secret)
        db.execute("UPDATE accounts SET vault_sealed = 0 WHERE id = ?", [account_id])
        db.execute("UPDATE passkeys SET prf_wrapped = NULL WHERE account_id = ?", [account_id])
