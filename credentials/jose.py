"""Keys and compact JWS with a closed algorithm allow-list.

Implements the parts of RFC 7515 (JWS compact serialization), RFC 7518 §3.4
(ES256, raw ``r || s`` signatures), RFC 8037 (EdDSA with Ed25519, OKP JWKs),
RFC 7517 (JWK) and RFC 7638 (JWK thumbprints) that microcred needs.

Only :data:`ALLOWED_ALGS` are accepted by default. Credentials imported from
other ecosystems (VC-JOSE ``vc+jwt`` / ``jwt_vc_json``, JAdES seals) may also
use RS256 and PS256 (RFC 7518 §3.3, §3.5; RSA keys of at least 2048 bits, see
:mod:`credentials._rsa`): their parsers pass :data:`IMPORTED_FORMAT_ALGS`,
and no caller can widen the list beyond it. ``none``, HMAC and every other
algorithm fail the ``signature`` check, and the verification key always comes
from the caller (a resolved DID, a ``cnf.jwk``), never from the token's own
header. Signing and verification call ``cryptography`` directly with key
objects prepared once, which is about twice as fast as going through a
general-purpose JOSE library (see ``shared/BASELINES.md``).
"""

from __future__ import annotations

import binascii
import hashlib
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from credentials._json import json_dumps, json_loads, json_loads_object, plain_json_value
from credentials._rsa import RSA_ALGS, checked_rsa_key, rsa_algs, rsa_public_from_jwk, rsa_public_jwk, rsa_verify
from credentials.errors import ConfigurationError, FormatError, InvalidInput, InvalidKey, SignatureError

__all__ = [
    "ALLOWED_ALGS",
    "IMPORTED_FORMAT_ALGS",
    "MAX_TOKEN_LENGTH",
    "b64url_encode",
    "b64url_decode",
    "json_dumps",
    "json_loads",
    "json_loads_object",
    "PublicKey",
    "PrivateKey",
    "UnverifiedJws",
    "sign_jws",
    "verify_jws",
]

#: The only JWS algorithms microcred signs with or accepts (EUDI ARF: ES256
#: mandatory; EdDSA for Ed25519 keys).
ALLOWED_ALGS = frozenset({"ES256", "EdDSA"})

#: What credentials imported from elsewhere (``vc+jwt``, ``jwt_vc_json``, JAdES
#: seals of Europass EDCs) may be signed with: the above plus RSA (>= 2048 bits).
#: The widest list any parser accepts; SD-JWT VCs, KB-JWTs and status list
#: tokens stay on :data:`ALLOWED_ALGS`.
IMPORTED_FORMAT_ALGS = ALLOWED_ALGS | RSA_ALGS

#: A compact JWS longer than this is refused before any parsing (bytes).
MAX_TOKEN_LENGTH = 256 * 1024

#: Header parameters this implementation understands, for the ``crit`` rule
#: (RFC 7515 §4.1.11: an unknown critical extension means reject).
_UNDERSTOOD_CRIT: frozenset[str] = frozenset()

_ES256_COORD = 32
_ED25519_LEN = 32
#: One for every ES256 signature and verification: it holds no state, only which hash to use.
_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())


_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")


def b64url_encode(data: bytes) -> str:
    """Base64url without padding (RFC 7515 §2)."""
    # binascii directly: this runs several times per disclosure when issuing.
    return binascii.b2a_base64(data, newline=False).rstrip(b"=").translate(_TO_URLSAFE).decode("ascii")


_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")
_PADDING = (b"", b"", b"==", b"=")
#: The value of each base64url character, and which low bits of the last one must be zero when the text's
#: length leaves 2 or 3 characters over (they encode no byte: canonical text has them zero, RFC 4648 §3.5).
_B64URL_VALUE = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")}
_UNUSED_BITS = (0, 0, 0x0F, 0x03)


def b64url_decode(text: object) -> bytes:
    """Strict base64url decoding: the URL-safe alphabet, no padding, no spaces.

    Raises :class:`InvalidInput` for anything else, so that two different
    strings never decode to the same bytes unnoticed.
    """
    # In C: the translation deletes the standard alphabet's '+' and '/' and any '=', and binascii (not in strict
    # mode: a quarter faster) skips every other character outside the alphabet, so that text holding any of them
    # decodes to fewer bytes than its length says, and is refused for it; the only '=' left is the padding added
    # here, at the end, where strict mode allows it too.
    if not isinstance(text, str) or not text.isascii() or len(text) % 4 == 1:
        raise InvalidInput("expected base64url text without padding")
    left = len(text) % 4
    try:
        data = binascii.a2b_base64(text.encode("ascii").translate(_FROM_URLSAFE, b"+/=") + _PADDING[left])
    except binascii.Error:
        raise InvalidInput("expected base64url text without padding") from None
    if len(data) != len(text) * 3 // 4:
        raise InvalidInput("expected base64url text without padding")
    if left and _B64URL_VALUE[text[-1]] & _UNUSED_BITS[left]:
        raise InvalidInput("base64url text has non-canonical trailing bits")
    return data


def _b64_int(value: Any, length: int, name: str) -> int:
    raw = _b64_fixed(value, length, name)
    return int.from_bytes(raw, "big")


def _b64_fixed(value: Any, length: int, name: str) -> bytes:
    try:
        raw = b64url_decode(value)
    except InvalidInput as exc:
        raise InvalidKey(f"JWK member {name!r} is not base64url") from exc
    if len(raw) != length:
        raise InvalidKey(f"JWK member {name!r} must be {length} bytes, found {len(raw)}")
    return raw


def _public_jwk_members(jwk: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
    """Validate a public JWK's type and return (alg, its required members)."""
    if not isinstance(jwk, Mapping):
        raise InvalidKey("a JWK must be a JSON object")
    kty, crv = jwk.get("kty"), jwk.get("crv")
    if kty == "EC" and crv == "P-256":
        alg = "ES256"
        members = {"crv": crv, "kty": kty, "x": jwk.get("x"), "y": jwk.get("y")}
    elif kty == "OKP" and crv == "Ed25519":
        alg = "EdDSA"
        members = {"crv": crv, "kty": kty, "x": jwk.get("x")}
    else:
        raise InvalidKey(
            f"unsupported key type kty={kty!r} crv={crv!r}; expected EC P-256, OKP Ed25519 or RSA"
        )
    declared = jwk.get("alg")
    if declared is not None and declared != alg:
        raise InvalidKey(f"JWK declares alg {declared!r} but its key type needs {alg}")
    for name, value in members.items():
        if not isinstance(value, str):
            raise InvalidKey(f"JWK member {name!r} is missing")
    return alg, members


@dataclass(frozen=True)
class PublicKey:
    """A verification key, parsed once: ES256 (P-256), EdDSA (Ed25519), or
    RSA (RS256 / PS256, for imported formats only).

    ``alg`` is the key's main algorithm, ``algs`` every algorithm it may verify
    (an RSA JWK without ``alg`` serves both RS256 and PS256).
    """

    alg: str
    jwk: Mapping[str, str]
    _key: Any = field(repr=False, compare=False)
    algs: frozenset[str] = field(default=frozenset(), compare=False)

    def __post_init__(self) -> None:
        if not self.algs:
            object.__setattr__(self, "algs", frozenset({self.alg}))

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> PublicKey:
        """Build from a public JWK; private members (``d``) are ignored.

        A P-256 or Ed25519 key is built once per distinct JWK (its members, checked, are the cache key):
        a holder's ``cnf.jwk`` comes with every presentation, and checking the point costs more than the rest
        of parsing it. What fails is never kept, so it fails again the same way."""
        if type(jwk) is dict and jwk.get("kty") != "RSA":  # the usual case: one cached call
            kty = jwk.get("kty")  # y only for EC: an OKP key has none (what it carries there is not read or kept)
            read = (kty, jwk.get("crv"), jwk.get("x"), jwk.get("y") if kty == "EC" else None, jwk.get("alg"))
            try:
                hash(read)
            except TypeError:  # a member that is a list or an object: the checks below say what is wrong
                pass
            else:
                return _jwk_key(*read)
        if isinstance(jwk, Mapping) and jwk.get("kty") == "RSA":
            algs = rsa_algs(jwk.get("alg"))
            members, rsa_key = rsa_public_from_jwk(jwk)
            return cls(alg=min(algs), jwk=members, _key=rsa_key, algs=algs)
        alg, members = _public_jwk_members(jwk)
        return _curve_key(alg, members["kty"], members["crv"], members["x"], members.get("y"))

    @classmethod
    def _from_members(cls, alg: str, members: dict[str, str]) -> PublicKey:
        key: ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey
        if alg == "ES256":
            x = _b64_int(members["x"], _ES256_COORD, "x")
            y = _b64_int(members["y"], _ES256_COORD, "y")
            try:
                key = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
            except ValueError as exc:
                raise InvalidKey("the EC point is not on the P-256 curve") from exc
        else:
            key = ed25519.Ed25519PublicKey.from_public_bytes(
                _b64_fixed(members["x"], _ED25519_LEN, "x")
            )
        return cls(alg=alg, jwk=members, _key=key)

    @classmethod
    def from_cryptography(cls, key: Any, *, alg: str | None = None) -> PublicKey:
        """Wrap a ``cryptography`` P-256, Ed25519 or RSA public key.

        ``alg`` may pin an RSA key to RS256 or PS256 (both when not given)."""
        if isinstance(key, rsa.RSAPublicKey):
            algs = rsa_algs(alg)
            return cls(alg=min(algs), jwk=rsa_public_jwk(checked_rsa_key(key)), _key=key, algs=algs)
        if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
            numbers = key.public_numbers()
            jwk = {
                "crv": "P-256",
                "kty": "EC",
                "x": b64url_encode(numbers.x.to_bytes(_ES256_COORD, "big")),
                "y": b64url_encode(numbers.y.to_bytes(_ES256_COORD, "big")),
            }
            return cls(alg="ES256", jwk=jwk, _key=key)
        if isinstance(key, ed25519.Ed25519PublicKey):
            raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            jwk = {"crv": "Ed25519", "kty": "OKP", "x": b64url_encode(raw)}
            return cls(alg="EdDSA", jwk=jwk, _key=key)
        raise InvalidKey(f"unsupported key {type(key).__name__}; expected P-256, Ed25519 or RSA")

    def to_jwk(self) -> dict[str, str]:
        """The public JWK (required members only)."""
        return dict(self.jwk)

    @property
    def is_rsa(self) -> bool:
        return self.jwk.get("kty") == "RSA"

    def raw_bytes(self) -> bytes:
        """Compressed SEC1 point (P-256), the 32 raw bytes (Ed25519), or the
        DER ``RSAPublicKey`` (PKCS #1, as did:key's ``rsa-pub`` holds it)."""
        if self.is_rsa:
            return bytes(self._key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1))
        if self.alg == "ES256":
            return bytes(self._key.public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
            ))
        return bytes(self._key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))

    def thumbprint(self) -> str:
        """RFC 7638 SHA-256 JWK thumbprint, base64url."""
        canonical = json.dumps(dict(sorted(self.jwk.items())), separators=(",", ":"))
        return b64url_encode(hashlib.sha256(canonical.encode("ascii")).digest())

    def verify(self, signing_input: bytes, signature: bytes, *, alg: str | None = None) -> bool:
        """True when ``signature`` is valid for ``signing_input`` (JWS form) under
        ``alg`` (default: the key's main algorithm; one outside :attr:`algs` never verifies)."""
        alg = self.alg if alg is None else alg
        if alg not in self.algs:
            return False
        if alg in RSA_ALGS:
            return rsa_verify(self._key, alg, signing_input, signature)
        try:
            if self.alg == "ES256":
                if len(signature) != 2 * _ES256_COORD:
                    return False
                self._key.verify(_der_signature(signature), signing_input, _ECDSA_SHA256)
            else:
                self._key.verify(signature, signing_input)
        except InvalidSignature:
            return False
        return True


def _der_signature(raw: bytes) -> bytes:
    """The DER ``ECDSA-Sig-Value`` (RFC 3279 §2.2.3) of a 64-byte ES256 ``r || s`` (RFC 7518 §3.4), byte for byte
    what ``encode_dss_signature`` of the two integers gives (minimal INTEGERs: leading zero bytes dropped, one
    zero byte put back before a high bit or for zero), built from the bytes in a quarter of its time: the
    integers are never made."""
    r, s = raw[:_ES256_COORD].lstrip(b"\0"), raw[_ES256_COORD:].lstrip(b"\0")
    if not r or r[0] >= 0x80:
        r = b"\0" + r
    if not s or s[0] >= 0x80:
        s = b"\0" + s
    return b"\x30%c\x02%c%b\x02%c%b" % (len(r) + len(s) + 4, len(r), r, len(s), s)


@lru_cache(maxsize=4096)
def _jwk_key(kty: Any, crv: Any, x: Any, y: Any, alg: Any) -> PublicKey:
    """PublicKey.from_jwk of a P-256 / Ed25519 JWK with these members (null meaning absent, as .get reads it):
    all that from_jwk reads of one, so the same members are the same key (or the same error, never kept)."""
    jwk = {name: value for name, value in (("kty", kty), ("crv", crv), ("x", x), ("y", y), ("alg", alg))
           if value is not None}
    alg, members = _public_jwk_members(jwk)
    return _curve_key(alg, members["kty"], members["crv"], members["x"], members.get("y"))


@lru_cache(maxsize=4096)
def _curve_key(alg: str, kty: str, crv: str, x: str, y: str | None) -> PublicKey:
    """The checked P-256 / Ed25519 key of these (already type-checked) JWK members; see PublicKey.from_jwk."""
    members = {"crv": crv, "kty": kty, "x": x} if y is None else {"crv": crv, "kty": kty, "x": x, "y": y}
    return PublicKey._from_members(alg, members)


@dataclass(frozen=True)
class PrivateKey:
    """A signing key: ES256 (P-256) or EdDSA (Ed25519)."""

    alg: str
    _key: Any = field(repr=False, compare=False)

    @classmethod
    def generate(cls, alg: str = "ES256") -> PrivateKey:
        """A fresh key from the operating system's random source."""
        if alg == "ES256":
            return cls(alg=alg, _key=ec.generate_private_key(ec.SECP256R1()))
        if alg == "EdDSA":
            return cls(alg=alg, _key=ed25519.Ed25519PrivateKey.generate())
        raise InvalidKey(f"cannot generate a key for alg {alg!r}; expected ES256 or EdDSA")

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> PrivateKey:
        """Build from a private JWK (with ``d``), checking it matches its public part."""
        public = PublicKey.from_jwk(jwk)
        if public.is_rsa:
            raise InvalidKey("unsupported signing key kty='RSA'; microcred signs with P-256 or Ed25519 only")
        key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
        if public.alg == "ES256":
            d = _b64_int(jwk.get("d"), _ES256_COORD, "d")
            try:
                key = ec.derive_private_key(d, ec.SECP256R1())
            except ValueError as exc:
                raise InvalidKey("the private scalar is out of range for P-256") from exc
        else:
            key = ed25519.Ed25519PrivateKey.from_private_bytes(
                _b64_fixed(jwk.get("d"), _ED25519_LEN, "d")
            )
        private = cls(alg=public.alg, _key=key)
        if private.public_key().jwk != public.jwk:
            raise InvalidKey("the JWK's private part does not match its public part")
        return private

    @classmethod
    def from_cryptography(cls, key: Any) -> PrivateKey:
        """Wrap a ``cryptography`` P-256 or Ed25519 private key."""
        if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
            return cls(alg="ES256", _key=key)
        if isinstance(key, ed25519.Ed25519PrivateKey):
            return cls(alg="EdDSA", _key=key)
        raise InvalidKey(
            f"unsupported key {type(key).__name__}; expected P-256 or Ed25519 (microcred signs with no other)")

    def public_key(self) -> PublicKey:
        return PublicKey.from_cryptography(self._key.public_key())

    def to_jwk(self) -> dict[str, str]:
        """The private JWK, ``d`` included. Handle with care."""
        jwk = self.public_key().to_jwk()
        if self.alg == "ES256":
            d = self._key.private_numbers().private_value
            jwk["d"] = b64url_encode(d.to_bytes(_ES256_COORD, "big"))
        else:
            raw = self._key.private_bytes(
                serialization.Encoding.Raw,
                serialization.PrivateFormat.Raw,
                serialization.NoEncryption(),
            )
            jwk["d"] = b64url_encode(raw)
        return jwk

    def sign(self, signing_input: bytes) -> bytes:
        """A JWS signature (raw ``r || s`` for ES256)."""
        if self.alg == "ES256":
            der = self._key.sign(signing_input, _ECDSA_SHA256)
            r, s = decode_dss_signature(der)
            return r.to_bytes(_ES256_COORD, "big") + s.to_bytes(_ES256_COORD, "big")
        return bytes(self._key.sign(signing_input))


@dataclass(frozen=True)
class UnverifiedJws:
    """A compact JWS split and decoded, its signature not yet checked."""

    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes
    #: The compact JWS these parts were decoded from.
    token: str = field(default="", repr=False, compare=False)

    @classmethod
    def parse(cls, token: str, *, what: str = "JWT", allowed_algs: Collection[str] = ALLOWED_ALGS) -> UnverifiedJws:
        """Split and decode; raise :class:`FormatError` for anything malformed.

        Also enforces the algorithm allow-list (failing ``signature``) and the
        ``crit`` rule, so no caller can forget them. ``allowed_algs`` is
        :data:`ALLOWED_ALGS` unless an imported format passes
        :data:`IMPORTED_FORMAT_ALGS`; nothing outside that is ever accepted.
        """
        if allowed_algs is not ALLOWED_ALGS and allowed_algs is not IMPORTED_FORMAT_ALGS:
            widened = sorted(set(allowed_algs) - IMPORTED_FORMAT_ALGS)
            if widened:
                raise ConfigurationError(f"JWS algorithm(s) {widened} can never be allowed")
        if not isinstance(token, str):
            raise FormatError(f"the {what} must be text")
        if len(token) > MAX_TOKEN_LENGTH:
            raise FormatError(f"the {what} is {len(token)} bytes, over the limit of {MAX_TOKEN_LENGTH}")
        parts = token.split(".")
        if len(parts) != 3:
            raise FormatError(
                f"the {what} must have 3 dot-separated parts (compact JWS), found {len(parts)}"
            )
        header_b64, payload_b64, signature_b64 = parts
        try:
            header = _decoded_header(header_b64, what)
            payload_bytes = b64url_decode(payload_b64)
            payload = plain_json_value(payload_bytes)  # one call for the usual compact object
            if type(payload) is not dict:  # anything else read (or refused, saying why) as it always was
                payload = json_loads_object(payload_bytes, what=f"{what} payload")
            signature = b64url_decode(signature_b64)
        except InvalidInput as exc:
            raise FormatError(f"the {what} is malformed: {exc}") from exc
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in allowed_algs:
            raise SignatureError(
                f"the {what} uses algorithm {alg!r}; only {', '.join(sorted(allowed_algs))} are accepted"
            )
        crit = header.get("crit")
        if crit is not None:
            if not isinstance(crit, list) or not crit or not all(isinstance(c, str) for c in crit):
                raise FormatError(f"the {what} has a malformed 'crit' header")
            unknown = sorted(set(crit) - _UNDERSTOOD_CRIT)
            if unknown:
                raise FormatError(f"the {what} marks unsupported header(s) {unknown} as critical")
        # Its fields set at once: the frozen dataclass's ``__init__`` sets each through ``object.__setattr__``
        # (twice per presentation: the issuer-signed JWT and the KB-JWT).
        # Directly in its ``__dict__``: ``__dict__.update`` with keywords builds a dict of them first.
        jws = object.__new__(cls)
        fields = jws.__dict__
        fields["header"], fields["payload"], fields["signature"], fields["token"] = header, payload, signature, token
        fields["signing_input"] = token[:len(header_b64) + 1 + len(payload_b64)].encode("ascii")
        return jws

    @property
    def typ(self) -> str | None:
        return self.header.get("typ")

    def check_typ(self, expected: Collection[str], *, what: str = "JWT") -> None:
        """Require ``typ`` to be one of ``expected`` (media types compared case-insensitively,
        with or without the ``application/`` prefix, RFC 7515 §4.1.9)."""
        typ = self.header.get("typ")
        if type(typ) is str and typ in expected and not typ.lower().startswith("application/"):
            return  # one of them as it is (the usual case): the comparison below would find it too
        normalized = typ.lower().removeprefix("application/") if isinstance(typ, str) else None
        if normalized not in {e.lower() for e in expected}:
            raise FormatError(
                f"the {what} has typ {typ!r}; expected {' or '.join(repr(e) for e in expected)}"
            )

    def verify_with(self, key: PublicKey, *, what: str = "JWT") -> None:
        """Check the signature with ``key``; raise :class:`SignatureError` if wrong."""
        alg = self.header["alg"]
        if alg not in key.algs:
            raise SignatureError(
                f"the {what} is signed with {alg} but the key is for {' or '.join(sorted(key.algs))}"
            )
        if not key.verify(self.signing_input, self.signature, alg=alg):
            raise SignatureError(f"the {what} signature does not match the key")


#: Decoded JOSE headers by their base64url text, kept only when every member is a string, number, boolean or
#: null, so that a (shallow) copy is a whole new value: an issuer's headers, and every KB-JWT's, are the same
#: few texts. Decoding is a function of the text alone (strict base64url and JSON); bounded in number (cleared
#: when full) and in size: a longer text is decoded every time, so the cache holds at most ~2 MB.
_HEADERS: dict[str, dict[str, Any]] = {}
_HEADERS_SIZE = 1024
_HEADER_TEXT_LIMIT = 1024
_SCALAR_TYPES = frozenset({str, int, float, bool, type(None)})


def _decoded_header(header_b64: str, what: str) -> dict[str, Any]:
    """``json_loads_object(b64url_decode(header_b64))``, a new dict each time; raises InvalidInput."""
    known = _HEADERS.get(header_b64)
    if known is not None:
        return dict(known)
    header = json_loads_object(b64url_decode(header_b64), what=f"{what} header")
    if len(header_b64) <= _HEADER_TEXT_LIMIT and all(type(value) in _SCALAR_TYPES for value in header.values()):
        if len(_HEADERS) >= _HEADERS_SIZE:
            _HEADERS.clear()
        _HEADERS[header_b64] = dict(header)
    return header


#: The encoded protected header (base64url of its JSON, and the ".") of each header made of strings alone, by
#: the key's alg and the header's members in order: a batch signs every credential with the same header.
_SIGNING_HEADERS: dict[tuple[Any, ...], str] = {}
_SIGNING_HEADERS_SIZE = 256


def _encoded_header(alg: str, header: Mapping[str, Any] | None) -> str:
    """``b64url(json(header with alg first)) + "."``, remembered when every member is a string (a value of
    another type may compare equal to another's, ``True == 1``, and would share its entry)."""
    members = (alg, *header.items()) if header else (alg,)
    known = _SIGNING_HEADERS.get(members) if header is None or all(type(v) is str for v in header.values()) \
        else None
    if known is not None:
        return known
    full_header = {"alg": alg, **(header or {})}
    if full_header["alg"] != alg:
        raise InvalidKey(f"header alg {full_header['alg']!r} does not match the key's {alg}")
    encoded = b64url_encode(json_dumps(full_header).encode("utf-8")) + "."
    if header is None or all(type(k) is str and type(v) is str for k, v in header.items()):
        if len(_SIGNING_HEADERS) >= _SIGNING_HEADERS_SIZE:
            _SIGNING_HEADERS.clear()
        _SIGNING_HEADERS[members] = encoded
    return encoded


def sign_jws(payload: Mapping[str, Any], key: PrivateKey, *, header: Mapping[str, Any] | None = None) -> str:
    """Sign ``payload`` as a compact JWS; ``alg`` comes from the key."""
    signing_input = _encoded_header(key.alg, header) + b64url_encode(json_dumps(payload).encode("utf-8"))
    return signing_input + "." + b64url_encode(key.sign(signing_input.encode("ascii")))


def verify_jws(
    token: str,
    key: PublicKey,
    *,
    expected_typ: Collection[str],
    what: str = "JWT",
) -> UnverifiedJws:
    """Parse, check ``typ`` and the signature; return the now verified parts."""
    jws = UnverifiedJws.parse(token, what=what)
    jws.check_typ(expected_typ, what=what)
    jws.verify_with(key, what=what)
    return jws
