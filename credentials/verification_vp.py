"""Holder-signed Verifiable Presentations around one whole credential: parse, then bind to the holder.

A credential that cannot disclose selectively (a JWT VC, an Open Badge, a
sealed Europass EDC) is shown whole; what proves that the person showing it
holds it is a presentation signed with the holder's key, bound to this
verifier's ``nonce`` and ``aud`` like a Key Binding JWT. Shapes accepted
(OpenID4VP 1.0 Appendix B.1, "W3C Verifiable Credentials"):

``jwt_vp_json``  VCDM 1.1 §6.3.1 JWT encoding: header ``typ`` ``JWT`` (or
                 none), claims ``iss`` (the holder, optional), ``aud``,
                 ``nonce``, ``iat``, optional ``exp``; the presentation in
                 the ``vp`` claim (``type`` VerifiablePresentation)
``vp+jwt``       VC-JOSE-COSE §3.1.2: ``typ`` ``vp+jwt``, the payload *is*
                 the VCDM 2.0 presentation, with ``aud`` / ``nonce`` /
                 ``iat`` beside it
``ldp_vp``       a JSON-LD presentation with a Data Integrity proof
                 (``proofPurpose`` ``authentication``, ``challenge`` =
                 nonce, ``domain`` = audience, ``created`` = when)

``verifiableCredential`` holds exactly one credential: a compact JWT (JWT
VC), an ``EnvelopedVerifiableCredential`` whose ``id`` is
``data:application/vc+jwt,<JWT>``, a JSON-LD credential with its own proof,
or a Europass EDC's JAdES JSON serialization object as sealed (in an
``ldp_vp`` with a JCS proof, as the wallet makes them: no JSON-LD processing
of the seal, and not held to the compact JWT's size cap).

:func:`parse_presentation` checks the form (``format``);
:func:`verify_holder_binding` checks the signature with the key the
*credential* names for its holder — its ``credentialSubject.id`` DID (the key
from the DID, listed for ``authentication``), else its ``cnf.jwk`` — never a
key the presentation brings, then ``aud``, ``nonce`` and ``iat`` within the
window (``holder_binding``). :func:`presentation_id` is the replay id. No I/O.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import rfc8785

from credentials._json import json_loads
from credentials.data_integrity import date_time_seconds, verify_data_integrity
from credentials.dids import Did
from credentials.errors import FormatError, HolderBindingError, InvalidInput, VerificationError
from credentials.jcs import jcs_dumps
from credentials.jose import IMPORTED_FORMAT_ALGS, PublicKey, UnverifiedJws
from credentials.multikey import VerificationMethod
from credentials.verification_keys import AUTHENTICATION, KeyResolver
from credentials.verification_model import Policy

__all__ = [
    "VP_JWT_FORMAT", "JWT_VP_JSON_FORMAT", "LDP_VP_FORMAT", "VERIFIABLE_PRESENTATION", "ENVELOPED_VC_PREFIX",
    "UnverifiedPresentation", "HolderBinding", "looks_like_presentation", "parse_presentation",
    "verify_holder_binding", "presentation_id",
]

VP_JWT_FORMAT, JWT_VP_JSON_FORMAT, LDP_VP_FORMAT = "vp+jwt", "jwt_vp_json", "ldp_vp"
VERIFIABLE_PRESENTATION = "VerifiablePresentation"
ENVELOPED_VC = "EnvelopedVerifiableCredential"
ENVELOPED_VC_PREFIX = "data:application/vc+jwt,"
_VP_JWT_TYPES = ("vp+jwt", "vp+ld+jwt")
_HEADER_KEYS = ("jwk", "jku", "x5c", "x5u")


@dataclass(frozen=True)
class UnverifiedPresentation:
    """A presentation whose form passed; nothing about it is verified yet.

    ``credential`` is the one credential inside: text (a JWT VC) or a JSON
    object (a Data Integrity credential, a JAdES-sealed EDC).
    """

    format: str
    credential: str | dict[str, Any]
    holder: str | None
    jws: UnverifiedJws | None = None
    document: dict[str, Any] | None = None


@dataclass(frozen=True)
class HolderBinding:
    """What the verified presentation was bound to."""

    audience: str
    nonce: str
    issued_at: int
    replay_id: str
    expires_at: int


def _types(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def looks_like_presentation(unverified: UnverifiedJws | Mapping[str, Any]) -> bool:
    """True for a JWT whose ``typ`` or ``vp`` claim makes it a presentation, or a JSON-LD presentation."""
    if isinstance(unverified, UnverifiedJws):
        typ = unverified.typ.lower().removeprefix("application/") if isinstance(unverified.typ, str) else None
        return typ in _VP_JWT_TYPES or "vp" in unverified.payload or \
            VERIFIABLE_PRESENTATION in _types(unverified.payload.get("type"))
    return VERIFIABLE_PRESENTATION in _types(unverified.get("type"))


def _one_credential(vp: Mapping[str, Any], *, jwt: bool) -> str | dict[str, Any]:
    if VERIFIABLE_PRESENTATION not in _types(vp.get("type")):
        raise FormatError(f"a presentation's type must include {VERIFIABLE_PRESENTATION}")
    entries = vp.get("verifiableCredential")
    entries = entries if isinstance(entries, list) else [entries] if entries is not None else []
    if len(entries) != 1:
        raise FormatError(f"expected a presentation of exactly one credential, found {len(entries)}")
    entry = entries[0]
    if isinstance(entry, str) and jwt:
        return entry
    if isinstance(entry, Mapping) and ENVELOPED_VC in _types(entry.get("type")):
        target = entry.get("id")
        if not isinstance(target, str) or not target.startswith(ENVELOPED_VC_PREFIX):
            raise FormatError(f"an {ENVELOPED_VC} must carry its credential as id {ENVELOPED_VC_PREFIX}<JWT>")
        return target[len(ENVELOPED_VC_PREFIX):]
    if isinstance(entry, Mapping) and ("proof" in entry or "payload" in entry):
        return dict(entry)  # a JSON-LD credential with its proof, or a JAdES seal (a Europass EDC) as is
    raise FormatError("the presented credential must be a JWT, an enveloped JWT, a credential with its own proof "
                      "or a sealed EDC")


def _holder(vp: Mapping[str, Any]) -> str | None:
    holder = vp.get("holder")
    if isinstance(holder, Mapping):
        holder = holder.get("id")
    if holder is not None and not isinstance(holder, str):
        raise FormatError("the presentation's holder must be a URI or an object with an id")
    return holder


def parse_presentation(presentation: str | Mapping[str, Any]) -> UnverifiedPresentation:
    """The form of a presentation (JWT text or a JSON-LD object); :class:`FormatError` if it has none."""
    if isinstance(presentation, Mapping):
        if "proof" not in presentation:
            raise FormatError("a JSON presentation must carry a Data Integrity proof by its holder")
        return UnverifiedPresentation(LDP_VP_FORMAT, _one_credential(presentation, jwt=False),
                                      _holder(presentation), document=dict(presentation))
    jws = UnverifiedJws.parse(presentation, what="presentation JWT", allowed_algs=IMPORTED_FORMAT_ALGS)
    carried = [name for name in _HEADER_KEYS if name in jws.header]
    if carried:
        raise FormatError(f"the presentation carries a key in its own header ({', '.join(carried)}); the holder's "
                          "key comes from the credential")
    payload = jws.payload
    typ = jws.typ.lower().removeprefix("application/") if isinstance(jws.typ, str) else None
    if typ in _VP_JWT_TYPES:
        if "vp" in payload:
            raise FormatError("a vp+jwt payload is the presentation itself; a 'vp' claim must not be present")
        vp: Mapping[str, Any] = payload
        form = VP_JWT_FORMAT
    else:
        if jws.typ is not None:
            jws.check_typ(("JWT",), what="jwt_vp_json presentation")
        claim, form = payload.get("vp"), JWT_VP_JSON_FORMAT
        if not isinstance(claim, Mapping):
            raise FormatError("a jwt_vp_json presentation carries the presentation as an object in its 'vp' claim")
        vp = claim
    holder = _holder(vp)
    iss = payload.get("iss")
    if iss is not None and (not isinstance(iss, str) or (holder is not None and iss != holder)):
        raise FormatError("the presentation's 'iss' must be its holder")
    return UnverifiedPresentation(form, _one_credential(vp, jwt=True), holder or iss, jws=jws)


def _bound_key(keys: KeyResolver, holder_did: str | None, holder_jwk: Mapping[str, Any] | None,
               kid: Any) -> PublicKey:
    if holder_did is not None:
        if kid is not None and not isinstance(kid, str):
            raise HolderBindingError("the presentation's 'kid' is not a string")
        try:
            return keys.holder_key(holder_did, kid)
        except InvalidInput as exc:
            raise HolderBindingError(f"the key of the credential's holder {holder_did[:80]} cannot be used: {exc}") \
                from None
    if holder_jwk is not None:
        try:
            return PublicKey.from_jwk(holder_jwk)
        except InvalidInput as exc:
            raise HolderBindingError(f"the credential's holder key (cnf) cannot be used: {exc}") from None
    raise HolderBindingError("the credential names no holder (no credentialSubject.id DID, no cnf key), so no "
                             "presentation can show who holds it")


def _time_window(issued_at: int, expires: int | None, policy: Policy, now: int) -> None:
    if issued_at > now + policy.clock_skew:
        raise HolderBindingError(f"the presentation was made in the future ({issued_at}; it is now {now})")
    if now - issued_at > policy.kb_max_age + policy.clock_skew:
        raise HolderBindingError(f"the presentation was made {now - issued_at} s ago, more than the "
                                 f"{policy.kb_max_age} s this verifier accepts")
    if expires is not None and now - policy.clock_skew >= expires:
        raise HolderBindingError(f"the presentation expired at {expires}")


def _bound_to(audience: Any, nonce: Any, policy: Policy) -> tuple[str, str]:
    if isinstance(audience, list) and len(audience) == 1:
        audience = audience[0]
    if not isinstance(audience, str) or not audience:
        raise HolderBindingError("the presentation names no audience ('aud' / 'domain')")
    if policy.expected_audience is not None and audience != policy.expected_audience:
        raise HolderBindingError(f"the presentation was made for {audience[:80]!r}, not for "
                                 f"{policy.expected_audience!r}")
    if not isinstance(nonce, str) or not nonce:
        raise HolderBindingError("the presentation carries no nonce ('nonce' / 'challenge')")
    if policy.expected_nonce is not None and nonce != policy.expected_nonce:
        raise HolderBindingError("the presentation's nonce is not the one this verifier asked for")
    return audience, nonce


def _int_claim(payload: Mapping[str, Any], name: str) -> int:
    value = payload.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 253402300800:
        raise HolderBindingError(f"the presentation's '{name}' must be a time in whole seconds")
    return value


def presentation_id(presentation: UnverifiedPresentation) -> str:
    """The replay id: SHA-256 of the JWS signing input, or of the JCS form of the JSON-LD one without its
    ``proofValue`` (never of a signature: ECDSA signatures are malleable)."""
    if presentation.jws is not None:
        return hashlib.sha256(presentation.jws.signing_input).hexdigest()
    document = dict(presentation.document or {})
    proofs = [{k: v for k, v in p.items() if k != "proofValue"} for p in _types(document.get("proof"))
              if isinstance(p, Mapping)]
    try:
        canonical = jcs_dumps({**document, "proof": proofs})
    except (rfc8785.CanonicalizationError, TypeError, ValueError):
        raise HolderBindingError("the presentation cannot be put in canonical form") from None
    return hashlib.sha256(canonical).hexdigest()


def verify_holder_binding(presentation: UnverifiedPresentation, *, holder_did: str | None,
                          holder_jwk: Mapping[str, Any] | None, keys: KeyResolver, policy: Policy,
                          now: int) -> HolderBinding:
    """Check the presentation's signature by the credential's holder, its audience, nonce and age.

    ``holder_did``: the credential's ``credentialSubject.id`` when it is a DID;
    ``holder_jwk``: its ``cnf.jwk``. Raises :class:`HolderBindingError`.
    """
    if presentation.holder is not None and holder_did is not None and presentation.holder != holder_did:
        raise HolderBindingError(f"the presentation's holder {presentation.holder[:80]} is not the credential's "
                                 f"subject {holder_did[:80]}")
    if presentation.jws is not None:
        jws = presentation.jws
        kid = jws.header.get("kid")
        if holder_did is not None and isinstance(kid, str) and not kid.startswith("#") and \
                kid.split("#", 1)[0] != holder_did:
            raise HolderBindingError(f"the presentation is signed with {kid[:80]!r}, not by the credential's "
                                     f"subject {holder_did[:80]}")
        key = _bound_key(keys, holder_did, holder_jwk, kid)
        try:
            jws.verify_with(key, what="presentation")
        except VerificationError as exc:
            raise HolderBindingError(f"the presentation is not signed by the credential's holder: {exc.reason}") \
                from None
        audience, nonce = _bound_to(jws.payload.get("aud"), jws.payload.get("nonce"), policy)
        issued_at = _int_claim(jws.payload, "iat")
        expires = _int_claim(jws.payload, "exp") if "exp" in jws.payload else None
    else:
        audience, nonce, issued_at, expires = _verify_di(presentation, holder_did, holder_jwk, keys, policy)
    _time_window(issued_at, expires, policy, now)
    window_end = issued_at + policy.kb_max_age + policy.clock_skew
    return HolderBinding(audience, nonce, issued_at, presentation_id(presentation),
                         min(window_end, expires) if expires is not None else window_end)


def _same_key(method: VerificationMethod, holder_jwk: Mapping[str, Any]) -> bool:
    try:
        proof_key = PublicKey.from_cryptography(method.public_key)
        return proof_key.thumbprint() == PublicKey.from_jwk(holder_jwk).thumbprint()
    except InvalidInput:
        return False  # a P-384 proof key, or a cnf key no Data Integrity suite signs with: not the same key


def _verify_di(presentation: UnverifiedPresentation, holder_did: str | None, holder_jwk: Mapping[str, Any] | None,
               keys: KeyResolver, policy: Policy) -> tuple[str, str, int, int | None]:
    """The holder's ``authentication`` proof: by the subject DID's key, else by the key ``cnf.jwk`` names
    (the proof's verification method is resolved as for a DID holder, then its key compared with ``cnf``)."""
    document = presentation.document or {}
    if holder_did is None and holder_jwk is None:
        raise HolderBindingError("the credential names no holder (no credentialSubject.id DID, no cnf key), so a "
                                 "Data Integrity presentation cannot show who holds it")
    used: list[VerificationMethod] = []

    def resolve(method_id: str) -> VerificationMethod:
        method = keys.holder_method(method_id)
        used.append(method)
        return method

    try:
        proofs = verify_data_integrity(document, resolve_verification_method=resolve,
                                       expected_proof_purpose=AUTHENTICATION)
    except VerificationError as exc:
        raise HolderBindingError(f"the presentation's proof does not verify: {exc.reason}") from None
    if len(proofs) != 1 or len(used) != 1:
        raise HolderBindingError("expected one proof by the holder on the presentation")
    if holder_did is not None:
        if proofs[0].controller != holder_did or Did(proofs[0].verification_method).did != holder_did:
            raise HolderBindingError(f"the presentation is signed by {proofs[0].controller[:80]}, not by the "
                                     f"credential's subject {holder_did[:80]}")
    elif holder_jwk is None or not _same_key(used[0], holder_jwk):
        raise HolderBindingError(f"the presentation is signed by {proofs[0].verification_method[:80]}, not the key "
                                 "the credential names for its holder (cnf.jwk)")
    elif presentation.holder is not None and presentation.holder != proofs[0].controller:
        raise HolderBindingError(f"the presentation names {presentation.holder[:80]} as its holder but is signed "
                                 f"by {proofs[0].controller[:80]}")
    proof = document["proof"][0] if isinstance(document.get("proof"), list) else document["proof"]
    audience, nonce = _bound_to(proof.get("domain"), proof.get("challenge"), policy)
    if "created" not in proof:
        raise HolderBindingError("the presentation's proof has no 'created' time")
    issued_at = date_time_seconds(proof["created"], "the presentation proof's 'created'", HolderBindingError)
    expires = proofs[0].expires
    return audience, nonce, issued_at, expires


def parse_json_presentation(text: str) -> dict[str, Any]:
    """A JSON-LD presentation from text (strict JSON)."""
    try:
        value = json_loads(text, what="the presentation")
    except InvalidInput as exc:
        raise FormatError(str(exc)) from None
    if not isinstance(value, dict):
        raise FormatError("a presentation must be a JSON object")
    return value
