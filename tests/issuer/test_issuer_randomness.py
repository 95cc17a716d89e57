"""issuer.randomness.randbelow: status list slots drawn from the OS CSPRNG read in blocks (issue 16).

Same contract as ``secrets.randbelow``: uniform on ``[0, bound)``; and a forked
child never reuses the bytes its parent had read ahead.
"""

from __future__ import annotations

import multiprocessing
from collections import Counter

import pytest

from issuer import randomness
from issuer.randomness import randbelow


@pytest.mark.parametrize("bound", [1, 2, 3, 255, 256, 257, 131_072, 131_073, 10**6, 2**40 + 3])
def test_every_draw_is_below_its_bound(bound):
    assert all(0 <= randbelow(bound) < bound for _ in range(500))


@pytest.mark.parametrize("bound", [0, -1])
def test_a_bound_below_one_is_refused(bound):
    with pytest.raises(ValueError, match="positive"):
        randbelow(bound)


def test_draws_are_uniform_where_bits_must_be_rejected():
    # bound 3 takes 2 bits and rejects the value 3: a biased sampler (value % 3) would give 0 half the time.
    counts = Counter(randbelow(3) for _ in range(30_000))
    assert set(counts) == {0, 1, 2}
    assert all(abs(count / 30_000 - 1 / 3) < 0.05 for count in counts.values())


def test_a_large_list_sees_every_part_of_its_range():
    quarters = Counter(randbelow(131_072) * 4 // 131_072 for _ in range(4_000))
    assert set(quarters) == {0, 1, 2, 3}


def _child_draws(connection) -> None:
    connection.send([randbelow(2**32) for _ in range(8)])
    connection.close()


def test_a_forked_child_does_not_reuse_the_bytes_its_parent_read_ahead():
    randbelow(2**32)  # the parent now holds a block it has barely used
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)
    child = context.Process(target=_child_draws, args=(sending,))
    child.start()
    from_child = receiving.recv()
    child.join()
    from_parent = [randbelow(2**32) for _ in range(8)]
    assert from_child != from_parent


def test_a_block_is_read_again_when_used_up():
    randomness._block.forget()
    draws = [randbelow(2**64) for _ in range(randomness._BLOCK // 8 + 10)]
    assert len(set(draws)) == len(draws)
