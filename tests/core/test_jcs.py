"""credentials.jcs: byte for byte what ``rfc8785.dumps`` writes, and the same refusals.

RFC 8785's own vectors (appendix B: arrays, French, structures, unicode, values, weird), then generated
JSON reaching every corner of the fast path's domain and beyond it: control characters, quotes and
backslashes, U+2028, DEL, member names beyond U+FFFF (UTF-16 order differs from code point order), lone
surrogates, integers around 2^53, floats, tuples, other mappings.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from credentials.jcs import jcs_dumps

RFC8785 = Path(__file__).resolve().parents[1] / "vectors" / "rfc8785"


def same_as_rfc8785(value: Any) -> None:
    try:
        expected: Any = rfc8785.dumps(value)
    except Exception as exc:  # noqa: BLE001 - whatever it raises, jcs_dumps must raise too
        with pytest.raises(type(exc)):
            jcs_dumps(value)
        return
    assert jcs_dumps(value) == expected


@pytest.mark.parametrize("name", sorted(p.name for p in (RFC8785 / "input").glob("*.json")))
def test_rfc8785_vectors(name: str) -> None:
    value = json.loads((RFC8785 / "input" / name).read_text(encoding="utf-8"))
    assert jcs_dumps(value) == (RFC8785 / "output" / name).read_bytes()


TEXT = st.text(st.characters(codec=None, categories=None), max_size=6) | st.sampled_from(
    ["", "\x00", "\x1f", "\x7f", '"', "\\", "\b\f\n\r\t", "\u2028", "é", "\ue000", "\U0001f600", "\ud800", "a\udfff"])
INTEGERS = st.integers() | st.sampled_from([2**53 - 1, 2**53, -(2**53) + 1, -(2**53), 0, -1])
SCALARS = st.none() | st.booleans() | INTEGERS | st.floats() | TEXT
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4)
                    | st.lists(inner, max_size=3).map(tuple), max_leaves=30)


@settings(max_examples=1500, deadline=None)
@given(JSON)
def test_generated_values_canonicalize_as_rfc8785_does(value: Any) -> None:
    same_as_rfc8785(value)


@pytest.mark.parametrize("value", [
    {"\ue000": 1, "\U0001f600": 2},  # UTF-16 puts the astral name first, code points the other
    {"b": 1, "a": {"d": [True, None, "x"], "c": -5}},
    {1: "a"}, {"a": 1.0}, {"a": 2**53}, {"a": -(2**53) + 1}, {"a": "\ud800"}, {"\ud800": 1},
    OrderedDict([("b", 1), ("a", 2)]), MappingProxyType({"a": 1}), {"a": {1, 2}}, ("a", ["b"]), float("nan"),
])
def test_corners_canonicalize_as_rfc8785_does(value: Any) -> None:
    same_as_rfc8785(value)
