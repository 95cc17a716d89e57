"""ledger.chain.deadline: one deadline for every chain read made inside it (the verifier enters one per verification).

No chain needed: what is checked is the deadline each read would see (:func:`ledger.chain.time_left`).
"""

from __future__ import annotations

import pytest

from ledger.chain import deadline, time_left


def test_outside_any_deadline_there_is_none() -> None:
    assert time_left() is None


def test_a_deadline_gives_its_time_and_ends_with_its_block() -> None:
    with deadline(30) as at:
        left = time_left()
        assert left is not None
        assert 0 < left <= 30
        assert at > 0
    assert time_left() is None


def test_an_enclosing_earlier_deadline_wins_and_comes_back_after_the_inner_one() -> None:
    with deadline(5):
        with deadline(60):
            inner = time_left()
            assert inner is not None
            assert inner <= 5
        with deadline(1):
            shorter = time_left()
            assert shorter is not None
            assert shorter <= 1
        outer = time_left()
        assert outer is not None
        assert 1 < outer <= 5
    assert time_left() is None


def test_a_negative_time_is_no_time_and_an_exception_still_ends_the_deadline() -> None:
    with pytest.raises(KeyError), deadline(-3):
        left = time_left()
        assert left is not None
        assert left <= 0
        raise KeyError("inside")
    assert time_left() is None
