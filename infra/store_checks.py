"""The argument checks and the process id shared by the two backends of :mod:`infra.store`."""

from __future__ import annotations

import math
import os
import re
from typing import NamedTuple

__all__ = ["RateDecision", "checked", "checked_limit", "pid"]

_NAMESPACE = re.compile(r"[a-z0-9_-]{1,40}")
pid = os.getpid()  # this process's (kept: os.getpid() is a system call, and every store operation asks)


def _forked() -> None:
    global pid
    pid = os.getpid()


os.register_at_fork(after_in_child=_forked)


class RateDecision(NamedTuple):
    """One rate-limit hit: allowed or not, and if not, the seconds until the window ends (≥ 1)."""

    allowed: bool
    retry_after: int


#: Namespaces already checked (a few constants of the services).
_GOOD_NAMESPACES: set[str] = set()


def checked(namespace: str, key: str, ttl: float | None = None) -> None:
    if type(namespace) is not str or namespace not in _GOOD_NAMESPACES:
        if not isinstance(namespace, str) or not _NAMESPACE.fullmatch(namespace):
            raise ValueError(f"a store namespace is 1-40 of a-z 0-9 _ -, found {namespace!r}")
        if len(_GOOD_NAMESPACES) < 64:
            _GOOD_NAMESPACES.add(namespace)
    if not isinstance(key, str) or not key or len(key) > 512:
        raise ValueError(f"a store key is a non-empty string of at most 512 characters, found {key!r:.40}")
    if ttl is not None and not (isinstance(ttl, (int, float)) and math.isfinite(ttl) and ttl > 0):
        raise ValueError(f"a store ttl is a positive number of seconds, found {ttl!r}")


def checked_limit(window: float, limit: int) -> None:
    if not (isinstance(window, (int, float)) and math.isfinite(window) and window > 0):
        raise ValueError(f"a rate-limit window is a positive number of seconds, found {window!r}")
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise ValueError(f"a rate limit is a whole number >= 1, found {limit!r}")
