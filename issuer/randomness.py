"""Uniform random integers from the OS CSPRNG, read in blocks: the status list slots of a batch.

Each credential gets a random free index in a status list of at least 131,072
entries (:mod:`issuer.list_keeper`), so a list hides who is who.
``secrets.randbelow`` reads the OS CSPRNG (``os.urandom``) once or twice per
draw; a batch of 10,000 credentials made 10,000-20,000 system calls in the
one process that archives (issue 16). :func:`randbelow` gives the same
distribution — rejection sampling of just enough bits, as ``secrets.randbelow``
does — from ``os.urandom`` read 4 KiB at a time. The block is thrown away in
a forked child (``os.register_at_fork``), so two processes never share bytes,
and a lock keeps threads from reading the same bytes twice.
"""

from __future__ import annotations

import os
import threading

__all__ = ["randbelow"]

_BLOCK = 4096


class _Block:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._bytes = b""
        self._at = 0

    def forget(self) -> None:
        """Drop what is left (a forked child must not reuse its parent's bytes)."""
        self._lock = threading.Lock()  # a lock held by another thread at fork time stays held in the child
        self._bytes, self._at = b"", 0

    def take(self, count: int) -> bytes:
        with self._lock:
            if self._at + count > len(self._bytes):
                self._bytes, self._at = os.urandom(max(_BLOCK, count)), 0
            start = self._at
            self._at = start + count
            return self._bytes[start:start + count]


_block = _Block()
os.register_at_fork(after_in_child=_block.forget)


def randbelow(bound: int) -> int:
    """A uniform random integer in ``[0, bound)`` from the OS CSPRNG (as ``secrets.randbelow``)."""
    if bound <= 0:
        raise ValueError(f"expected a positive upper bound, found {bound}")
    bits = (bound - 1).bit_length()
    if bits == 0:
        return 0
    mask, size = (1 << bits) - 1, (bits + 7) // 8
    while True:  # uniform on [0, 2**bits); keep the first value below bound
        value = int.from_bytes(_block.take(size), "big") & mask
        if value < bound:
            return value
