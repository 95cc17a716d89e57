"""DCQL parsing (OpenID4VP 1.0 §6): every example of the spec parses and round-trips, every validity
rule refuses with a reason that names the offending member, and §7.3's pointers select what it says."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from credentials.dcql import (
    MAX_CLAIMS,
    MAX_CREDENTIAL_QUERIES,
    MAX_PATH_DEPTH,
    MAX_VALUES,
    ClaimQuery,
    CredentialQuery,
    CredentialSetQuery,
    DcqlQuery,
    TrustedAuthority,
    describe_path,
    resolve_claim_path,
)
from credentials.errors import InvalidInput, InvalidPresentationRequest

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "openid4vp-dcql"
QUERY_FILES = sorted((VECTORS / "queries").glob("*.json"))


def _vector(name: str) -> dict[str, Any]:
    return json.loads((VECTORS / "queries" / f"{name}.json").read_text(encoding="utf-8"))


def _simple(**credential: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"id": "mc", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:mc"]},
                            "claims": [{"id": "t", "path": ["title"]}, {"id": "e", "path": ["ects"]}]}
    base.update(credential)
    return {"credentials": [{k: v for k, v in base.items() if v is not _DROP}]}


_DROP = object()


def test_every_spec_example_is_there() -> None:
    assert len(QUERY_FILES) == 10


@pytest.mark.parametrize("path", QUERY_FILES, ids=lambda p: p.stem)
def test_spec_example_parses_and_round_trips(path: Path) -> None:
    raw = json.loads(path.read_text(encoding="utf-8"))
    query = DcqlQuery.parse(raw)
    assert [q.id for q in query.credentials] == [c["id"] for c in raw["credentials"]]
    again = DcqlQuery.parse(query.to_json())
    assert again == query
    assert DcqlQuery.parse(json.dumps(raw)) == query


def test_spec_example_to_json_is_the_example_without_defaults() -> None:
    raw = _vector("claims_alternatives")
    assert DcqlQuery.parse(raw).to_json() == raw


def test_credentials_alternatives_as_values() -> None:
    query = DcqlQuery.parse(_vector("credentials_alternatives"))
    assert query.credential_sets == (
        CredentialSetQuery(options=(("pid",), ("other_pid",), ("pid_reduced_cred_1", "pid_reduced_cred_2"))),
        CredentialSetQuery(options=(("nice_to_have",),), required=False),
    )
    pid = query.query("pid")
    assert pid.type_values == (("https://credentials.example.com/identity_credential",),)
    assert pid.claims == (ClaimQuery(None, ("given_name",)), ClaimQuery(None, ("family_name",)),
                          ClaimQuery(None, ("address", "street_address")))
    assert pid.multiple is False
    assert pid.require_cryptographic_holder_binding is True


def test_value_matching_and_type_values_and_doctype() -> None:
    values = DcqlQuery.parse(_vector("value_matching_simple")).credentials[0].claims
    assert values is not None
    assert values[0].values == ("Doe",)
    assert values[3].values == ("90210", "90211")
    assert DcqlQuery.parse(_vector("dcql_ldp_vc")).credentials[0].type_values == (("IDCredential",),)
    assert DcqlQuery.parse(_vector("simple_mdoc")).credentials[0].type_values == (("org.iso.7367.1.mVRC",),)


def test_claim_sets_keep_the_verifiers_order() -> None:
    query = DcqlQuery.parse(_vector("claims_alternatives")).credentials[0]
    assert query.claim_sets == (("a", "c", "d", "e"), ("a", "b", "e"))


def test_optional_members_are_read() -> None:
    raw = _simple(multiple=True, require_cryptographic_holder_binding=False,
                  trusted_authorities=[{"type": "aki", "values": ["s9tIpPmhxdiuNkHMEWNpYim8S8Y"]}])
    raw["credentials"][0]["claims"][1]["values"] = [5, 6, True]
    query = DcqlQuery.parse(raw).credentials[0]
    assert query.multiple is True
    assert query.require_cryptographic_holder_binding is False
    assert query.trusted_authorities == (TrustedAuthority("aki", ("s9tIpPmhxdiuNkHMEWNpYim8S8Y",)),)
    assert query.claims is not None
    assert query.claims[1].values == (5, 6, True)
    assert DcqlQuery.parse(DcqlQuery.parse(raw).to_json()) == DcqlQuery.parse(raw)


def test_unknown_members_are_ignored() -> None:
    raw = _simple(purpose="why", extra={"x": 1})
    raw["future"] = True
    raw["credentials"][0]["claims"][0]["extension"] = [1]
    assert DcqlQuery.parse(raw) == DcqlQuery.parse(_simple())


def test_a_built_query_serialises() -> None:
    query = DcqlQuery(credentials=(CredentialQuery(
        id="microcredential", format="dc+sd-jwt", type_values=(("urn:mc",),),
        claims=(ClaimQuery("t", ("title",)), ClaimQuery("e", ("ects",), (5, 6))), claim_sets=None),))
    assert query.to_json() == {"credentials": [{
        "id": "microcredential", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:mc"]},
        "claims": [{"id": "t", "path": ["title"]}, {"id": "e", "path": ["ects"], "values": [5, 6]}]}]}


def _credentials_with(n: int) -> dict[str, Any]:
    return {"credentials": [dict(_simple()["credentials"][0], id=f"q{i}") for i in range(n)]}


def _claims_with(n: int) -> dict[str, Any]:
    return _simple(claims=[{"path": [f"c{i}"]} for i in range(n)])


INVALID: list[tuple[str, Any, str]] = [
    ("not an object", [1], "the DCQL query must be an object, not an array"),
    ("not JSON", "{nope", "the DCQL query"),
    ("no credentials", {}, "credentials is required"),
    ("credentials null", {"credentials": None}, "credentials must be a non-empty array, not null"),
    ("empty credentials", {"credentials": []}, "credentials must not be an empty array"),
    ("too many", _credentials_with(MAX_CREDENTIAL_QUERIES + 1), f"at most {MAX_CREDENTIAL_QUERIES}"),
    ("entry not object", {"credentials": ["x"]}, "credentials[0] must be an object, not a string"),
    ("no id", _simple(id=_DROP), "credentials[0].id is required"),
    ("empty id", _simple(id=""), "credentials[0].id must be a non-empty string"),
    ("bad id", _simple(id="a b"), "credentials[0].id 'a b' may hold only letters, digits, '_' and '-'"),
    ("non-ascii id", _simple(id="é"), "may hold only letters"),
    ("id with newline", _simple(id="ok\n"), "may hold only letters"),
    ("long bad id is clipped", _simple(id="x" * 5000 + " "), "credentials[0].id '" + "x" * 40 + "…' may hold only"),
    ("duplicate id", {"credentials": [_simple()["credentials"][0]] * 2}, "two credential queries have the id 'mc'"),
    ("no format", _simple(format=_DROP), "credential query 'mc': format is required"),
    ("format number", _simple(format=3), "format must be a non-empty string, not an integer"),
    ("no meta", _simple(meta=_DROP), "credential query 'mc': meta is required"),
    ("meta array", _simple(meta=[]), "meta must be an object, not an array"),
    ("no vct_values", _simple(meta={}), "meta.vct_values is required for format dc+sd-jwt"),
    ("empty vct_values", _simple(meta={"vct_values": []}), "meta.vct_values must not be an empty array"),
    ("vct not string", _simple(meta={"vct_values": [1]}), "meta.vct_values[0] must be a non-empty string"),
    ("no type_values", _simple(format="jwt_vc_json", meta={"vct_values": ["x"]}),
     "meta.type_values is required for format jwt_vc_json"),
    ("flat type_values", _simple(format="ldp_vc", meta={"type_values": ["IDCredential"]}),
     "meta.type_values[0] must be a non-empty array, not a string"),
    ("empty inner type_values", _simple(format="ldp_vc", meta={"type_values": [[]]}),
     "meta.type_values[0] must not be an empty array"),
    ("no doctype", _simple(format="mso_mdoc", meta={}, claims=_DROP), "meta.doctype_value is required"),
    ("multiple string", _simple(multiple="yes"), "multiple must be true or false, not a string"),
    ("binding null", _simple(require_cryptographic_holder_binding=None),
     "require_cryptographic_holder_binding must be true or false, not null"),
    ("empty claims", _simple(claims=[]), "claims must not be an empty array"),
    ("too many claims", _claims_with(MAX_CLAIMS + 1), f"at most {MAX_CLAIMS}"),
    ("claim not object", _simple(claims=["title"]), "claims[0] must be an object, not a string"),
    ("no path", _simple(claims=[{"id": "t"}]), "claims[0].path is required"),
    ("empty path", _simple(claims=[{"path": []}]), "claims[0].path must not be an empty array"),
    ("path string", _simple(claims=[{"path": "title"}]), "claims[0].path must be a non-empty array, not a string"),
    ("negative index", _simple(claims=[{"path": ["a", -1]}]), "claims[0].path[1] must be a string, a non-negative "
                                                               "integer or null, not a negative integer"),
    ("float index", _simple(claims=[{"path": ["a", 1.5]}]), "not a number with a fraction"),
    ("boolean index", _simple(claims=[{"path": ["a", True]}]), "not a boolean"),
    ("object in path", _simple(claims=[{"path": [{}]}]), "not an object"),
    ("deep path", _simple(claims=[{"path": ["a"] * (MAX_PATH_DEPTH + 1)}]), f"at most {MAX_PATH_DEPTH}"),
    ("mdoc path of one", _simple(format="mso_mdoc", meta={"doctype_value": "d"}, claims=[{"path": ["ns"]}]),
     "must be two strings (a namespace and a data element) for format mso_mdoc"),
    ("mdoc path null", _simple(format="mso_mdoc", meta={"doctype_value": "d"}, claims=[{"path": ["ns", None]}]),
     "must be two strings"),
    ("bad claim id", _simple(claims=[{"id": "a.b", "path": ["x"]}]), "claims[0].id 'a.b' may hold only"),
    ("null claim id", _simple(claims=[{"id": None, "path": ["x"]}]), "claims[0].id must be a non-empty string"),
    ("duplicate claim id", _simple(claims=[{"id": "a", "path": ["x"]}, {"id": "a", "path": ["y"]}]),
     "two claims have the id 'a'"),
    ("same claim twice", _simple(claims=[{"path": ["x", 0]}, {"path": ["x", 0]}]),
     "claims[1] points to x[0] again"),
    ("empty values", _simple(claims=[{"path": ["x"], "values": []}]), "claims[0].values must not be an empty array"),
    ("null value", _simple(claims=[{"path": ["x"], "values": [None]}]),
     "claims[0].values[0] must be a string, an integer or a boolean, not null"),
    ("float value", _simple(claims=[{"path": ["x"], "values": [1.5]}]), "not a number with a fraction"),
    ("object value", _simple(claims=[{"path": ["x"], "values": [{}]}]), "not an object"),
    ("too many values", _simple(claims=[{"path": ["x"], "values": list(range(MAX_VALUES + 1))}]),
     f"at most {MAX_VALUES}"),
    ("claim_sets without claims", _simple(claims=_DROP, claim_sets=[["t"]]),
     "claim_sets must not be present without claims"),
    ("claim_sets without ids", _simple(claims=[{"path": ["x"]}, {"id": "y", "path": ["y"]}], claim_sets=[["y"]]),
     "claims[0] need an id because claim_sets is present"),
    ("empty claim_sets", _simple(claim_sets=[]), "claim_sets must not be an empty array"),
    ("empty claim set", _simple(claim_sets=[[]]), "claim_sets[0] must not be an empty array"),
    ("unknown claim id", _simple(claim_sets=[["t"], ["t", "z"]]), "claim_sets[1][1] names 'z', which is no claim id"),
    ("claim id twice in a set", _simple(claim_sets=[["t", "t"]]), "claim_sets[0] names 't' twice"),
    ("claim set not array", _simple(claim_sets=["t"]), "claim_sets[0] must be a non-empty array, not a string"),
    ("empty trusted_authorities", _simple(trusted_authorities=[]), "trusted_authorities must not be an empty array"),
    ("authority without values", _simple(trusted_authorities=[{"type": "aki"}]),
     "trusted_authorities[0].values is required"),
    ("authority without type", _simple(trusted_authorities=[{"values": ["x"]}]),
     "trusted_authorities[0].type is required"),
    ("authority empty values", _simple(trusted_authorities=[{"type": "aki", "values": []}]),
     "trusted_authorities[0].values must not be an empty array"),
    ("empty credential_sets", dict(_simple(), credential_sets=[]), "credential_sets must not be an empty array"),
    ("set not object", dict(_simple(), credential_sets=[["mc"]]), "credential_sets[0] must be an object"),
    ("set without options", dict(_simple(), credential_sets=[{"required": True}]),
     "credential_sets[0].options is required"),
    ("empty options", dict(_simple(), credential_sets=[{"options": []}]),
     "credential_sets[0].options must not be an empty array"),
    ("empty option", dict(_simple(), credential_sets=[{"options": [[]]}]),
     "credential_sets[0].options[0] must not be an empty array"),
    ("unknown query id", dict(_simple(), credential_sets=[{"options": [["mc"], ["pid"]]}]),
     "credential_sets[0].options[1][0] names 'pid', which is no credential query id"),
    ("query twice in option", dict(_simple(), credential_sets=[{"options": [["mc", "mc"]]}]),
     "credential_sets[0].options[0] names 'mc' twice"),
    ("required string", dict(_simple(), credential_sets=[{"options": [["mc"]], "required": "no"}]),
     "credential_sets[0].required must be true or false, not a string"),
]


@pytest.mark.parametrize(("raw", "reason"), [(raw, reason) for _, raw, reason in INVALID],
                         ids=[name for name, _, _ in INVALID])
def test_invalid_query_is_refused_with_a_precise_reason(raw: Any, reason: str) -> None:
    with pytest.raises(InvalidPresentationRequest) as caught:
        DcqlQuery.parse(copy.deepcopy(raw))
    assert reason in str(caught.value)
    assert isinstance(caught.value, InvalidInput)


def test_limits_are_inclusive() -> None:
    assert len(DcqlQuery.parse(_credentials_with(MAX_CREDENTIAL_QUERIES)).credentials) == MAX_CREDENTIAL_QUERIES
    claims = DcqlQuery.parse(_claims_with(MAX_CLAIMS)).credentials[0].claims
    assert claims is not None
    assert len(claims) == MAX_CLAIMS


def test_a_query_in_no_credential_set_is_allowed() -> None:
    raw = {"credentials": [_simple()["credentials"][0], dict(_simple()["credentials"][0], id="other")],
           "credential_sets": [{"options": [["mc"]]}]}
    assert DcqlQuery.parse(raw).credential_sets == (CredentialSetQuery(options=(("mc",),)),)


POINTERS = json.loads((VECTORS / "claims_path_pointers.json").read_text(encoding="utf-8"))
EXAMPLE = json.loads((VECTORS / "credentials" / "claims_path_pointer_example.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", POINTERS, ids=lambda case: describe_path(tuple(case["pointer"])))
def test_section_7_3_pointers_select_what_the_spec_says(case: dict[str, Any]) -> None:
    found = resolve_claim_path(EXAMPLE, tuple(case["pointer"]))
    assert found is not None
    assert [value for _, value in found] == case["selects"]


def test_pointer_processing_rules_of_7_1_1() -> None:
    assert resolve_claim_path(EXAMPLE, ("degrees", None, "type")) == (
        (("degrees", 0, "type"), "Bachelor of Science"), (("degrees", 1, "type"), "Master of Science"))
    assert resolve_claim_path(EXAMPLE, ("nationalities", 2)) is None          # no such index: nothing selected
    assert resolve_claim_path(EXAMPLE, ("name", "first")) is None             # a string on a non-object: error
    assert resolve_claim_path(EXAMPLE, ("address", None)) is None             # null on a non-array: error
    assert resolve_claim_path(EXAMPLE, ("address", 0)) is None                # index on a non-array: error
    assert resolve_claim_path(EXAMPLE, ("nationalities", None, "x")) is None  # key on array elements: error
    assert resolve_claim_path({"a": None}, ("a",)) is None                    # JSON null is not disclosed
    assert resolve_claim_path({"a": [{"b": 1}, {"c": 2}]}, ("a", None, "b")) == ((("a", 0, "b"), 1),)
    assert resolve_claim_path({"a": ["x", "y"]}, ("a", 1), any_index=True) == ((("a", 0), "x"), (("a", 1), "y"))


def test_describe_path() -> None:
    assert describe_path(("address", "street_address")) == "address.street_address"
    assert describe_path(("degrees", None, "type")) == "degrees[].type"
    assert describe_path(("nationalities", 1)) == "nationalities[1]"
