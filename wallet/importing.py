"""Import a credential into an account: parse, verify, check it is this holder's, store once.

Two formats, told apart by their shape:

- SD-JWT VC (draft-ietf-oauth-sd-jwt-vc-12 over RFC 9901): ``<JWT>~<D>~…~``,
  verified with :func:`credentials.sd_jwt_vc.verify_sd_jwt_vc` (no KB-JWT: a
  stored credential is the issued form), bound through ``cnf.jwk``;
- JWT VC (VCDM 2.0 ``vc+jwt`` or VCDM 1.1 ``jwt_vc_json``), verified with
  :func:`credentials.jwt_vc.verify_jwt_vc`, bound through
  ``credentialSubject.id`` = the holder's ``did:key`` / ``did:jwk``.

Everything is refused with a :class:`VerificationError` naming its check (or
:class:`DuplicateCredential`) before anything is written.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from credentials.errors import DuplicateCredential, FormatError, HolderBindingError, InvalidInput, VerificationError
from credentials.jose import MAX_TOKEN_LENGTH, PublicKey
from credentials.jwt_vc import verify_jwt_vc
from credentials.microcredential import MICRO_CREDENTIAL_VCT, validate_disclosed
from credentials.sd_jwt import HolderSdJwt
from credentials.sd_jwt_vc import resolve_did_issuer_key, verify_sd_jwt_vc
from wallet.checking import Badge, TrustCheck, badge_for
from wallet.db import inserted_id
from wallet.holding import HolderKeyRecord

__all__ = [
    "FORMAT_SD_JWT_VC",
    "FORMAT_JWT_VC",
    "DuplicateCredential",
    "CheckedCredential",
    "check_credential",
    "store_credential",
    "import_credential",
]

FORMAT_SD_JWT_VC = "dc+sd-jwt"
FORMAT_JWT_VC = "jwt_vc"
_MAX_TITLE = 200


@dataclass(frozen=True)
class CheckedCredential:
    """A credential that passed import: what to store and show."""

    format: str
    raw: str
    raw_sha256: str
    issuer: str
    vct: str
    title: str
    issuer_name: str
    ects: float | None
    eqf_level: int | None
    issued_on: str | None
    holder_key_id: int
    claims: dict[str, Any]


def _short_did(did: str) -> str:
    return did if len(did) <= 40 else f"{did[:28]}…{did[-8:]}"


def _matching_key(thumbprint: str | None, dids: set[str], keys: list[HolderKeyRecord]) -> HolderKeyRecord:
    for key in keys:
        if thumbprint is not None and key.thumbprint == thumbprint:
            return key
        if dids & set(key.dids):
            return key
    raise HolderBindingError("this credential is bound to another holder's key, not to this wallet's; ask its issuer to issue it to you")


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _sd_jwt_vc(raw: str, keys: list[HolderKeyRecord], now: int) -> CheckedCredential:
    HolderSdJwt.parse(raw)  # structure: every disclosure at exactly one place, no KB-JWT
    verified = verify_sd_jwt_vc(raw, resolve_issuer_key=resolve_did_issuer_key, now=now, key_binding=None)
    if verified.holder_jwk is None:
        raise HolderBindingError("this credential names no holder key (cnf.jwk), so it cannot be presented as yours")
    try:
        thumbprint = PublicKey.from_jwk(verified.holder_jwk).thumbprint()
    except InvalidInput as exc:
        raise HolderBindingError(f"the credential's holder key is unusable: {exc}") from exc
    key = _matching_key(thumbprint, set(), keys)
    claims = verified.disclosed
    if verified.vct == MICRO_CREDENTIAL_VCT:
        validate_disclosed({**claims, "iss": verified.issuer, "iat": verified.issued_at, "vct": verified.vct})
    bodies = claims.get("awarding_body")
    first_body = bodies[0] if isinstance(bodies, list) and bodies and isinstance(bodies[0], dict) else {}
    eqf = claims.get("eqf_level")
    return CheckedCredential(
        format=FORMAT_SD_JWT_VC,
        raw=raw,
        raw_sha256=hashlib.sha256(raw.encode("utf-8")).hexdigest(),
        issuer=verified.issuer,
        vct=verified.vct,
        title=str(claims.get("title") or verified.vct)[:_MAX_TITLE],
        issuer_name=str(first_body.get("name") or _short_did(verified.issuer))[:_MAX_TITLE],
        ects=_number(claims.get("ects")),
        eqf_level=eqf if isinstance(eqf, int) and not isinstance(eqf, bool) else None,
        issued_on=str(claims["issued_on"]) if isinstance(claims.get("issued_on"), str) else None,
        holder_key_id=key.id,
        claims=claims,
    )


def _jwt_vc(raw: str, keys: list[HolderKeyRecord], now: int) -> CheckedCredential:
    verified = verify_jwt_vc(raw, resolve_issuer_key=resolve_did_issuer_key, now=now)
    if not verified.subject_id:
        raise HolderBindingError("this credential names no subject (credentialSubject.id), so it cannot be presented as yours")
    key = _matching_key(None, {verified.subject_id.split("#", 1)[0]}, keys)
    credential = verified.credential
    subject = credential.get("credentialSubject")
    subject = subject if isinstance(subject, dict) else {}
    name = credential.get("name") or subject.get("name")
    types = credential.get("type")
    type_name = types[-1] if isinstance(types, list) and types else "Verifiable credential"
    issuer = credential.get("issuer")
    issuer_name = issuer.get("name") if isinstance(issuer, dict) else None
    claims = {k: v for k, v in subject.items() if k != "id"}
    return CheckedCredential(
        format=FORMAT_JWT_VC,
        raw=raw,
        raw_sha256=hashlib.sha256(raw.encode("utf-8")).hexdigest(),
        issuer=verified.issuer_id,
        vct=str(type_name),
        title=str(name or type_name)[:_MAX_TITLE],
        issuer_name=str(issuer_name or _short_did(verified.issuer_id))[:_MAX_TITLE],
        ects=_number(claims.get("ects")),
        eqf_level=None,
        issued_on=None,
        holder_key_id=key.id,
        claims=claims,
    )


def check_credential(text: object, keys: list[HolderKeyRecord], *, now: int) -> CheckedCredential:
    """Parse and verify ``text`` for an account holding ``keys``; raise on anything wrong."""
    if not isinstance(text, str):
        raise FormatError("expected the credential as text")
    raw = "".join(text.split())  # pasted text may be wrapped; no whitespace belongs in either format
    if not raw:
        raise FormatError("nothing was pasted or uploaded")
    if len(raw) > MAX_TOKEN_LENGTH:
        raise FormatError(f"the credential is {len(raw)} characters, more than the {MAX_TOKEN_LENGTH} accepted")
    try:
        if "~" in raw:
            return _sd_jwt_vc(raw, keys, now)
        return _jwt_vc(raw, keys, now)
    except VerificationError:
        raise
    except InvalidInput as exc:
        raise FormatError(f"the credential is malformed: {exc}") from exc


def store_credential(db: Database, account_id: int, checked: CheckedCredential, badge: Badge, *, now: int) -> int:
    """Insert inside the caller's transaction; :class:`DuplicateCredential` if already held."""
    existing = db.execute(
        "SELECT id FROM credentials WHERE account_id = ? AND raw_sha256 = ?", [account_id, checked.raw_sha256]
    ).fetchone()
    if existing:
        raise DuplicateCredential(existing[0])
    cursor = db.execute(
        "INSERT INTO credentials (account_id, holder_key_id, format, raw, raw_sha256, issuer, vct, title, issuer_name, "
        "registry_name, ects, eqf_level, issued_on, badge, badge_detail, checked_at, imported_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [account_id, checked.holder_key_id, checked.format, checked.raw, checked.raw_sha256, checked.issuer,
         checked.vct, checked.title, checked.issuer_name, badge.issuer_name, checked.ects, checked.eqf_level,
         checked.issued_on, badge.state, badge.detail_json(), now, now],
    )
    return inserted_id(cursor)


def import_credential(
    db: Database,
    account_id: int,
    keys: list[HolderKeyRecord],
    text: object,
    *,
    now: int,
    trust_check: TrustCheck | None,
) -> tuple[int, Badge]:
    """Check, badge and store in one go (the caller holds the transaction)."""
    checked = check_credential(text, keys, now=now)
    badge = badge_for(checked.raw, checked.format, now=now, trust_check=trust_check)
    return store_credential(db, account_id, checked, badge, now=now), badge

