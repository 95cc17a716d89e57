"""credentials.schema_fast: the compiled schema answers exactly as jsonschema's Draft201909Validator does.

Differential: every Open Badge vector, and thousands of mutants of three of them (each member deleted,
replaced by a value of every JSON type, an unknown member added), against 1EdTech's vendored schema; then
small schemas that pin each keyword's corner (``true`` is not ``1``, ``1.0`` is an integer, ``oneOf`` with two
matches, ``$ref`` beside other keywords, a self-referencing definition). A schema using anything else
does not compile, so its caller keeps jsonschema.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft201909Validator

from credentials.open_badges import _ob3_schema, check_open_badge_credential, open_badge_schema_problems
from credentials.schema_fast import compile_schema

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
DOCUMENTS = sorted((VECTORS / "openbadges").rglob("*.json")) + sorted((VECTORS / "ob3-annex").glob("*.json"))
NOW = 1_767_225_600  # 2026-01-01T00:00:00Z
REPLACEMENTS: tuple[Any, ...] = (None, True, 0, 1.5, "x", [], {}, ["x"], [{}], {"type": "x"})


def load(path: Path) -> Any:
    document = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(document, dict) and isinstance(document.get("proof"), dict):
        document["proof"] = [document["proof"]]  # as open_badge_schema_problems hands it over
    return document


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        yield (*prefix, key)
        yield from paths(child, (*prefix, key))


def mutants(document: Any, replacements: tuple[Any, ...] = REPLACEMENTS, stride: int = 1) -> Iterator[Any]:
    for path in list(paths(document))[::stride]:
        *parents, last = path
        for replacement in ("<delete>", *replacements):
            mutant = copy.deepcopy(document)
            holder = mutant
            for step in parents:
                holder = holder[step]
            if replacement == "<delete>":
                del holder[last]
            else:
                holder[last] = copy.deepcopy(replacement)
            yield mutant
        if isinstance(document, dict):
            mutant = copy.deepcopy(document)
            holder = mutant
            for step in path:
                holder = holder[step]
            if isinstance(holder, dict):
                holder["unknownMember"] = "x"
                yield mutant
            elif isinstance(holder, list):
                holder.append("x")
                yield mutant


@pytest.fixture(scope="module")
def ob3() -> tuple[Any, Draft201909Validator]:
    schema = _ob3_schema()
    compiled = compile_schema(schema)
    assert compiled is not None, "1EdTech's OB 3.0 schema must compile, or every badge pays jsonschema's price"
    return compiled, Draft201909Validator(schema)


def test_the_vendored_ob3_schema_compiles() -> None:
    assert compile_schema(_ob3_schema()) is not None


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_every_open_badge_vector_gets_the_same_answer(ob3: tuple[Any, Draft201909Validator], path: Path) -> None:
    compiled, reference = ob3
    document = load(path)
    assert compiled(document) == reference.is_valid(document)


@pytest.mark.parametrize("name", ["1edtech-validator/ob30-simple.json", "1edtech-spec/ob-signed.json"])
def test_mutants_of_a_badge_get_the_same_answer(ob3: tuple[Any, Draft201909Validator], name: str) -> None:
    compiled, reference = ob3
    document = load(VECTORS / "openbadges" / name)
    assert reference.is_valid(document)
    disagreements = []
    answers = set()
    for mutant in mutants(document):
        expected = reference.is_valid(mutant)
        answers.add(expected)
        if compiled(mutant) != expected:
            disagreements.append(json.dumps(mutant)[:300])
    assert disagreements == []
    assert answers == {True, False}  # the mutants reach both answers


def test_mutants_of_the_full_annex_badge_get_the_same_answer(ob3: tuple[Any, Draft201909Validator]) -> None:
    compiled, reference = ob3
    document = load(VECTORS / "ob3-annex" / "full-open-badge-credential.json")
    some = mutants(document, replacements=(None, "x", {}, [{}]), stride=5)  # 6,000 paths: a sample, for time
    disagreements = [json.dumps(m)[:300] for m in some if compiled(m) != reference.is_valid(m)]
    assert disagreements == []


def test_an_invalid_badge_keeps_jsonschemas_reasons() -> None:
    document = load(VECTORS / "openbadges" / "1edtech-validator" / "ob30-simple.json")
    document["credentialSubject"]["type"] = ["Profile"]
    problems = open_badge_schema_problems(check_open_badge_credential(document, now=NOW))
    assert problems == ("credentialSubject/type: ['Profile'] does not contain items matching the given schema",)


CORNERS: list[tuple[dict[str, Any], list[Any]]] = [
    ({"enum": ["a", "b"]}, ["a", "c", 1, None, ["a"]]),
    ({"type": "integer"}, [1, 1.0, 1.5, True, "1", None]),
    ({"type": "number"}, [1, 1.5, True, "1"]),
    ({"type": ["string", "null"]}, ["x", None, 0, False]),
    ({"type": "boolean"}, [True, False, 0, 1]),
    ({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"], "additionalProperties": False},
     [{"a": "x"}, {"a": 1}, {}, {"a": "x", "b": 1}, [], "a"]),
    ({"properties": {"a": {"type": "string"}}, "additionalProperties": {"type": "integer"}},
     [{"a": "x", "b": 1}, {"b": "y"}, {"a": 2}, 5]),
    ({"items": {"type": "string"}, "minItems": 2}, [["a", "b"], ["a"], ["a", 1], "ab", {}]),
    ({"items": [{"type": "string"}, {"type": "integer"}], "additionalItems": False},
     [["a", 1], ["a", 1, 2], [1], [], ["a"]]),
    ({"items": [{"type": "string"}], "additionalItems": {"type": "integer"}}, [["a", 1, 2], ["a", "b"], [2]]),
    ({"items": False}, [[], [1], "x"]),
    ({"contains": {"enum": ["X"]}}, [["X"], ["Y"], [], ["Y", "X"], "X"]),
    ({"pattern": "^ab"}, ["abc", "xab", 1, None]),
    ({"oneOf": [{"type": "string"}, {"enum": ["a"]}]}, ["a", "b", 1]),
    ({"allOf": [{"type": "string"}, {"pattern": "b$"}]}, ["ab", "ba", 1]),
    ({"$ref": "#/$defs/s", "minItems": 1, "$defs": {"s": {"type": "array"}}}, [[], [1], "x"]),
    ({"$ref": "#/$defs/node", "$defs": {"node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/node"}}}}},
     [{}, {"next": {}}, {"next": {"next": 1}}, 1]),
    (True, [1, None]),
    (False, [1, None]),
]


@pytest.mark.parametrize(("schema", "instances"), CORNERS)
def test_each_keyword_answers_as_jsonschema(schema: Any, instances: list[Any]) -> None:
    compiled = compile_schema(schema) if isinstance(schema, dict) else compile_schema({"allOf": [schema]})
    assert compiled is not None
    assert [compiled(i) for i in instances] == [Draft201909Validator(schema).is_valid(i) for i in instances]


@pytest.mark.parametrize("schema", [
    {"type": "string", "x-unknown": 1},
    {"const": "a"}, {"anyOf": [{"type": "string"}]}, {"not": {"type": "string"}}, {"enum": [1, True]},
    {"patternProperties": {"^x": {}}, "additionalProperties": False}, {"$ref": "https://other.example/s.json"},
    {"$ref": "#/$defs/missing", "$defs": {}}, {"contains": {}, "minContains": 2}, {"pattern": "("},
    {"unevaluatedProperties": False}, {"$recursiveRef": "#"},
])
def test_what_is_not_implemented_does_not_compile(schema: dict[str, Any]) -> None:
    assert compile_schema(schema) is None
