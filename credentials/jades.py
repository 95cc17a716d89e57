"""JAdES seals as Europass EDC uses them: parse, verify against X.509 trust anchors, and seal (tests, bench).

Implements ETSI TS 119 182-1 V1.1.1 (JAdES) at its baseline B-B level over
RFC 7515 (JWS, JSON serialization general or flattened, and compact) and
RFC 7797 (``b64: false``, the unencoded payload that EDC seals carry):

* exactly one signature; its protected header carries ``alg`` (one of
  :data:`JADES_ALGS`, within :data:`credentials.jose.IMPORTED_FORMAT_ALGS`),
  ``sigT`` (the claimed signing time, ``YYYY-MM-DDThh:mm:ssZ``), the signing
  certificate as ``x5c`` (its first element) and/or ``x5t#S256`` (its
  SHA-256), and ``crit``; ``crit`` may list only ``b64`` and ``sigT`` (the
  parameters understood here) and must list ``b64`` when it is present;
* the verification key is the signing certificate's, and that certificate must
  chain to a configured anchor, valid at ``sigT`` (:mod:`credentials.x509_trust`);
  a key named by ``jwk``, ``jku`` or ``x5u`` is refused, as is ``sigD``
  (detached payloads, which EDC does not use);
* the unprotected header may hold only ``etsiU``; from its ``xVals``
  certificates are taken as untrusted chain-building candidates (they prove
  nothing until they chain to an anchor). Its time-stamps (``sigTst``,
  ``arcTst``) and revocation values are not verified and are reported by name
  in :attr:`VerifiedJades.unverified_properties`.

``sigT`` is what the signer claims, not a trusted time; it must not lie in the
future of the verifier's ``now``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from credentials._json import json_dumps, json_loads_object
from credentials.errors import FormatError, InvalidInput, InvalidKey, SignatureError
from credentials.jose import IMPORTED_FORMAT_ALGS, PrivateKey, PublicKey, b64url_decode, b64url_encode
from credentials.x509_trust import CertificateSummary, TrustAnchors, validate_seal_chain

__all__ = [
    "JADES_ALGS",
    "UNDERSTOOD_CRIT",
    "MAX_CERTIFICATES",
    "VerifiedJades",
    "SealingKey",
    "verify_jades",
    "check_jades_form",
    "seal_jades",
]

#: The JAdES algorithms accepted (RSA keys of at least 2048 bits; ES256 on P-256).
JADES_ALGS = frozenset({"RS256", "PS256", "ES256"}) & IMPORTED_FORMAT_ALGS
#: Header parameters that may be listed in ``crit``.
UNDERSTOOD_CRIT = frozenset({"b64", "sigT"})
#: At most this many certificates in ``x5c`` plus ``etsiU`` ``xVals`` together.
MAX_CERTIFICATES = 16
#: Each certificate is at most this long (DER bytes).
MAX_CERTIFICATE_BYTES = 16 * 1024
#: ``sigT`` may be this far ahead of the verifier's clock (seconds).
SIGNING_TIME_LEEWAY = 300

_KEY_FROM_HEADER = ("jwk", "jku", "x5u")
_TYP_VALUES = ("jose", "jose+json")
_SIG_T = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z")
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_ETSI_U = "etsiU"

SealingKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class VerifiedJades:
    """A seal whose signature and certificate chain passed; ``payload`` is the signed bytes.

    ``payload_text``: for an unencoded (``b64: false``) payload of a JSON serialization, the text those
    bytes are the UTF-8 encoding of, as the seal's JSON held it (so a reader need not decode them again);
    None otherwise.
    """

    payload: bytes
    alg: str
    signing_time: int
    certificate: x509.Certificate
    chain: tuple[CertificateSummary, ...]
    protected_header: dict[str, Any]
    unverified_properties: tuple[str, ...]
    payload_text: str | None = None


@dataclass(frozen=True)
class _Parts:
    protected_b64: str
    protected: dict[str, Any]
    unprotected: dict[str, Any]
    payload: bytes
    payload_segment: bytes
    signature: bytes
    payload_text: str | None = None


def _b64url(text: Any, what: str) -> bytes:
    try:
        return b64url_decode(text)
    except InvalidInput:
        raise FormatError(f"the seal's {what} must be base64url text without padding") from None


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FormatError(f"the seal's {what} must be a JSON object, found {type(value).__name__}")
    return value


def _split(serialized: Mapping[str, Any] | str) -> _Parts:
    """The parts of one signature, from the general or flattened JSON or the compact serialization."""
    if isinstance(serialized, str):
        pieces = serialized.split(".")
        if len(pieces) != 3:
            raise FormatError(f"a compact seal has 3 dot-separated parts, found {len(pieces)}")
        protected_b64, payload_text, signature_b64 = pieces
        entry: Mapping[str, Any] = {"protected": protected_b64, "signature": signature_b64}
        payload_value: Any = payload_text
    else:
        if "signatures" in serialized:
            if "signature" in serialized or "protected" in serialized or "header" in serialized:
                raise FormatError("the seal mixes the general and the flattened JSON serialization")
            signatures = serialized["signatures"]
            if not isinstance(signatures, list) or len(signatures) != 1:
                count = len(signatures) if isinstance(signatures, list) else "no list of"
                raise FormatError(f"an EDC carries exactly one seal; found {count} signatures")
            entry = _object(signatures[0], "signature entry")
        else:
            entry = serialized
        payload_value = serialized.get("payload")
    if not isinstance(entry.get("protected"), str):
        raise FormatError("the seal has no protected header")
    protected_b64 = entry["protected"]
    try:
        protected = json_loads_object(_b64url(protected_b64, "protected header"), what="the seal's protected header")
    except InvalidInput as exc:
        raise FormatError(str(exc)) from None
    unprotected = _object(entry.get("header", {}), "unprotected header")
    signature = _b64url(entry.get("signature"), "signature")
    unencoded = protected.get("b64") is False
    text: str | None = None
    if not isinstance(payload_value, str) or not payload_value:
        raise FormatError("the seal carries no payload; detached payloads are not accepted")
    if unencoded:
        if isinstance(serialized, str):
            raise FormatError("a compact seal cannot carry an unencoded ('b64': false) JSON payload")
        try:
            payload = payload_segment = payload_value.encode("utf-8")
        except UnicodeEncodeError:
            raise FormatError("the seal's payload is not valid Unicode text") from None
        text = payload_value  # encoded without error, so decoding ``payload`` gives exactly this
    else:
        payload = _b64url(payload_value, "payload")
        payload_segment = payload_value.encode("ascii")
    return _Parts(protected_b64, protected, unprotected, payload, payload_segment, signature, text)


def _check_headers(parts: _Parts) -> tuple[str, int]:
    """Apply the header rules; return (alg, sigT as epoch seconds)."""
    protected, unprotected = parts.protected, parts.unprotected
    shared = sorted(set(protected) & set(unprotected))
    if shared:
        raise FormatError(f"header parameter(s) {shared} appear both protected and unprotected (RFC 7515 §7.2.1)")
    extra = sorted(set(unprotected) - {_ETSI_U})
    if extra:
        raise FormatError(f"the seal's unprotected header may hold only 'etsiU', found {extra[:5]}")
    named = [name for name in _KEY_FROM_HEADER if name in protected]
    if named:
        raise SignatureError(
            f"the seal names its key by {named[0]!r}; only a certificate chain (x5c) to a trust anchor is accepted"
        )
    if "sigD" in protected:
        raise FormatError("the seal signs detached data objects ('sigD'); EDC seals carry their payload")
    alg = protected.get("alg")
    if alg not in JADES_ALGS:
        raise SignatureError(f"the seal uses algorithm {alg!r:.40}; only {', '.join(sorted(JADES_ALGS))} are accepted")
    typ = protected.get("typ")
    if typ is not None and (not isinstance(typ, str) or typ.lower().removeprefix("application/") not in _TYP_VALUES):
        raise FormatError(f"the seal has typ {typ!r:.60}; expected 'jose+json' or 'jose'")
    crit = protected.get("crit")
    if crit is not None:
        if (not isinstance(crit, list) or not crit or not all(isinstance(c, str) for c in crit)
                or len(set(crit)) != len(crit)):
            raise FormatError("the seal's 'crit' header must be a non-empty list of distinct names")
        unknown = sorted(set(crit) - UNDERSTOOD_CRIT)
        if unknown:
            raise FormatError(f"the seal marks header parameter(s) {unknown[:5]} critical, which are not supported")
        absent = sorted(name for name in crit if name not in protected)
        if absent:
            raise FormatError(f"the seal's 'crit' lists {absent} but its protected header lacks them")
    b64 = protected.get("b64", True)
    if not isinstance(b64, bool):
        raise FormatError("the seal's 'b64' header must be true or false")
    if "b64" in protected and "b64" not in (crit or ()):
        raise FormatError("the seal's 'b64' header must be listed in 'crit' (RFC 7797 §6)")
    sig_t = protected.get("sigT")
    fields = _SIG_T.fullmatch(sig_t) if isinstance(sig_t, str) else None
    if fields is None:
        raise FormatError(f"the seal's signing time 'sigT' must look like 2024-01-31T12:00:00Z, found {sig_t!r:.40}")
    try:
        year, month, day, hour, minute, second = (int(field) for field in fields.groups())
        moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        raise FormatError(f"the seal's signing time 'sigT' {sig_t!r} is not a valid date and time") from None
    return alg, int(moment.timestamp())


def _certificate(text: Any, what: str) -> x509.Certificate:
    if not isinstance(text, str) or len(text) > MAX_CERTIFICATE_BYTES * 4 // 3 + 4 or not _BASE64.fullmatch(text):
        raise FormatError(f"{what} must be a base64 DER certificate of at most {MAX_CERTIFICATE_BYTES} bytes")
    try:
        der = base64.b64decode(text, validate=True)
        return x509.load_der_x509_certificate(der)
    except (binascii.Error, ValueError):
        raise FormatError(f"{what} is not a DER X.509 certificate") from None


def _etsi_u(unprotected: Mapping[str, Any]) -> tuple[list[Any], list[str]]:
    """The ``xVals`` certificate values and the names of every unsigned property in ``etsiU``."""
    items = unprotected.get(_ETSI_U, [])
    if not isinstance(items, list):
        raise FormatError("the seal's 'etsiU' must be a list")
    values: list[Any] = []
    names: list[str] = []
    for item in items:
        if isinstance(item, str):  # the base64url-encoded form (TS 119 182-1 §5.3.2)
            try:
                item = json_loads_object(_b64url(item, "etsiU element"), what="an etsiU element")
            except InvalidInput as exc:
                raise FormatError(str(exc)) from None
        if not isinstance(item, dict) or len(item) != 1:
            raise FormatError("each 'etsiU' element must be an object with one unsigned property")
        (name, value), = item.items()
        names.append(str(name)[:40])
        if name == "xVals":
            if not isinstance(value, list):
                raise FormatError("'xVals' must be a list of certificate values")
            for entry in value:
                cert = entry.get("x509Cert") if isinstance(entry, dict) else None
                if isinstance(cert, dict):
                    values.append(cert.get("val"))
    return values, names


def _certificates(parts: _Parts) -> tuple[x509.Certificate, list[x509.Certificate], list[str]]:
    """The signing certificate, the other (untrusted) certificates, and the unsigned property names."""
    x5c = parts.protected.get("x5c")
    thumbprint = parts.protected.get("x5t#S256")
    if x5c is None and thumbprint is None:
        raise FormatError("the seal names no signing certificate ('x5c' or 'x5t#S256' in its protected header)")
    if x5c is not None and (not isinstance(x5c, list) or not x5c):
        raise FormatError("the seal's 'x5c' must be a non-empty list of certificates")
    extra, names = _etsi_u(parts.unprotected)
    if len(x5c or ()) + len(extra) > MAX_CERTIFICATES:
        raise FormatError(f"the seal carries more than {MAX_CERTIFICATES} certificates")
    header_certs = [_certificate(text, "each 'x5c' entry") for text in x5c or ()]
    others = [_certificate(text, "each 'xVals' certificate") for text in extra]
    if header_certs:
        signing = header_certs[0]
        if thumbprint is not None and _thumbprint(signing) != thumbprint:
            raise SignatureError("the seal's 'x5t#S256' does not match its signing certificate in 'x5c'")
    else:
        matching = [c for c in others if _thumbprint(c) == thumbprint]
        if not matching:
            raise SignatureError("no certificate carried by the seal matches its 'x5t#S256'")
        signing = matching[0]
    pool = [c for c in header_certs[1:] + others if c != signing]
    return signing, pool, [n for n in names if n != "xVals"]


def _thumbprint(certificate: x509.Certificate) -> str:
    return b64url_encode(hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).digest())


def _verify_signature(parts: _Parts, alg: str, certificate: x509.Certificate) -> None:
    try:
        key = PublicKey.from_cryptography(certificate.public_key(), alg=alg if alg.startswith(("RS", "PS")) else None)
    except InvalidKey as exc:
        raise SignatureError(f"the seal certificate's key cannot verify {alg}: {exc}") from None
    if alg not in key.algs:
        raise SignatureError(f"the seal is signed with {alg} but its certificate holds a key for {key.alg}")
    signing_input = parts.protected_b64.encode("ascii") + b"." + parts.payload_segment
    if not key.verify(signing_input, parts.signature, alg=alg):
        raise SignatureError("the seal's signature does not match the payload and the seal certificate's key")


def check_jades_form(serialized: Mapping[str, Any] | str) -> None:
    """The checks of :func:`verify_jades` that need no key or anchor: the serialization and the header rules.

    Raises :class:`FormatError` (or :class:`SignatureError` for a key named in the header, an unaccepted
    algorithm), as :func:`verify_jades` would for the same seal.
    """
    _check_headers(_split(serialized))


def verify_jades(
    serialized: Mapping[str, Any] | str,
    *,
    trust_anchors: TrustAnchors,
    now: int,
) -> VerifiedJades:
    """Verify a JAdES seal already parsed from JSON (or a compact string) at time ``now``.

    Raises :class:`FormatError` for a malformed seal and :class:`SignatureError`
    when the signature, the algorithm or the certificate chain fails.
    """
    parts = _split(serialized)
    alg, signing_time = _check_headers(parts)
    certificate, pool, unsigned = _certificates(parts)
    _verify_signature(parts, alg, certificate)
    if signing_time > now + SIGNING_TIME_LEEWAY:
        raise SignatureError(f"the seal claims to be made at {parts.protected['sigT']}, after the time of verification")
    chain = validate_seal_chain(certificate, pool, trust_anchors, at=signing_time)
    return VerifiedJades(
        payload=parts.payload,
        alg=alg,
        signing_time=signing_time,
        certificate=certificate,
        chain=chain,
        protected_header=dict(parts.protected),
        unverified_properties=tuple(unsigned),
        payload_text=parts.payload_text,
    )


def _sign(key: SealingKey, alg: str, signing_input: bytes) -> bytes:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return PrivateKey.from_cryptography(key).sign(signing_input)
    chosen: padding.AsymmetricPadding = (
        padding.PKCS1v15() if alg == "RS256" else padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    )
    return key.sign(signing_input, chosen, hashes.SHA256())


def seal_jades(
    payload: bytes,
    key: SealingKey,
    chain: Sequence[x509.Certificate],
    *,
    signing_time: int,
    alg: str | None = None,
    serialization_form: Literal["general", "flattened", "compact"] = "general",
    unencoded: bool = True,
    extra_header: Mapping[str, Any] | None = None,
) -> str:
    """Seal ``payload`` the way EDC seals are made: ``x5c`` = ``chain`` (seal certificate first),
    ``x5t#S256``, ``sigT``, ``b64: false`` unless ``unencoded`` is false. For tests and benchmarks."""
    if alg is None:
        alg = "ES256" if isinstance(key, ec.EllipticCurvePrivateKey) else "RS256"
    if alg not in JADES_ALGS or isinstance(key, ed25519.Ed25519PrivateKey):
        raise InvalidKey(f"cannot seal with alg {alg!r}; expected one of {sorted(JADES_ALGS)}")
    if unencoded and serialization_form == "compact":
        raise InvalidInput("a compact seal needs an encoded payload (unencoded=False)")
    header: dict[str, Any] = {
        "alg": alg,
        "typ": "jose" if serialization_form == "compact" else "jose+json",
        "x5t#S256": _thumbprint(chain[0]),
        "x5c": [base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode("ascii") for c in chain],
        "sigT": datetime.fromtimestamp(signing_time, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "crit": ["b64", "sigT"] if unencoded else ["sigT"],
    }
    if unencoded:
        header["b64"] = False
    header.update(extra_header or {})
    protected_b64 = b64url_encode(json_dumps(header).encode("utf-8"))
    segment = payload if unencoded else b64url_encode(payload).encode("ascii")
    signature = b64url_encode(_sign(key, alg, protected_b64.encode("ascii") + b"." + segment))
    if serialization_form == "compact":
        return f"{protected_b64}.{segment.decode('ascii')}.{signature}"
    payload_member = payload.decode("utf-8") if unencoded else segment.decode("ascii")
    entry = {"protected": protected_b64, "signature": signature}
    if serialization_form == "flattened":
        return json_dumps({"payload": payload_member, **entry})
    return json_dumps({"payload": payload_member, "signatures": [entry]})
