"""RFC 8785 JSON Canonicalization Scheme: the ``rfc8785`` package, with a C fast path for plain JSON.

RFC 8785 §3.2 writes a value as ECMAScript's ``JSON.stringify`` does, with
object members sorted by their UTF-16 code units. For a value holding only
objects with text member names, arrays, text, ``true`` / ``false`` / ``null``
and integers an IEEE 754 double holds exactly (|n| < 2^53), that is byte for
byte what the standard library's C JSON encoder writes with sorted keys, no
spaces and no ASCII escaping: the same escapes (``\\"``, ``\\\\``, ``\\b``,
``\\f``, ``\\n``, ``\\r``, ``\\t``, ``\\u00xx`` in lower case for the other
controls, nothing else), the same digits, and the same member order as long
as no member name holds a character beyond U+FFFF (code points and UTF-16
code units order such names differently). Anything else — a float, a larger
integer, such a name, a lone surrogate, another type — goes to ``rfc8785``,
which canonicalizes or refuses it exactly as before.
``tests/core/test_jcs.py`` holds the two equal (RFC 8785's vectors, generated values).
"""

from __future__ import annotations

import json
from typing import Any

import rfc8785

__all__ = ["jcs_dumps"]

_SAFE_INTEGER = 2**53 - 1
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":"))


class _NotPlain(Exception):
    """The value needs ``rfc8785`` (see the module docstring)."""


def _check_plain(value: Any) -> None:
    if isinstance(value, str) or value is None or isinstance(value, bool):
        return
    if isinstance(value, int):
        if -_SAFE_INTEGER <= value <= _SAFE_INTEGER:
            return
        raise _NotPlain
    if isinstance(value, dict):
        for name, member in value.items():
            if not isinstance(name, str) or not (name.isascii() or max(name) <= "\uffff"):
                raise _NotPlain
            _check_plain(member)
        return
    if isinstance(value, (list, tuple)):
        for member in value:
            _check_plain(member)
        return
    raise _NotPlain  # a float, or a type JSON does not have


def jcs_dumps(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of ``value``; raises as ``rfc8785.dumps`` does."""
    try:
        _check_plain(value)
        return _ENCODER.encode(value).encode("utf-8")
    except (_NotPlain, UnicodeEncodeError, RecursionError):
        return rfc8785.dumps(value)
