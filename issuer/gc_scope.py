"""Batch issuing without full garbage collections on the way (issue 16).

CPython's cyclic collector (https://docs.python.org/3/library/gc.html) runs
a *full* collection — one walk over every tracked object of the process —
whenever the oldest generation's counter passes its threshold and the
objects that survived younger collections since the last full one have
grown by a quarter of the long-lived heap (``Modules/gcmodule.c``,
``collect_generations``). A batch keeps every row's claims, records, jobs
and serializations alive until it ends, so the heap grows by a quarter again
and again while it runs: a 3,000-row batch paid one to three full
collections, about 80 µs per row each on this machine, and none of them can
free anything the batch still holds (whatever a batch drops without a cycle
is freed by reference counting at once).

:func:`batch_collection` is the scope batch issuing runs in: while any batch
is running in the process, the oldest generation's threshold is raised out
of reach, so no full collection starts; the young generations are collected
as usual (a reference cycle made during a batch is still freed by them, or
by the next full collection). When the last batch running in the process
ends — scopes nest, and several threads may each run one, counted under a
lock — the threshold is put back (in a ``finally``: also when the batch
raises), and the full collection the batch postponed runs once, after it,
over a heap the batch has mostly left.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import ParamSpec, TypeVar

__all__ = ["batch_collection", "in_batch_collection", "OUT_OF_REACH"]

#: The oldest generation's threshold while a batch runs: a counter of young collections never gets there.
OUT_OF_REACH = 1 << 30

_lock = threading.Lock()
_running = 0
_saved_threshold = 0

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _enter() -> None:
    global _running, _saved_threshold
    with _lock:
        if _running == 0:
            young, middle, oldest = gc.get_threshold()
            _saved_threshold = oldest
            gc.set_threshold(young, middle, OUT_OF_REACH)
        _running += 1


def _leave() -> None:
    global _running
    with _lock:
        _running -= 1
        if _running == 0:
            young, middle, _ = gc.get_threshold()
            gc.set_threshold(young, middle, _saved_threshold)


@contextmanager
def batch_collection() -> Iterator[None]:
    """No full collection starts while this scope (or another one, in any thread) is open."""
    _enter()
    try:
        yield
    finally:
        _leave()


def in_batch_collection(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """``function`` run inside :func:`batch_collection`."""

    @wraps(function)
    def scoped(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        _enter()
        try:
            return function(*args, **kwargs)
        finally:
            _leave()

    return scoped
