"""W3C Verifiable Credentials secured as JWTs: import and verify (and sign, for tests).

Two forms, neither with selective disclosure:

* ``vc+jwt`` — W3C VC Data Model 2.0 secured with JOSE ("Securing Verifiable
  Credentials using JOSE and COSE", W3C Recommendation 2025, §3.1.1): the JWT
  payload *is* the credential; header ``typ: vc+jwt`` (the 2023 drafts'
  ``vc+ld+jwt`` is accepted on input), optional ``cty: vc``; no ``vc``/``vp``
  claim; JWT claims that are present must not conflict with the credential
  (``iss`` with ``issuer``, ``sub`` with ``credentialSubject.id``, ``nbf`` /
  ``exp`` with ``validFrom`` / ``validUntil``).
* ``jwt_vc_json`` — W3C VC Data Model 1.1 §6.3.1 "JWT encoding" as EBSI uses
  it: header ``typ: JWT`` or absent, the credential in the ``vc`` claim, and
  ``iss`` / ``sub`` / ``nbf`` / ``exp`` / ``jti`` standing for ``issuer`` /
  ``credentialSubject.id`` / ``issuanceDate`` (or ``validFrom``) /
  ``expirationDate`` / ``id``; both spellings present must agree.

The issuer's key comes from ``resolve_issuer_key(issuer_id, kid)``, never from
the token; a ``kid`` naming another DID than the issuer is refused. These are
imported formats, so besides ES256 and EdDSA they may be signed RS256 or PS256
with an RSA key of 2048 bits or more (:data:`credentials.jose.IMPORTED_FORMAT_ALGS`,
e.g. from an RSA ``did:jwk`` / ``did:key``); ``none`` and HMAC stay refused.

Times (``nbf`` / ``exp`` / ``iat``, ``validFrom`` / ``validUntil`` /
``issuanceDate`` / ``expirationDate``) must lie from 1970 to 9999 in whole
seconds (:mod:`credentials.numeric_date`); one that does not fails
``validity_period``, reported only after the signature is known to be good.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, overload

from credentials.errors import FormatError, InvalidInput, SignatureError, ValidityPeriodError
from credentials.jose import IMPORTED_FORMAT_ALGS, PrivateKey, PublicKey, UnverifiedJws, sign_jws
from credentials.numeric_date import in_numeric_date_range, numeric_date

__all__ = [
    "VC_JWT_FORMAT",
    "JWT_VC_JSON_FORMAT",
    "VCDM2_CONTEXT",
    "VCDM11_CONTEXT",
    "VC_JWT_TYPES",
    "VerifiedJwtVc",
    "IssuerKeyResolver",
    "verify_jwt_vc",
    "sign_vc_jwt",
    "sign_jwt_vc_json",
]

VC_JWT_FORMAT = "vc+jwt"
JWT_VC_JSON_FORMAT = "jwt_vc_json"
VCDM2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
VCDM11_CONTEXT = "https://www.w3.org/2018/credentials/v1"
#: ``typ`` values of a VCDM 2.0 credential secured as a JWT (the second: 2023 drafts).
VC_JWT_TYPES = ("vc+jwt", "vc+ld+jwt")
_VC_JWT_CTYS = ("vc", "vc+ld+json")
_JWT_TYP = "JWT"
VERIFIABLE_CREDENTIAL = "VerifiableCredential"
CONTEXT, TYPE, ID, ISSUER = "@context", "type", "id", "issuer"
CREDENTIAL_SUBJECT, CREDENTIAL_STATUS = "credentialSubject", "credentialStatus"
VALID_FROM, VALID_UNTIL = "validFrom", "validUntil"
ISSUANCE_DATE, EXPIRATION_DATE = "issuanceDate", "expirationDate"
VC_CLAIM, VP_CLAIM = "vc", "vp"

IssuerKeyResolver = Callable[[str, "str | None"], PublicKey]


@dataclass(frozen=True)
class VerifiedJwtVc:
    """A JWT-secured credential whose signature, form and validity period passed.

    ``credential`` is the credential as a JSON object (for ``jwt_vc_json`` the
    ``vc`` claim completed from the JWT claims, VCDM 1.1 §6.3.1 decoding).
    """

    format: str
    issuer_id: str
    subject_id: str | None
    credential: dict[str, Any]
    valid_from: int | None
    valid_until: int | None
    status: tuple[dict[str, Any], ...]
    alg: str
    kid: str | None


def _epoch(value: Any, name: str) -> int:
    """An XML Schema dateTimeStamp (time zone required) as epoch seconds."""
    if not isinstance(value, str):
        raise FormatError(f"{name} must be a date-time string, found {type(value).__name__}")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise FormatError(f"{name} {value[:40]!r} is not a date-time like 2024-01-31T12:00:00Z") from None
    if moment.tzinfo is None or "T" not in value.upper():
        raise FormatError(f"{name} {value[:40]!r} must be a date-time with a time zone")
    return int(moment.timestamp())


class _Times:
    """Reads the times before the signature is checked; the first bad one fails ``validity_period`` after it."""

    def __init__(self) -> None:
        self.problem: str | None = None

    def _note(self, reason: str) -> None:
        if self.problem is None:
            self.problem = reason

    def numeric(self, payload: Mapping[str, Any], name: str) -> int | None:
        if name not in payload:
            return None
        try:
            return numeric_date(payload[name], f"JWT claim {name!r}", ValidityPeriodError)
        except ValidityPeriodError as exc:
            self._note(exc.reason)
            return None

    def date_time(self, value: Any, name: str) -> int | None:
        seconds = _epoch(value, name)
        if not in_numeric_date_range(seconds):
            self._note(f"{name} {value[:40]!r} must lie from 1970 to 9999")
            return None
        return seconds


def _types(credential: Mapping[str, Any]) -> list[str]:
    value = credential.get(TYPE)
    types = [value] if isinstance(value, str) else value
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        raise FormatError("the credential's 'type' must be a string or a list of strings")
    if VERIFIABLE_CREDENTIAL not in types:
        raise FormatError(f"the credential's 'type' must contain {VERIFIABLE_CREDENTIAL!r}, found {types}")
    return types


def _check_context(credential: Mapping[str, Any], expected: str) -> None:
    context = credential.get(CONTEXT)
    first = context[0] if isinstance(context, list) and context else None
    if first != expected:
        raise FormatError(f"the credential's '@context' must start with {expected!r}, found {first!r:.80}")


@overload
def _issuer_id(credential: Mapping[str, Any], *, required: Literal[True]) -> str: ...
@overload
def _issuer_id(credential: Mapping[str, Any], *, required: bool) -> str | None: ...
def _issuer_id(credential: Mapping[str, Any], *, required: bool) -> str | None:
    issuer = credential.get(ISSUER)
    if issuer is None and not required:
        return None
    if isinstance(issuer, Mapping):
        issuer = issuer.get(ID)
    if not isinstance(issuer, str) or not issuer:
        raise FormatError("the credential's 'issuer' must be a URI or an object with an 'id'")
    return issuer


def _subject_id(credential: Mapping[str, Any]) -> str | None:
    """The id of the one credential subject; None for several or an anonymous one."""
    subject = credential.get(CREDENTIAL_SUBJECT)
    subjects: list[Any] = subject if isinstance(subject, list) else [subject]
    if not subjects or not all(isinstance(s, Mapping) for s in subjects):
        raise FormatError("the credential's 'credentialSubject' must be an object or a list of objects")
    if not all(isinstance(s.get(ID, ""), str) for s in subjects):
        raise FormatError("a 'credentialSubject' id must be a URI string")
    return subjects[0].get(ID) if len(subjects) == 1 else None


def _status_entries(credential: Mapping[str, Any]) -> tuple[dict[str, Any], ...]:
    status = credential.get(CREDENTIAL_STATUS)
    if status is None:
        return ()
    entries = status if isinstance(status, list) else [status]
    if not all(isinstance(e, Mapping) and isinstance(e.get(TYPE), str) for e in entries):
        raise FormatError("each 'credentialStatus' entry must be an object with a 'type'")
    return tuple(dict(e) for e in entries)


def _agree(claim: str, claim_value: Any, prop: str, prop_value: Any) -> None:
    if claim_value is not None and prop_value is not None and claim_value != prop_value:
        raise FormatError(
            f"JWT claim {claim!r} ({claim_value!r:.60}) conflicts with {prop!r} ({prop_value!r:.60})"
        )


def _check_kid(kid: Any, issuer_id: str) -> str | None:
    if kid is None:
        return None
    if not isinstance(kid, str) or not kid:
        raise FormatError("the JWT header 'kid' must be a non-empty string")
    if kid.startswith("did:") or issuer_id.startswith("did:"):
        kid_did = kid.split("#", 1)[0]
        if kid_did and kid_did != issuer_id:
            raise SignatureError(f"the key {kid!r:.100} does not belong to the issuer {issuer_id!r:.100}")
    return kid


def _check_validity(valid_from: int | None, valid_until: int | None, iat: int | None, now: int, leeway: int) -> None:
    if valid_from is not None and now + leeway < valid_from:
        raise ValidityPeriodError(f"the credential is valid from {valid_from}, it is now {now} (leeway {leeway}s)")
    if valid_until is not None and now - leeway >= valid_until:
        raise ValidityPeriodError(f"the credential expired at {valid_until}, it is now {now} (leeway {leeway}s)")
    if iat is not None and now + leeway < iat:
        raise ValidityPeriodError(f"the credential was issued in the future (iat {iat}, now {now})")


def _vc_jwt(jws: UnverifiedJws, times: _Times) -> tuple[str, str | None, dict[str, Any], int | None, int | None]:
    jws.check_typ(VC_JWT_TYPES, what="vc+jwt credential")
    cty = jws.header.get("cty")
    if cty is not None and cty not in _VC_JWT_CTYS:
        raise FormatError(f"the vc+jwt header has cty {cty!r:.40}; expected 'vc'")
    credential = jws.payload
    for claim in (VC_CLAIM, VP_CLAIM):
        if claim in credential:
            raise FormatError(f"a vc+jwt payload is the credential itself; the {claim!r} claim must not be present")
    _check_context(credential, VCDM2_CONTEXT)
    _types(credential)
    issuer, subject = _issuer_id(credential, required=True), _subject_id(credential)
    _agree("iss", credential.get("iss"), ISSUER, issuer)
    _agree("sub", credential.get("sub"), "credentialSubject.id", subject)
    valid_from = times.date_time(credential[VALID_FROM], VALID_FROM) if VALID_FROM in credential else None
    valid_until = times.date_time(credential[VALID_UNTIL], VALID_UNTIL) if VALID_UNTIL in credential else None
    nbf, exp = times.numeric(credential, "nbf"), times.numeric(credential, "exp")
    _agree("nbf", nbf, VALID_FROM, valid_from)
    _agree("exp", exp, VALID_UNTIL, valid_until)
    return issuer, subject, dict(credential), valid_from if valid_from is not None else nbf, (
        valid_until if valid_until is not None else exp
    )


def _jwt_vc_json(jws: UnverifiedJws, times: _Times) -> tuple[str, str | None, dict[str, Any], int | None, int | None]:
    if jws.typ is not None:
        jws.check_typ((_JWT_TYP,), what="jwt_vc_json credential")
    payload, vc = jws.payload, jws.payload.get(VC_CLAIM)
    if not isinstance(vc, Mapping):
        raise FormatError("a jwt_vc_json payload must carry the credential as an object in the 'vc' claim")
    _check_context(vc, VCDM11_CONTEXT)
    _types(vc)
    iss, sub, jti = payload.get("iss"), payload.get("sub"), payload.get("jti")
    if not isinstance(iss, str) or not iss:
        raise FormatError("a jwt_vc_json credential must name its issuer in the 'iss' claim")
    for name, value in (("sub", sub), ("jti", jti)):
        if value is not None and not isinstance(value, str):
            raise FormatError(f"JWT claim {name!r} must be a string")
    subject = _subject_id(vc)
    _agree("iss", iss, "vc.issuer", _issuer_id(vc, required=False))
    _agree("sub", sub, "vc.credentialSubject.id", subject)
    _agree("jti", jti, "vc.id", vc.get(ID))
    nbf, exp = times.numeric(payload, "nbf"), times.numeric(payload, "exp")
    start_name = VALID_FROM if VALID_FROM in vc else ISSUANCE_DATE
    start = times.date_time(vc[start_name], f"vc.{start_name}") if start_name in vc else None
    end = times.date_time(vc[EXPIRATION_DATE], f"vc.{EXPIRATION_DATE}") if EXPIRATION_DATE in vc else None
    _agree("nbf", nbf, f"vc.{start_name}", start)
    _agree("exp", exp, f"vc.{EXPIRATION_DATE}", end)
    valid_from = nbf if nbf is not None else start
    if valid_from is None and times.problem is None:
        raise FormatError("a jwt_vc_json credential needs 'nbf' or vc.issuanceDate / vc.validFrom")
    credential = dict(vc)
    credential.setdefault(ISSUER, iss)
    if jti is not None:
        credential.setdefault(ID, jti)
    if sub is not None and isinstance(credential.get(CREDENTIAL_SUBJECT), Mapping):
        credential[CREDENTIAL_SUBJECT] = {ID: sub, **credential[CREDENTIAL_SUBJECT]}
    return iss, subject if subject is not None else sub, credential, valid_from, exp if exp is not None else end


def verify_jwt_vc(
    token: str | UnverifiedJws,
    *,
    resolve_issuer_key: IssuerKeyResolver,
    now: int,
    leeway: int = 60,
) -> VerifiedJwtVc:
    """Verify a ``vc+jwt`` or ``jwt_vc_json`` credential at time ``now`` (epoch seconds).

    ``token`` is the compact JWS, or the :class:`UnverifiedJws` a caller already split and decoded from it
    (so a verifier decodes each token once); its ``alg`` is held to :data:`IMPORTED_FORMAT_ALGS` either way.
    Raises :class:`FormatError`, :class:`SignatureError` or
    :class:`ValidityPeriodError`; nothing else escapes for any token text.
    """
    if isinstance(token, UnverifiedJws):
        jws = token
        if jws.header.get("alg") not in IMPORTED_FORMAT_ALGS:
            raise SignatureError(f"the JWT VC uses algorithm {jws.header.get('alg')!r:.40}; only "
                                 f"{', '.join(sorted(IMPORTED_FORMAT_ALGS))} are accepted")
    else:
        jws = UnverifiedJws.parse(token, what="JWT VC", allowed_algs=IMPORTED_FORMAT_ALGS)
    times = _Times()
    unverified_is_vcdm2 = isinstance(jws.typ, str) and jws.typ.lower().removeprefix("application/") in VC_JWT_TYPES
    if unverified_is_vcdm2 or (VC_CLAIM not in jws.payload and CONTEXT in jws.payload):
        form, parsed = VC_JWT_FORMAT, _vc_jwt(jws, times)
        credential_for_status = jws.payload
    else:
        form, parsed = JWT_VC_JSON_FORMAT, _jwt_vc_json(jws, times)
        credential_for_status = jws.payload[VC_CLAIM]
    issuer, subject, credential, valid_from, valid_until = parsed
    status = _status_entries(credential_for_status)
    iat = times.numeric(jws.payload, "iat")
    kid = _check_kid(jws.header.get("kid"), issuer)
    try:
        key = resolve_issuer_key(issuer, kid)
    except InvalidInput as exc:
        raise SignatureError(f"cannot resolve the key of issuer {issuer!r:.100}: {exc}") from exc
    if not isinstance(key, PublicKey):
        raise SignatureError(f"no usable key was found for issuer {issuer!r:.100}")
    jws.verify_with(key, what="JWT VC")
    if times.problem is not None:
        raise ValidityPeriodError(times.problem)
    _check_validity(valid_from, valid_until, iat, now, leeway)
    return VerifiedJwtVc(
        format=form,
        issuer_id=issuer,
        subject_id=subject,
        credential=credential,
        valid_from=valid_from,
        valid_until=valid_until,
        status=status,
        alg=jws.header["alg"],
        kid=kid,
    )


def sign_vc_jwt(credential: Mapping[str, Any], key: PrivateKey, *, kid: str) -> str:
    """Secure a VCDM 2.0 credential as ``vc+jwt`` (the payload is the credential)."""
    return sign_jws(credential, key, header={"kid": kid, "typ": VC_JWT_TYPES[0], "cty": _VC_JWT_CTYS[0]})


def sign_jwt_vc_json(
    credential: Mapping[str, Any],
    key: PrivateKey,
    *,
    kid: str,
    iat: int,
    exp: int | None = None,
    jti: str | None = None,
) -> str:
    """Encode a VCDM 1.1 credential as ``jwt_vc_json`` (VCDM 1.1 §6.3.1).

    ``iss``, ``sub`` and ``nbf`` are taken from ``issuer``,
    ``credentialSubject.id`` and ``validFrom`` / ``issuanceDate``; the ``vc``
    claim keeps the credential as given.
    """
    issuer = _issuer_id(credential, required=True)
    payload: dict[str, Any] = {"iss": issuer, "iat": iat}
    subject = _subject_id(credential)
    if subject is not None:
        payload["sub"] = subject
    start = credential.get(VALID_FROM, credential.get(ISSUANCE_DATE))
    payload["nbf"] = _epoch(start, "validFrom / issuanceDate") if start is not None else iat
    if exp is not None:
        payload["exp"] = exp
    if jti is not None:
        payload["jti"] = jti
    payload[VC_CLAIM] = dict(credential)
    return sign_jws(payload, key, header={"kid": kid, "typ": _JWT_TYP})
