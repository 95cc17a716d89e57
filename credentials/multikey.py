"""Verification methods for Data Integrity proofs: Multikey, did:key and did:jwk, offline.

Implements:

- W3C *Controlled Identifiers v1.0* §2.2.2 ``Multikey``: ``publicKeyMultibase``
  is multibase base58btc (``z``) of the multicodec varint header and the key —
  ``ed25519-pub`` (0xed, 32 bytes), ``p256-pub`` (0x1200, 33-byte compressed
  point), ``p384-pub`` (0x1201, 49-byte compressed point); and §2.2.1
  ``JsonWebKey`` (``publicKeyJwk``, P-256 and Ed25519 through
  :class:`credentials.jose.PublicKey`).
- *The did:key Method* v0.7 for those three key types (the verification method
  is ``did:key:<msid>#<msid>``; a ``did:key`` without a fragment names the
  same, only key), and did:jwk (``#0``) through :mod:`credentials.dids`.

A resolver for other identifiers (did:web, an issuer's HTTPS profile) is
injected by the caller: any ``Callable[[str], VerificationMethod]``; it may
raise ``ConnectionError`` / ``TimeoutError`` when it cannot answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import base58
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from credentials.dids import DID_JWK_METHOD, DID_KEY_METHOD, Did, resolve_public_key
from credentials.errors import InvalidDid, InvalidKey
from credentials.jose import PublicKey

__all__ = [
    "MULTIKEY",
    "JSON_WEB_KEY_TYPES",
    "ASSERTION_METHOD",
    "DidKeyRelationships",
    "DataIntegrityPublicKey",
    "VerificationMethod",
    "VerificationMethodResolver",
    "public_key_from_multibase",
    "multibase_from_public_key",
    "verification_method_from_json",
    "resolve_did_verification_method",
]

MULTIKEY = "Multikey"
JSON_WEB_KEY_TYPES = frozenset({"JsonWebKey", "JsonWebKey2020"})
ASSERTION_METHOD = "assertionMethod"
#: What a did:key or did:jwk key may be used for (its DID document lists it under all of these).
DidKeyRelationships = frozenset({"assertionMethod", "authentication", "capabilityInvocation", "capabilityDelegation"})

DataIntegrityPublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey

_ED25519_PUB, _P256_PUB, _P384_PUB = 0xED, 0x1200, 0x1201
_CODECS: Mapping[int, tuple[str, int]] = {
    _ED25519_PUB: ("Ed25519", 32),
    _P256_PUB: ("P-256", 33),
    _P384_PUB: ("P-384", 49),
}
_CURVES: Mapping[str, ec.EllipticCurve] = {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1()}
_MAX_MULTIBASE = 200


@dataclass(frozen=True)
class VerificationMethod:
    """A resolved verification method: its id, controller, key and the relationships it is listed under."""

    id: str
    controller: str
    public_key: DataIntegrityPublicKey
    relationships: frozenset[str] = DidKeyRelationships

    @property
    def curve(self) -> str:
        """``Ed25519``, ``P-256`` or ``P-384``."""
        if isinstance(self.public_key, ed25519.Ed25519PublicKey):
            return "Ed25519"
        return "P-256" if isinstance(self.public_key.curve, ec.SECP256R1) else "P-384"


VerificationMethodResolver = Callable[[str], VerificationMethod]


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | 0x80 if value else byte)
        if not value:
            return bytes(out)


def public_key_from_multibase(text: Any) -> DataIntegrityPublicKey:
    """Decode a Multikey ``publicKeyMultibase`` (Ed25519, P-256 or P-384)."""
    if not isinstance(text, str) or not text.startswith("z") or len(text) > _MAX_MULTIBASE:
        raise InvalidKey("expected publicKeyMultibase as multibase base58btc text (prefix 'z')")
    try:
        data = base58.b58decode(text[1:])
    except ValueError:
        raise InvalidKey("publicKeyMultibase is not valid base58btc") from None
    for codec, (curve, length) in _CODECS.items():
        header = _varint(codec)
        if data.startswith(header):
            raw = data[len(header):]
            if len(raw) != length:
                raise InvalidKey(f"expected {length} bytes of {curve} key, found {len(raw)}")
            return _key_from_raw(curve, raw)
    raise InvalidKey("expected an ed25519-pub, p256-pub or p384-pub Multikey, found another multicodec")


def _key_from_raw(curve: str, raw: bytes) -> DataIntegrityPublicKey:
    try:
        if curve == "Ed25519":
            return ed25519.Ed25519PublicKey.from_public_bytes(raw)
        if raw[0] not in (2, 3):
            raise InvalidKey(f"expected a compressed {curve} point (prefix 0x02 or 0x03), found 0x{raw[0]:02x}")
        return ec.EllipticCurvePublicKey.from_encoded_point(_CURVES[curve], raw)
    except ValueError:
        raise InvalidKey(f"the {curve} key is not a point on its curve") from None


def multibase_from_public_key(key: DataIntegrityPublicKey) -> str:
    """The Multikey ``publicKeyMultibase`` of an Ed25519, P-256 or P-384 key."""
    if isinstance(key, ed25519.Ed25519PublicKey):
        codec, raw = _ED25519_PUB, key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    elif isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, (ec.SECP256R1, ec.SECP384R1)):
        codec = _P256_PUB if isinstance(key.curve, ec.SECP256R1) else _P384_PUB
        raw = key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)
    else:
        raise InvalidKey(f"unsupported key {type(key).__name__}; expected Ed25519, P-256 or P-384")
    return "z" + base58.b58encode(_varint(codec) + raw).decode("ascii")


def verification_method_from_json(
    method: Mapping[str, Any], *, relationships: frozenset[str] = frozenset({ASSERTION_METHOD})
) -> VerificationMethod:
    """A verification method from its JSON (a DID document's entry, or a controller document's).

    ``Multikey`` (``publicKeyMultibase``) or ``JsonWebKey`` / ``JsonWebKey2020``
    (``publicKeyJwk``, P-256 or Ed25519); ``relationships`` are the
    verification relationships the document lists it under.
    """
    if not isinstance(method, Mapping):
        raise InvalidKey("a verification method must be a JSON object")
    method_id, controller, type_ = method.get("id"), method.get("controller"), method.get("type")
    if not isinstance(method_id, str) or not isinstance(controller, str):
        raise InvalidKey("a verification method needs 'id' and 'controller' as text")
    key: DataIntegrityPublicKey
    if type_ == MULTIKEY:
        key = public_key_from_multibase(method.get("publicKeyMultibase"))
    elif type_ in JSON_WEB_KEY_TYPES:
        jwk = method.get("publicKeyJwk")
        if not isinstance(jwk, Mapping) or "d" in jwk:
            raise InvalidKey("a JsonWebKey verification method needs a public 'publicKeyJwk'")
        public = PublicKey.from_jwk(jwk)
        if public.alg not in ("ES256", "EdDSA"):
            raise InvalidKey(f"expected a P-256 or Ed25519 JWK for Data Integrity, found {public.alg}")
        key = public._key
    else:
        raise InvalidKey(f"expected a verification method of type Multikey or JsonWebKey, found {type_!r:.60}")
    return VerificationMethod(id=method_id, controller=controller, public_key=key, relationships=relationships)


#: did:key verification methods kept, by DID (a did:key names one key forever; failures are not kept).
DID_KEY_METHODS_KEPT = 1024


@lru_cache(maxsize=DID_KEY_METHODS_KEPT)
def _did_key_method(did_text: str) -> VerificationMethod:
    """The one verification method of a did:key: base58 decoded, the point checked, the encoding
    checked canonical, once per DID (Data Integrity proofs of one issuer name it on every credential)."""
    did = Did(did_text)
    try:
        key = public_key_from_multibase(did.method_specific_id)
    except InvalidKey as exc:
        raise InvalidDid(f"the did:key does not hold a supported key: {exc}") from None
    if multibase_from_public_key(key) != did.method_specific_id:
        raise InvalidDid("the did:key is not in its canonical encoding")
    return VerificationMethod(id=f"{did.did}#{did.method_specific_id}", controller=did.did, public_key=key)


def resolve_did_verification_method(method_id: str) -> VerificationMethod:
    """Resolve a did:key or did:jwk verification method offline.

    ``did:key:<msid>#<msid>`` (or ``did:key:<msid>``: the DID's only key) for
    Ed25519, P-256 and P-384; ``did:jwk:<jwk>#0`` for P-256 and Ed25519.
    Raises :class:`InvalidDid` for any other method or fragment.
    """
    did = Did(method_id)
    if did.method == DID_KEY_METHOD:
        if did.fragment not in (None, did.method_specific_id):
            raise InvalidDid("a did:key has one verification method, #<its own identifier>")
        return _did_key_method(did.did)
    if did.method == DID_JWK_METHOD:
        public = resolve_public_key(method_id)
        if public.alg not in ("ES256", "EdDSA"):
            raise InvalidDid(f"expected a P-256 or Ed25519 did:jwk for Data Integrity, found {public.alg}")
        return VerificationMethod(id=f"{did.did}#0", controller=did.did, public_key=public._key)
    raise InvalidDid(f"expected a did:key or did:jwk verification method, found method did:{did.method}")
