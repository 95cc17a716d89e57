"""credentials._json_limits: the quick walk admits exactly what the counting stack walk admits.

Small limits (depth 4, 30 values, strings of 6) put generated JSON on both sides of each limit; a refusal
keeps the stack walk's words. (jsonld.check_bounds uses the same quick walk: tests/core/test_jsonld_bounds.py.)
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credentials import _json_limits
from credentials._json_limits import JsonLimits, check_json_limits, within_limits
from credentials.errors import InvalidInput

SMALL = JsonLimits(max_depth=4, max_nodes=30, max_string=6)
TEXT = st.text(alphabet="ab", max_size=8)
JSON = st.recursive(st.none() | st.booleans() | st.integers() | TEXT,
                    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(TEXT, inner, max_size=4),
                    max_leaves=40)


def stack_walk_admits(value: Any) -> bool:
    """The stack walk alone (the quick walk told to give up at once)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_json_limits, "within_limits", lambda value, limits: False)
        try:
            check_json_limits(value, SMALL, what="the value")
        except InvalidInput:
            return False
    return True


@settings(max_examples=500, deadline=None)
@given(JSON)
def test_the_quick_walk_admits_what_the_stack_walk_admits(value: Any) -> None:
    assert within_limits(value, SMALL) == stack_walk_admits(value)


def nested(levels: int) -> Any:
    value: Any = "leaf"
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.parametrize(("value", "admitted"), [
    (nested(4), True), (nested(5), False), ({"a": nested(3)}, True), ({"a": nested(4)}, False),
    (list(range(29)), True), (list(range(30)), False), ({"abcdef": "abcdef"}, True), ({"abcdefg": 1}, False),
    ({"a": "abcdefg"}, False), ({str(i): i for i in range(14)}, True), ({str(i): i for i in range(15)}, False),
])
def test_each_limit_at_its_edge(value: Any, admitted: bool) -> None:
    assert within_limits(value, SMALL) == admitted == stack_walk_admits(value)


@pytest.mark.parametrize(("value", "reason"), [
    (nested(5), "the value is nested deeper than 4 levels"),
    (list(range(40)), "the value holds more than 30 JSON values"),
    (["abcdefg"], "the value has a string longer than 6 characters"),
    ({"abcdefg": 1}, "the value has a member name longer than 6 characters"),
])
def test_a_refusal_keeps_its_reason(value: Any, reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_json_limits(value, SMALL, what="the value")
    assert str(caught.value) == reason
