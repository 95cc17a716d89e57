"""Checking many batch rows against the micro-credential schema, fast.

The schema is ``credentials.microcredential``'s (JSON Schema 2020-12, Annex I
of Council Recommendation 2022/C 243/02). Validating a 10,000-row batch with
the general-purpose validator costs about 100 µs a row, more than signing
the credential, so :class:`RowChecker` splits a row in two:

- everything but the learner is usually the same for a whole course: it is
  validated once per distinct value, beside a learner known to be valid;
- the learner is checked by a predicate compiled from the schema's
  ``learner`` subschema (:func:`compile_accept`), which understands only a
  small set of keywords and exactly their JSON Schema meaning.

Both are *accept* tests: a row that either does not accept goes through
:func:`credentials.microcredential.schema_problems` again, so every message
is the core's own and no row is accepted that the schema would refuse.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from credentials.microcredential import load_schema, schema_problems
from jsonschema import Draft202012Validator

__all__ = ["Accept", "compile_accept", "RowChecker"]

Accept = Callable[[Any], bool]

#: Keywords that only annotate: they never make an instance invalid.
_ANNOTATIONS = frozenset({"description", "title", "$comment", "examples"})
#: A learner that passes the schema, to check the rest of a row on its own.
_VALID_LEARNER = {"given_name": "A", "family_name": "B", "birth_date": "2000-01-01", "student_id": "0"}
_MAX_CACHED_COURSES = 1024
_LEARNER = "learner"
_TYPES: dict[str, type] = {"object": dict, "string": str}


def _resolve(root: Mapping[str, Any], ref: str) -> Mapping[str, Any] | None:
    """A local ``#/$defs/…`` reference, or None for anything else."""
    prefix = "#/$defs/"
    if not ref.startswith(prefix):
        return None
    target = root.get("$defs", {}).get(ref[len(prefix):])
    return target if isinstance(target, Mapping) else None


def compile_accept(schema: Mapping[str, Any], root: Mapping[str, Any] | None = None) -> Accept | None:
    """A predicate that is True only for instances valid against ``schema``.

    Understands ``type`` (object, string), ``required``, ``properties``,
    ``additionalProperties: false``, ``minLength``/``maxLength``, ``pattern``,
    ``format: date`` and local ``$ref``; returns None when ``schema`` uses
    anything else, so the caller keeps the full validator.
    """
    root = schema if root is None else root
    checks: list[Accept] = []
    for keyword, value in schema.items():
        if keyword in _ANNOTATIONS:
            continue
        if keyword == "type" and isinstance(value, str) and value in _TYPES:
            kind = _TYPES[value]
            checks.append(lambda instance, kind=kind: isinstance(instance, kind))
        elif keyword == "required" and isinstance(value, list):
            names = tuple(value)
            checks.append(lambda instance, names=names: not isinstance(instance, dict)
                          or all(name in instance for name in names))
        elif keyword == "properties" and isinstance(value, Mapping):
            members = {}
            for name, subschema in value.items():
                member = compile_accept(subschema, root) if isinstance(subschema, Mapping) else None
                if member is None:
                    return None
                members[name] = member
            checks.append(lambda instance, members=members: not isinstance(instance, dict) or all(
                accept(instance[name]) for name, accept in members.items() if name in instance))
        elif keyword == "additionalProperties" and value is False:
            allowed = frozenset(schema.get("properties", {}))
            if "patternProperties" in schema:
                return None
            checks.append(lambda instance, allowed=allowed: not isinstance(instance, dict)
                          or allowed.issuperset(instance))
        elif keyword in ("minLength", "maxLength") and isinstance(value, int) and not isinstance(value, bool):
            low, high = (value, None) if keyword == "minLength" else (0, value)
            checks.append(lambda instance, low=low, high=high: not isinstance(instance, str)
                          or low <= len(instance) and (high is None or len(instance) <= high))
        elif keyword == "pattern" and isinstance(value, str):
            search = re.compile(value).search
            checks.append(lambda instance, search=search: not isinstance(instance, str)
                          or search(instance) is not None)
        elif keyword == "format" and value == "date":
            conforms = Draft202012Validator.FORMAT_CHECKER.conforms
            checks.append(lambda instance, conforms=conforms: conforms(instance, "date"))
        elif keyword == "$ref" and isinstance(value, str):
            target = _resolve(root, value)
            referenced = compile_accept(target, root) if target is not None else None
            if referenced is None:
                return None
            checks.append(referenced)
        else:
            return None
    return lambda instance: all(check(instance) for check in checks)


class RowChecker:
    """``schema_problems`` for many rows that share everything but the learner.

    A row is valid exactly when its learner passes the schema's ``learner``
    subschema and the rest of the row passes the whole schema beside a valid
    learner (no cross-field rule involves the learner).
    """

    def __init__(self) -> None:
        schema = load_schema()
        learner_schema = schema["properties"][_LEARNER]
        accept = compile_accept(learner_schema, schema)
        if accept is None:
            validator = Draft202012Validator(
                {"$defs": schema["$defs"], **learner_schema}, format_checker=Draft202012Validator.FORMAT_CHECKER
            )
            accept = validator.is_valid
        self._learner_ok = accept
        self._rest_valid: dict[str, bool] = {}

    def problems(self, claims: dict[str, Any]) -> list[str]:
        """The core's problems with ``claims`` (empty when they fit the schema)."""
        rest = {name: value for name, value in claims.items() if name != _LEARNER}
        # repr tells apart every two different JSON values the parsers produce (1, 1.0
        # and True included); members in another order only miss the cache.
        key = repr(rest)
        rest_valid = self._rest_valid.get(key)
        if rest_valid is None:
            rest_valid = not schema_problems({**rest, _LEARNER: _VALID_LEARNER})
            if len(self._rest_valid) < _MAX_CACHED_COURSES:
                self._rest_valid[key] = rest_valid
        if rest_valid and self._learner_ok(claims.get(_LEARNER)):
            return []
        return schema_problems(claims)
