"""credentials.jsonld.check_bounds: the quick walk admits exactly what the counting stack walk admits.

With the bounds made small (depth 4, 30 values, strings of 6), generated JSON lands on both sides of
each bound; the quick answer must be the stack walk's, and a refusal keeps the stack walk's words.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credentials import jsonld
from credentials.errors import FormatError

SMALL = {"MAX_DEPTH": 4, "MAX_VALUES": 30, "MAX_STRING_LENGTH": 6}
TEXT = st.text(alphabet="ab", max_size=8)
JSON = st.recursive(st.none() | st.booleans() | st.integers() | TEXT,
                    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(TEXT, inner, max_size=4),
                    max_leaves=40)


def stack_walk_admits(value: Any) -> bool:
    """The stack walk alone (the quick walk told to give up at once)."""
    quick = jsonld._within_bounds
    jsonld._within_bounds = lambda value: False  # type: ignore[assignment]
    try:
        jsonld.check_bounds(value)
    except FormatError:
        return False
    finally:
        jsonld._within_bounds = quick  # type: ignore[assignment]
    return True


@pytest.fixture
def small_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, bound in SMALL.items():
        monkeypatch.setattr(jsonld, name, bound)


@settings(max_examples=500, deadline=None)
@given(JSON)
def test_the_quick_walk_admits_what_the_stack_walk_admits(value: Any) -> None:
    with pytest.MonkeyPatch.context() as patch:
        for name, bound in SMALL.items():
            patch.setattr(jsonld, name, bound)
        assert jsonld._within_bounds(value) == stack_walk_admits(value)


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
def test_each_bound_at_its_edge(small_bounds: None, value: Any, admitted: bool) -> None:
    assert jsonld._within_bounds(value) == admitted == stack_walk_admits(value)


def test_a_refusal_keeps_its_reason(small_bounds: None) -> None:
    with pytest.raises(FormatError, match="the badge is nested deeper than 4 levels"):
        jsonld.check_bounds(nested(5), what="the badge")
    with pytest.raises(FormatError, match="holds more than 30 JSON values"):
        jsonld.check_bounds(list(range(40)))
    with pytest.raises(FormatError, match="holds a string of 7 characters, over 6"):
        jsonld.check_bounds(["abcdefg"])
