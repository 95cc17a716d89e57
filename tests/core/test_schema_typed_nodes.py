"""A typed schema node compiled as one closure answers as jsonschema does (credentials._schema_check, issue 16).

A node of one type (``string`` with its length, pattern, enum, const and date format; ``integer`` or
``number`` with its bounds; ``object`` with ``required``, ``properties`` and ``additionalProperties: false``)
is one closure testing the type once. It may only say "certainly valid" when jsonschema finds no error, and
it must say so for every plain valid value (a ``str``, an ``int``, a finite ``float`` for ``number``, a ``dict``),
or the fast path would be lost.
"""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from credentials._schema_check import compile_check

_FORMAT = Draft202012Validator.FORMAT_CHECKER


def _subset(options: dict) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries({}, optional={name: st.sampled_from(values) for name, values in options.items()})


_strings = _subset({"minLength": [0, 1, 3], "maxLength": [2, 10], "pattern": ["\\S", "^[a-z]+$"],
                    "enum": [["a", "abc", "2026-01-31"], ["x"]], "const": ["abc", "2026-01-31"],
                    "format": ["date"]}).map(lambda node: {"type": "string", **node})
_numbers = st.tuples(st.sampled_from(["integer", "number"]), _subset({
    "minimum": [0, 1, 0.5], "maximum": [8, 59.5], "exclusiveMinimum": [0, -1.5], "exclusiveMaximum": [60, 8]})).map(
    lambda kind_node: {"type": kind_node[0], **kind_node[1]})
_nodes = st.one_of(_strings, _numbers)
_objects = st.tuples(st.dictionaries(st.sampled_from(["a", "b", "c"]), _nodes, max_size=3),
                     st.lists(st.sampled_from(["a", "b"]), unique=True), st.booleans()).map(
    lambda parts: {"type": "object", "properties": parts[0], "required": parts[1],
                   **({"additionalProperties": False} if parts[2] else {})})
_values = st.one_of(st.none(), st.booleans(), st.sampled_from([0, 1, 5, 8, 9, 60, -1, 2 ** 70]),
                    st.sampled_from([0.5, 5.0, 59.5, 59.999, -0.0, math.inf, -math.inf, math.nan]),
                    st.sampled_from(["", " ", "a", "abc", "ABC", "x" * 11, "2026-01-31", "2026-02-30", "२०२६-०१-३१"]),
                    st.text(max_size=4), st.lists(st.just("a"), max_size=2))
_objects_values = st.one_of(_values, st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), _values, max_size=4))


def _plain(value) -> bool:
    """A value the fast path must accept when valid (a float in an object may be an integer's 5.0: jsonschema's)."""
    kind = type(value)
    if kind is dict:
        return all(type(item) in (str, int) for item in value.values())
    return kind in (str, int) or (kind is float and math.isfinite(value))


def _agrees(schema, value) -> None:
    check = compile_check(schema)
    assert check is not None
    valid = not list(Draft202012Validator(schema, format_checker=_FORMAT).iter_errors(value))
    if check(value):
        assert valid
    elif valid and _plain(value) and not (schema.get("type") == "integer" and type(value) is float):
        raise AssertionError(f"{value!r} is valid for {schema} but the compiled check sent it to jsonschema")


@settings(max_examples=1500, deadline=None)
@given(_nodes, _values)
def test_a_typed_node_answers_as_jsonschema(schema, value) -> None:
    _agrees(schema, value)


@settings(max_examples=800, deadline=None)
@given(_objects, _objects_values)
def test_an_object_node_answers_as_jsonschema(schema, value) -> None:
    if isinstance(value, dict):
        value = {key: item for key, item in value.items() if not (type(item) is float and not math.isfinite(item))}
    _agrees(schema, value)
