"""Checking many batch rows against the micro-credential schema, fast.

The schema is ``credentials.microcredential``'s (JSON Schema 2020-12, Annex I
of Council Recommendation 2022/C 243/02). Validating a 10,000-row batch with
the general-purpose validator costs about 100 µs a row, more than signing
the credential, so :class:`RowChecker` splits a row in two:

- everything but the learner is usually the same for a whole course: it is
  validated once per distinct value, beside a learner known to be valid;
- the learner is checked by the core's fast schema check compiled from the
  schema's ``learner`` subschema (:func:`credentials.microcredential.compile_check`),
  which understands only a small set of keywords and exactly their meaning.

Both are *accept* tests: a row that either does not accept goes through
:func:`credentials.microcredential.schema_problems` again, so every message
is the core's own and no row is accepted that the schema would refuse.
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

from credentials.microcredential import compile_check, load_schema, schema_problems

__all__ = ["RowChecker"]

#: A learner that passes the schema, to check the rest of a row on its own.
_VALID_LEARNER = {"given_name": "A", "family_name": "B", "birth_date": "2000-01-01", "student_id": "0"}
_MAX_CACHED_COURSES = 1024
_LEARNER = "learner"


class RowChecker:
    """``schema_problems`` for many rows that share everything but the learner.

    A row is valid exactly when its learner passes the schema's ``learner``
    subschema and the rest of the row passes the whole schema beside a valid
    learner (no cross-field rule involves the learner).
    """

    def __init__(self) -> None:
        schema = load_schema()
        learner_schema = schema["properties"][_LEARNER]
        accept = compile_check(learner_schema, root=schema)
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
