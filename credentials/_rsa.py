"""RSA public keys for the imported formats only: RS256 and PS256.

Implements RFC 7518 §3.3 (RS256: RSASSA-PKCS1-v1_5 with SHA-256), §3.5
(PS256: RSASSA-PSS with SHA-256, MGF1 with SHA-256, a salt as long as the
hash) and §6.3.1 (the public RSA JWK: ``n`` and ``e`` as unsigned big-endian
integers in the fewest octets), with the key-size floor of NIST SP 800-57 /
SOG-IS (at least 2048 bits).

Europass EDC seals, Open Badges 3.0 issuers and other imported credentials
sign with RSA; microcred's own SD-JWT VCs never do (see
:data:`credentials.jose.ALLOWED_ALGS`). Signing is not offered here.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from credentials.errors import InvalidInput, InvalidKey

__all__ = ["RSA_ALGS", "MIN_RSA_BITS", "MAX_RSA_BITS", "rsa_public_from_jwk", "rsa_public_jwk",
           "checked_rsa_key", "rsa_algs", "rsa_verify"]

#: The RSA JWS algorithms accepted for imported formats.
RSA_ALGS = frozenset({"RS256", "PS256"})
#: Smaller moduli are refused (RFC 7518 §3.3: "2048 bits or larger MUST be used").
MIN_RSA_BITS = 2048
#: Larger moduli are refused too: verification cost grows with the modulus.
MAX_RSA_BITS = 8192
_SHA256_LEN = 32
_MAX_MEMBER_CHARS = (MAX_RSA_BITS // 8 * 4 + 2) // 3 + 1
_B64URL_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _b64url_uint(value: Any, name: str) -> int:
    """An RFC 7518 §2 Base64urlUInt: base64url, no padding, no leading zero octet."""
    if not isinstance(value, str) or not value or not set(value) <= _B64URL_CHARS or len(value) % 4 == 1:
        raise InvalidKey(f"RSA JWK member {name!r} is missing or not base64url")
    if len(value) > _MAX_MEMBER_CHARS:
        raise InvalidKey(f"RSA JWK member {name!r} is longer than any accepted key")
    raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != value:
        raise InvalidKey(f"RSA JWK member {name!r} has non-canonical base64url trailing bits")
    if raw[0] == 0:
        raise InvalidKey(f"RSA JWK member {name!r} has a leading zero octet (RFC 7518 §6.3.1 forbids it)")
    return int.from_bytes(raw, "big")


def _b64url_of(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def rsa_algs(declared: Any) -> frozenset[str]:
    """The algorithms an RSA key may verify: the JWK's ``alg`` if it names one, else both."""
    if declared is None:
        return RSA_ALGS
    if declared not in RSA_ALGS:
        raise InvalidKey(f"RSA key declares alg {declared!r}; expected one of {', '.join(sorted(RSA_ALGS))}")
    return frozenset({declared})


def checked_rsa_key(key: rsa.RSAPublicKey) -> rsa.RSAPublicKey:
    """Refuse a modulus outside :data:`MIN_RSA_BITS` … :data:`MAX_RSA_BITS`."""
    if key.key_size < MIN_RSA_BITS:
        raise InvalidKey(f"the RSA key has {key.key_size} bits; at least {MIN_RSA_BITS} are required")
    if key.key_size > MAX_RSA_BITS:
        raise InvalidKey(f"the RSA key has {key.key_size} bits; at most {MAX_RSA_BITS} are accepted")
    return key


def rsa_public_from_jwk(jwk: Mapping[str, Any]) -> tuple[dict[str, str], rsa.RSAPublicKey]:
    """The required members ``{e, kty, n}`` of a public RSA JWK and the key they make."""
    n, e = _b64url_uint(jwk.get("n"), "n"), _b64url_uint(jwk.get("e"), "e")
    if n.bit_length() < MIN_RSA_BITS or n.bit_length() > MAX_RSA_BITS:
        # Checked before building the key, so no oversized number reaches the library.
        raise InvalidKey(f"the RSA key has {n.bit_length()} bits; "
                         f"expected {MIN_RSA_BITS} to {MAX_RSA_BITS}")
    try:
        key = rsa.RSAPublicNumbers(e, n).public_key()
    except ValueError as exc:
        raise InvalidKey("the RSA JWK does not describe a valid public key (e must be odd, 3 <= e < n)") from exc
    return {"e": str(jwk["e"]), "kty": "RSA", "n": str(jwk["n"])}, checked_rsa_key(key)


def rsa_public_jwk(key: rsa.RSAPublicKey) -> dict[str, str]:
    """The public JWK ``{e, kty, n}`` of ``key``."""
    numbers = key.public_numbers()
    return {"e": _b64url_of(numbers.e), "kty": "RSA", "n": _b64url_of(numbers.n)}


def rsa_verify(key: rsa.RSAPublicKey, alg: str, signing_input: bytes, signature: bytes) -> bool:
    """True when ``signature`` is a valid ``alg`` signature of ``signing_input``."""
    if alg == "RS256":
        chosen: padding.AsymmetricPadding = padding.PKCS1v15()
    elif alg == "PS256":
        chosen = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=_SHA256_LEN)
    else:
        raise InvalidInput(f"{alg!r} is not an RSA algorithm; expected one of {sorted(RSA_ALGS)}")
    if len(signature) != (key.key_size + 7) // 8:
        return False
    try:
        key.verify(signature, signing_input, chosen, hashes.SHA256())
    except InvalidSignature:
        return False
    return True
