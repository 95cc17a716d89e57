"""NumericDate values (RFC 7519 §2) as microcred accepts them: whole seconds from 1970 to 9999.

RFC 7519 allows any JSON number, but JSON numbers include ``1e400`` (which
Python's ``json`` turns into ``inf``), ``-1e400``, ``1.5`` and integers with
thousands of digits. None of them is a moment a credential can mean, and
``int(inf)`` raises ``OverflowError``. So every time claim the core reads
(``exp`` / ``nbf`` / ``iat`` of a credential, a Key Binding JWT, a JWT VC, a
Status List Token) goes through :func:`numeric_date`: an integer, or an
integral finite number, from 0 (1970-01-01T00:00:00Z) to 253402300799
(9999-12-31T23:59:59Z), the range of an ISO 8601 / XML Schema year with four
digits. Anything else raises the error of the check that reads it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

__all__ = ["EARLIEST_NUMERIC_DATE", "LATEST_NUMERIC_DATE", "numeric_date", "in_numeric_date_range"]

#: 1970-01-01T00:00:00Z.
EARLIEST_NUMERIC_DATE = 0
#: 9999-12-31T23:59:59Z.
LATEST_NUMERIC_DATE = 253_402_300_799

_SHOWN_LIMIT = 10**15


def _shown(value: Any) -> str:
    """``value`` for an error message, short, without ever failing to print it."""
    if isinstance(value, int) and not isinstance(value, bool) and not -_SHOWN_LIMIT < value < _SHOWN_LIMIT:
        return f"a number of about {int(value.bit_length() * 0.30103) + 1} digits"
    if isinstance(value, (dict, list)):
        return f"a JSON {'object' if isinstance(value, dict) else 'array'}"
    return f"{value!r:.40}"


def in_numeric_date_range(seconds: int) -> bool:
    """True when ``seconds`` lies from 1970 to 9999."""
    return EARLIEST_NUMERIC_DATE <= seconds <= LATEST_NUMERIC_DATE


def numeric_date(value: Any, what: str, error: Callable[[str], Exception]) -> int:
    """``value`` as whole epoch seconds, or ``error(reason)`` raised; ``what`` names it (``"the 'exp' claim"``)."""
    if type(value) is int and EARLIEST_NUMERIC_DATE <= value <= LATEST_NUMERIC_DATE:
        return value  # the usual case, without building the reason it does not need (not a bool: its type is bool)
    reason = f"{what} must be a whole number of seconds from 1970 to 9999 (a NumericDate), found {_shown(value)}"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise error(reason)
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        raise error(reason)
    if not EARLIEST_NUMERIC_DATE <= value <= LATEST_NUMERIC_DATE:
        raise error(reason)
    return int(value)
