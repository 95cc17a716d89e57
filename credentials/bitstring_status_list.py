"""W3C Bitstring Status List v1.0: the bitstring, its credential, and the entry.

Implements, for ``statusSize`` 1 and the purposes ``revocation`` and
``suspension`` (``message`` and anything else is refused with a clear error):

- §2.1 ``BitstringStatusListEntry`` (``statusPurpose``, ``statusListIndex`` as
  a base-10 string, ``statusListCredential``), read strictly from a
  credential's ``credentialStatus``;
- §2.2 ``BitstringStatusListCredential`` (VCDM 2.0: ``@context``, ``type``,
  ``issuer``, ``validFrom``, ``credentialSubject`` of type
  ``BitstringStatusList`` with ``statusPurpose`` and ``encodedList``), built
  unsigned and parsed back;
- §3 bitstring encoding: at least 131,072 bits, index 0 the left-most (most
  significant) bit of byte 0, GZIP (RFC 1952), multibase base64url without
  padding (prefix ``u``); a decompression-bomb guard on decoding.

Securing the credential as ``vc+jwt`` happens in ``credentials.jwt_vc``; this
module only holds the data. :class:`Bitstring` is mutable, like
:class:`credentials.status_list.StatusList`: ``set`` changes it in place.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeGuard
from urllib.parse import urlsplit

from credentials.errors import FormatError, InvalidInput, InvalidStatusList, RevocationError
from credentials.jose import b64url_decode, b64url_encode
from credentials.numeric_date import numeric_date
from credentials.status_list import DEFAULT_MAX_DECOMPRESSED_BYTES, inflate_limited

__all__ = [
    "VC_CONTEXT_V2",
    "STATUS_LIST_CREDENTIAL_TYPE",
    "STATUS_LIST_TYPE",
    "STATUS_LIST_ENTRY_TYPE",
    "PURPOSE_REVOCATION",
    "PURPOSE_SUSPENSION",
    "SUPPORTED_PURPOSES",
    "MIN_BITSTRING_LENGTH",
    "Bitstring",
    "BitstringStatusListEntry",
    "StatusListCredential",
    "build_status_list_credential",
    "parse_status_list_credential",
    "read_credential_status",
    "status_at",
    "entry_status",
]

VC_CONTEXT_V2 = "https://www.w3.org/ns/credentials/v2"
VERIFIABLE_CREDENTIAL_TYPE = "VerifiableCredential"
STATUS_LIST_CREDENTIAL_TYPE = "BitstringStatusListCredential"
STATUS_LIST_TYPE = "BitstringStatusList"
STATUS_LIST_ENTRY_TYPE = "BitstringStatusListEntry"
PURPOSE_REVOCATION = "revocation"
PURPOSE_SUSPENSION = "suspension"
SUPPORTED_PURPOSES = frozenset({PURPOSE_REVOCATION, PURPOSE_SUSPENSION})

#: §2.2 / §3.2: the uncompressed bitstring is at least 16 KB (131,072 entries).
MIN_BITSTRING_LENGTH = 131_072

MULTIBASE_BASE64URL = "u"
#: Largest ``statusListIndex`` accepted, far above any list we would decode.
MAX_STATUS_LIST_INDEX = 2**40

# JSON member names.
CONTEXT, ID, TYPE, ISSUER = "@context", "id", "type", "issuer"
VALID_FROM, VALID_UNTIL = "validFrom", "validUntil"
CREDENTIAL_SUBJECT, CREDENTIAL_STATUS = "credentialSubject", "credentialStatus"
STATUS_PURPOSE, ENCODED_LIST, TTL = "statusPurpose", "encodedList", "ttl"
STATUS_LIST_INDEX, STATUS_LIST_CREDENTIAL, STATUS_SIZE = "statusListIndex", "statusListCredential", "statusSize"

_GZIP_WBITS = 16 + zlib.MAX_WBITS
_INDEX = re.compile(r"0|[1-9][0-9]*")


class Bitstring:
    """A status bitstring of ``length`` one-bit entries (mutable)."""

    __slots__ = ("_data",)
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, data: bytes | bytearray):
        if not data:
            raise InvalidStatusList("a bitstring must hold at least one byte")
        self._data = bytearray(data)

    @classmethod
    def new(cls, length: int = MIN_BITSTRING_LENGTH, *, minimum: int = MIN_BITSTRING_LENGTH) -> Bitstring:
        """An all-zero bitstring of at least ``length`` bits (rounded up to whole bytes)."""
        if isinstance(length, bool) or not isinstance(length, int) or length < max(minimum, 1):
            raise InvalidStatusList(f"a bitstring needs at least {max(minimum, 1)} entries, asked for {length!r}")
        return cls(bytes(-(-length // 8)))

    @property
    def length(self) -> int:
        return len(self._data) * 8

    def to_bytes(self) -> bytes:
        return bytes(self._data)

    def _locate(self, index: int) -> tuple[int, int]:
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < self.length:
            raise InvalidStatusList(f"index {index!r} is outside the bitstring of {self.length} entries")
        return index // 8, 7 - index % 8

    def get(self, index: int) -> bool:
        """True when the bit at ``index`` is set (index 0 is the left-most bit)."""
        byte, shift = self._locate(index)
        return bool(self._data[byte] >> shift & 1)

    def set(self, index: int, value: bool) -> None:
        """Set or clear the bit at ``index``, in place."""
        if not isinstance(value, bool):
            raise InvalidStatusList(f"a status bit is True or False, found {value!r}")
        byte, shift = self._locate(index)
        if value:
            self._data[byte] |= 1 << shift
        else:
            self._data[byte] &= ~(1 << shift) & 0xFF

    def encode(self) -> str:
        """``encodedList``: ``u`` + base64url(GZIP(bitstring)), with a zero GZIP mtime."""
        compressor = zlib.compressobj(9, zlib.DEFLATED, _GZIP_WBITS)
        compressed = compressor.compress(bytes(self._data)) + compressor.flush()
        return MULTIBASE_BASE64URL + b64url_encode(compressed)

    @classmethod
    def decode(
        cls,
        encoded_list: Any,
        *,
        minimum: int = MIN_BITSTRING_LENGTH,
        max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES,
    ) -> Bitstring:
        """Parse an ``encodedList``; refuse other multibases, bombs and short lists."""
        if not isinstance(encoded_list, str):
            raise InvalidStatusList(f"'encodedList' must be a string, found {type(encoded_list).__name__}")
        if not encoded_list.startswith(MULTIBASE_BASE64URL):
            raise InvalidStatusList(
                f"expected 'encodedList' in multibase base64url (prefix 'u'), found prefix {encoded_list[:1]!r}"
            )
        try:
            compressed = b64url_decode(encoded_list[1:])
        except InvalidInput as exc:
            raise InvalidStatusList(f"'encodedList' is not base64url: {exc}") from exc
        data = inflate_limited(compressed, max_decompressed_bytes, wbits=_GZIP_WBITS, what="'encodedList'")
        if len(data) * 8 < minimum:
            raise InvalidStatusList(
                f"the bitstring holds {len(data) * 8} entries; at least {minimum} are required"
            )
        return cls(data)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Bitstring):
            return NotImplemented
        return self._data == other._data

    def __repr__(self) -> str:
        return f"Bitstring(length={self.length})"


def _is_url(value: object) -> TypeGuard[str]:
    if not isinstance(value, str) or not value:
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return bool(parts.scheme) and (bool(parts.netloc) or parts.scheme in ("did", "urn"))


def _xml_datetime(epoch: int) -> str:
    if isinstance(epoch, bool) or not isinstance(epoch, int):
        raise InvalidStatusList(f"a time must be integer epoch seconds, found {epoch!r:.40}")
    numeric_date(epoch, "a status list time", InvalidStatusList)
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _purpose(value: Any, *, error: type[Exception], where: str) -> str:
    if not isinstance(value, str) or value not in SUPPORTED_PURPOSES:  # a list or an object is no purpose
        raise error(
            f"{where} statusPurpose must be 'revocation' or 'suspension', found {value!r}"
            " (message and other purposes are not supported)"
        )
    return value


# --- the status list credential -------------------------------------------------------


@dataclass(frozen=True)
class StatusListCredential:
    """A parsed, unsigned ``BitstringStatusListCredential`` (signature checked elsewhere)."""

    id: str | None
    issuer: str
    valid_from: str | None
    valid_until: str | None
    subject_id: str | None
    status_purposes: tuple[str, ...]
    bitstring: Bitstring
    ttl: int | None


def build_status_list_credential(
    bitstring: Bitstring,
    *,
    id: str,
    issuer: str,
    valid_from: int,
    status_purpose: str = PURPOSE_REVOCATION,
    valid_until: int | None = None,
) -> dict[str, Any]:
    """The unsigned VCDM 2.0 ``BitstringStatusListCredential`` for ``bitstring``."""
    if not _is_url(id):
        raise InvalidStatusList(f"the status list credential id must be a URL, found {id!r}")
    if not _is_url(issuer):
        raise InvalidStatusList(f"the issuer must be a URL or DID, found {issuer!r}")
    _purpose(status_purpose, error=InvalidStatusList, where="the list's")
    if bitstring.length < MIN_BITSTRING_LENGTH:
        raise InvalidStatusList(
            f"the bitstring holds {bitstring.length} entries; at least {MIN_BITSTRING_LENGTH} are required")
    credential: dict[str, Any] = {
        CONTEXT: [VC_CONTEXT_V2],
        ID: id,
        TYPE: [VERIFIABLE_CREDENTIAL_TYPE, STATUS_LIST_CREDENTIAL_TYPE],
        ISSUER: issuer,
        VALID_FROM: _xml_datetime(valid_from),
    }
    if valid_until is not None:
        if isinstance(valid_until, bool) or not isinstance(valid_until, int) or valid_until <= valid_from:
            raise InvalidStatusList(f"validUntil must be after validFrom {valid_from}, found {valid_until!r}")
        credential[VALID_UNTIL] = _xml_datetime(valid_until)
    credential[CREDENTIAL_SUBJECT] = {
        ID: f"{id}#list",
        TYPE: STATUS_LIST_TYPE,
        STATUS_PURPOSE: status_purpose,
        ENCODED_LIST: bitstring.encode(),
    }
    return credential


def _optional_string(obj: Mapping[str, Any], name: str, where: str) -> str | None:
    value = obj.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidStatusList(f"{where} '{name}' must be a string, found {type(value).__name__}")
    return value


def parse_status_list_credential(
    unverified_credential: Any,
    *,
    max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES,
) -> StatusListCredential:
    """Check the shape of a ``BitstringStatusListCredential`` and decode its list."""
    credential = unverified_credential
    if not isinstance(credential, Mapping):
        raise InvalidStatusList(f"a status list credential must be a JSON object, found {type(credential).__name__}")
    context = credential.get(CONTEXT)
    if not isinstance(context, list) or not context or context[0] != VC_CONTEXT_V2:
        raise InvalidStatusList(f"expected '@context' to start with {VC_CONTEXT_V2!r}, found {context!r}")
    types = credential.get(TYPE)
    if not isinstance(types, list) or not {VERIFIABLE_CREDENTIAL_TYPE, STATUS_LIST_CREDENTIAL_TYPE} <= {
        t for t in types if isinstance(t, str)
    }:
        raise InvalidStatusList(
            f"expected 'type' to include VerifiableCredential and {STATUS_LIST_CREDENTIAL_TYPE}, found {types!r}"
        )
    issuer = credential.get(ISSUER)
    issuer_id = issuer.get(ID) if isinstance(issuer, Mapping) else issuer
    if not _is_url(issuer_id):
        raise InvalidStatusList(f"expected 'issuer' to be a URL or an object with one as 'id', found {issuer!r}")
    subject = credential.get(CREDENTIAL_SUBJECT)
    if not isinstance(subject, Mapping):
        raise InvalidStatusList(f"expected one 'credentialSubject' object, found {type(subject).__name__}")
    if subject.get(TYPE) != STATUS_LIST_TYPE:
        raise InvalidStatusList(f"expected credentialSubject type {STATUS_LIST_TYPE!r}, found {subject.get(TYPE)!r}")
    purposes = subject.get(STATUS_PURPOSE)
    purposes = purposes if isinstance(purposes, list) else [purposes]
    if not purposes:
        raise InvalidStatusList("the status list names no statusPurpose")
    for purpose in purposes:
        _purpose(purpose, error=InvalidStatusList, where="the list's")
    ttl = subject.get(TTL)
    if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int) or ttl < 0):
        raise InvalidStatusList(f"credentialSubject 'ttl' must be a non-negative integer, found {ttl!r}")
    bitstring = Bitstring.decode(subject.get(ENCODED_LIST), max_decompressed_bytes=max_decompressed_bytes)
    return StatusListCredential(
        id=_optional_string(credential, ID, "the credential's"),
        issuer=issuer_id,
        valid_from=_optional_string(credential, VALID_FROM, "the credential's"),
        valid_until=_optional_string(credential, VALID_UNTIL, "the credential's"),
        subject_id=_optional_string(subject, ID, "credentialSubject"),
        status_purposes=tuple(purposes),
        bitstring=bitstring,
        ttl=ttl,
    )


def status_at(credential_subject: Mapping[str, Any], index: int) -> bool:
    """Decode a ``BitstringStatusList`` subject and read the bit at ``index``."""
    if not isinstance(credential_subject, Mapping):
        raise InvalidStatusList("a BitstringStatusList must be a JSON object")
    return Bitstring.decode(credential_subject.get(ENCODED_LIST)).get(index)


# --- the credential's status entry -----------------------------------------------------


@dataclass(frozen=True)
class BitstringStatusListEntry:
    """One ``credentialStatus`` entry of a credential."""

    status_purpose: str
    status_list_index: int
    status_list_credential: str
    id: str | None = None


def _read_entry(entry: Any, where: str) -> BitstringStatusListEntry:
    if not isinstance(entry, Mapping):
        raise FormatError(f"expected {where} to be an object, found {type(entry).__name__}")
    if entry.get(TYPE) != STATUS_LIST_ENTRY_TYPE:
        raise FormatError(f"expected {where} type {STATUS_LIST_ENTRY_TYPE!r}, found {entry.get(TYPE)!r}")
    purpose = _purpose(entry.get(STATUS_PURPOSE), error=FormatError, where=f"{where}")
    index = entry.get(STATUS_LIST_INDEX)
    if not isinstance(index, str) or not _INDEX.fullmatch(index) or int(index) > MAX_STATUS_LIST_INDEX:
        raise FormatError(
            f"expected {where} statusListIndex to be a base-10 string of a non-negative integer, found {index!r}"
        )
    list_url = entry.get(STATUS_LIST_CREDENTIAL)
    if not _is_url(list_url):
        raise FormatError(f"expected {where} statusListCredential to be a URL, found {list_url!r}")
    size = entry.get(STATUS_SIZE, 1)
    if size != 1 or isinstance(size, bool):
        raise FormatError(f"expected {where} statusSize 1 (the only size supported), found {size!r}")
    entry_id = entry.get(ID)
    if entry_id is not None and (not isinstance(entry_id, str) or entry_id == list_url):
        raise FormatError(f"{where} id must be a string other than the status list URL, found {entry_id!r}")
    return BitstringStatusListEntry(purpose, int(index), list_url, entry_id)


def read_credential_status(payload: Mapping[str, Any]) -> tuple[BitstringStatusListEntry, ...]:
    """Read every ``credentialStatus`` entry strictly; :class:`FormatError` if bad."""
    status = payload.get(CREDENTIAL_STATUS) if isinstance(payload, Mapping) else None
    if status is None:
        raise FormatError("the credential has no 'credentialStatus'")
    entries = status if isinstance(status, list) else [status]
    if not entries:
        raise FormatError("the credential's 'credentialStatus' list is empty")
    return tuple(_read_entry(entry, f"credentialStatus[{i}]") for i, entry in enumerate(entries))


def entry_status(entry: BitstringStatusListEntry, status_list: StatusListCredential) -> bool:
    """True when ``entry``'s bit is set in the (already verified) ``status_list``.

    The list must be the one the entry points at and serve its purpose; an
    index outside it fails the ``revocation`` check.
    """
    if status_list.id is not None and status_list.id != entry.status_list_credential:
        raise RevocationError(
            f"the status list is {status_list.id!r}, but the credential points at {entry.status_list_credential!r}"
        )
    if entry.status_purpose not in status_list.status_purposes:
        raise RevocationError(
            f"the status list serves {', '.join(status_list.status_purposes)}, "
            f"but the credential's entry is for {entry.status_purpose}"
        )
    try:
        return status_list.bitstring.get(entry.status_list_index)
    except InvalidStatusList as exc:
        raise RevocationError(f"the credential's status {exc}") from exc
