"""A JSON Schema 2020-12 subset compiled once into a fast, conservative yes/no check.

The verifier checks the disclosed claims of every presentation against the
micro-credential schema (``credentials/schemas/micro-credential.schema.json``,
JSON Schema 2020-12, formats asserted). Walking the schema with ``jsonschema``
costs about as much as two ES256 verifications, so :func:`compile_check` turns
the schema into nested closures once. A compiled check answers only

* ``True``: the instance is certainly valid; ``jsonschema`` would report no error;
* ``False``: it may be invalid, or it is unusual (a ``float`` where an integer
  is wanted, a ``str`` subclass, a non-finite number, duplicate detection over
  non-strings): the caller must then ask ``jsonschema`` itself, which also
  writes the messages.

So the fast path can only skip work, never change a verdict.
:func:`compile_check` returns ``None`` for a schema using any keyword outside
the subset below, and the caller then always uses ``jsonschema``.

Subset: ``type``, ``enum`` and ``const`` (of strings), ``minLength``,
``maxLength``, ``pattern``, ``format`` (``date`` only, through jsonschema's own
format checker), ``minimum``, ``maximum``, ``exclusiveMinimum``,
``exclusiveMaximum``, ``required``, ``properties``, ``additionalProperties:
false``, ``items`` (one schema), ``minItems``, ``maxItems``, ``uniqueItems``
and local ``$ref`` into ``#/$defs/``.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Callable, Mapping
from typing import Any

from jsonschema import Draft202012Validator

__all__ = ["Check", "compile_check", "every_check", "all_finite", "non_finite_problems"]

#: ``instance -> True`` when certainly valid, ``False`` when ``jsonschema`` must decide.
Check = Callable[[Any], bool]

_ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "$defs", "title", "description", "default", "examples"})
_DEFS_PREFIX = "#/$defs/"
_FORMATS = frozenset({"date"})
_FORMAT_CHECKER = Draft202012Validator.FORMAT_CHECKER
_JSON_SCALARS = frozenset({str, int, bool, type(None)})


class _Unsupported(LookupError):
    """The schema uses something outside the subset (internal: makes :func:`compile_check` return None)."""


def all_finite(value: Any) -> bool:
    """True when ``value`` holds only JSON types (dict, list, str, int, bool, None, float) and no NaN or infinity."""
    kind = type(value)
    if kind is not dict and kind is not list:
        return math.isfinite(value) if kind is float else kind in _JSON_SCALARS
    isfinite, stack = math.isfinite, [value]
    while stack:  # only containers are stacked; their scalars are judged in the loop (issue 16)
        container = stack.pop()
        for item in (container.values() if type(container) is dict else container):
            kind = type(item)
            if kind is str or kind is int:
                continue
            if kind is dict or kind is list:
                stack.append(item)
            elif kind is float:
                if not isfinite(item):
                    return False
            elif item is not None and kind is not bool:
                return False  # not what a JSON parser gives (a tuple, a float subclass…): the slow path decides
    return True


def _is_number(value: Any) -> bool:
    kind = type(value)
    return kind is int or (kind is float and math.isfinite(value))


_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: type(v) is str,
    "integer": lambda v: type(v) is int,  # 5.0 counts as an integer for jsonschema: left to it
    "number": _is_number,
    "object": lambda v: type(v) is dict,
    "array": lambda v: type(v) is list,
    "boolean": lambda v: type(v) is bool,
    "null": lambda v: v is None,
}


def _type(expected: Any) -> Check:
    names = [expected] if isinstance(expected, str) else expected
    if not isinstance(names, list) or not names or any(n not in _TYPES for n in names):
        raise _Unsupported(f"type {expected!r}")
    tests = tuple(_TYPES[n] for n in names)
    if len(tests) == 1:
        return tests[0]

    def any_type(v: Any) -> bool:
        for test in tests:  # noqa: SIM110 (no generator per call: issue 16)
            if test(v):
                return True
        return False

    return any_type


def _strings(values: Any, keyword: str) -> frozenset[str]:
    if not isinstance(values, list) or not all(type(v) is str for v in values):
        raise _Unsupported(f"{keyword} with members that are not all strings")
    return frozenset(values)


def _number_bound(keyword: str, bound: Any) -> Check:
    if type(bound) not in (int, float):
        raise _Unsupported(f"{keyword} {bound!r}")
    compare: Check = {
        "minimum": lambda v: v >= bound, "maximum": lambda v: v <= bound,
        "exclusiveMinimum": lambda v: v > bound, "exclusiveMaximum": lambda v: v < bound,
    }[keyword]
    # jsonschema ignores these for non-numbers (booleans included); any other number is left to it.
    return lambda v: compare(v) if _is_number(v) else type(v) is bool or not isinstance(v, numbers.Number)


_BOUNDS = frozenset({"minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"})


def _range(node: Mapping[str, Any]) -> Check | None:
    """One lower and one upper bound of ``node`` in one check, each as :func:`_number_bound` checks it alone;
    None unless ``node`` has exactly one of each, numbers."""
    lows = [k for k in ("minimum", "exclusiveMinimum") if k in node]
    highs = [k for k in ("maximum", "exclusiveMaximum") if k in node]
    if len(lows) != 1 or len(highs) != 1:
        return None
    low, high = node[lows[0]], node[highs[0]]
    if type(low) not in (int, float) or type(high) not in (int, float):
        return None
    kind = (lows[0], highs[0])  # one expression each, no further call for a number
    if kind == ("minimum", "maximum"):
        return lambda v: (low <= v <= high) if _is_number(v) else _not_bounded(v)
    if kind == ("exclusiveMinimum", "exclusiveMaximum"):
        return lambda v: (low < v < high) if _is_number(v) else _not_bounded(v)
    if kind == ("minimum", "exclusiveMaximum"):
        return lambda v: (low <= v < high) if _is_number(v) else _not_bounded(v)
    return lambda v: (low < v <= high) if _is_number(v) else _not_bounded(v)


def _not_bounded(value: Any) -> bool:
    """What a bound answers for a value that is not a finite number: jsonschema ignores bounds for non-numbers
    (booleans included); any other number (NaN, a float subclass…) is left to it (False)."""
    return type(value) is bool or not isinstance(value, numbers.Number)


def _unique(values: list[Any]) -> bool:
    return all(type(v) is str for v in values) and len(set(values)) == len(values)


def _keyword(name: str, value: Any, node: Mapping[str, Any], root: Mapping[str, Any]) -> Check | None:
    """One keyword's check; None for a keyword that constrains nothing here."""
    if name == "type":
        return _type(value)
    if name == "enum":
        members = _strings(value, name)
        return lambda v: type(v) is str and v in members
    if name == "const":
        if type(value) is not str:
            raise _Unsupported("const that is not a string")
        return lambda v: type(v) is str and v == value
    if name == "minLength":
        return lambda v: not isinstance(v, str) or len(v) >= value
    if name == "maxLength":
        return lambda v: not isinstance(v, str) or len(v) <= value
    if name == "pattern":
        search = re.compile(value).search
        return lambda v: not isinstance(v, str) or search(v) is not None
    if name == "format":
        if value not in _FORMATS:
            raise _Unsupported(f"format {value!r}")
        return lambda v: not isinstance(v, str) or _FORMAT_CHECKER.conforms(v, value)
    if name in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return _number_bound(name, value)
    if name == "required":
        return _required(tuple(_strings(value, name)))
    if name == "properties":
        return _properties({key: _compile(sub, root) for key, sub in value.items()})
    if name == "additionalProperties":
        if value is not False:
            raise _Unsupported("additionalProperties other than false")
        known = frozenset(node.get("properties", {}))
        return lambda v: not isinstance(v, dict) or known.issuperset(v)
    if name == "items":
        return _items(_compile(value, root))
    if name == "minItems":
        return lambda v: not isinstance(v, list) or len(v) >= value
    if name == "maxItems":
        return lambda v: not isinstance(v, list) or len(v) <= value
    if name == "uniqueItems":
        return (lambda v: not isinstance(v, list) or _unique(v)) if value else None
    if name == "$ref":
        if not isinstance(value, str) or not value.startswith(_DEFS_PREFIX):
            raise _Unsupported(f"$ref {value!r}")
        target = root.get("$defs", {}).get(value.removeprefix(_DEFS_PREFIX))
        if not isinstance(target, Mapping):
            raise _Unsupported(f"$ref {value!r} names no definition")
        return _compile(target, root)
    if name in _ANNOTATIONS:
        return None
    raise _Unsupported(f"keyword {name!r}")


_STRING_KEYWORDS = frozenset({"type", "minLength", "maxLength", "pattern", "format", "enum", "const"}) | _ANNOTATIONS
_NUMBER_KEYWORDS = frozenset({"type"}) | _BOUNDS | _ANNOTATIONS
_OBJECT_KEYWORDS = frozenset({"type", "required", "properties", "additionalProperties"}) | _ANNOTATIONS


def _typed(node: Mapping[str, Any], root: Mapping[str, Any]) -> Check | None:
    """One closure for a node of one type ``string``, ``integer``, ``number`` or ``object`` whose keywords all
    apply to that type: the same answer as the keywords' checks together (each of those lets any other type pass,
    the type test refuses it), with the type tested once. None for any other node (:func:`_compile` decides)."""
    kind = node.get("type")
    if kind == "string" and _STRING_KEYWORDS.issuperset(node):
        return _string(node)
    if kind in ("integer", "number") and _NUMBER_KEYWORDS.issuperset(node):
        return _number(node, kind == "integer")
    if (kind == "object" and _OBJECT_KEYWORDS.issuperset(node) and node.get("additionalProperties", False) is False
            and ("properties" in node or "required" in node)):  # a bare {"type": "object"}: the type test alone
        return _object(node, root)
    return None


def _string(node: Mapping[str, Any]) -> Check | None:
    low, high = node.get("minLength", 0), node.get("maxLength")
    if type(low) is not int or (high is not None and type(high) is not int):
        return None
    search = re.compile(node["pattern"]).search if "pattern" in node else None
    members = _strings(node["enum"], "enum") if "enum" in node else None
    const = node.get("const")
    if "const" in node and type(const) is not str:
        raise _Unsupported("const that is not a string")
    conforms: Check | None = None
    if "format" in node:
        if node["format"] not in _FORMATS:
            raise _Unsupported(f"format {node['format']!r}")
        conforms = _format(node["format"])

    def string(v: Any) -> bool:
        if type(v) is not str or len(v) < low or (high is not None and len(v) > high):
            return False
        if search is not None and search(v) is None:
            return False
        if members is not None and v not in members:
            return False
        if const is not None and v != const:
            return False
        return conforms is None or conforms(v)

    return string


def _format(name: str) -> Check:
    """``FormatChecker.conforms(v, name)`` of jsonschema's checker, without its two calls and exception per value."""
    if name not in _FORMAT_CHECKER.checkers:
        return lambda v: True
    function, raises = _FORMAT_CHECKER.checkers[name]

    def conforms(v: Any) -> bool:
        try:
            return bool(function(v))
        except raises:
            return False

    return conforms


def _number(node: Mapping[str, Any], integer: bool) -> Check | None:
    bounds = {name: node[name] for name in _BOUNDS if name in node}
    if any(type(bound) not in (int, float) for bound in bounds.values()):
        return None
    low, xlow = bounds.get("minimum"), bounds.get("exclusiveMinimum")
    high, xhigh = bounds.get("maximum"), bounds.get("exclusiveMaximum")

    def number(v: Any) -> bool:
        kind = type(v)
        if not (kind is int or (not integer and kind is float and math.isfinite(v))):
            return False
        return ((low is None or v >= low) and (xlow is None or v > xlow)
                and (high is None or v <= high) and (xhigh is None or v < xhigh))

    return number


def _object(node: Mapping[str, Any], root: Mapping[str, Any]) -> Check:
    needed = tuple(_strings(node.get("required", []), "required"))
    checks = {key: _compile(sub, root) for key, sub in node.get("properties", {}).items()}
    known = frozenset(node.get("properties", {})) if "additionalProperties" in node else None
    find = checks.get

    def object_(v: Any) -> bool:
        return (type(v) is dict and _has_all(needed, v) and (known is None or known.issuperset(v))
                and _members_fit(find, v))

    return object_


# The closures here loop instead of calling all() or any() over a generator: a schema check runs on every
# verification, and a generator per keyword and per member cost more than the checks themselves (issue 16).

def _has_all(needed: tuple[str, ...], v: dict[str, Any]) -> bool:
    """Whether the object ``v`` has every member ``needed`` (``required``)."""
    for name in needed:  # noqa: SIM110 (no generator per call: issue 16)
        if name not in v:
            return False
    return True


def _members_fit(find: Callable[[str], Check | None], v: dict[str, Any]) -> bool:
    """Whether each member of the object ``v`` that ``find`` has a check for passes it (``properties``)."""
    for key, item in v.items():
        check = find(key)
        if check is not None and not check(item):
            return False
    return True


def _required(needed: tuple[str, ...]) -> Check:
    return lambda v: not isinstance(v, dict) or _has_all(needed, v)


def _properties(checks: dict[str, Check]) -> Check:
    find = checks.get
    return lambda v: not isinstance(v, dict) or _members_fit(find, v)


def _items(check: Check) -> Check:
    def items(v: Any) -> bool:
        if not isinstance(v, list):
            return True
        for item in v:  # noqa: SIM110 (no generator per call: issue 16)
            if not check(item):
                return False
        return True

    return items


def every_check(checks: tuple[Check, ...]) -> Check:
    """One check true when every one of ``checks`` is (short-circuit, no generator per call)."""
    if len(checks) == 2:
        first, second = checks
        return lambda v: first(v) and second(v)
    if len(checks) == 3:  # e.g. a type and two bounds: one expression, no loop
        first, second, third = checks
        return lambda v: first(v) and second(v) and third(v)
    if len(checks) == 4:
        first, second, third, fourth = checks
        return lambda v: first(v) and second(v) and third(v) and fourth(v)

    def every(v: Any) -> bool:
        for check in checks:  # noqa: SIM110 (no generator per call: issue 16)
            if not check(v):
                return False
        return True

    return every


def _compile(node: Any, root: Mapping[str, Any]) -> Check:
    if not isinstance(node, Mapping):
        raise _Unsupported("a schema that is not an object")
    fused = _typed(node, root)
    if fused is not None:  # a typed node: one closure, no type test per keyword (issue 16)
        return fused
    fused = _range(node)
    if fused is not None:  # a lower and an upper bound: one range check (issue 16)
        checks = tuple(c for c in (_keyword(k, v, node, root) for k, v in node.items()
                                   if k not in _BOUNDS) if c is not None) + (fused,)
    else:
        checks = tuple(c for c in (_keyword(k, v, node, root) for k, v in node.items()) if c is not None)
    if not checks:
        return lambda v: True
    if len(checks) == 1:
        return checks[0]
    return every_check(checks)


def compile_check(schema: Mapping[str, Any], root: Mapping[str, Any] | None = None) -> Check | None:
    """The fast check for ``schema``, or None when it uses anything outside the subset.

    ``root`` is the document its ``#/$defs/…`` references resolve in (default: ``schema``).
    """
    try:
        return _compile(schema, schema if root is None else root)
    except _Unsupported:
        return None


def non_finite_problems(value: Any, path: list[Any]) -> list[tuple[list[Any], str]]:
    """``(path, problem)`` for every NaN or infinite float in ``value`` (JSON has neither)."""
    if isinstance(value, float) and not math.isfinite(value):
        return [(path, f"expected a finite number, found {value!r}")]
    if isinstance(value, Mapping):
        return [p for key, item in value.items() for p in non_finite_problems(item, path + [key])]
    if isinstance(value, (list, tuple)):
        return [p for index, item in enumerate(value) for p in non_finite_problems(item, path + [index])]
    return []
