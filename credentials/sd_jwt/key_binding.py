"""Key Binding JWTs (IETF RFC 9901 §4.3, verified as §7.3 says).

A KB-JWT proves that whoever presents an SD-JWT holds the private key of its
``cnf.jwk``. Header ``typ: kb+jwt``; payload ``iat``, ``aud``, ``nonce`` and
``sd_hash``, the digest of the exact presented ``<JWT>~<D1>~…~<Dn>~``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from credentials.errors import HolderBindingError, InvalidInput, InvalidKey, VerificationError
from credentials.jose import PrivateKey, PublicKey, UnverifiedJws, b64url_encode, sign_jws
from credentials.numeric_date import numeric_date
from credentials.sd_jwt.common import CNF_KEY, KB_JWT_TYP, UnverifiedSdJwt, digest_of

__all__ = [
    "DEFAULT_KB_MAX_AGE",
    "DEFAULT_LEEWAY",
    "KeyBindingPolicy",
    "VerifiedKeyBinding",
    "create_kb_jwt",
    "add_key_binding",
    "holder_key_of",
    "parsed_kb_jwt",
    "verify_kb_jwt",
]

#: How old a KB-JWT may be, in seconds, by default.
DEFAULT_KB_MAX_AGE = 300
#: Clock skew tolerated by default, in seconds.
DEFAULT_LEEWAY = 60


@dataclass(frozen=True, init=False)
class KeyBindingPolicy:
    """What a verifier expects of the holder binding.

    ``audience`` / ``nonce``: the exact values expected, or None to accept any
    (a KB-JWT must still carry them). ``required``: refuse an SD-JWT that has
    no KB-JWT.
    """

    required: bool = True
    audience: str | None = None
    nonce: str | None = None
    max_age: int = DEFAULT_KB_MAX_AGE
    leeway: int = DEFAULT_LEEWAY

    def __init__(self, required: bool = True, audience: str | None = None, nonce: str | None = None,
                 max_age: int = DEFAULT_KB_MAX_AGE, leeway: int = DEFAULT_LEEWAY) -> None:
        # The fields set at once: the generated ``__init__`` of a frozen dataclass sets each through
        # ``object.__setattr__`` (three times slower), and a verifier builds one per presentation.
        self.__dict__.update(required=required, audience=audience, nonce=nonce, max_age=max_age, leeway=leeway)


@dataclass(frozen=True)
class VerifiedKeyBinding:
    """The checked KB-JWT: its header and payload, and the holder key it used."""

    header: dict[str, Any]
    payload: dict[str, Any]
    holder_key: PublicKey
    kb_jwt: str

    @property
    def nonce(self) -> str:
        nonce: str = self.payload["nonce"]  # checked: a string
        return nonce

    @property
    def audience(self) -> str:
        audience = self.payload["aud"]  # checked: a string, or a list holding one
        return str(audience[0] if isinstance(audience, list) else audience)

    @property
    def issued_at(self) -> int:
        return int(self.payload["iat"])  # checked: whole seconds from 1970 to 9999


def create_kb_jwt(
    presentation_without_kb: str,
    holder_key: PrivateKey,
    *,
    audience: str,
    nonce: str,
    iat: int,
    sd_alg: str = "sha-256",
    extra_claims: Mapping[str, Any] | None = None,
) -> str:
    """Sign a KB-JWT over ``presentation_without_kb`` (which must end with '~').

    ``extra_claims`` are added to the payload (``issuance_proof``); they never replace the four above.
    """
    if not presentation_without_kb.endswith("~"):
        raise InvalidInput("the presentation to bind must end with '~'")
    payload = {
        **(extra_claims or {}),
        "iat": iat,
        "aud": audience,
        "nonce": nonce,
        "sd_hash": digest_of(presentation_without_kb, sd_alg),
    }
    return sign_jws(payload, holder_key, header={"typ": KB_JWT_TYP})


def add_key_binding(
    presentation_without_kb: str,
    holder_key: PrivateKey,
    *,
    audience: str,
    nonce: str,
    iat: int,
    sd_alg: str = "sha-256",
    extra_claims: Mapping[str, Any] | None = None,
) -> str:
    """``presentation_without_kb`` with a fresh KB-JWT appended (SD-JWT+KB)."""
    return presentation_without_kb + create_kb_jwt(
        presentation_without_kb, holder_key, audience=audience, nonce=nonce, iat=iat, sd_alg=sd_alg,
        extra_claims=extra_claims,
    )


def holder_key_of(payload: Mapping[str, Any]) -> PublicKey:
    """The holder's key from ``cnf.jwk`` of a verified issuer payload."""
    cnf = payload.get(CNF_KEY)
    if type(cnf) is dict and type(cnf.get("jwk")) is dict:  # parsed JSON: the ABC checks below are slower
        try:
            return PublicKey.from_jwk(cnf["jwk"])
        except InvalidKey as exc:
            raise HolderBindingError(f"the credential's holder key (cnf.jwk) is unusable: {exc}") from exc
    if not isinstance(cnf, Mapping) or not isinstance(cnf.get("jwk"), Mapping):
        raise HolderBindingError("the credential names no holder key (no cnf.jwk), so it cannot be bound to its holder")
    try:
        return PublicKey.from_jwk(cnf["jwk"])
    except InvalidKey as exc:
        raise HolderBindingError(f"the credential's holder key (cnf.jwk) is unusable: {exc}") from exc


def _require(payload: Mapping[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    value = payload.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise HolderBindingError(f"the Key Binding JWT lacks a valid {name!r} claim")
    return value


def parsed_kb_jwt(parts: UnverifiedSdJwt) -> UnverifiedJws | None:
    """The presentation's KB-JWT decoded, to be decoded once per presentation (None when absent or malformed:
    :func:`verify_kb_jwt` parses it again and says why). Nothing is checked here."""
    if parts.kb_jwt is None:
        return None
    try:
        return UnverifiedJws.parse(parts.kb_jwt, what="Key Binding JWT")
    except VerificationError:
        return None


def _is_of(parsed: UnverifiedJws, token: str) -> bool:
    """Whether ``parsed`` was decoded from exactly ``token`` (what the signature is then checked over)."""
    if parsed.token:  # what UnverifiedJws.parse decoded it from
        return parsed.token == token
    return token == f"{parsed.signing_input.decode('ascii')}.{b64url_encode(parsed.signature)}"


def verify_kb_jwt(
    parts: UnverifiedSdJwt,
    issuer_payload: Mapping[str, Any],
    policy: KeyBindingPolicy,
    *,
    now: int,
    sd_alg: str = "sha-256",
    parsed: UnverifiedJws | None = None,
) -> VerifiedKeyBinding:
    """Check a presentation's KB-JWT against the holder key and ``policy`` (RFC 9901 §7.3).

    ``parsed``: ``parts.kb_jwt`` already parsed by the caller (so it is decoded once per presentation);
    its signature and every claim are checked here all the same."""
    if parts.kb_jwt is None:
        raise HolderBindingError("the presentation has no Key Binding JWT, so nothing proves it comes from its holder")
    holder_key = holder_key_of(issuer_payload)
    try:
        jws = parsed if parsed is not None and _is_of(parsed, parts.kb_jwt) else UnverifiedJws.parse(
            parts.kb_jwt, what="Key Binding JWT")
        jws.check_typ((KB_JWT_TYP,), what="Key Binding JWT")
        jws.verify_with(holder_key, what="Key Binding JWT")
    except VerificationError as exc:
        raise HolderBindingError(exc.reason) from exc
    payload = jws.payload
    if "iat" not in payload:
        raise HolderBindingError("the Key Binding JWT lacks a valid 'iat' claim")
    iat = numeric_date(payload["iat"], "the Key Binding JWT's 'iat'", HolderBindingError)
    if iat > now + policy.leeway:
        raise HolderBindingError(f"the Key Binding JWT was issued in the future (iat {iat}, now {now})")
    if iat < now - policy.max_age - policy.leeway:
        raise HolderBindingError(
            f"the Key Binding JWT is too old: issued at {iat}, {now - iat} s ago, limit {policy.max_age} s"
        )
    audience = payload.get("aud")
    if isinstance(audience, list) and len(audience) == 1:
        audience = audience[0]
    if not isinstance(audience, str):
        raise HolderBindingError("the Key Binding JWT lacks a valid 'aud' claim")
    if policy.audience is not None and audience != policy.audience:
        raise HolderBindingError(f"the presentation was made for {audience!r}, not for {policy.audience!r}")
    nonce = _require(payload, "nonce", str)
    if policy.nonce is not None and nonce != policy.nonce:
        raise HolderBindingError("the presentation's nonce is not the one this verifier asked for")
    sd_hash = _require(payload, "sd_hash", str)
    if sd_hash != digest_of(parts.without_kb, sd_alg):
        raise HolderBindingError(
            "the Key Binding JWT's sd_hash does not match the presented SD-JWT and disclosures"
        )
    # Its fields set directly (the frozen dataclass's ``__init__`` sets each through ``object.__setattr__``).
    verified = object.__new__(VerifiedKeyBinding)
    fields = verified.__dict__
    fields["header"], fields["payload"], fields["holder_key"], fields["kb_jwt"] = (
        jws.header, payload, holder_key, parts.kb_jwt)
    return verified
