"""The compiled fast path of the disclosed-claims schema check agrees with plain jsonschema.

``credentials._schema_check`` may only say "certainly valid" when jsonschema (with the
cross-field rules of ``credentials.microcredential``) finds no problem; everything else
falls back to jsonschema, so ``validate_disclosed`` decides exactly as before.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credentials._schema_check import all_finite, compile_check
from credentials.errors import SchemaViolation
from credentials.microcredential import (
    MICRO_CREDENTIAL_VCT,
    certainly_valid_disclosed,
    load_schema,
    schema_problems,
    validate_disclosed,
)

EXAMPLE = {
    "learner": {"given_name": "Ada", "family_name": "Rossi", "birth_date": "2001-04-05", "student_id": "S-1"},
    "title": "Data literacy", "issuer_country": ["IT", "FR"],
    "awarding_body": [{"name": "Università di Esempio", "id": "did:key:z6MkExample", "country": "IT"}],
    "issued_on": "2025-06-01", "learning_outcomes": ["Reads a dataset", "Builds a chart"], "ects": 5,
    "eqf_level": 6, "qf_ehea_cycle": "first", "assessment_type": "Written exam", "participation": "blended",
    "quality_assurance": "ANVUR", "identity_verification": "supervised-onsite-identity-verification",
    "grade": "30/30", "stackability": {"option": "stackable", "target": "A master"}, "further_information": "x",
}
REGISTERED = {"iss": "did:key:z6MkIssuer", "iat": 1750000000, "vct": MICRO_CREDENTIAL_VCT,
              "cnf": {"jwk": {"kty": "EC"}}, "status": {"status_list": {"idx": 3, "uri": "https://x/l"}}}

_odd_text = st.sampled_from(["", " ", "\t\n", "x" * 3000, "2025-02-30", "2025-2-3", "२०२५-०६-०१", "IT", "it", "ZZ",
                             "online", "first", "fifth", "stand-alone", "https://a.example/x", "did:key:z6",
                             "ftp://x", "urn:x:y", MICRO_CREDENTIAL_VCT, "urn:other"])
_odd_number = st.sampled_from([0, -1, 1, 5, 8, 9, 59, 60, 5.0, 6.0, 0.5, 59.999, 1e308, -0.0,
                               math.inf, -math.inf, math.nan, True, False, 2 ** 70, 253402300800])
_scalar = st.one_of(st.none(), _odd_text, _odd_number, st.text(max_size=12))
_json = st.recursive(_scalar, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                      st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                     max_leaves=12)


def _mutated(value):
    """A value of roughly the right shape, with members dropped, swapped or replaced."""
    if isinstance(value, dict):
        keys = st.sampled_from(sorted(value) + ["extra", "name", "target"])
        return st.dictionaries(keys, st.one_of(_json, *(_mutated(v) for v in value.values())), max_size=len(value) + 1)
    if isinstance(value, list):
        return st.lists(st.one_of(_json, *(_mutated(v) for v in value)), max_size=4)
    return st.one_of(st.just(value), _scalar)


_claim_values = {name: st.one_of(st.just(value), _mutated(value), _json)
                 for name, value in {**EXAMPLE, **REGISTERED}.items()}


@st.composite
def claim_sets(draw):
    names = draw(st.lists(st.sampled_from(sorted(_claim_values) + ["unknown", "_sd"]), unique=True, max_size=20))
    claims = {name: draw(_claim_values.get(name, _json)) for name in names}
    if draw(st.booleans()):  # often keep the always-visible claims, so the rest gets checked
        claims.update({k: REGISTERED[k] for k in ("iss", "iat", "vct")})
    return claims


@st.composite
def valid_disclosures(draw):
    names = draw(st.lists(st.sampled_from(sorted(EXAMPLE)), unique=True))
    claims = {**{k: REGISTERED[k] for k in ("iss", "iat", "vct")}, **{n: EXAMPLE[n] for n in names}}
    if draw(st.booleans()):
        claims.update(cnf=REGISTERED["cnf"], status=REGISTERED["status"])
    return claims


@settings(max_examples=600, deadline=None)
@given(claim_sets())
def test_the_fast_path_never_passes_what_jsonschema_refuses(claims) -> None:
    problems = schema_problems(claims, disclosed=True)
    if certainly_valid_disclosed(claims):
        assert problems == []
    if problems:
        with pytest.raises(SchemaViolation) as caught:
            validate_disclosed(claims)
        assert caught.value.reason.endswith("; ".join(problems))
    else:
        validate_disclosed(claims)


@settings(max_examples=200, deadline=None)
@given(valid_disclosures())
def test_any_valid_disclosure_takes_the_fast_path(claims) -> None:
    assert schema_problems(claims, disclosed=True) == []
    assert certainly_valid_disclosed(claims)


@pytest.mark.parametrize("change", [
    {"eqf_level": 6.0},                     # an integer for jsonschema, but a float here
    {"title": type("Text", (str,), {})("x")},  # a str subclass
], ids=["float-integer", "str-subclass"])
def test_unusual_but_valid_values_go_to_jsonschema_and_still_pass(change) -> None:
    claims = {**REGISTERED, **EXAMPLE, **change}
    assert not certainly_valid_disclosed(claims)
    validate_disclosed(claims)


@pytest.mark.parametrize("change, words", [
    ({"ects": math.inf}, "expected a finite number"),
    ({"ects": True}, "expected number, found boolean"),
    ({"eqf_level": 7}, "does not match eqf_level 7"),
    ({"stackability": {"option": "stand-alone", "target": "x"}}, "only allowed when option is 'stackable'"),
    ({"issuer_country": ["IT", "IT"]}, "expected each entry once"),
    ({"issued_on": "2025-02-30"}, "is not a valid date"),
    ({"vct": "urn:other"}, "expected 'urn:microcred:vct:micro-credential:1'"),
    ({"issuer_country": ("IT",)}, "expected array, found tuple"),
], ids=["infinite", "boolean-number", "cycle-mismatch", "stand-alone-target", "duplicate-country", "bad-date",
        "wrong-vct", "tuple"])
def test_invalid_claims_are_refused_with_jsonschema_words(change, words) -> None:
    claims = {**REGISTERED, **EXAMPLE, **change}
    assert not certainly_valid_disclosed(claims)
    with pytest.raises(SchemaViolation, match=words):
        validate_disclosed(claims)


def test_a_schema_outside_the_subset_compiles_to_nothing() -> None:
    assert compile_check(load_schema()) is not None
    assert compile_check({"type": "object", "patternProperties": {"^x": {}}}) is None
    assert compile_check({"type": "string", "format": "email"}) is None
    assert compile_check({"$ref": "https://elsewhere.example/schema"}) is None
    assert compile_check({"enum": [1, 2]}) is None


def test_all_finite_walks_json_values_only() -> None:
    assert all_finite({"a": [1, 2.5, {"b": "c"}], "d": None})
    assert not all_finite({"a": [1, {"b": math.nan}]})
    assert not all_finite({"a": (1.0,)})
