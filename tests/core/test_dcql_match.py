"""DCQL evaluation (OpenID4VP 1.0 §6.4, §7): what a wallet can answer (``match``) and whether a verified
answer satisfies the query (``check_response``), on the spec's example queries and credentials."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from credentials.dcql import Candidate, CandidateMatch, DcqlQuery, Presented, check_response, match

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "openid4vp-dcql"
IDENTITY = "https://credentials.example.com/identity_credential"


def _query(name: str) -> DcqlQuery:
    return DcqlQuery.parse(json.loads((VECTORS / "queries" / f"{name}.json").read_text(encoding="utf-8")))


def _credential(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((VECTORS / "credentials" / f"{name}.json").read_text(encoding="utf-8"))
    return loaded


def _sd(ref: str, vct: str, **claims: Any) -> Candidate:
    return Candidate(ref=ref, format="dc+sd-jwt", type_values=(vct,), claims=claims)


PID_CLAIMS = {"given_name": "Erika", "family_name": "Mustermann", "address": {"street_address": "Heidestr. 17"}}


# --- the wallet: match -------------------------------------------------------------------------------

def test_simple_query_on_the_specs_sd_jwt_vc_lacks_the_address() -> None:
    payload = _credential("sd_jwt_vc_unsecured")
    held = _sd("c1", payload["vct"], **{k: v for k, v in payload.items() if k != "vct"})
    result = match(_query("simple"), [held])
    assert result.per_query == {"my_credential": ()}
    assert result.satisfiable is False
    assert result.missing_reason is not None
    assert "'my_credential'" in result.missing_reason
    assert "the matching credential lacks address.street_address that the request requires" in \
        result.missing_reason


def test_simple_query_matches_and_names_the_claims_to_disclose() -> None:
    result = match(_query("simple"), [_sd("c1", IDENTITY, birthdate="1964-08-12", **PID_CLAIMS)])
    assert result.satisfiable is True
    assert result.missing_reason is None
    assert result.per_query["my_credential"] == (
        CandidateMatch("c1", (("family_name",), ("given_name",), ("address", "street_address")), None),)


def test_jwt_vc_and_ldp_vc_examples_match_on_the_credential_root() -> None:
    vc = _credential("jwt_vc")["vc"]
    held = Candidate("jwt", "jwt_vc_json", tuple(vc["type"]), vc)
    found = match(_query("dcql_jwt_vc"), [held])
    assert found.per_query["example_jwt_vc"] == (
        CandidateMatch("jwt", (("credentialSubject", "family_name"), ("credentialSubject", "given_name")), None),)
    ldp = _credential("ldp_vc")
    found = match(_query("dcql_ldp_vc"), [Candidate("ldp", "ldp_vc", tuple(ldp["type"]), ldp), held])
    assert [m.ref for m in found.per_query["example_ldp_vc"]] == ["ldp"]
    assert len(found.per_query["example_ldp_vc"][0].paths_to_disclose) == 7


def test_type_values_need_every_type_of_one_alternative() -> None:
    query = DcqlQuery.parse({"credentials": [{"id": "q", "format": "ldp_vc", "meta": {"type_values": [
        ["VerifiableCredential", "AlumniCredential", "BachelorDegree"], ["IdentityCredential"]]}}]})
    bachelor = Candidate("a", "ldp_vc", ("VerifiableCredential", "BachelorDegree", "AlumniCredential"), {})
    alumni_only = Candidate("b", "ldp_vc", ("VerifiableCredential", "AlumniCredential"), {})
    identity = Candidate("c", "ldp_vc", ("VerifiableCredential", "IdentityCredential"), {})
    assert [m.ref for m in match(query, [bachelor, alumni_only, identity]).per_query["q"]] == ["a", "c"]


def test_claim_sets_first_satisfiable_option_wins() -> None:
    query = _query("claims_alternatives")
    everything = _sd("all", IDENTITY, family_name="D", postal_code="1", locality="L", region="R",
                     date_of_birth="2000-01-01")
    no_region = _sd("pc", IDENTITY, family_name="D", postal_code="1", locality="L", date_of_birth="2000-01-01")
    matched = match(query, [everything, no_region]).per_query["pid"]
    assert matched == (
        CandidateMatch("all", (("family_name",), ("locality",), ("region",), ("date_of_birth",)), ("a", "c", "d", "e")),
        CandidateMatch("pc", (("family_name",), ("postal_code",), ("date_of_birth",)), ("a", "b", "e")),
    )


def test_claim_sets_none_satisfiable_means_no_claims_at_all() -> None:
    result = match(_query("claims_alternatives"), [_sd("x", IDENTITY, family_name="D", postal_code="1")])
    assert result.per_query["pid"] == ()
    assert "satisfies none of the claim sets the request allows, (a, c, d, e) or (a, b, e); " \
           "closest: it lacks date_of_birth" in result.reasons["pid"]


def test_values_match_exactly_type_included() -> None:
    query = _query("value_matching_simple")
    base = {"family_name": "Doe", "given_name": "J", "address": {"street_address": "s"}}
    good = _sd("good", IDENTITY, postal_code="90211", **base)
    other_code = _sd("other", IDENTITY, postal_code="90212", **base)
    number = _sd("number", IDENTITY, postal_code=90210, **base)
    result = match(query, [good, other_code, number])
    assert [m.ref for m in result.per_query["my_credential"]] == ["good"]
    booleans = DcqlQuery.parse({"credentials": [{"id": "q", "format": "dc+sd-jwt", "meta": {"vct_values": ["t"]},
                                                 "claims": [{"path": ["flag"], "values": [1]}]}]})
    assert match(booleans, [_sd("b", "t", flag=True)]).per_query["q"] == ()
    assert match(booleans, [_sd("i", "t", flag=1)]).per_query["q"] != ()


def test_null_selects_every_element_and_values_keep_only_the_matching_ones() -> None:
    query = DcqlQuery.parse({"credentials": [{"id": "q", "format": "dc+sd-jwt", "meta": {"vct_values": ["t"]},
                                              "claims": [{"path": ["degrees", None, "type"], "values": ["MSc"]},
                                                         {"path": ["nationalities", 1]}]}]})
    held = _sd("h", "t", degrees=[{"type": "BSc"}, {"type": "MSc"}], nationalities=["British", "Betelgeusian"])
    assert match(query, [held]).per_query["q"] == (
        CandidateMatch("h", (("degrees", 1, "type"), ("nationalities", 1)), None),)
    one_nationality = _sd("o", "t", degrees=[{"type": "MSc"}], nationalities=["British"])
    assert match(query, [one_nationality]).per_query["q"] == ()


def test_no_claims_asks_for_the_credential_alone() -> None:
    query = DcqlQuery.parse({"credentials": [{"id": "q", "format": "dc+sd-jwt", "meta": {"vct_values": ["t"]}}]})
    assert match(query, [_sd("h", "t", secret="x")]).per_query["q"] == (CandidateMatch("h", (), None),)


def test_credential_sets_alternatives_and_optional_sets() -> None:
    query = _query("credentials_alternatives")
    reduced_1 = _sd("r1", "https://credentials.example.com/reduced_identity_credential",
                    family_name="D", given_name="J")
    reduced_2 = _sd("r2", "https://cred.example/residence_credential", postal_code="1", locality="L", region="R")
    result = match(query, [reduced_1, reduced_2])
    assert result.satisfiable is True
    assert result.sets[0].satisfiable_options == (("pid_reduced_cred_1", "pid_reduced_cred_2"),)
    assert result.sets[1].required is False
    assert result.sets[1].satisfiable is False
    assert result.requested == ("pid", "other_pid", "pid_reduced_cred_1", "pid_reduced_cred_2", "nice_to_have")
    only_one = match(query, [reduced_1])
    assert only_one.satisfiable is False
    assert only_one.missing_reason is not None
    assert only_one.missing_reason.startswith(
        "no option of the required credential set (pid | other_pid | pid_reduced_cred_1 + pid_reduced_cred_2) "
        "can be answered")
    assert "'pid_reduced_cred_2': no held dc+sd-jwt credential is of type" in only_one.missing_reason


def test_without_credential_sets_every_query_is_required() -> None:
    query = _query("multi_credentials")
    result = match(query, [_sd("p", IDENTITY, **PID_CLAIMS)])
    assert [m.ref for m in result.per_query["pid"]] == ["p"]
    assert result.sets[0].implicit is True
    assert result.satisfiable is False
    assert result.missing_reason == ("the wallet cannot answer every credential the request requires "
                                     "('mdl': no mso_mdoc credential is held)")


def test_trusted_authorities_are_not_silently_ignored() -> None:
    query = DcqlQuery.parse({"credentials": [{"id": "q", "format": "dc+sd-jwt", "meta": {"vct_values": ["t"]},
                                              "trusted_authorities": [{"type": "aki", "values": ["abc"]}]}]})
    result = match(query, [_sd("h", "t")])
    assert result.per_query["q"] == ()
    assert result.reasons["q"] == ("the request limits issuers by trusted_authorities (aki), "
                                   "which this wallet cannot check")


def test_holder_binding_required_by_default() -> None:
    query = DcqlQuery.parse({"credentials": [{"id": "q", "format": "dc+sd-jwt", "meta": {"vct_values": ["t"]}}]})
    unbound = Candidate("u", "dc+sd-jwt", ("t",), {}, holder_binding=False)
    assert match(query, [unbound]).per_query["q"] == ()
    relaxed = DcqlQuery.parse({"credentials": [{"id": "q", "format": "dc+sd-jwt", "meta": {"vct_values": ["t"]},
                                                "require_cryptographic_holder_binding": False}]})
    assert match(relaxed, [unbound]).per_query["q"] == (CandidateMatch("u", (), None),)


def test_an_empty_wallet() -> None:
    result = match(_query("simple"), [])
    assert result.satisfiable is False
    assert result.reasons == {"my_credential": "the wallet holds no credential"}


# --- the verifier: check_response --------------------------------------------------------------------

MICRO = DcqlQuery.parse({"credentials": [
    {"id": "microcredential", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:mc"]},
     "claims": [{"path": ["title"]}, {"path": ["ects"], "values": [5, 6]}, {"path": ["eqf_level"]}]},
    {"id": "diploma", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:diploma"]}},
]})


def _mc(**claims: Any) -> Presented:
    return Presented("dc+sd-jwt", ("urn:mc",), claims)


DIPLOMA = Presented("dc+sd-jwt", ("urn:diploma",), {})


def test_a_complete_answer_has_no_problem() -> None:
    assert check_response(MICRO, {"microcredential": [_mc(title="T", ects=5, eqf_level=6)], "diploma": [DIPLOMA]}) \
        == ()


def test_an_answer_with_only_the_title_is_refused() -> None:
    assert check_response(MICRO, {"microcredential": [_mc(title="T")], "diploma": [DIPLOMA]}) == (
        "the answer for 'microcredential' does not disclose ects, eqf_level that the request requires",)


def test_a_value_not_allowed() -> None:
    assert check_response(MICRO, {"microcredential": [_mc(title="T", ects=3, eqf_level=6)], "diploma": [DIPLOMA]}) \
        == ("'ects' is 3, not one of the allowed values 5, 6",)
    assert check_response(MICRO, {"microcredential": [_mc(title="T", ects="5", eqf_level=6)],
                                  "diploma": [DIPLOMA]}) == ("'ects' is \"5\", not one of the allowed values 5, 6",)


def test_more_presentations_than_multiple_allows() -> None:
    answer = {"microcredential": [_mc(title="T", ects=5, eqf_level=6)], "diploma": [DIPLOMA, DIPLOMA]}
    assert check_response(MICRO, answer) == ("'diploma' answered with 2 presentations; the request allows one",)


def test_multiple_allows_several_and_checks_each() -> None:
    query = DcqlQuery.parse({"credentials": [{"id": "mc", "format": "dc+sd-jwt", "multiple": True,
                                              "meta": {"vct_values": ["urn:mc"]}, "claims": [{"path": ["ects"]}]}]})
    assert check_response(query, {"mc": [_mc(ects=5), _mc(ects=6)]}) == ()
    assert check_response(query, {"mc": [_mc(ects=5), _mc(title="x")]}) == (
        "presentation 2 for 'mc' does not disclose ects that the request requires",)


def test_unknown_query_missing_query_and_empty_answers() -> None:
    answer: dict[str, list[Presented]] = {"microcredential": [], "x": [DIPLOMA]}
    assert check_response(MICRO, answer) == (
        "the answer names a query the request did not make: 'x'",
        "the answer for 'microcredential' holds no presentation",
        "the answer lacks 'diploma' that the request requires",
    )


def test_wrong_format_type_and_binding() -> None:
    assert check_response(MICRO, {"microcredential": [Presented("jwt_vc_json", ("urn:mc",), {})],
                                  "diploma": [DIPLOMA]}) == (
        "the answer for 'microcredential' is a jwt_vc_json credential, not dc+sd-jwt",)
    assert check_response(MICRO, {"microcredential": [_mc(title="T", ects=5, eqf_level=6)],
                                  "diploma": [Presented("dc+sd-jwt", ("urn:mc",), {}, holder_binding=False)]}) == (
        "the answer for 'diploma' is of type urn:mc, not one the request allows (urn:diploma)",
        "the answer for 'diploma' has no holder binding proof, which the request requires",
    )


def test_credential_sets_on_the_verifier_side() -> None:
    query = _query("credentials_alternatives")
    pid = Presented("dc+sd-jwt", (IDENTITY,), PID_CLAIMS)
    assert check_response(query, {"pid": [pid]}) == ()
    rewards = Presented("dc+sd-jwt", ("https://company.example/company_rewards",), {"rewards_number": 7})
    assert check_response(query, {"nice_to_have": [rewards]}) == (
        "no option of the required credential set (pid | other_pid | pid_reduced_cred_1 + pid_reduced_cred_2) "
        "was answered",)
    reduced_1 = Presented("dc+sd-jwt", ("https://credentials.example.com/reduced_identity_credential",),
                          {"family_name": "D", "given_name": "J"})
    assert check_response(query, {"pid_reduced_cred_1": [reduced_1]}) == (
        "no option of the required credential set (pid | other_pid | pid_reduced_cred_1 + pid_reduced_cred_2) "
        "was answered",)


def test_any_claim_set_satisfies_the_verifier() -> None:
    query = _query("claims_alternatives")
    second = Presented("dc+sd-jwt", (IDENTITY,), {"family_name": "D", "postal_code": "1", "date_of_birth": "x"})
    assert check_response(query, {"pid": [second]}) == ()
    neither = Presented("dc+sd-jwt", (IDENTITY,), {"family_name": "D", "date_of_birth": "x"})
    assert check_response(query, {"pid": [neither]}) == (
        "the answer for 'pid' satisfies none of the claim sets the request allows, (a, c, d, e) or (a, b, e); "
        "closest: it does not disclose postal_code that the request requires",)


def test_a_disclosed_array_may_have_moved_elements() -> None:
    query = DcqlQuery.parse({"credentials": [{"id": "q", "format": "dc+sd-jwt", "meta": {"vct_values": ["t"]},
                                              "claims": [{"path": ["nationalities", 1]}]}]})
    assert check_response(query, {"q": [Presented("dc+sd-jwt", ("t",), {"nationalities": ["Betelgeusian"]})]}) == ()
    assert check_response(query, {"q": [Presented("dc+sd-jwt", ("t",), {"nationalities": []})]}) == (
        "the answer for 'q' does not disclose nationalities[1] that the request requires",)


@pytest.mark.parametrize(("value", "shown"), [(True, "true"), ("x" * 80, '"' + "x" * 60 + '…"'),
                                               ({"a": 1}, "an object"), ([1], "an array")])
def test_problem_texts_show_values_briefly(value: Any, shown: str) -> None:
    query = DcqlQuery.parse({"credentials": [{"id": "q", "format": "dc+sd-jwt", "meta": {"vct_values": ["t"]},
                                              "claims": [{"path": ["v"], "values": ["ok"]}]}]})
    assert check_response(query, {"q": [Presented("dc+sd-jwt", ("t",), {"v": value})]}) == (
        f"'v' is {shown}, not one of the allowed values \"ok\"",)
