"""Issuing SD-JWTs (IETF RFC 9901 §4.1–4.2, §5).

What is selectively disclosable is described by a *disclosure frame* that
mirrors the claims:

- for an object, a dict whose ``"_sd"`` lists the member names that are
  selectively disclosable and whose other keys are frames for those members'
  values; ``"_sd_decoy": n`` adds n decoy digests (§4.2.5);
- for an array, a dict whose ``"_sd"`` lists the 0-based indices of
  disclosable elements and whose other keys (ints or decimal strings) are
  frames for those elements; ``"_sd_decoy"`` adds decoy elements.

A disclosable member whose value has its own frame gives a *recursive*
disclosure (§4.2.6 / Appendix A.2): the parent disclosure contains the
child's digests. Digests in ``_sd`` are sorted so their order reveals nothing.
"""

from __future__ import annotations

import binascii
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import repeat
from json import JSONEncoder, encoder
from json.encoder import encode_basestring
from typing import Any

from credentials.errors import InvalidInput
from credentials.jose import PrivateKey, b64url_encode, json_dumps, sign_jws
from credentials.sd_jwt.common import (
    ARRAY_DIGEST_KEY,
    CNF_KEY,
    DEFAULT_SD_ALG,
    HASH_ALGORITHMS,
    SD_ALG_KEY,
    SD_DIGESTS_KEY,
    SEPARATOR,
    Disclosure,
)

__all__ = ["FRAME_SD_KEY", "FRAME_DECOY_KEY", "IssuedSdJwt", "issue_sd_jwt", "sign_sd_jwt", "build_sd_payload",
           "build_sd_payload_encoded"]

FRAME_SD_KEY = "_sd"
FRAME_DECOY_KEY = "_sd_decoy"
SALT_BYTES = 16
_MAX_DECOYS = 64
_RESERVED_CLAIMS = frozenset({SD_DIGESTS_KEY, ARRAY_DIGEST_KEY, SD_ALG_KEY})
_FRAME_KEYS = frozenset({FRAME_SD_KEY, FRAME_DECOY_KEY})


@dataclass(frozen=True)
class IssuedSdJwt:
    """The result of issuing: the serialization and what went into it."""

    serialization: str
    payload: dict[str, Any]
    disclosures: tuple[Disclosure, ...]


def _new_disclosure(encoded: str, salt: str, name: str | None, value: Any) -> Disclosure:
    """``Disclosure(encoded, salt, name, value)`` for one just built here.

    The frozen dataclass's ``__init__`` sets each field through
    ``object.__setattr__``; filling ``__dict__`` at once gives the same
    object about three times faster, which counts at ~20 disclosures per credential.
    """
    disclosure = object.__new__(Disclosure)
    disclosure.__dict__.update(encoded=encoded, salt=salt, name=name, value=value)
    return disclosure


#: Salts drawn per call of ``random_bytes``: 18 bytes each, two of them zeroed (see :meth:`_Concealer.salt`).
_SALTS_PER_DRAW = 32
_SALT_STRIDE = SALT_BYTES + 2
_SALT_CHARS = 22  # base64url of 16 bytes, unpadded
_SALT_TEXT_STRIDE = _SALT_STRIDE // 3 * 4
_b2a = binascii.b2a_base64
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
#: ``json_dumps``'s C encoder (compact, UTF-8, NaN and Infinity refused), made once: ``JSONEncoder.encode``
#: makes a new one per call, which costs about as much as encoding a small disclosed object or array.
#: No circular-reference bookkeeping (a cycle ends in RecursionError, refused below as json_dumps refuses it).
_MAKE_ENCODER: Callable[..., Callable[[Any, int], Any]] | None = getattr(encoder, "c_make_encoder", None)
_C_ENCODE = None if _MAKE_ENCODER is None else _MAKE_ENCODER(
    None, JSONEncoder().default, encode_basestring, None, ":", ",", False, False, False)


def _json_text(value: Any) -> str:
    """``json_dumps(value)``: the same text, the same refusals."""
    if _C_ENCODE is None:
        return json_dumps(value)
    try:
        return "".join(_C_ENCODE(value, 0))
    except (ValueError, RecursionError) as exc:
        raise InvalidInput(f"cannot encode as JSON: {exc}") from exc


class _Concealer:
    def __init__(self, sd_alg: str, random_bytes: Callable[[int], bytes], *, keep: bool = True):
        self.sd_alg = sd_alg
        self.random_bytes = random_bytes
        #: Disclosure objects (``keep``), else only the encoded disclosures (:attr:`encoded`).
        self.keep = keep
        self.disclosures: list[Disclosure] = []
        self.encoded: list[str] = []
        self._salts: list[str] = []
        self._hash = HASH_ALGORITHMS[sd_alg]

    def salt(self) -> str:
        # 128-bit salts (RFC 9901 §4.2.1), 32 per call of random_bytes and base64url-encoded in ONE call: each
        # salt's 16 random bytes are followed by two zero bytes, so every salt starts a 3-byte group and its 22
        # characters are exactly the unpadded base64url of those 16 bytes (the zero bits after the 128th are
        # the encoding's own padding bits); the two zero bytes carry no randomness and are never used.
        if not self._salts:
            pool = bytearray(self.random_bytes(_SALT_STRIDE * _SALTS_PER_DRAW))
            if len(pool) != _SALT_STRIDE * _SALTS_PER_DRAW:
                raise InvalidInput(f"expected {_SALT_STRIDE * _SALTS_PER_DRAW} random bytes for salts, "
                                   f"found {len(pool)}")
            pool[SALT_BYTES::_SALT_STRIDE] = bytes(_SALTS_PER_DRAW)
            pool[SALT_BYTES + 1::_SALT_STRIDE] = bytes(_SALTS_PER_DRAW)
            text = _b2a(pool, newline=False).translate(_TO_URLSAFE).decode("ascii")
            self._salts = [text[start:start + _SALT_CHARS] for start in range(0, len(text), _SALT_TEXT_STRIDE)]
            self._salts.reverse()
        return self._salts.pop()

    def disclose(self, name: str | None, value: Any) -> str:
        salts = self._salts  # self.salt() inlined: one Python call fewer per disclosure
        salt = salts.pop() if salts else self.salt()
        # The same text as json_dumps([salt, name, value]): compact separators,
        # and a salt is base64url, which JSON never escapes.
        kind = type(value)  # exact types only: bool is an int subclass and must stay true/false
        value_text = encode_basestring(value) if kind is str else int.__repr__(value) if kind is int \
            else _json_text(value)
        if name is None:
            text = f'["{salt}",{value_text}]'
        else:
            text = f'["{salt}",{encode_basestring(name)},{value_text}]'
        # b64url_encode inlined (twice): one disclosure is a handful of C calls, a Python call costs as much.
        encoded_bytes = _b2a(text.encode("utf-8"), newline=False).rstrip(b"=").translate(_TO_URLSAFE)
        encoded = encoded_bytes.decode("ascii")
        if self.keep:
            self.disclosures.append(_new_disclosure(encoded, salt, name, value))
        else:
            self.encoded.append(encoded)
        # digest_of(encoded, sd_alg), with the hash function looked up once.
        digest = self._hash(encoded_bytes).digest()
        return _b2a(digest, newline=False).rstrip(b"=").translate(_TO_URLSAFE).decode("ascii")

    def decoy(self) -> str:
        return b64url_encode(self._hash(self.salt().encode("ascii")).digest())

    def random_below(self, bound: int) -> int:
        return int.from_bytes(self.random_bytes(4), "big") % bound

    # The walk below takes exact dicts and lists without the ABC isinstance (a Mapping that is not a dict
    # still goes the general way), and checks a frame with C-level set and map operations.
    def conceal(self, value: Any, frame: Any, path: str) -> Any:
        if frame is None:
            return value
        if type(frame) is not dict and not isinstance(frame, Mapping):
            raise InvalidInput(f"the disclosure frame at {path or '/'} must be an object")
        if type(value) is list:  # never a Mapping: spares the ABC check
            return self._conceal_array(value, frame, path)
        if type(value) is dict or isinstance(value, Mapping):
            return self._conceal_object(value, frame, path)
        if isinstance(value, list):
            return self._conceal_array(value, frame, path)
        raise InvalidInput(
            f"the disclosure frame at {path or '/'} applies to a {type(value).__name__}, not an object or array")

    def _decoy_count(self, frame: Mapping[str, Any], path: str) -> int:
        if FRAME_DECOY_KEY not in frame:
            return 0
        count = frame[FRAME_DECOY_KEY]
        if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= _MAX_DECOYS:
            raise InvalidInput(f"{FRAME_DECOY_KEY} at {path or '/'} must be an integer from 0 to {_MAX_DECOYS}")
        return count

    def _conceal_object(self, value: Mapping[str, Any], frame: Mapping[str, Any], path: str) -> dict[str, Any]:
        disclosable = frame.get(FRAME_SD_KEY, [])
        if not isinstance(disclosable, list) or not all(map(isinstance, disclosable, repeat(str))):
            raise InvalidInput(f"{FRAME_SD_KEY} at {path or '/'} must list member names")
        known = value.keys()
        if not (known >= set(disclosable) and known >= frame.keys() - _FRAME_KEYS):
            for name in (*disclosable, *(k for k in frame if k not in _FRAME_KEYS)):
                if name not in known:
                    raise InvalidInput(f"the disclosure frame names {path}/{name}, which the claims do not have")
        if not _RESERVED_CLAIMS.isdisjoint(known):
            name = next(name for name in value if name in _RESERVED_CLAIMS)
            raise InvalidInput(f"the claim name {name!r} at {path or '/'} is reserved by SD-JWT")
        hidden = set(disclosable)
        result: dict[str, Any] = {}
        digests: list[str] = []
        for name, member in value.items():
            member_frame = frame.get(name)
            concealed = member if member_frame is None else self.conceal(member, member_frame, f"{path}/{name}")
            if name in hidden:
                digests.append(self.disclose(name, concealed))
            else:
                result[name] = concealed
        if FRAME_DECOY_KEY in frame:  # only then a call (a frame rarely asks for decoys)
            digests.extend(self.decoy() for _ in range(self._decoy_count(frame, path)))
        if digests:
            digests.sort()
            result[SD_DIGESTS_KEY] = digests
        return result

    def _conceal_array(self, value: list[Any], frame: Mapping[Any, Any], path: str) -> list[Any]:
        disclosable = frame.get(FRAME_SD_KEY, [])
        if (not isinstance(disclosable, list) or not all(map(isinstance, disclosable, repeat(int)))
                or any(map(isinstance, disclosable, repeat(bool)))
                or (disclosable and not 0 <= min(disclosable) <= max(disclosable) < len(value))):
            raise InvalidInput(
                f"{FRAME_SD_KEY} at {path or '/'} must list indices of the array (0 to {len(value) - 1})")
        element_frames: dict[int, Any] = {}
        for key, element_frame in frame.items():
            if key in _FRAME_KEYS:
                continue
            index = key if isinstance(key, int) else int(key) if isinstance(key, str) and key.isdigit() else -1
            if not 0 <= index < len(value):
                raise InvalidInput(
                    f"the disclosure frame at {path or '/'} names element {key!r}, which the array does not have")
            element_frames[index] = element_frame
        hidden = set(disclosable)
        result: list[Any] = []
        for index, element in enumerate(value):
            element_frame = element_frames.get(index)
            concealed = element if element_frame is None else self.conceal(element, element_frame, f"{path}/{index}")
            if index in hidden:
                result.append({ARRAY_DIGEST_KEY: self.disclose(None, concealed)})
            else:
                result.append(concealed)
        for _ in range(self._decoy_count(frame, path) if FRAME_DECOY_KEY in frame else 0):
            result.insert(self.random_below(len(result) + 1), {ARRAY_DIGEST_KEY: self.decoy()})
        return result


def _concealed(
    claims: Mapping[str, Any], frame: Mapping[str, Any], sd_alg: str, random_bytes: Callable[[int], bytes], *,
    keep: bool,
) -> tuple[dict[str, Any], _Concealer]:
    if sd_alg not in HASH_ALGORITHMS:
        raise InvalidInput(f"unsupported _sd_alg {sd_alg!r}; expected one of {', '.join(HASH_ALGORITHMS)}")
    if not isinstance(claims, Mapping):
        raise InvalidInput("the claims must be an object")
    concealer = _Concealer(sd_alg, random_bytes, keep=keep)
    payload = concealer.conceal(claims, frame, "")
    payload[SD_ALG_KEY] = sd_alg
    return payload, concealer


def build_sd_payload(
    claims: Mapping[str, Any],
    frame: Mapping[str, Any],
    *,
    sd_alg: str = DEFAULT_SD_ALG,
    random_bytes: Callable[[int], bytes] = secrets.token_bytes,
) -> tuple[dict[str, Any], tuple[Disclosure, ...]]:
    """Turn claims and a frame into the SD-JWT payload and its disclosures (no signing)."""
    payload, concealer = _concealed(claims, frame, sd_alg, random_bytes, keep=True)
    return payload, tuple(concealer.disclosures)


def build_sd_payload_encoded(
    claims: Mapping[str, Any],
    frame: Mapping[str, Any],
    *,
    sd_alg: str = DEFAULT_SD_ALG,
    random_bytes: Callable[[int], bytes] = secrets.token_bytes,
) -> tuple[dict[str, Any], list[str]]:
    """:func:`build_sd_payload` with only the encoded disclosures (no :class:`Disclosure` objects): what
    :func:`sign_sd_jwt` signs and serializes."""
    payload, concealer = _concealed(claims, frame, sd_alg, random_bytes, keep=False)
    return payload, concealer.encoded


def _with_holder(claims: Mapping[str, Any], holder_jwk: Mapping[str, str] | None) -> Mapping[str, Any]:
    if holder_jwk is None:
        return claims
    if CNF_KEY in claims:
        raise InvalidInput("give the holder key either as holder_jwk or as a cnf claim, not both")
    if "d" in holder_jwk:
        raise InvalidInput("the holder key for cnf.jwk must be a public key (it has a private 'd')")
    return {**claims, CNF_KEY: {"jwk": dict(holder_jwk)}}


def issue_sd_jwt(
    claims: Mapping[str, Any],
    frame: Mapping[str, Any],
    key: PrivateKey,
    *,
    header: Mapping[str, Any] | None = None,
    holder_jwk: Mapping[str, str] | None = None,
    sd_alg: str = DEFAULT_SD_ALG,
    random_bytes: Callable[[int], bytes] = secrets.token_bytes,
) -> IssuedSdJwt:
    """Sign an SD-JWT. ``holder_jwk`` becomes ``cnf.jwk`` (holder binding, §4.1.2)."""
    payload, disclosures = build_sd_payload(_with_holder(claims, holder_jwk), frame, sd_alg=sd_alg,
                                            random_bytes=random_bytes)
    issuer_jwt = sign_jws(payload, key, header=header)
    serialization = SEPARATOR.join((issuer_jwt, *(d.encoded for d in disclosures))) + SEPARATOR
    return IssuedSdJwt(serialization=serialization, payload=payload, disclosures=disclosures)


def sign_sd_jwt(
    claims: Mapping[str, Any],
    frame: Mapping[str, Any],
    key: PrivateKey,
    *,
    header: Mapping[str, Any] | None = None,
    holder_jwk: Mapping[str, str] | None = None,
    sd_alg: str = DEFAULT_SD_ALG,
    random_bytes: Callable[[int], bytes] = secrets.token_bytes,
) -> str:
    """:func:`issue_sd_jwt`'s serialization alone, without a :class:`Disclosure` object per disclosure
    (batch issuing signs ~20 disclosures per credential and keeps only the text)."""
    payload, encoded = build_sd_payload_encoded(_with_holder(claims, holder_jwk), frame, sd_alg=sd_alg,
                                                random_bytes=random_bytes)
    return SEPARATOR.join((sign_jws(payload, key, header=header), *encoded)) + SEPARATOR
