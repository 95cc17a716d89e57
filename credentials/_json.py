"""Strict JSON for everything microcred parses or signs (RFC 8259, as RFC 7515 §5.2 and RFC 9901 §4.2.1 use it).

Parsing takes UTF-8 without a byte order mark only, refuses duplicate members
(RFC 8259 §4 says names SHOULD be unique; two readers could otherwise see two
values) and the non-standard ``NaN`` / ``Infinity``. Encoding is compact UTF-8
JSON, as microcred signs it. Re-exported by :mod:`credentials.jose`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from credentials.errors import InvalidInput

__all__ = ["NOT_PLAIN", "json_dumps", "json_loads", "json_loads_object", "plain_json_value", "scan_json_value"]

_JSON_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def json_dumps(value: Any) -> str:
    """Compact JSON as microcred signs it (UTF-8, no spaces; NaN and Infinity refused)."""
    try:
        return _JSON_ENCODER.encode(value)
    except ValueError as exc:
        raise InvalidInput(f"cannot encode as JSON: {exc}") from exc


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)  # in C; fewer members than pairs means a name came twice
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise InvalidInput(f"duplicate JSON member {key!r}")
            seen.add(key)
    return result


def _reject_constant(name: str) -> Any:
    raise InvalidInput(f"{name} is not valid JSON")


def json_loads_object(data: bytes | str, *, what: str) -> dict[str, Any]:
    """Parse JSON that must be an object; duplicate members are an error."""
    value = json_loads(data, what=what)
    if not isinstance(value, dict):
        raise InvalidInput(f"{what} must be a JSON object, found {type(value).__name__}")
    return value


_UTF8_BOM = b"\xef\xbb\xbf"

#: Built once: ``json.loads`` with hooks builds a new decoder (and scanner) on every call.
_JSON_DECODER = json.JSONDecoder(object_pairs_hook=_reject_duplicate_keys, parse_constant=_reject_constant)
#: Its C scanner: one value from an index, answering (value, the index after it); raises InvalidInput
#: (a duplicate member, NaN, Infinity), ValueError, StopIteration (no value there) or RecursionError.
_SCAN_ONCE: Callable[[str, int], tuple[Any, int]] = _JSON_DECODER.scan_once  # type: ignore[attr-defined]
#: The same, for loops that read many values out of one text (the value must end where the caller expects).
scan_json_value = _SCAN_ONCE


def json_loads(data: bytes | str, *, what: str) -> Any:
    """Parse strict JSON: UTF-8 without a byte order mark, no duplicate members, no NaN/Infinity.

    Bytes are decoded as UTF-8 and nothing else (RFC 8259 §8.1; RFC 7515 §5.2
    and RFC 9901 §4.2.1 for JWT parts and disclosures), never guessed the way
    ``json.loads`` guesses UTF-16 and UTF-32 and skips a UTF-8 BOM: otherwise
    two different byte strings would carry the same claims. Escaped lone
    surrogates (``"\\ud800"``) are valid JSON text and are kept.
    """
    if isinstance(data, (bytes, bytearray)):
        if data.startswith(_UTF8_BOM):
            raise InvalidInput(f"{what} starts with a byte order mark; expected UTF-8 JSON without one")
        try:
            data = bytes(data).decode("utf-8")  # strict: invalid bytes and encoded surrogates are refused
        except UnicodeDecodeError:
            raise InvalidInput(f"{what} is not UTF-8 (JSON here must be UTF-8 without a byte order mark)") from None
    if not isinstance(data, str):
        raise InvalidInput(f"{what} must be UTF-8 JSON text, found {type(data).__name__}")
    if data.startswith("\ufeff"):
        raise InvalidInput(f"{what} starts with a byte order mark; expected UTF-8 JSON without one")
    try:
        # The scanner alone first (``decode`` is two Python frames and two regex matches around it): what it
        # reads to the end is the whole answer; anything else (whitespace around the value, extra data, an
        # error) goes through ``decode``, which reads or refuses it exactly as before.
        value, end = _SCAN_ONCE(data, 0)
        if end == len(data):
            return value
    except InvalidInput as exc:
        raise InvalidInput(f"{what}: {exc}") from exc
    except (ValueError, StopIteration, RecursionError):
        pass
    try:
        return _JSON_DECODER.decode(data)
    except InvalidInput as exc:
        raise InvalidInput(f"{what}: {exc}") from exc
    except (ValueError, RecursionError) as exc:
        raise InvalidInput(f"{what} is not valid UTF-8 JSON") from exc


#: What :func:`plain_json_value` answers for text it leaves to :func:`json_loads`.
NOT_PLAIN: Any = object()


def plain_json_value(data: bytes) -> Any:
    """The value of ``data`` when it is UTF-8 JSON text of one value with nothing around it (no BOM, no
    whitespace) that :func:`json_loads` accepts as it is; else :data:`NOT_PLAIN`, and :func:`json_loads`
    then reads or refuses it. For loops over many small texts (a presentation's disclosures): the same
    value, without json_loads's frames and what-strings."""
    try:
        text = data.decode("utf-8")  # strict; a UTF-8 BOM decodes to U+FEFF
        if text.startswith("\ufeff"):
            return NOT_PLAIN
        value, end = _SCAN_ONCE(text, 0)
    except (UnicodeDecodeError, InvalidInput, ValueError, StopIteration, RecursionError):
        return NOT_PLAIN
    return value if end == len(text) else NOT_PLAIN
