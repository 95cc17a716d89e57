"""Batch parsing: CSV/JSON mapping, defaults, and every row error reported at once."""

from __future__ import annotations

import json

import pytest
from _issuer_support import ISSUED_ON, jwk_cell, make_csv, make_row
from jsonschema import Draft202012Validator

from credentials.dids import did_jwk_from_public_key, did_key_from_public_key
from credentials.errors import InvalidCredentialData, InvalidInput
from credentials.jose import PrivateKey
from credentials.microcredential import compile_check, load_schema, schema_problems
from issuer.batch import CSV_COLUMNS, parse_batch, parse_csv, parse_json
from issuer.row_check import RowChecker


def errors_of(call) -> list[str]:
    with pytest.raises(InvalidCredentialData) as caught:
        call()
    return caught.value.errors


def test_csv_row_maps_onto_the_claims_with_issuer_defaults(defaults, home):
    entries = parse_csv(make_csv([make_row(1)]), defaults)
    assert len(entries) == 1
    claims = entries[0].claims
    assert entries[0].row == 2
    assert claims["learner"] == {"given_name": "Ada", "family_name": "Rossi", "birth_date": "2001-04-12",
                                 "student_id": "S00001"}
    assert claims["learning_outcomes"] == ["Explain sampling bias", "Fit and check a linear model"]
    assert claims["ects"] == 5
    assert isinstance(claims["ects"], int)
    assert claims["eqf_level"] == 6
    assert claims["issuer_country"] == ["IT"]
    assert claims["awarding_body"] == [{"name": "Università di Prova", "id": home.identity.did, "country": "IT"}]
    assert claims["issued_on"] == ISSUED_ON
    assert entries[0].holder_jwk is None


def test_fractional_ects_and_explicit_awarding_bodies(defaults):
    row = make_row(1, ects="7.5", issuer_country="IT|FR",
                   **{"awarding_body.name": "Uni A|Uni B", "awarding_body.id": "https://a.example|https://b.example",
                      "awarding_body.country": "IT|FR"})
    claims = parse_csv(make_csv([row]), defaults)[0].claims
    assert claims["ects"] == 7.5
    assert claims["issuer_country"] == ["IT", "FR"]
    assert [b["name"] for b in claims["awarding_body"]] == ["Uni A", "Uni B"]


def test_semicolon_separated_csv_with_byte_order_mark(defaults):
    entries = parse_csv("\ufeff" + make_csv([make_row(1), make_row(2)], delimiter=";"), defaults)
    assert [e.student_id for e in entries] == ["S00001", "S00002"]


def test_holder_jwk_and_holder_did_bind_the_learner_key(defaults):
    key_a, key_b, key_c = PrivateKey.generate(), PrivateKey.generate(), PrivateKey.generate("EdDSA")
    rows = [make_row(1, holder_jwk=jwk_cell(key_a)),
            make_row(2, holder_did=did_key_from_public_key(key_b.public_key())),
            make_row(3, holder_did=did_jwk_from_public_key(key_c.public_key()))]
    entries = parse_csv(make_csv(rows), defaults)
    assert [e.holder_jwk for e in entries] == [k.public_key().to_jwk() for k in (key_a, key_b, key_c)]


def test_unknown_columns_are_listed_and_nothing_is_parsed(defaults):
    text = make_csv([make_row(1, email="ada@example.org", nickname="ada")])
    errors = errors_of(lambda: parse_csv(text, defaults))
    assert len(errors) == 1
    assert "'email'" in errors[0]
    assert "'nickname'" in errors[0]
    assert "unknown column" in errors[0]


def test_every_row_error_is_reported_with_its_row_number(defaults):
    rows = [
        make_row(1),
        make_row(2, title=""),                        # missing mandatory Annex I element
        make_row(3, ects="60"),                       # ECTS must be below 60
        make_row(4, issuer_country="XX"),             # unknown country
        make_row(5, ects="five"),                     # not a number
        make_row(1),                                  # duplicate student
        make_row(7, participation="by post", eqf_level="9"),
    ]
    errors = errors_of(lambda: parse_csv(make_csv(rows), defaults))
    text = "\n".join(errors)
    assert "row 3: title: missing" in text
    assert "row 4: ects: 60 is not less than 60" in text
    assert "row 5: issuer_country[0]: 'XX' is not an ISO 3166-1 alpha-2 country code" in text
    assert "row 6: ects: expected a number, found 'five'" in text
    assert "row 7: learner.student_id: 'S00001' is already on row 2" in text
    assert any(e.startswith("row 8: participation:") for e in errors)
    assert any(e.startswith("row 8: eqf_level:") for e in errors)
    assert not any(e.startswith("row 2:") for e in errors)


@pytest.mark.parametrize("cell, expected", [
    ('{"kty": "EC"}', "holder_jwk: unsupported key type"),
    ("not json", "holder_jwk is not valid UTF-8 JSON"),
    ("[1]", "holder_jwk: expected a JWK object"),
])
def test_bad_holder_jwk_is_a_row_error(defaults, cell, expected):
    errors = errors_of(lambda: parse_csv(make_csv([make_row(1, holder_jwk=cell)]), defaults))
    assert any(e.startswith("row 2: ") and expected in e for e in errors), errors


def test_private_holder_key_and_two_holder_keys_are_refused(defaults):
    key = PrivateKey.generate()
    rows = [make_row(1, holder_jwk=json.dumps(key.to_jwk())),
            make_row(2, holder_jwk=jwk_cell(key), holder_did=did_key_from_public_key(key.public_key())),
            make_row(3, holder_did="did:web:example.org")]
    errors = errors_of(lambda: parse_csv(make_csv(rows), defaults))
    assert any(e.startswith("row 2: holder_jwk: expected the learner's public key") for e in errors)
    assert any(e.startswith("row 3: give holder_jwk or holder_did, not both") for e in errors)
    assert any(e.startswith("row 4: holder_did:") for e in errors)


def test_awarding_body_columns_must_line_up(defaults):
    row = make_row(1, **{"awarding_body.name": "A|B", "awarding_body.id": "https://a.example",
                         "awarding_body.country": "IT"})
    errors = errors_of(lambda: parse_csv(make_csv([row]), defaults))
    assert any("row 2: awarding_body: expected as many" in e for e in errors)


def test_ragged_rows_empty_files_and_repeated_columns(defaults):
    text = make_csv([make_row(1)]) + "Bo,Bianchi\n"
    assert any("row 3: expected" in e and "cells" in e for e in errors_of(lambda: parse_csv(text, defaults)))
    assert errors_of(lambda: parse_csv("", defaults)) == [
        "the CSV file is empty: expected a header line and one row per learner"]
    assert errors_of(lambda: parse_csv("title\n", defaults)) == ["the CSV file has a header but no rows"]
    assert "appear more than once" in errors_of(lambda: parse_csv("title,title\na,b\n", defaults))[0]


def test_json_batch_uses_nested_claims_and_entry_numbers(defaults):
    claims = parse_csv(make_csv([make_row(1)]), defaults)[0].claims
    document = [dict(claims, learner={**claims["learner"], "student_id": "J1"}),
                dict(claims, learner={**claims["learner"], "student_id": "J2"}, ects=75, extra="x")]
    errors = errors_of(lambda: parse_json(json.dumps({"credentials": document}), defaults))
    assert "entry 2: ects: 75 is not less than 60" in errors
    assert "entry 2: extra: unexpected claim" in errors
    key = PrivateKey.generate()
    document[1] = dict(document[0], learner={**claims["learner"], "student_id": "J2"},
                       holder_jwk=key.public_key().to_jwk())
    entries = parse_json(json.dumps(document), defaults)
    assert [e.row for e in entries] == [1, 2]
    assert entries[1].holder_jwk == key.public_key().to_jwk()


@pytest.mark.parametrize("text", ["{}", "[]", '"x"', "[1, 2]"])
def test_json_batch_of_the_wrong_shape_is_refused(defaults, text):
    with pytest.raises(InvalidCredentialData):
        parse_json(text, defaults)


def test_file_type_comes_from_the_name(defaults):
    with pytest.raises(InvalidInput, match="expected a .csv or .json file"):
        parse_batch("x", "export.xlsx", defaults)


def test_documented_columns_cover_every_claim():
    assert {"holder_jwk", "holder_did", "learner.student_id", "ects", "awarding_body.id"} <= set(CSV_COLUMNS)


MUTATIONS = [
    {},
    {"learner": {"given_name": "Ada", "family_name": "Rossi", "birth_date": "2001-02-30", "student_id": "S"}},
    {"learner": {"given_name": " ", "family_name": "Rossi", "birth_date": "2001-02-03", "student_id": "S"}},
    {"learner": {"given_name": "Ada", "family_name": "Rossi", "birth_date": "2001-02-03"}},
    {"learner": {"given_name": "Ada", "family_name": "Rossi", "birth_date": "2001-02-03", "student_id": "S", "x": 1}},
    {"learner": "Ada Rossi"},
    {"ects": 0},
    {"eqf_level": 7},
    {"awarding_body": [{"name": "X", "id": "https://x.example", "country": "FR"}]},
]


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: ",".join(m) or "valid")
def test_fast_row_checker_agrees_with_the_core_schema(defaults, mutation):
    claims = {**parse_csv(make_csv([make_row(1)]), defaults)[0].claims, **mutation}
    checker = RowChecker()
    assert checker.problems(dict(claims)) == schema_problems(claims)
    assert checker.problems(dict(claims)) == schema_problems(claims)  # second time from the cache


LEARNERS = [
    {"given_name": "Ada", "family_name": "Rossi", "birth_date": "2001-02-03", "student_id": "S1"},
    {"given_name": "Ada", "family_name": "Rossi", "birth_date": "2001-02-03"},
    {"given_name": "Ada", "family_name": "Rossi", "birth_date": "2001-02-03", "student_id": "S1", "x": 1},
    {"given_name": "\t", "family_name": "Rossi", "birth_date": "2001-02-03", "student_id": "S1"},
    {"given_name": "", "family_name": "Rossi", "birth_date": "2001-02-03", "student_id": "S1"},
    {"given_name": "A" * 200, "family_name": "Rossi", "birth_date": "2001-02-03", "student_id": "S1"},
    {"given_name": "A" * 201, "family_name": "Rossi", "birth_date": "2001-02-03", "student_id": "S1"},
    {"given_name": "Ada", "family_name": 7, "birth_date": "2001-02-03", "student_id": "S1"},
    {"given_name": "Ada", "family_name": "Rossi", "birth_date": "2001-02-29", "student_id": "S1"},
    {"given_name": "Ada", "family_name": "Rossi", "birth_date": "2000-02-29", "student_id": "S1"},
    {"given_name": "Ada", "family_name": "Rossi", "birth_date": "20010203", "student_id": "S1"},
    {"given_name": "Ada", "family_name": "Rossi", "birth_date": "2001-2-3", "student_id": "S1"},
    {"given_name": "Ada", "family_name": "Rossi", "birth_date": 20010203, "student_id": "S1"},
    {"given_name": "Ada", "family_name": "Rossi", "birth_date": "2001-02-03", "student_id": "S" * 101},
    {},
    [],
    "Ada Rossi",
    None,
]


@pytest.mark.parametrize("learner", LEARNERS, ids=lambda learner: json.dumps(learner)[:40])
def test_compiled_learner_check_agrees_with_jsonschema(learner):
    schema = load_schema()
    accept = compile_check(schema["properties"]["learner"], root=schema)
    validator = Draft202012Validator({"$defs": schema["$defs"], **schema["properties"]["learner"]},
                                     format_checker=Draft202012Validator.FORMAT_CHECKER)
    assert accept is not None
    assert accept(learner) == validator.is_valid(learner)


@pytest.mark.parametrize("schema", [
    {"properties": {"a": {"enum": [1]}}},
    {"properties": {"a": {"type": "string"}}, "additionalProperties": {"type": "string"}},
    {"properties": {}, "patternProperties": {"^x": {}}, "additionalProperties": False},
    {"format": "email"},
    {"$ref": "https://example.com/schema"},
    {"$ref": "#/$defs/missing"},
], ids=lambda schema: json.dumps(schema))
def test_keywords_the_compiler_does_not_know_keep_the_full_validator(schema):
    assert compile_check(schema) is None


@pytest.mark.parametrize("lookalike", [True, "1", [1]], ids=repr)
def test_a_course_validated_once_does_not_vouch_for_a_lookalike(defaults, lookalike):
    """The per-course cache tells 1 from true, "1" and [1] (equal or not, they are different claims)."""
    claims = parse_csv(make_csv([make_row(1)]), defaults)[0].claims
    first = dict(claims, learner={**claims["learner"], "student_id": "J1"}, ects=1)
    second = dict(claims, learner={**claims["learner"], "student_id": "J2"}, ects=lookalike)
    errors = errors_of(lambda: parse_json(json.dumps([first, second]), defaults))
    assert errors, errors
    assert all(error.startswith("entry 2: ects") for error in errors), errors


def test_rows_of_nothing_but_white_space_are_skipped_and_others_kept(defaults):
    text = make_csv([make_row(1), make_row(2)])
    header, first, second = text.rstrip("\n").split("\n")
    blank = ",".join([" ", "\t", "\u00a0", ""] + [""] * (header.count(",") - 3))
    entries = parse_csv("\n".join([header, first, "", blank, second, " " * 3]) + "\n", defaults)
    assert [e.student_id for e in entries] == ["S00001", "S00002"]
    almost = ",".join(["x"] + [""] * header.count(","))
    errors = errors_of(lambda: parse_csv("\n".join([header, first, almost]) + "\n", defaults))
    assert errors
    assert all(error.startswith("row 3: ") for error in errors)


def test_claims_come_out_in_the_same_order_whatever_the_header_order_and_columns_it_has(defaults, holder_key):
    """Rows read only the columns their header has (issue 16); the claims, their order (what the disclosures and
    the archive follow), the holder key and the EUDI columns do not depend on the header's order."""
    row = make_row(1, holder_jwk=jwk_cell(holder_key), grade="B", issued_on="2026-01-02", issuer_country="IT|FR",
                   **{"awarding_body.name": "Uni A|Uni B", "awarding_body.id": "https://a.example|https://b.example",
                      "awarding_body.country": "IT|FR", "stackability.option": "stackable",
                      "language_of_classes": "en|it", "expected_study_time": "125 hours"})
    text = make_csv([row])
    header, cells = text.splitlines()
    order = list(reversed(range(len(header.split(",")))))
    shuffled = make_csv([{name: row[name] for name in (list(row)[i] for i in order)}])
    assert shuffled.splitlines()[0] != header
    kinds = ("microcred", "eudi-learning")
    plain, other = parse_csv(text, defaults, kinds=kinds)[0], parse_csv(shuffled, defaults, kinds=kinds)[0]
    assert list(other.claims.items()) == list(plain.claims.items())
    assert list(other.claims["learner"].items()) == list(plain.claims["learner"].items())
    assert list(plain.claims)[:2] == ["learner", "title"]
    assert plain.claims["stackability"] == {"option": "stackable"}
    assert (other.holder_jwk, other.extras, other.defaulted) == (plain.holder_jwk, plain.extras, plain.defaulted)
    assert plain.extras == {"language_of_classes": ["en", "it"], "expected_study_time": "125 hours"}
