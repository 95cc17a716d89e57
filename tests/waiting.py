"""Waiting in tests for something to happen, not for a while.

A test that needs a later state (a key expired, a worker answering, a process
gone) polls for that state with :func:`wait_for` and a generous deadline, so it
neither fails on a slow machine nor waits longer than needed on a fast one; a
failure names what did not happen. Nothing here measures how long anything took.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import pytest

__all__ = ["poll", "wait_for"]

T = TypeVar("T")


def poll(predicate: Callable[[], T], *, within: float, step: float = 0.05) -> T:
    """Call ``predicate`` every ``step`` seconds until it returns something truthy or ``within``
    seconds have passed; return its last value (falsy if the deadline came first)."""
    deadline = time.monotonic() + within
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)


def wait_for(predicate: Callable[[], T], *, within: float, what: str | Callable[[], str], step: float = 0.05) -> T:
    """Call ``predicate`` every ``step`` seconds until it returns something truthy, and return that.

    Fails the test, naming ``what`` (or what ``what()`` says then, e.g. with a log's tail), when
    ``within`` seconds pass first.
    """
    value = poll(predicate, within=within, step=step)
    if not value:
        pytest.fail(f"expected {what() if callable(what) else what} within {within:g} s; it did not happen",
                    pytrace=False)
    return value
