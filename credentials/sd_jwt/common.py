"""Shared pieces of SD-JWT (IETF RFC 9901, Selective Disclosure for JWTs).

The compact serialization (RFC 9901 §4)::

    <Issuer-signed JWT>~<Disclosure 1>~…~<Disclosure N>~[<KB-JWT>]

A Disclosure is ``base64url(UTF-8 JSON array)``: ``[salt, name, value]`` for an
object property (§4.2.1) or ``[salt, value]`` for an array element (§4.2.2).
Its digest is ``base64url(hash(ASCII of the base64url string))`` (§4.2.3),
placed in an ``_sd`` array of the object or as ``{"...": digest}`` in the array.
"""

from __future__ import annotations

import binascii
import hashlib
from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from credentials._json import json_loads, plain_json_value, scan_json_value
from credentials.errors import DisclosureError, FormatError, InvalidInput
from credentials.jose import MAX_TOKEN_LENGTH, b64url_decode, b64url_encode

__all__ = [
    "SD_DIGESTS_KEY",
    "ARRAY_DIGEST_KEY",
    "SD_ALG_KEY",
    "CNF_KEY",
    "KB_JWT_TYP",
    "SEPARATOR",
    "DEFAULT_SD_ALG",
    "HASH_ALGORITHMS",
    "MAX_SD_JWT_LENGTH",
    "MAX_DISCLOSURES",
    "Disclosure",
    "UnverifiedSdJwt",
    "decoded_disclosures",
    "digest_of",
]

SD_DIGESTS_KEY = "_sd"
ARRAY_DIGEST_KEY = "..."
SD_ALG_KEY = "_sd_alg"
CNF_KEY = "cnf"
KB_JWT_TYP = "kb+jwt"
SEPARATOR = "~"
DEFAULT_SD_ALG = "sha-256"

#: Hash algorithms by their IANA "Named Information Hash Algorithm" names (§4.1.1).
HASH_ALGORITHMS: dict[str, Callable[[bytes], Any]] = {
    "sha-256": hashlib.sha256,
    "sha-384": hashlib.sha384,
    "sha-512": hashlib.sha512,
}

#: Refuse anything longer before parsing (characters).
MAX_SD_JWT_LENGTH = MAX_TOKEN_LENGTH
#: More disclosures than this in one SD-JWT is refused as abuse.
MAX_DISCLOSURES = 1024

#: Never a disclosure's claim name: ``_sd`` and ``...`` (§4.2.1, §7.1 step 3.3.2.2), and ``_sd_alg``,
#: which may appear only at the top level of the Issuer-signed JWT's payload (§4.1.1).
_RESERVED_NAMES = frozenset({SD_DIGESTS_KEY, ARRAY_DIGEST_KEY, SD_ALG_KEY})


def digest_of(encoded: str, sd_alg: str = DEFAULT_SD_ALG) -> str:
    """The digest of a disclosure or serialization, as RFC 9901 §4.2.3 computes it."""
    try:
        hash_function = HASH_ALGORITHMS[sd_alg]
    except KeyError:
        raise DisclosureError(
            f"unsupported _sd_alg {sd_alg!r}; expected one of {', '.join(HASH_ALGORITHMS)}"
        ) from None
    return b64url_encode(hash_function(encoded.encode("ascii")).digest())


@dataclass(frozen=True)
class Disclosure:
    """One disclosure, decoded. ``name`` is None for an array element."""

    encoded: str
    salt: str
    name: str | None
    value: Any

    @classmethod
    def parse(cls, encoded: str) -> Disclosure:
        """Decode and check a disclosure's shape (RFC 9901 §4.2)."""
        try:
            decoded = json_loads(b64url_decode(encoded), what="disclosure")
        except InvalidInput as exc:
            raise DisclosureError(f"a disclosure is malformed: {exc}") from exc
        if not isinstance(decoded, list) or len(decoded) not in (2, 3):
            raise DisclosureError("a disclosure must be a JSON array of 2 or 3 elements")
        salt = decoded[0]
        if not isinstance(salt, str):
            raise DisclosureError("a disclosure's salt must be a string")
        if len(decoded) == 2:
            return _disclosure(cls, encoded, salt, None, decoded[1])
        name = decoded[1]
        if not isinstance(name, str):
            raise DisclosureError("a disclosure's claim name must be a string")
        if name in _RESERVED_NAMES:
            raise DisclosureError(f"a disclosure may not use the reserved claim name {name!r}")
        return _disclosure(cls, encoded, salt, name, decoded[2])

    @property
    def is_array_element(self) -> bool:
        return self.name is None

    def digest(self, sd_alg: str = DEFAULT_SD_ALG) -> str:
        return digest_of(self.encoded, sd_alg)


def _disclosure(cls: type[Disclosure], encoded: str, salt: str, name: str | None, value: Any) -> Disclosure:
    """``cls(encoded, salt, name, value)``, its fields set directly in its ``__dict__``: the frozen dataclass's
    ``__init__`` sets each through ``object.__setattr__``, about three times slower, for every disclosure of every
    presentation (and ``__dict__.update`` with keywords builds a dict of them first, some 0.5 us more)."""
    disclosure = object.__new__(cls)
    fields = disclosure.__dict__
    fields["encoded"], fields["salt"], fields["name"], fields["value"] = encoded, salt, name, value
    return disclosure


_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
#: What completes a base64url text of length 0, 2 or 3 modulo 4 to whole groups of four characters: "A", which
#: stands for six zero bits, so that the bytes it adds are zero exactly when the text's unused trailing bits are.
_FILL = ("", "", "AA", "A")


def decoded_disclosures(encoded: Collection[str],
                        hash_function: Callable[[bytes], Any]) -> list[tuple[str, Disclosure]] | None:
    """Each of ``encoded`` as ``(its digest, Disclosure)``, in order: the base64url of all of them decoded in one
    call, their digests encoded in one call. None when any is not plain: given twice, not canonical base64url,
    JSON that :func:`json_loads` reads only on its slower path (or refuses), or refused by
    :meth:`Disclosure.parse`; the caller then decodes them one by one with :meth:`Disclosure.parse` and
    :func:`digest_of`, which say what is wrong and where. For plain ones, both give the same values."""
    if len(set(encoded)) != len(encoded):
        return None
    for text in encoded:
        if len(text) % 4 == 1:
            return None
    joined = "".join([text + _FILL[len(text) % 4] for text in encoded])
    if not joined.isascii():
        return None
    # As b64url_decode does for one text: '+', '/' and '=' deleted, and any other character outside the alphabet
    # skipped by binascii (not in strict mode: faster), so that text holding any of them decodes to fewer bytes
    # than its length says.
    try:
        raw = binascii.a2b_base64(joined.encode("ascii").translate(_FROM_URLSAFE, b"+/="))
    except binascii.Error:
        return None
    if len(raw) != len(joined) * 3 // 4:
        return None
    # All ASCII (the usual case): each value read out of one text from where its bytes start, and it must end
    # where they end. Else (offsets in bytes and in characters differ) each is decoded on its own.
    try:
        whole: str | None = raw.decode("ascii")
    except UnicodeDecodeError:
        whole = None
    found: list[Disclosure] = []
    digests: list[bytes] = []
    new = object.__new__
    start = 0
    for text in encoded:
        length = len(text)
        data_end = start + length * 3 // 4
        end = start + (length + 3) // 4 * 3
        if end != data_end and raw.count(0, data_end, end) != end - data_end:  # unused trailing bits not all zero
            return None
        if whole is None:
            value = plain_json_value(raw[start:data_end])
        else:
            try:
                value, value_end = scan_json_value(whole, start)
            except (InvalidInput, ValueError, StopIteration, RecursionError):
                return None
            if value_end != data_end:
                return None
        start = end
        if type(value) is not list:  # NOT_PLAIN included
            return None
        if len(value) == 3:
            salt, name, claim = value
            if type(name) is not str or name in _RESERVED_NAMES:
                return None
        elif len(value) == 2:
            salt, claim = value
            name = None
        else:
            return None
        if type(salt) is not str:
            return None
        disclosure = new(Disclosure)  # fields set directly, as in _disclosure
        fields = disclosure.__dict__
        fields["encoded"], fields["salt"], fields["name"], fields["value"] = text, salt, name, claim
        found.append(disclosure)
        digests.append(hash_function(text.encode("ascii")).digest())
    if not found:
        return []
    # One base64 text for all digests, each followed by the zero bytes that make it whole groups of three bytes:
    # its first ceil(4n/3) characters are then the digest's own base64url, unpadded (zero bits either way).
    size = len(digests[0])
    fill = bytes(-size % 3)
    chunk, kept = (size + len(fill)) * 4 // 3, (size * 4 + 2) // 3
    text = binascii.b2a_base64(fill.join(digests) + fill, newline=False).translate(_TO_URLSAFE).decode("ascii")
    return [(text[i * chunk:i * chunk + kept], disclosure) for i, disclosure in enumerate(found)]


@dataclass(frozen=True)
class UnverifiedSdJwt:
    """An SD-JWT or SD-JWT+KB split into its parts, nothing checked yet.

    ``issuer_jwt`` is the issuer-signed JWT, ``disclosures`` the encoded
    disclosures in order, ``kb_jwt`` the Key Binding JWT or None.
    """

    issuer_jwt: str
    disclosures: tuple[str, ...]
    kb_jwt: str | None

    @classmethod
    def parse(cls, serialization: str) -> UnverifiedSdJwt:
        """Split the compact serialization (RFC 9901 §4); raise FormatError if it is not one."""
        if not isinstance(serialization, str):
            raise FormatError("an SD-JWT must be text")
        serialization = serialization.strip()
        if len(serialization) > MAX_SD_JWT_LENGTH:
            raise FormatError(
                f"the SD-JWT is {len(serialization)} characters, over the limit of {MAX_SD_JWT_LENGTH}"
            )
        if SEPARATOR not in serialization:
            raise FormatError("not an SD-JWT: no '~' separator after the issuer-signed JWT")
        parts = serialization.split(SEPARATOR)
        issuer_jwt, middle, last = parts[0], parts[1:-1], parts[-1]
        if not issuer_jwt:
            raise FormatError("the SD-JWT has no issuer-signed JWT before the first '~'")
        if len(middle) > MAX_DISCLOSURES:
            raise FormatError(f"the SD-JWT has {len(middle)} disclosures, over the limit of {MAX_DISCLOSURES}")
        if "" in middle:
            raise FormatError("the SD-JWT has an empty disclosure (two '~' in a row)")
        if last and last.count(".") != 2:
            raise FormatError(
                "the SD-JWT does not end with '~' and its last part is not a Key Binding JWT"
            )
        parsed = object.__new__(cls)  # fields set directly, as in _disclosure
        # without_kb too: what the parts were split from, up to the last '~' (the same text, not joined again).
        fields = parsed.__dict__
        fields["issuer_jwt"], fields["disclosures"], fields["kb_jwt"], fields["without_kb"] = (
            issuer_jwt, tuple(middle), last or None, serialization[:len(serialization) - len(last)])
        return parsed

    @cached_property
    def without_kb(self) -> str:
        """``<JWT>~<D1>~…~<Dn>~``: the string the KB-JWT's ``sd_hash`` covers (§4.3.1)."""
        return SEPARATOR.join((self.issuer_jwt, *self.disclosures)) + SEPARATOR

    def serialize(self) -> str:
        return self.without_kb + (self.kb_jwt or "")
