"""DIDs that resolve offline: ``did:key`` and ``did:jwk``.

Implements, for signing keys only (P-256 and Ed25519, the keys microcred
signs with):

- W3C DID Core 1.0 §3.1/§3.2: DID and DID URL syntax, as far as microcred
  needs it (a DID, optionally with a ``#fragment``; paths and queries are
  refused).
- W3C CCG *The did:key Method* v0.7: multicodec ``p256-pub`` (0x1200, the
  33-byte compressed SEC1 point) and ``ed25519-pub`` (0xed, 32 bytes), as an
  unsigned varint followed by the key, multibase base58btc (prefix ``z``);
  also ``rsa-pub`` (0x1205, the DER PKCS #1 ``RSAPublicKey``, 2048 to 8192
  bits), whose keys verify only the imported formats' RS256 / PS256.
  The verification method is ``did:key:<msid>#<msid>``.
- *did:jwk Method Specification* (quartzjer/did-jwk, spec.md):
  ``did:jwk:`` + base64url(UTF-8 JSON of the public JWK); the verification
  method is always ``#0``; a JWK holding private material is rejected.

DID documents use verification methods of type ``JsonWebKey2020`` (both the
did:key P-256 test vectors and the did:jwk specification use it), and list
the key under ``authentication``, ``assertionMethod``,
``capabilityInvocation`` and ``capabilityDelegation``. They list no
``keyAgreement``: microcred uses these keys only to sign.

Everything else (secp256k1, X25519, P-384, ``did:web``…) raises
:class:`~credentials.errors.InvalidDid` saying what was expected and found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import base58
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from credentials.errors import InvalidDid, InvalidInput, InvalidKey
from credentials.jose import PublicKey, b64url_decode, b64url_encode, json_dumps, json_loads_object

__all__ = [
    "DID_KEY_METHOD",
    "DID_JWK_METHOD",
    "SUPPORTED_METHODS",
    "MULTICODEC_P256_PUB",
    "MULTICODEC_ED25519_PUB",
    "MULTICODEC_RSA_PUB",
    "MAX_DID_LENGTH",
    "VERIFICATION_METHOD_TYPE",
    "Did",
    "did_key_from_public_key",
    "did_jwk_from_public_key",
    "verification_method_id",
    "resolve_public_key",
    "resolve_did_document",
]

DID_KEY_METHOD = "key"
DID_JWK_METHOD = "jwk"
SUPPORTED_METHODS = frozenset({DID_KEY_METHOD, DID_JWK_METHOD})

#: Multicodec codes (multiformats table) for the keys microcred accepts.
MULTICODEC_P256_PUB = 0x1200
MULTICODEC_ED25519_PUB = 0xED
MULTICODEC_RSA_PUB = 0x1205

#: Multibase prefix for base58btc.
MULTIBASE_BASE58BTC = "z"

#: The fixed fragment of a did:jwk verification method.
DID_JWK_FRAGMENT = "0"

#: A DID (URL) longer than this is refused before any decoding (characters).
MAX_DID_LENGTH = 4096

VERIFICATION_METHOD_TYPE = "JsonWebKey2020"
DID_CORE_CONTEXT = "https://www.w3.org/ns/did/v1"
JWS_2020_CONTEXT = "https://w3id.org/security/suites/jws-2020/v1"
VERIFICATION_RELATIONSHIPS = (
    "authentication",
    "assertionMethod",
    "capabilityInvocation",
    "capabilityDelegation",
)

_KEY_LENGTHS = {MULTICODEC_P256_PUB: 33, MULTICODEC_ED25519_PUB: 32}
_CODEC_NAMES = {
    MULTICODEC_P256_PUB: "p256-pub",
    MULTICODEC_ED25519_PUB: "ed25519-pub",
    0xE7: "secp256k1-pub",
    0xEC: "x25519-pub",
    0xEB: "bls12_381-g2-pub",
    0x1201: "p384-pub",
    0x1202: "p521-pub",
    MULTICODEC_RSA_PUB: "rsa-pub",
}
_MAX_VARINT_BYTES = 9
#: JWK members that carry private key material (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037).
_PRIVATE_JWK_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")

#: DID Core §3.1: ``did:<method>:<method-specific-id>`` where the id is ``*( *idchar ":" ) 1*idchar`` and
#: ``idchar = ALPHA / DIGIT / "." / "-" / "_" / pct-encoded`` — the same language as a non-empty run of
#: idchars and colons that does not end with a colon, which is how it is written here: runs of plain
#: characters matched possessively (a pct-encoded triple is the only thing starting with "%", so nothing
#: is ever given back), linear in the length, where a literal transcription backtracks over every
#: character (an RSA did:key URL of 750 characters: 170 µs -> 4 µs). Then ``#fragment`` (RFC 3986 §3.5).
_DID_URL = re.compile(
    r"did:(?P<method>[a-z0-9]+)"
    r":(?P<msid>(?:[A-Za-z0-9._:-]++|%[0-9A-Fa-f]{2})++)(?<!:)"
    r"(?:#(?P<fragment>(?:[A-Za-z0-9._~!$&'()*+,;=:@/?-]++|%[0-9A-Fa-f]{2})*+))?"
)
#: Resolved did:key / did:jwk keys kept, by DID (a DID names one key forever; failures are not kept).
RESOLVED_KEYS_KEPT = 1024


@dataclass(frozen=True)
class Did:
    """A DID, or a DID URL with a fragment, parsed on construction.

    ``Did("did:key:z6Mk…#z6Mk…")`` exposes ``method`` (``"key"``),
    ``method_specific_id`` and ``fragment`` (``None`` for a plain DID).
    Any method that is syntactically valid parses; resolution is where
    unsupported methods are refused.
    """

    text: str
    method: str = field(init=False)
    method_specific_id: str = field(init=False)
    fragment: str | None = field(init=False)

    def __post_init__(self) -> None:
        if not isinstance(self.text, str):
            raise InvalidDid(f"a DID must be text, found {type(self.text).__name__}")
        if len(self.text) > MAX_DID_LENGTH:
            raise InvalidDid(f"the DID is {len(self.text)} characters, over the limit of {MAX_DID_LENGTH}")
        match = _DID_URL.fullmatch(self.text)
        if match is None:
            raise InvalidDid(
                f"expected a DID of the form did:<method>:<id>[#fragment], found {_shorten(self.text)!r}"
            )
        if match["fragment"] == "":
            raise InvalidDid(f"the DID URL {_shorten(self.text)!r} has an empty fragment")
        object.__setattr__(self, "method", match["method"])
        object.__setattr__(self, "method_specific_id", match["msid"])
        object.__setattr__(self, "fragment", match["fragment"])

    @classmethod
    def parse(cls, text: str) -> Did:
        return cls(text)

    @property
    def did(self) -> str:
        """The DID without any fragment."""
        return f"did:{self.method}:{self.method_specific_id}"

    def __str__(self) -> str:
        return self.text


def _shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


# --- did:key -----------------------------------------------------------------


def _varint(value: int) -> bytes:
    """Unsigned LEB128 varint (multiformats unsigned-varint)."""
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _read_varint(data: bytes) -> tuple[int, int]:
    """Return (value, bytes used); reject truncated or over-long varints."""
    value = 0
    for position, byte in enumerate(data[:_MAX_VARINT_BYTES]):
        value |= (byte & 0x7F) << (7 * position)
        if not byte & 0x80:
            return value, position + 1
    raise InvalidDid("the did:key multicodec prefix is not a valid varint")


def did_key_from_public_key(key: PublicKey) -> str:
    """The ``did:key`` of a P-256, Ed25519 or RSA public key."""
    if key.is_rsa:
        codec = MULTICODEC_RSA_PUB
    else:
        codec = MULTICODEC_P256_PUB if key.alg == "ES256" else MULTICODEC_ED25519_PUB
    encoded = base58.b58encode(_varint(codec) + key.raw_bytes()).decode("ascii")
    return f"did:key:{MULTIBASE_BASE58BTC}{encoded}"


def _decode_did_key(did: Did) -> PublicKey:
    msid = did.method_specific_id
    if not msid.startswith(MULTIBASE_BASE58BTC):
        raise InvalidDid(
            f"expected a did:key in multibase base58btc (prefix 'z'), found prefix {msid[:1]!r}"
        )
    try:
        data = base58.b58decode(msid[1:])
    except ValueError as exc:
        raise InvalidDid("the did:key identifier is not valid base58btc") from exc
    if not data:
        raise InvalidDid("the did:key identifier holds no key after its multibase prefix")
    codec, used = _read_varint(data)
    raw = data[used:]
    if codec == MULTICODEC_RSA_PUB:
        return _rsa_did_key(did, raw)
    if codec not in _KEY_LENGTHS:
        name = _CODEC_NAMES.get(codec, "unknown")
        raise InvalidDid(
            f"expected a did:key for a p256-pub, ed25519-pub or rsa-pub key, found multicodec 0x{codec:x} ({name})"
        )
    expected = _KEY_LENGTHS[codec]
    if len(raw) != expected:
        raise InvalidDid(
            f"expected {expected} key bytes for {_CODEC_NAMES[codec]}, found {len(raw)}"
        )
    if codec == MULTICODEC_P256_PUB and raw[0] not in (2, 3):
        raise InvalidDid(
            f"expected a compressed P-256 point (prefix 0x02 or 0x03), found prefix 0x{raw[0]:02x}"
        )
    try:
        if codec == MULTICODEC_P256_PUB:
            key = PublicKey.from_cryptography(ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw))
        else:
            key = PublicKey.from_cryptography(ed25519.Ed25519PublicKey.from_public_bytes(raw))
    except ValueError as exc:
        raise InvalidDid(f"the {_CODEC_NAMES[codec]} key in the did:key is not a point on its curve") from exc
    if did_key_from_public_key(key) != did.did:
        raise InvalidDid("the did:key is not in its canonical encoding")
    return key


def _rsa_did_key(did: Did, der: bytes) -> PublicKey:
    try:
        loaded = serialization.load_der_public_key(der)
    except ValueError as exc:
        raise InvalidDid("the rsa-pub key in the did:key is not a DER RSAPublicKey") from exc
    if not isinstance(loaded, rsa.RSAPublicKey):
        raise InvalidDid(f"the rsa-pub key in the did:key holds a {type(loaded).__name__}, not an RSA key")
    try:
        key = PublicKey.from_cryptography(loaded)
    except InvalidKey as exc:
        raise InvalidDid(f"the did:key does not hold a usable RSA key: {exc}") from exc
    if did_key_from_public_key(key) != did.did:
        raise InvalidDid("the did:key is not in its canonical encoding")
    return key


# --- did:jwk -----------------------------------------------------------------


def did_jwk_from_public_key(key: PublicKey) -> str:
    """The ``did:jwk`` of a public key: base64url of its compact public JWK."""
    return "did:jwk:" + b64url_encode(json_dumps(key.to_jwk()).encode("utf-8"))


def _decode_did_jwk(did: Did) -> tuple[PublicKey, dict[str, Any]]:
    try:
        jwk = json_loads_object(b64url_decode(did.method_specific_id), what="the did:jwk JWK")
    except InvalidInput as exc:
        raise InvalidDid(f"expected base64url-encoded JSON of a JWK in the did:jwk: {exc}") from exc
    private = [name for name in _PRIVATE_JWK_MEMBERS if name in jwk]
    if private:
        raise InvalidDid(
            f"the did:jwk JWK holds private key material ({', '.join(private)}); only public keys are allowed"
        )
    if jwk.get("use") not in (None, "sig"):
        raise InvalidDid(f"expected a signing key (use 'sig') in the did:jwk, found use {jwk.get('use')!r}")
    try:
        key = PublicKey.from_jwk(jwk)
    except InvalidKey as exc:
        raise InvalidDid(f"the did:jwk does not hold a supported signing key: {exc}") from exc
    return key, jwk


# --- resolution ----------------------------------------------------------------


def _supported(did_or_did_url: str) -> Did:
    did = Did(did_or_did_url)
    if did.method not in SUPPORTED_METHODS:
        raise InvalidDid(f"expected a did:key or did:jwk, found method did:{did.method}")
    return did


def _fragment_of(did: Did) -> str:
    return did.method_specific_id if did.method == DID_KEY_METHOD else DID_JWK_FRAGMENT


def verification_method_id(did: str) -> str:
    """The DID URL naming the DID's key, for a JWT ``kid``.

    ``did:key:<msid>#<msid>`` or ``did:jwk:<value>#0``. A DID URL is
    accepted if its fragment is already that one.
    """
    parsed = _supported(did)
    expected = _fragment_of(parsed)
    if parsed.fragment is not None and parsed.fragment != expected:
        raise InvalidDid(
            f"the DID URL names verification method #{_shorten(parsed.fragment, 40)}, "
            f"but the DID's only method is #{_shorten(expected, 40)}"
        )
    return f"{parsed.did}#{expected}"


@lru_cache(maxsize=RESOLVED_KEYS_KEPT)
def _resolve_did(did: str) -> tuple[PublicKey, str]:
    """The key a DID (no fragment) names, and its JWK as JSON text: decoded and checked once per DID.

    A did:key or did:jwk is its key, so this is the same answer every time; base58 of an RSA key, the
    canonical re-encoding and the point check cost milliseconds. What fails raises and is not kept."""
    parsed = Did(did)
    if parsed.method == DID_KEY_METHOD:
        key = _decode_did_key(parsed)
        return key, json_dumps(key.to_jwk())
    key, jwk = _decode_did_jwk(parsed)
    return key, json_dumps(jwk)


def _resolve(did: Did) -> tuple[PublicKey, dict[str, Any]]:
    key, jwk = _resolve_did(did.did)
    return key, json_loads_object(jwk, what="the DID's JWK")  # a fresh copy: callers may change it


def resolve_public_key(did_or_did_url: str) -> PublicKey:
    """Resolve a did:key / did:jwk (or a DID URL naming its key) to the key.

    A fragment other than the DID's own verification method is rejected.
    """
    did = _supported(did_or_did_url)
    verification_method_id(did_or_did_url)  # checks the fragment
    key, _ = _resolve(did)
    return key


def resolve_did_document(did: str) -> dict[str, Any]:
    """The DID document (DID Core 1.0) of a did:key or did:jwk.

    One verification method of type ``JsonWebKey2020`` with the public JWK,
    referenced from ``authentication``, ``assertionMethod``,
    ``capabilityInvocation`` and ``capabilityDelegation``.
    """
    parsed = _supported(did)
    if parsed.fragment is not None:
        raise InvalidDid(f"expected a DID without a fragment, found {_shorten(parsed.text)!r}")
    _, jwk = _resolve(parsed)
    method_id = verification_method_id(parsed.did)
    document: dict[str, Any] = {
        "@context": [DID_CORE_CONTEXT, JWS_2020_CONTEXT],
        "id": parsed.did,
        "verificationMethod": [
            {
                "id": method_id,
                "type": VERIFICATION_METHOD_TYPE,
                "controller": parsed.did,
                "publicKeyJwk": dict(jwk),
            }
        ],
    }
    for relationship in VERIFICATION_RELATIONSHIPS:
        document[relationship] = [method_id]
    return document
