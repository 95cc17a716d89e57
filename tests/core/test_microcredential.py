"""The micro-credential claim set (credentials.microcredential): schema, builder, frame."""

from __future__ import annotations

import copy
import json
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credentials.errors import InvalidCredentialData, SchemaViolation
from credentials.microcredential import (
    ANNEX_I_ELEMENTS,
    CLAIM_LABELS,
    EQF_TO_QF_EHEA_CYCLE,
    MICRO_CREDENTIAL_VCT,
    MICROCRED_CLAIMS,
    AwardingBody,
    Learner,
    MicroCredential,
    Stackability,
    disclosure_frame,
    load_schema,
    schema_problems,
    validate_disclosed,
    validate_for_issue,
)


def claims(**changes) -> dict:
    base = {
        "learner": {"given_name": "Ada", "family_name": "Rossi", "birth_date": "2001-04-05", "student_id": "S-1"},
        "title": "Data literacy for public administration",
        "issuer_country": ["IT"],
        "awarding_body": [{"name": "Università di Esempio", "id": "did:key:z6MkExample", "country": "IT"}],
        "issued_on": "2025-06-01",
        "learning_outcomes": ["Reads a dataset", "Builds a chart", "Explains uncertainty"],
        "ects": 5,
        "eqf_level": 6,
        "qf_ehea_cycle": "first",
        "assessment_type": "Written exam",
        "participation": "blended",
        "quality_assurance": "Internal QA, ANVUR accredited",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def problems_of(bad: dict) -> list[str]:
    with pytest.raises(InvalidCredentialData) as caught:
        validate_for_issue(bad)
    return caught.value.errors


def test_a_complete_credential_is_valid_with_registered_claims_alongside() -> None:
    validate_for_issue(claims())
    validate_for_issue(claims(
        iss="did:key:z6MkIssuer", iat=1750000000, exp=1900000000, vct=MICRO_CREDENTIAL_VCT,
        cnf={"jwk": {"kty": "EC"}}, status={"status_list": {"idx": 3, "uri": "https://x"}},
        identity_verification="supervised-onsite-identity-verification", grade="28/30",
        stackability={"option": "stackable", "target": "MSc Data Science"}, further_information="https://x",
    ))


@pytest.mark.parametrize(("ects", "ok"), [(0, False), (60, False), (59.5, True), (-1, False), ("5", False),
                                          (0.5, True), (True, False), (float("nan"), False), (None, False)])
def test_ects_bounds(ects, ok: bool) -> None:
    candidate = claims(ects=ects)
    if ok:
        validate_for_issue(candidate)
    else:
        assert any(p.startswith("ects: ") for p in problems_of(candidate))


def test_ects_messages_say_expected_and_found() -> None:
    assert problems_of(claims(ects=75)) == ["ects: 75 is not less than 60"]
    assert problems_of(claims(ects=0)) == ["ects: 0 is not greater than 0"]
    assert problems_of(claims(ects="5")) == ["ects: expected number, found string '5'"]


@pytest.mark.parametrize("level", [0, 9, 6.5, "6"])
def test_eqf_level_is_an_integer_from_1_to_8(level) -> None:
    assert any(p.startswith("eqf_level: ") for p in problems_of(claims(eqf_level=level, qf_ehea_cycle=None)))


@pytest.mark.parametrize(("level", "cycle"), sorted(EQF_TO_QF_EHEA_CYCLE.items()))
def test_each_eqf_level_5_to_8_has_its_cycle(level: int, cycle: str) -> None:
    validate_for_issue(claims(eqf_level=level, qf_ehea_cycle=cycle))
    assert problems_of(claims(eqf_level=level, qf_ehea_cycle=None)) == [
        f"qf_ehea_cycle: missing (required for eqf_level {level})"
    ]


def test_cycle_must_match_the_level() -> None:
    assert problems_of(claims(eqf_level=7, qf_ehea_cycle="first")) == [
        "qf_ehea_cycle: 'first' does not match eqf_level 7 (expected 'second')"
    ]
    assert "EQF levels 5-8 only" in problems_of(claims(eqf_level=4, qf_ehea_cycle="short"))[0]
    validate_for_issue(claims(eqf_level=4, qf_ehea_cycle=None))
    assert problems_of(claims(qf_ehea_cycle="fourth"))[0].startswith("qf_ehea_cycle: 'fourth' is not one of")


@pytest.mark.parametrize("country", ["XX", "it", "ITA", "EL", "UK", "", 39])
def test_issuer_country_must_be_an_assigned_iso_code(country) -> None:
    found = problems_of(claims(issuer_country=["IT", country]))
    assert any(p.startswith("issuer_country[1]: ") for p in found)


def test_country_list_is_the_full_official_one() -> None:
    codes = load_schema()["$defs"]["country"]["enum"]
    assert len(codes) == len(set(codes)) == 249
    assert {"IT", "DE", "FR", "GR", "GB", "SS", "AX", "BQ"} <= set(codes)
    assert not {"XK", "EU", "EL", "UK"} & set(codes)


def test_issuer_country_list_rules() -> None:
    assert problems_of(claims(issuer_country=[]))[0] == "issuer_country: expected at least 1 entry, found 0"
    assert "duplicates" in problems_of(claims(issuer_country=["IT", "IT"]))[0]
    assert problems_of(claims(issuer_country=["FR"])) == [
        "awarding_body[0].country: 'IT' is not among issuer_country ['FR']"
    ]


@pytest.mark.parametrize("bad", ["2024-02-30", "2024-13-01", "01/02/2024", "2024-2-1", "2024-02-01T00:00:00Z", ""])
def test_dates_are_really_checked(bad: str) -> None:
    found = problems_of(claims(issued_on=bad))
    assert f"issued_on: {bad!r} is not a valid date (expected YYYY-MM-DD)" in found


def test_leap_day_is_a_date() -> None:
    validate_for_issue(claims(issued_on="2024-02-29"))
    assert problems_of(claims(issued_on="2023-02-29"))


def test_missing_mandatory_fields_are_all_named() -> None:
    found = problems_of({"learner": {"given_name": "Ada"}})
    for name in ("title", "issuer_country", "awarding_body", "issued_on", "learning_outcomes", "ects",
                 "eqf_level", "assessment_type", "participation", "quality_assurance",
                 "learner.family_name", "learner.birth_date", "learner.student_id"):
        assert f"{name}: missing" in found


def test_all_errors_are_reported_together_sorted_by_path() -> None:
    bad = claims(ects=75, eqf_level=9, qf_ehea_cycle=None, issuer_country=["XX", "it"], issued_on="2024-02-30",
                 participation="remote", extra="x", title=" ", learning_outcomes=[],
                 learner={"given_name": "Ada", "nickname": "A"})
    found = problems_of(bad)
    assert found == sorted(found, key=lambda p: p.split(":")[0].replace("[", ".").split("."))
    expected = [
        "ects: 75 is not less than 60",
        "eqf_level: 9 is more than the maximum 8",
        "extra: unexpected claim",
        "issued_on: '2024-02-30' is not a valid date (expected YYYY-MM-DD)",
        "issuer_country[0]: 'XX' is not an ISO 3166-1 alpha-2 country code (upper case, e.g. 'IT')",
        "issuer_country[1]: 'it' is not an ISO 3166-1 alpha-2 country code (upper case, e.g. 'IT')",
        "learner.family_name: missing",
        "learner.nickname: unexpected claim",
        "learning_outcomes: expected at least 1 entry, found 0",
        "participation: 'remote' is not one of 'online', 'onsite', 'blended'",
        "title: expected text that is not blank, found ' '",
    ]
    for message in expected:
        assert message in found
    with pytest.raises(InvalidCredentialData) as caught:
        validate_for_issue(bad)
    assert "ects: 75 is not less than 60" in str(caught.value)


def test_length_limits_guard_against_abuse() -> None:
    assert problems_of(claims(title="x" * 301)) == ["title: expected at most 300 characters, found 301"]
    assert problems_of(claims(learning_outcomes=["ok"] * 51)) == [
        "learning_outcomes: expected at most 50 entries, found 51"
    ]
    long = problems_of(claims(grade="y" * 5000))[0]
    assert len(long) < 120


def test_awarding_body_rules() -> None:
    validate_for_issue(claims(awarding_body=[{"name": "U", "id": "https://uni.example/", "country": "IT"}]))
    validate_for_issue(claims(awarding_body=[{"name": "U", "id": "urn:schac:home:uni.example", "country": "IT"}]))
    assert problems_of(claims(awarding_body=[{"name": "U", "id": "not a uri", "country": "IT"}])) == [
        "awarding_body[0].id: expected a URI or a DID, found 'not a uri'"
    ]
    assert problems_of(claims(awarding_body=[{"name": "U", "country": "IT"}])) == ["awarding_body[0].id: missing"]


def test_optional_claims_rules() -> None:
    assert problems_of(claims(identity_verification="trust me"))[0].startswith("identity_verification: ")
    assert problems_of(claims(stackability={"option": "stand-alone", "target": "MSc"})) == [
        "stackability.target: a target is only allowed when option is 'stackable'"
    ]
    assert problems_of(claims(stackability={"target": "MSc"})) == ["stackability.option: missing"]
    assert problems_of(claims(vct="urn:other")) == [
        f"vct: expected {MICRO_CREDENTIAL_VCT!r}, found 'urn:other'"
    ]
    assert problems_of(claims(iat="now")) == ["iat: expected integer, found string 'now'"]


def test_non_objects_are_refused() -> None:
    assert problems_of([1, 2]) == ["(claims): expected an object, found list"]
    assert problems_of(claims(learner="Ada"))[0] == "learner: expected object, found string 'Ada'"


def test_validate_disclosed_accepts_any_subset() -> None:
    visible = {"iss": "did:key:z6MkIssuer", "iat": 1750000000, "vct": MICRO_CREDENTIAL_VCT}
    validate_disclosed(visible)
    validate_disclosed({**visible, "ects": 5, "learner": {"family_name": "Rossi"}, "learning_outcomes": []})
    validate_disclosed({**visible, "eqf_level": 7})  # cycle not disclosed
    validate_disclosed({**claims(), **visible})


@pytest.mark.parametrize(("disclosed", "words"), [
    ({"ects": 75}, "ects: 75 is not less than 60"),
    ({"issued_on": "2024-02-30"}, "issued_on: '2024-02-30' is not a valid date"),
    ({"surprise": 1}, "surprise: unexpected claim"),
    ({"eqf_level": 6, "qf_ehea_cycle": "third"}, "does not match eqf_level 6"),
    ({"vct": "urn:other"}, "vct: expected"),
])
def test_validate_disclosed_keeps_the_rules(disclosed: dict, words: str) -> None:
    visible = {"iss": "did:key:z6MkIssuer", "iat": 1750000000, "vct": MICRO_CREDENTIAL_VCT}
    with pytest.raises(SchemaViolation) as caught:
        validate_disclosed({**visible, **disclosed})
    assert caught.value.check == "schema"
    assert words in caught.value.reason


def test_validate_disclosed_requires_the_always_visible_claims() -> None:
    with pytest.raises(SchemaViolation) as caught:
        validate_disclosed({"ects": 5})
    for name in ("iss", "iat", "vct"):
        assert f"{name}: missing" in caught.value.reason


def test_disclosure_frame_shape() -> None:
    full = claims(iss="did:key:z", iat=1, vct=MICRO_CREDENTIAL_VCT, cnf={}, status={}, exp=2, nbf=1, grade="A")
    frame = disclosure_frame(full)
    assert frame == {
        "_sd": ["learner", "title", "issuer_country", "awarding_body", "issued_on", "learning_outcomes", "ects",
                "eqf_level", "qf_ehea_cycle", "assessment_type", "participation", "quality_assurance", "grade"],
        "learner": {"_sd": ["given_name", "family_name", "birth_date", "student_id"]},
        "issuer_country": {"_sd": [0]},
        "awarding_body": {"_sd": [0]},
        "learning_outcomes": {"_sd": [0, 1, 2]},
    }
    assert not {"iss", "iat", "vct", "cnf", "status", "exp", "nbf"} & set(json.dumps(frame).split('"'))


def test_disclosure_frame_refuses_unknown_claims() -> None:
    with pytest.raises(InvalidCredentialData, match="surprise: unexpected claim"):
        disclosure_frame(claims(surprise=1))


def test_every_claim_has_a_label_and_an_annex_element() -> None:
    assert set(MICROCRED_CLAIMS) == set(ANNEX_I_ELEMENTS) <= set(CLAIM_LABELS)
    assert CLAIM_LABELS["ects"] == "Workload (ECTS credits)"
    assert ANNEX_I_ELEMENTS["ects"] == 7
    assert sorted({n for n in ANNEX_I_ELEMENTS.values() if n}) == list(range(1, 12))
    assert set(load_schema()["properties"]) - {"iss", "sub", "aud", "jti", "iat", "nbf", "exp", "vct",
                                               "vct#integrity", "cnf", "status"} == set(MICROCRED_CLAIMS)


def test_builder_validates_on_construction() -> None:
    built = MicroCredential.from_claims(claims())
    assert built.learner == Learner("Ada", "Rossi", date(2001, 4, 5), "S-1")
    assert built.awarding_body == (AwardingBody("Università di Esempio", "did:key:z6MkExample", "IT"),)
    with pytest.raises(InvalidCredentialData, match="ects: 60 is not less than 60"):
        MicroCredential(**{**built.__dict__, "ects": 60})
    with pytest.raises(InvalidCredentialData):
        MicroCredential.from_claims(claims(title=None))


def test_builder_ignores_registered_claims() -> None:
    original = claims(stackability={"option": "stackable", "target": "MSc"}, grade="A")
    built = MicroCredential.from_claims({**original, "iss": "did:key:z", "iat": 1, "vct": MICRO_CREDENTIAL_VCT})
    assert built.to_claims() == original
    assert built.stackability == Stackability("stackable", "MSc")


_text = st.text(alphabet=st.characters(codec="utf-8", categories=("L", "N")), min_size=1, max_size=30)


@st.composite
def micro_credentials(draw) -> MicroCredential:
    level = draw(st.integers(min_value=1, max_value=8))
    countries = draw(st.lists(st.sampled_from(load_schema()["$defs"]["country"]["enum"]), min_size=1, max_size=3,
                              unique=True))
    option = draw(st.sampled_from([None, "stand-alone", "stackable"]))
    return MicroCredential(
        learner=Learner(draw(_text), draw(_text), draw(st.dates()), draw(_text)),
        title=draw(_text),
        issuer_country=tuple(countries),
        awarding_body=tuple(AwardingBody(draw(_text), f"did:key:z{i}", draw(st.sampled_from(countries)))
                            for i in range(draw(st.integers(1, 3)))),
        issued_on=draw(st.dates()),
        learning_outcomes=tuple(draw(st.lists(_text, min_size=1, max_size=5))),
        ects=draw(st.one_of(st.integers(1, 59),
                            st.floats(0, 60, exclude_min=True, exclude_max=True, allow_nan=False))),
        eqf_level=level,
        qf_ehea_cycle=EQF_TO_QF_EHEA_CYCLE.get(level),
        assessment_type=draw(_text),
        participation=draw(st.sampled_from(["online", "onsite", "blended"])),
        quality_assurance=draw(_text),
        grade=draw(st.none() | _text),
        stackability=None if option is None else Stackability(option, draw(_text) if option == "stackable" else None),
    )


@settings(max_examples=75, deadline=None)
@given(micro_credentials())
def test_builder_round_trip(credential: MicroCredential) -> None:
    as_claims = credential.to_claims()
    assert json.loads(json.dumps(as_claims)) == as_claims
    assert schema_problems(as_claims) == []
    assert MicroCredential.from_claims(copy.deepcopy(as_claims)) == credential
    frame = disclosure_frame(as_claims)
    assert frame["_sd"] == [name for name in MICROCRED_CLAIMS if name in as_claims]
    assert frame["learning_outcomes"]["_sd"] == list(range(len(credential.learning_outcomes)))
