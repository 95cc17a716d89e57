"""IETF Token Status List: the status list, its JWT, and the credential's reference.

Implements draft-ietf-oauth-status-list (editor's copy of 15 January 2026,
between -15 and -16; the format is unchanged in the approved -20):

- §4.1 the compressed byte array: ``bits`` of 1, 2, 4 or 8 per entry, index 0
  in the least significant bits of byte 0, DEFLATE in the ZLIB format
  (RFC 1950/1951) at the highest compression level;
- §4.2 the JSON form ``{"bits": n, "lst": "<base64url>", "aggregation_uri"?}``;
- §5.1 the Status List Token as a JWT (``typ: statuslist+jwt``; ``sub``,
  ``iat``, ``exp``, ``ttl``, ``status_list``) and §8.3 its validation;
- §6.2 the Referenced Token's ``status.status_list.{idx, uri}``;
- §7.1 the Status Type values.

:class:`StatusList` is mutable: :meth:`StatusList.set` changes the list in
place (an issuer flips many entries, then signs once). Everything a verifier
receives goes through :meth:`StatusList.from_json`, which refuses a list that
inflates past ``max_decompressed_bytes`` (a decompression bomb).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard
from urllib.parse import urlsplit

from credentials.errors import FormatError, InvalidInput, InvalidStatusList, RevocationError, VerificationError
from credentials.jose import PrivateKey, PublicKey, UnverifiedJws, b64url_decode, b64url_encode, sign_jws
from credentials.numeric_date import numeric_date

__all__ = [
    "STATUS_VALID",
    "STATUS_INVALID",
    "STATUS_SUSPENDED",
    "STATUS_APPLICATION_SPECIFIC",
    "ALLOWED_BITS",
    "MIN_STATUS_LIST_ENTRIES",
    "DEFAULT_MAX_DECOMPRESSED_BYTES",
    "STATUS_LIST_TOKEN_TYP",
    "inflate_limited",
    "StatusList",
    "VerifiedStatusList",
    "StatusReference",
    "sign_status_list_token",
    "verify_status_list_token",
    "referenced_status",
]

#: Status Type values (§7.1).
STATUS_VALID = 0x00
STATUS_INVALID = 0x01
STATUS_SUSPENDED = 0x02
STATUS_APPLICATION_SPECIFIC = 0x03

ALLOWED_BITS = (1, 2, 4, 8)

#: ARCHITECTURE.md: a list has at least 131,072 entries, so that an index
#: hides its holder in a large herd (draft §12.2).
MIN_STATUS_LIST_ENTRIES = 131_072

#: Decompressed size a received list may reach: 16 MiB is 2^27 one-bit entries.
DEFAULT_MAX_DECOMPRESSED_BYTES = 16 * 1024 * 1024

STATUS_LIST_TOKEN_TYP = "statuslist+jwt"

# JSON member names (§4.2, §5.1, §6.2).
BITS = "bits"
LST = "lst"
AGGREGATION_URI = "aggregation_uri"
STATUS = "status"
STATUS_LIST = "status_list"
IDX = "idx"
URI = "uri"
SUB = "sub"
IAT = "iat"
EXP = "exp"
TTL = "ttl"

_ZLIB_LEVEL = 9
_WHAT = "status list token"


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_bits(bits: Any) -> int:
    if not _is_int(bits) or bits not in ALLOWED_BITS:
        raise InvalidStatusList(f"'bits' must be one of 1, 2, 4, 8; found {bits!r}")
    return bits


def inflate_limited(compressed: bytes, limit: int, *, wbits: int, what: str) -> bytes:
    """Decompress (zlib ``wbits``) at most ``limit`` bytes; refuse bombs, truncation and trailing data."""
    decompressor = zlib.decompressobj(wbits=wbits)
    try:
        data = decompressor.decompress(compressed, limit + 1)
    except zlib.error as exc:
        raise InvalidStatusList(f"{what} is not valid compressed data ({exc})") from exc
    if len(data) > limit or decompressor.unconsumed_tail:
        raise InvalidStatusList(f"{what} inflates past the limit of {limit} bytes")
    if not decompressor.eof:
        raise InvalidStatusList(f"{what} is truncated: the compressed stream does not end")
    if decompressor.unused_data:
        raise InvalidStatusList(f"{what} has {len(decompressor.unused_data)} bytes after the compressed stream")
    return data


class StatusList:
    """A Token Status List: ``size`` entries of ``bits`` bits each (mutable)."""

    __slots__ = ("bits", "aggregation_uri", "_data")
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, data: bytes | bytearray, bits: int = 1, *, aggregation_uri: str | None = None):
        self.bits = _check_bits(bits)
        if not data:
            raise InvalidStatusList("a status list must hold at least one byte")
        if aggregation_uri is not None and not isinstance(aggregation_uri, str):
            raise InvalidStatusList("'aggregation_uri' must be a string")
        self.aggregation_uri = aggregation_uri
        self._data = bytearray(data)

    @classmethod
    def new(
        cls,
        size: int = MIN_STATUS_LIST_ENTRIES,
        bits: int = 1,
        *,
        minimum: int = MIN_STATUS_LIST_ENTRIES,
        aggregation_uri: str | None = None,
    ) -> StatusList:
        """An all-VALID list of at least ``size`` entries (rounded up to whole bytes)."""
        _check_bits(bits)
        if not _is_int(size) or size < max(minimum, 1):
            raise InvalidStatusList(f"a status list needs at least {max(minimum, 1)} entries, asked for {size!r}")
        return cls(bytes(-(-size * bits // 8)), bits, aggregation_uri=aggregation_uri)

    @property
    def size(self) -> int:
        """How many entries the byte array holds."""
        return len(self._data) * 8 // self.bits

    def to_bytes(self) -> bytes:
        return bytes(self._data)

    def _locate(self, index: int) -> tuple[int, int]:
        if not _is_int(index) or not 0 <= index < self.size:
            raise InvalidStatusList(f"index {index!r} is outside the status list of {self.size} entries")
        per_byte = 8 // self.bits
        return index // per_byte, (index % per_byte) * self.bits

    def get(self, index: int) -> int:
        """The status value at ``index``."""
        bits = self.bits
        if type(index) is int and 0 <= index < len(self._data) * 8 // bits:  # every verification: _locate inline
            per_byte = 8 // bits
            return (self._data[index // per_byte] >> (index % per_byte) * bits) & ((1 << bits) - 1)
        byte, shift = self._locate(index)  # raises for an index that is not one of the list's
        return (self._data[byte] >> shift) & ((1 << bits) - 1)

    def set(self, index: int, value: int) -> None:
        """Set the status at ``index`` to ``value``, in place."""
        byte, shift = self._locate(index)
        if not _is_int(value) or not 0 <= value < (1 << self.bits):
            raise InvalidStatusList(
                f"status value {value!r} does not fit in {self.bits} bit(s); expected 0..{(1 << self.bits) - 1}"
            )
        mask = ((1 << self.bits) - 1) << shift
        self._data[byte] = (self._data[byte] & ~mask) | (value << shift)

    def to_json(self) -> dict[str, Any]:
        """The §4.2 JSON object, ZLIB-compressed at the highest level."""
        obj: dict[str, Any] = {BITS: self.bits, LST: b64url_encode(zlib.compress(bytes(self._data), _ZLIB_LEVEL))}
        if self.aggregation_uri is not None:
            obj[AGGREGATION_URI] = self.aggregation_uri
        return obj

    @classmethod
    def from_json(
        cls, obj: Any, *, max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES
    ) -> StatusList:
        """Parse a §4.2 object strictly (extra members are allowed and ignored)."""
        if not isinstance(obj, Mapping):
            raise InvalidStatusList(f"a status list must be a JSON object, found {type(obj).__name__}")
        bits = _check_bits(obj.get(BITS))
        lst = obj.get(LST)
        if not isinstance(lst, str):
            raise InvalidStatusList(f"'lst' must be a base64url string, found {type(lst).__name__}")
        try:
            compressed = b64url_decode(lst)
        except InvalidInput as exc:
            raise InvalidStatusList(f"'lst' is not base64url: {exc}") from exc
        data = inflate_limited(compressed, max_decompressed_bytes, wbits=zlib.MAX_WBITS, what="'lst'")
        return cls(data, bits, aggregation_uri=obj.get(AGGREGATION_URI))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StatusList):
            return NotImplemented
        return (self.bits, self.aggregation_uri, self._data) == (other.bits, other.aggregation_uri, other._data)

    def __repr__(self) -> str:
        return f"StatusList(bits={self.bits}, size={self.size})"


# --- the Status List Token (JWT) ---------------------------------------------------


@dataclass(frozen=True)
class VerifiedStatusList:
    """A Status List Token whose signature, ``typ``, ``sub`` and times were checked."""

    uri: str
    iat: int
    exp: int | None
    ttl: int | None
    status_list: StatusList
    header: Mapping[str, Any]

    def status(self, index: int) -> int:
        """The status at ``index``; an index outside the list fails ``revocation``."""
        try:
            return self.status_list.get(index)
        except InvalidStatusList as exc:
            raise RevocationError(f"the credential's status {exc}") from exc


def sign_status_list_token(
    status_list: StatusList,
    key: PrivateKey,
    *,
    uri: str,
    iat: int,
    kid: str,
    exp: int | None = None,
    ttl: int | None = None,
) -> str:
    """Sign ``status_list`` as a §5.1 Status List Token (compact JWT)."""
    if not isinstance(uri, str) or not uri:
        raise InvalidStatusList("the status list token needs its URI as 'sub'")
    if not _is_int(iat):
        raise InvalidStatusList(f"'iat' must be an integer, found {iat!r:.40}")
    numeric_date(iat, "'iat'", InvalidStatusList)
    payload: dict[str, Any] = {SUB: uri, IAT: iat}
    if exp is not None:
        if not _is_int(exp) or exp <= iat:
            raise InvalidStatusList(f"'exp' must be an integer after iat {iat}, found {exp!r:.40}")
        numeric_date(exp, "'exp'", InvalidStatusList)
        payload[EXP] = exp
    if ttl is not None:
        if not _is_int(ttl) or ttl <= 0:
            raise InvalidStatusList(f"'ttl' must be a positive integer, found {ttl!r}")
        payload[TTL] = ttl
    payload[STATUS_LIST] = status_list.to_json()
    return sign_jws(payload, key, header={"typ": STATUS_LIST_TOKEN_TYP, "kid": kid})


def _malformed(reason: str) -> RevocationError:
    return RevocationError(f"the {_WHAT} is malformed: {reason}")


def _optional_time(payload: Mapping[str, Any], name: str) -> int | None:
    if name not in payload:
        return None
    return numeric_date(payload[name], f"'{name}'", _malformed)


def verify_status_list_token(
    token: str,
    key: PublicKey,
    *,
    expected_uri: str,
    now: int,
    max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES,
) -> VerifiedStatusList:
    """Check a Status List Token (§8.3); every failure fails the ``revocation`` check.

    Checks the algorithm allow-list, ``typ: statuslist+jwt``, the signature
    with ``key``, ``sub`` equal to the URI the credential pointed at,
    ``iat`` present, ``exp`` not passed at ``now``, and decodes the list.
    """
    try:
        jws = UnverifiedJws.parse(token, what=_WHAT)
        jws.check_typ((STATUS_LIST_TOKEN_TYP,), what=_WHAT)
    except FormatError as exc:
        raise _malformed(exc.reason) from exc
    except VerificationError as exc:
        raise RevocationError(exc.reason) from exc
    try:
        jws.verify_with(key, what=_WHAT)
    except VerificationError as exc:
        raise RevocationError(exc.reason) from exc
    payload = jws.payload
    sub = payload.get(SUB)
    if not isinstance(sub, str):
        raise _malformed(f"'sub' must be the list's URI, found {type(sub).__name__}")
    if sub != expected_uri:
        raise RevocationError(f"the {_WHAT} is for {sub!r}, but the credential points at {expected_uri!r}")
    iat = _optional_time(payload, IAT)
    if iat is None:
        raise _malformed("'iat' is missing")
    exp = _optional_time(payload, EXP)
    if exp is not None and now >= exp:
        raise RevocationError(f"the {_WHAT} expired at {exp}; it is now {now}")
    ttl = payload.get(TTL)
    if ttl is not None and (not _is_int(ttl) or ttl <= 0):
        raise _malformed(f"'ttl' must be a positive integer, found {ttl!r}")
    try:
        status_list = StatusList.from_json(payload.get(STATUS_LIST), max_decompressed_bytes=max_decompressed_bytes)
    except InvalidStatusList as exc:
        raise _malformed(f"its status_list: {exc}") from exc
    return VerifiedStatusList(uri=sub, iat=iat, exp=exp, ttl=ttl, status_list=status_list, header=jws.header)


# --- the Referenced Token's pointer ------------------------------------------------


@dataclass(frozen=True)
class StatusReference:
    """``status.status_list`` of a credential: where its status lives."""

    uri: str
    idx: int


def referenced_status(payload: Mapping[str, Any]) -> StatusReference:
    """Read ``status.status_list.{idx, uri}`` strictly (§6.2); :class:`FormatError` if bad."""
    # type(...) is dict first: what a JSON parser gives, without the abstract class check (every verification)
    status = payload.get(STATUS) if type(payload) is dict or isinstance(payload, Mapping) else None
    if not (type(status) is dict or isinstance(status, Mapping)):
        raise FormatError(f"expected a 'status' object in the credential, found {type(status).__name__}")
    reference = status.get(STATUS_LIST)
    if not (type(reference) is dict or isinstance(reference, Mapping)):
        raise FormatError(f"expected 'status.status_list' to be an object, found {type(reference).__name__}")
    idx, uri = reference.get(IDX), reference.get(URI)
    if not _is_int(idx) or idx < 0:
        raise FormatError(f"expected 'status.status_list.idx' to be a non-negative integer, found {idx!r}")
    if not isinstance(uri, str):
        raise FormatError(f"expected 'status.status_list.uri' to be a string, found {type(uri).__name__}")
    try:
        parts = urlsplit(uri)
    except ValueError as exc:
        raise FormatError(f"'status.status_list.uri' is not a URL: {exc}") from exc
    if parts.scheme not in ("https", "http") or not parts.netloc or parts.fragment:
        raise FormatError(f"expected 'status.status_list.uri' to be an http(s) URL without fragment, found {uri!r}")
    return StatusReference(uri=uri, idx=idx)
