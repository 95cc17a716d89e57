"""Holder-signed Verifiable Presentations around whole credentials: ``jwt_vp_json`` and ``ldp_vp``.

A credential that cannot disclose selectively (a Europass EDC sealed with
JAdES, an Open Badge 3.0 / CLR 2.0 with a Data Integrity proof, a JWT VC) is
presented whole, inside a presentation the holder signs with its wallet key,
bound to the verifier's ``nonce`` and audience. Implements the holder side of
OpenID for Verifiable Presentations 1.0, Appendix B.1 (W3C Verifiable
Credentials):

* :data:`JWT_VP_JSON` — B.1.3.1: a VP secured as a JWT (W3C VC Data Model 1.1
  §6.3.1 "JWT encoding"). Header ``{"alg": "ES256" | "EdDSA", "typ": "JWT",
  "kid": <the holder's did:key verification method>}``; payload ``iss`` (the
  holder's did:key), ``aud`` (the verifier), ``nonce``, ``iat``, ``exp`` and
  ``vp``: ``{"@context": [VCDM 1.1], "type": ["VerifiablePresentation"],
  "holder": <did>, "verifiableCredential": [<the credential's JWT>]}``.
  Used for JWT-secured credentials (``jwt_vc_json`` / ``vc+jwt``, Open
  Badges secured as JWT), which go in as their compact JWT string.
* :data:`LDP_VP` — B.1.3.2: a VP secured with a Data Integrity proof (VC Data
  Integrity 1.0 §2.1) whose ``proofPurpose`` is ``authentication``,
  ``challenge`` the nonce and ``domain`` the audience, cryptosuite
  ``ecdsa-jcs-2019`` (``eddsa-jcs-2022`` for an Ed25519 key) by the holder's
  did:key; the VP is a VCDM 2.0 ``VerifiablePresentation`` with ``holder``
  and ``verifiableCredential: [<the credential as a JSON object>]``. Used for
  JSON credentials: a JSON-LD credential with its own Data Integrity proof
  (an Open Badge ``ldp_vc``), and a sealed Europass EDC, which goes in as its
  JAdES JWS JSON serialization object (``payload``, ``signatures``)
  unchanged. The JCS suites sign the JSON as it is (RFC 8785): the seal,
  which is not JSON-LD, needs no JSON-LD processing, and a 0.5 - 2 MB EDC is
  not inflated by a third as base64url inside a JWT would make it (nor held
  to the 256 KB cap on compact JWTs).

The verifier side is :mod:`credentials.verification_vp`.

What the holder's signature proves: that whoever presents the credential
holds this wallet's key, at this verifier, now (nonce, audience, ``iat`` /
``exp``). It does not prove the presenter is the credential's subject unless
the credential itself names that key (``credentialSubject.id`` the holder's
DID, or ``cnf``); a verifier reads the presentation's ``holder`` beside the
credential's subject.

Pure: the key, time and nonce are parameters; no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from credentials.data_integrity import ECDSA_JCS_2019, EDDSA_JCS_2022, sign_data_integrity
from credentials.dids import did_key_from_public_key, verification_method_id
from credentials.errors import InvalidInput
from credentials.jose import PrivateKey, sign_jws

__all__ = [
    "JWT_VP_JSON",
    "LDP_VP",
    "VP_MEDIA_TYPES",
    "AUTHENTICATION",
    "VERIFIABLE_PRESENTATION",
    "VCDM11_CONTEXT",
    "VCDM2_CONTEXT",
    "DEFAULT_VP_LIFETIME",
    "holder_did",
    "vp_format_for",
    "sign_jwt_vp_json",
    "sign_ldp_vp",
    "present_whole",
]

JWT_VP_JSON = "jwt_vp_json"
LDP_VP = "ldp_vp"
#: The media type a one-time link answers with, per VP format.
VP_MEDIA_TYPES: Mapping[str, str] = {JWT_VP_JSON: "application/jwt", LDP_VP: "application/vp+ld+json"}
AUTHENTICATION = "authentication"
VERIFIABLE_PRESENTATION = "VerifiablePresentation"
VCDM11_CONTEXT = "https://www.w3.org/2018/credentials/v1"
VCDM2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
#: Seconds a presentation is valid for after ``iat`` when the caller names no lifetime.
DEFAULT_VP_LIFETIME = 300
_MAX_BINDING_TEXT = 2048


def holder_did(holder_key: PrivateKey) -> str:
    """The did:key a presentation names as its holder (and signs with)."""
    return did_key_from_public_key(holder_key.public_key())


def _is_seal(credential: Mapping[str, Any]) -> bool:
    return "payload" in credential and ("signatures" in credential or "signature" in credential)


def vp_format_for(credential: str | Mapping[str, Any]) -> str:
    """:data:`JWT_VP_JSON` for a JWT (text), :data:`LDP_VP` for JSON (a credential with a proof, a JAdES seal)."""
    if isinstance(credential, str):
        return JWT_VP_JSON
    if isinstance(credential, Mapping) and ("proof" in credential or _is_seal(credential)):
        return LDP_VP
    raise InvalidInput("expected a credential as a JWT (text), a JAdES seal or a JSON credential with a proof, "
                       f"found {type(credential).__name__}")


def _check_binding(audience: Any, nonce: Any, iat: Any, lifetime: Any) -> None:
    for name, value in (("audience", audience), ("nonce", nonce)):
        if not isinstance(value, str) or not value or len(value) > _MAX_BINDING_TEXT:
            raise InvalidInput(f"a presentation's {name} must be text of 1 to {_MAX_BINDING_TEXT} characters")
    for name, value in (("iat", iat), ("lifetime", lifetime)):
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise InvalidInput(f"a presentation's {name} must be a positive number of seconds, found {value!r:.40}")


def _date_time(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sign_jwt_vp_json(
    credential: str,
    holder_key: PrivateKey,
    *,
    audience: str,
    nonce: str,
    iat: int,
    lifetime: int = DEFAULT_VP_LIFETIME,
    issuance_proof: Mapping[str, Any] | None = None,
) -> str:
    """A ``jwt_vp_json`` presentation of one JWT-secured credential, signed by ``holder_key``; the VP carries
    ``issuance_proof`` (:mod:`credentials.issuance_anchor`) as its ``issuanceProof`` member when given."""
    _check_binding(audience, nonce, iat, lifetime)
    if not isinstance(credential, str) or credential.count(".") != 2:
        raise InvalidInput("a jwt_vp_json presentation carries a credential as a compact JWT (three parts)")
    carried = credential
    did = holder_did(holder_key)
    payload: dict[str, Any] = {
        "iss": did,
        "aud": audience,
        "nonce": nonce,
        "iat": iat,
        "nbf": iat,
        "exp": iat + lifetime,
        "vp": {
            "@context": [VCDM11_CONTEXT],
            "type": [VERIFIABLE_PRESENTATION],
            "holder": did,
            "verifiableCredential": [carried],
        },
    }
    if issuance_proof is not None:
        payload["vp"]["issuanceProof"] = dict(issuance_proof)
    return sign_jws(payload, holder_key, header={"typ": "JWT", "kid": verification_method_id(did)})


def sign_ldp_vp(
    credential: Mapping[str, Any],
    holder_key: PrivateKey,
    *,
    audience: str,
    nonce: str,
    iat: int,
    lifetime: int = DEFAULT_VP_LIFETIME,
) -> dict[str, Any]:
    """An ``ldp_vp`` presentation of one JSON credential: DI ``authentication`` proof with challenge and domain."""
    _check_binding(audience, nonce, iat, lifetime)
    if not isinstance(credential, Mapping):
        raise InvalidInput("an ldp_vp presentation carries a credential as a JSON object")
    did = holder_did(holder_key)
    presentation = {
        "@context": [VCDM2_CONTEXT],
        "type": [VERIFIABLE_PRESENTATION],
        "holder": did,
        "verifiableCredential": [dict(credential)],
    }
    return sign_data_integrity(
        presentation, holder_key, verification_method_id(did), _date_time(iat),
        cryptosuite=EDDSA_JCS_2022 if holder_key.alg == "EdDSA" else ECDSA_JCS_2019,
        proof_purpose=AUTHENTICATION, expires=_date_time(iat + lifetime), challenge=nonce, domain=audience,
    )


def present_whole(
    credential: str | Mapping[str, Any],
    holder_key: PrivateKey,
    *,
    audience: str,
    nonce: str,
    iat: int,
    lifetime: int = DEFAULT_VP_LIFETIME,
    issuance_proof: Mapping[str, Any] | None = None,
) -> tuple[str, str | dict[str, Any]]:
    """``(vp format, presentation)`` for a whole credential (see :func:`vp_format_for`); a JWT credential's
    ``issuance_proof`` goes along in the VP (a Data Integrity VP carries none)."""
    vp_format_for(credential)  # refuses what neither form carries
    if isinstance(credential, str):
        return JWT_VP_JSON, sign_jwt_vp_json(credential, holder_key, audience=audience, nonce=nonce, iat=iat,
                                             lifetime=lifetime, issuance_proof=issuance_proof)
    return LDP_VP, sign_ldp_vp(credential, holder_key, audience=audience, nonce=nonce, iat=iat, lifetime=lifetime)
