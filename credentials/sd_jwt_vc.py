"""SD-JWT-based Verifiable Credentials (IETF draft-ietf-oauth-sd-jwt-vc-12).

An SD-JWT VC is an SD-JWT (RFC 9901) whose issuer-signed JWT has
``typ: dc+sd-jwt`` (``vc+sd-jwt`` before draft 06, still accepted on input),
a ``vct`` naming the credential type, ``iss``, optional ``iat``/``nbf``/``exp``,
``cnf`` for holder binding and ``status`` (Token Status List). The registered
claims ``iss``, ``nbf``, ``exp``, ``cnf``, ``vct``, ``vct#integrity`` and
``status`` are never selectively disclosable (draft §3.2.2.2); microcred keeps
``iat`` always visible too. The issuer refuses a frame that would hide any of
them or any part of them; verifiers refuse a presentation that discloses one,
or shows ``_sd`` digests inside one (:func:`verify_sd_jwt_vc`,
:mod:`credentials.verification`). A top-level disclosure that the holder
withholds is invisible to a verifier (RFC 9901 §9.7): the issuer never makes
one, and the wallet, which receives every disclosure, refuses to import one.

Issuer keys come from a resolver the caller passes: ``(iss, kid) → PublicKey``.
:func:`resolve_did_issuer_key` resolves ``did:key`` and ``did:jwk`` issuers
offline and insists that the ``kid`` belongs to ``iss``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from itertools import repeat
from typing import Any

from credentials.dids import Did, resolve_public_key
from credentials.errors import FormatError, InvalidDid, InvalidInput, SignatureError
from credentials.jose import PrivateKey, PublicKey, UnverifiedJws
from credentials.numeric_date import numeric_date
from credentials.sd_jwt.common import DEFAULT_SD_ALG, UnverifiedSdJwt
from credentials.sd_jwt.issuer import FRAME_SD_KEY, IssuedSdJwt, issue_sd_jwt, sign_sd_jwt
from credentials.sd_jwt.key_binding import DEFAULT_LEEWAY, KeyBindingPolicy, VerifiedKeyBinding
from credentials.sd_jwt.verifier import VerifiedSdJwt, verify_sd_jwt

__all__ = [
    "SD_JWT_VC_TYP",
    "LEGACY_SD_JWT_VC_TYP",
    "ACCEPTED_TYPS",
    "NEVER_DISCLOSABLE",
    "IssuerKeyResolver",
    "VerifiedSdJwtVc",
    "issue_sd_jwt_vc",
    "sign_sd_jwt_vc",
    "resolve_did_issuer_key",
    "unverified_issuer_and_type",
    "verify_sd_jwt_vc",
]

SD_JWT_VC_TYP = "dc+sd-jwt"
LEGACY_SD_JWT_VC_TYP = "vc+sd-jwt"
ACCEPTED_TYPS = (SD_JWT_VC_TYP, LEGACY_SD_JWT_VC_TYP)

#: Claims that are always in the clear (draft §3.2.2.2, plus ``iat`` by microcred's choice).
NEVER_DISCLOSABLE = frozenset({"iss", "nbf", "exp", "cnf", "vct", "vct#integrity", "status", "iat"})
_SET_BY_ISSUER = ("iss", "iat", "nbf", "exp", "vct", "cnf", "status")
_SET_BY_ISSUER_SET = frozenset(_SET_BY_ISSUER)

#: ``(iss, kid) → PublicKey``; raises InvalidDid / InvalidKey when it cannot.
IssuerKeyResolver = Callable[[str, "str | None"], PublicKey]


def resolve_did_issuer_key(iss: str, kid: str | None) -> PublicKey:
    """The key of a ``did:key`` / ``did:jwk`` issuer; ``kid``, if given, must be one of its DID URLs."""
    issuer = Did.parse(iss)
    if issuer.fragment is not None:
        raise InvalidDid(f"the issuer must be a DID, not a DID URL with a fragment: {iss!r}")
    if kid is None:
        return resolve_public_key(iss)
    key_url = Did.parse(kid if not kid.startswith("#") else iss + kid)
    if key_url.did != issuer.did:
        raise InvalidDid(f"the key id {kid!r} does not belong to the issuer {iss!r}")
    return resolve_public_key(str(key_url))


@dataclass(frozen=True)
class VerifiedSdJwtVc:
    """A verified SD-JWT VC. ``disclosed`` holds the claims other than the registered ones."""

    issuer: str
    vct: str
    kid: str | None
    claims: dict[str, Any]
    disclosed: dict[str, Any]
    status: dict[str, Any] | None
    holder_jwk: dict[str, Any] | None
    issued_at: int | None
    expires_at: int | None
    key_binding: VerifiedKeyBinding | None
    sd_jwt: VerifiedSdJwt


def _registered(
    claims: Mapping[str, Any], frame: Mapping[str, Any], *, vct: str, issuer: str, kid: str | None, iat: int,
    exp: int | None, nbf: int | None, status: Mapping[str, Any] | None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """The claims with the registered ones the issuer sets, and the header; refuses what the draft forbids."""
    if not _SET_BY_ISSUER_SET.isdisjoint(claims):
        clash = sorted(_SET_BY_ISSUER_SET.intersection(claims))
        raise InvalidInput(f"give {', '.join(clash)} as arguments, not inside the claims")
    listed = frame.get(FRAME_SD_KEY, []) if isinstance(frame, Mapping) else []
    listed = listed if isinstance(listed, list) else []
    # The usual frame (names listed are strings, none registered) is told in C set operations; else each name.
    hidden = [] if (isinstance(frame, Mapping) and NEVER_DISCLOSABLE.isdisjoint(frame)
                    and all(map(isinstance, listed, repeat(str))) and NEVER_DISCLOSABLE.isdisjoint(listed)) else \
        sorted(n for n in NEVER_DISCLOSABLE if n in listed or (isinstance(frame, Mapping) and n in frame))
    if hidden:
        raise InvalidInput(f"the registered claim(s) {', '.join(hidden)} must not be selectively disclosable, "
                           "in whole or in part (draft-ietf-oauth-sd-jwt-vc §3.2.2.2)")
    for name, value in (("iat", iat), ("nbf", nbf), ("exp", exp)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise InvalidInput(f"'{name}' must be an integer number of seconds, found {type(value).__name__}")
        if value is not None:
            numeric_date(value, f"'{name}'", InvalidInput)
    registered: dict[str, Any] = {"iss": issuer, "iat": iat, "vct": vct}
    if nbf is not None:
        registered["nbf"] = nbf
    if exp is not None:
        registered["exp"] = exp
    if status is not None:
        registered["status"] = dict(status)
    header = {"typ": SD_JWT_VC_TYP}
    if kid is not None:
        header["kid"] = kid
    return {**registered, **claims}, header


def issue_sd_jwt_vc(
    *,
    vct: str,
    claims: Mapping[str, Any],
    frame: Mapping[str, Any],
    issuer_key: PrivateKey,
    issuer: str,
    kid: str | None,
    iat: int,
    exp: int | None = None,
    nbf: int | None = None,
    holder_jwk: Mapping[str, str] | None = None,
    status: Mapping[str, Any] | None = None,
    sd_alg: str = DEFAULT_SD_ALG,
    random_bytes: Callable[[int], bytes] = secrets.token_bytes,
) -> IssuedSdJwt:
    """Sign an SD-JWT VC (``typ: dc+sd-jwt``). Registered claims come from the arguments."""
    full, header = _registered(claims, frame, vct=vct, issuer=issuer, kid=kid, iat=iat, exp=exp, nbf=nbf,
                               status=status)
    return issue_sd_jwt(full, frame, issuer_key, header=header, holder_jwk=holder_jwk, sd_alg=sd_alg,
                        random_bytes=random_bytes)


def sign_sd_jwt_vc(
    *,
    vct: str,
    claims: Mapping[str, Any],
    frame: Mapping[str, Any],
    issuer_key: PrivateKey,
    issuer: str,
    kid: str | None,
    iat: int,
    exp: int | None = None,
    nbf: int | None = None,
    holder_jwk: Mapping[str, str] | None = None,
    status: Mapping[str, Any] | None = None,
    sd_alg: str = DEFAULT_SD_ALG,
    random_bytes: Callable[[int], bytes] = secrets.token_bytes,
) -> str:
    """:func:`issue_sd_jwt_vc`'s serialization alone (:func:`credentials.sd_jwt.issuer.sign_sd_jwt`): what
    batch issuing keeps, without a disclosure object per disclosure."""
    full, header = _registered(claims, frame, vct=vct, issuer=issuer, kid=kid, iat=iat, exp=exp, nbf=nbf,
                               status=status)
    return sign_sd_jwt(full, frame, issuer_key, header=header, holder_jwk=holder_jwk, sd_alg=sd_alg,
                       random_bytes=random_bytes)


def unverified_issuer_and_type(serialization: str) -> tuple[str, str]:
    """``(iss, vct)`` read without any check, for routing and display before verification."""
    parts = UnverifiedSdJwt.parse(serialization)
    payload = UnverifiedJws.parse(parts.issuer_jwt, what="issuer-signed JWT").payload
    iss, vct = payload.get("iss"), payload.get("vct")
    if not isinstance(iss, str) or not iss:
        raise FormatError("the SD-JWT VC has no 'iss' (issuer) string")
    if not isinstance(vct, str) or not vct:
        raise FormatError("the SD-JWT VC has no 'vct' (credential type) string")
    return iss, vct


def verify_sd_jwt_vc(
    serialization: str,
    *,
    resolve_issuer_key: IssuerKeyResolver = resolve_did_issuer_key,
    now: int,
    key_binding: KeyBindingPolicy | None,
    accepted_vcts: Collection[str] | None = None,
    leeway: int = DEFAULT_LEEWAY,
) -> VerifiedSdJwtVc:
    """Verify an SD-JWT VC presentation; raise a VerificationError naming the failed check."""
    iss, vct = unverified_issuer_and_type(serialization)
    if accepted_vcts is not None and vct not in accepted_vcts:
        raise FormatError(f"credential type {vct!r} is not one this verifier accepts")

    def issuer_key(header: Mapping[str, Any], payload: Mapping[str, Any]) -> PublicKey:
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise SignatureError("the issuer-signed JWT has a 'kid' that is not a string")
        return resolve_issuer_key(iss, kid)

    verified = verify_sd_jwt(
        serialization,
        issuer_key,
        now=now,
        expected_typ=ACCEPTED_TYPS,
        key_binding=key_binding,
        leeway=leeway,
        never_disclosable=NEVER_DISCLOSABLE,
    )
    signed = verified.issuer_payload
    status = signed.get("status")
    if status is not None and not isinstance(status, dict):
        raise FormatError("the 'status' claim must be an object")
    cnf = signed.get("cnf")
    holder_jwk = cnf.get("jwk") if isinstance(cnf, dict) and isinstance(cnf.get("jwk"), dict) else None
    disclosed = {name: value for name, value in verified.claims.items() if name not in NEVER_DISCLOSABLE}
    return VerifiedSdJwtVc(
        issuer=iss,
        vct=vct,
        kid=verified.header.get("kid"),
        claims=verified.claims,
        disclosed=disclosed,
        status=status,
        holder_jwk=holder_jwk,
        issued_at=signed.get("iat"),
        expires_at=signed.get("exp"),
        key_binding=verified.key_binding,
        sd_jwt=verified,
    )
