"""A JSON Schema (draft 2019-09) compiled once into Python closures: the fast "is it valid?" answer.

Implements the validation vocabulary of *JSON Schema: A Media Type for
Describing JSON Documents* and *JSON Schema Validation* (draft 2019-09,
§9.2 applicators and §6 assertions) as far as a vendored schema such as
1EdTech's ``ob_v3p0_achievementcredential_schema.json`` uses it: ``type``,
``enum`` (of strings), ``properties``, ``required``, ``additionalProperties``,
``items`` (one schema or a list), ``additionalItems``, ``minItems``,
``contains``, ``pattern``, ``oneOf``, ``allOf`` and ``$ref`` to ``#/$defs/…``
or ``#/definitions/…`` in the same document, with the semantics of the
``jsonschema`` package's ``Draft201909Validator`` without a format checker
(``format`` is an annotation; ``$ref`` does not shadow its siblings; integers
may be written ``1.0``; ``true`` is not ``1``).

:func:`compile_schema` returns ``None`` for a schema using anything else, so a
caller falls back to ``jsonschema`` for it. A compiled schema only answers
valid / invalid; for the reasons a caller asks ``jsonschema``, which stays the
authority on every invalid document (the differential tests in
``tests/core/test_schema_fast.py`` hold the two answers equal).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from numbers import Number
from typing import Any

from credentials._schema_check import Check, every_check

__all__ = ["Check", "compile_schema"]

#: Keywords that assert nothing (annotations, identifiers, the definitions container).
_ANNOTATIONS = frozenset({
    "$schema", "$id", "$comment", "$defs", "definitions", "title", "description", "format", "default",
    "examples", "readOnly", "writeOnly", "deprecated",
})
_LOCAL_REF = re.compile(r"#/(\$defs|definitions)/([A-Za-z0-9_.-]+)")


class _NotCompilable(Exception):
    """The schema uses a keyword or a form this compiler does not implement."""


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _is_number(value: Any) -> bool:
    return isinstance(value, Number) and not isinstance(value, bool)


_TYPES: dict[str, Check] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "integer": _is_integer,
    "number": _is_number,
}


class _Compiler:
    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root
        self.refs: dict[str, Check] = {}

    def ref(self, target: Any) -> Check:
        if not isinstance(target, str):
            raise _NotCompilable("$ref")
        if target in self.refs:
            return self.refs[target]
        match = _LOCAL_REF.fullmatch(target)
        container = self.root.get(match[1]) if match else None
        if not match or not isinstance(container, Mapping) or match[2] not in container:
            raise _NotCompilable(f"$ref {target}")
        holder: list[Check] = []
        self.refs[target] = lambda v: holder[0](v)  # late-bound for a definition that refers to itself
        compiled = self.schema(container[match[2]])
        holder.append(compiled)
        self.refs[target] = compiled  # every later reference calls it directly
        return compiled

    def schema(self, schema: Any) -> Check:
        if schema is True:
            return lambda v: True
        if schema is False:
            return lambda v: False
        if not isinstance(schema, Mapping):
            raise _NotCompilable("a schema must be an object or a boolean")
        checks: list[Check] = []
        for keyword, value in schema.items():
            if keyword in _ANNOTATIONS:
                continue
            method = _KEYWORDS.get(keyword)
            if method is None:
                raise _NotCompilable(keyword)
            checks.append(method(self, value, schema))
        if not checks:
            return lambda v: True
        if len(checks) == 1:
            return checks[0]
        if len(checks) == 2:
            first, second = checks
            return lambda v: first(v) and second(v)
        return every_check(tuple(checks))

    def k_ref(self, value: Any, schema: Mapping[str, Any]) -> Check:
        return self.ref(value)

    def k_type(self, value: Any, schema: Mapping[str, Any]) -> Check:
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not names or not all(name in _TYPES for name in names):
            raise _NotCompilable("type")
        if len(names) == 1:
            return _TYPES[names[0]]
        tests = tuple(_TYPES[name] for name in names)
        return lambda v: any(test(v) for test in tests)

    def k_enum(self, value: Any, schema: Mapping[str, Any]) -> Check:
        if not isinstance(value, list) or not all(isinstance(each, str) for each in value):
            raise _NotCompilable("enum other than strings")
        allowed = frozenset(value)
        return lambda v: isinstance(v, str) and v in allowed

    def k_properties(self, value: Any, schema: Mapping[str, Any]) -> Check:
        if not isinstance(value, Mapping):
            raise _NotCompilable("properties")
        members = tuple((name, self.schema(sub)) for name, sub in value.items())

        def properties(v: Any) -> bool:
            if isinstance(v, dict):
                for name, check in members:
                    if name in v and not check(v[name]):
                        return False
            return True
        return properties

    def k_required(self, value: Any, schema: Mapping[str, Any]) -> Check:
        if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
            raise _NotCompilable("required")
        names = tuple(value)
        return lambda v: not isinstance(v, dict) or all(name in v for name in names)

    def k_additionalProperties(self, value: Any, schema: Mapping[str, Any]) -> Check:
        if "patternProperties" in schema:
            raise _NotCompilable("patternProperties")
        declared = schema.get("properties", {})
        if not isinstance(declared, Mapping):
            raise _NotCompilable("properties")
        known = frozenset(declared)
        if value is False:
            return lambda v: not isinstance(v, dict) or known.issuperset(v)
        if value is True:
            return lambda v: True
        check = self.schema(value)

        def additional(v: Any) -> bool:
            if isinstance(v, dict):
                for name, member in v.items():
                    if name not in known and not check(member):
                        return False
            return True
        return additional

    def k_items(self, value: Any, schema: Mapping[str, Any]) -> Check:
        if isinstance(value, list):
            positional = tuple(self.schema(sub) for sub in value)
            return lambda v: not isinstance(v, list) or all(
                check(item) for check, item in zip(positional, v, strict=False))  # extra items: additionalItems
        check = self.schema(value)

        def items(v: Any) -> bool:
            if isinstance(v, list):
                for item in v:
                    if not check(item):
                        return False
            return True
        return items

    def k_additionalItems(self, value: Any, schema: Mapping[str, Any]) -> Check:
        items = schema.get("items", {})
        if isinstance(items, dict):
            return lambda v: True  # only applies after a list of positional schemas
        if not isinstance(items, list):
            raise _NotCompilable("additionalItems")
        count = len(items)
        if isinstance(value, dict):
            check = self.schema(value)
            return lambda v: not isinstance(v, list) or all(check(item) for item in v[count:])
        if value is False:
            return lambda v: not isinstance(v, list) or len(v) <= count
        if value is True:
            return lambda v: True
        raise _NotCompilable("additionalItems")

    def k_minItems(self, value: Any, schema: Mapping[str, Any]) -> Check:
        if not _is_integer(value):
            raise _NotCompilable("minItems")
        least = value
        return lambda v: not isinstance(v, list) or len(v) >= least

    def k_contains(self, value: Any, schema: Mapping[str, Any]) -> Check:
        if "minContains" in schema or "maxContains" in schema:
            raise _NotCompilable("minContains / maxContains")
        check = self.schema(value)

        def contains(v: Any) -> bool:
            if not isinstance(v, list):
                return True
            for item in v:  # noqa: SIM110 (no generator per call: issue 16)
                if check(item):
                    return True
            return False
        return contains

    def k_pattern(self, value: Any, schema: Mapping[str, Any]) -> Check:
        if not isinstance(value, str):
            raise _NotCompilable("pattern")
        search = re.compile(value).search
        return lambda v: not isinstance(v, str) or search(v) is not None

    def k_allOf(self, value: Any, schema: Mapping[str, Any]) -> Check:
        if not isinstance(value, list) or not value:
            raise _NotCompilable("allOf")
        return every_check(tuple(self.schema(sub) for sub in value))

    def k_oneOf(self, value: Any, schema: Mapping[str, Any]) -> Check:
        if not isinstance(value, list) or not value:
            raise _NotCompilable("oneOf")
        options = tuple(self.schema(sub) for sub in value)

        def one_of(v: Any) -> bool:
            matched = False
            for check in options:
                if check(v):
                    if matched:
                        return False  # a second match
                    matched = True
            return matched
        return one_of


_KEYWORDS: dict[str, Callable[[_Compiler, Any, Mapping[str, Any]], Check]] = {
    "$ref": _Compiler.k_ref,
    "type": _Compiler.k_type,
    "enum": _Compiler.k_enum,
    "properties": _Compiler.k_properties,
    "required": _Compiler.k_required,
    "additionalProperties": _Compiler.k_additionalProperties,
    "items": _Compiler.k_items,
    "additionalItems": _Compiler.k_additionalItems,
    "minItems": _Compiler.k_minItems,
    "contains": _Compiler.k_contains,
    "pattern": _Compiler.k_pattern,
    "allOf": _Compiler.k_allOf,
    "oneOf": _Compiler.k_oneOf,
}


def compile_schema(schema: Mapping[str, Any]) -> Check | None:
    """The schema as one ``instance -> valid?`` function, or None if it uses what is not implemented here."""
    try:
        return _Compiler(schema).schema(schema)
    except (_NotCompilable, re.error):
        return None
