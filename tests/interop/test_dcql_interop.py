"""DCQL agrees with an independent implementation: the ``dcql`` npm package (TypeScript, pinned in
package.json), run by ``tests/interop/dcql_interop.mjs`` over the same queries, credentials and answers.

Compared: which queries are valid (every example of the spec, and queries that break a rule both
implementations check), which held credentials answer each credential query and with which claim set
(the first the credential satisfies),
which options of each credential set can be answered, whether the whole query can, and whether a
verified answer satisfies the query (our ``check_response`` gives no problem exactly when theirs says
``can_be_satisfied``). One node process runs the whole batch.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import asdict
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from credentials.dcql import Candidate, DcqlQuery, Presented, check_response, match
from credentials.errors import InvalidPresentationRequest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "interop" / "dcql_interop.mjs"
VECTORS = ROOT / "tests" / "vectors" / "openid4vp-dcql"
IDENTITY = "https://credentials.example.com/identity_credential"

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not (ROOT / "node_modules" / "dcql").exists(),
    reason="node and the npm devDependencies (make test runs npm ci) are needed",
)


def _file(folder: str, name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((VECTORS / folder / f"{name}.json").read_text(encoding="utf-8"))
    return loaded


def _sd(vct: str, bound: bool = True, **claims: Any) -> Candidate:
    return Candidate(ref="", format="dc+sd-jwt", type_values=(vct,), claims=claims, holder_binding=bound)


def _one(claims: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"credentials": [{"id": "q", "format": "dc+sd-jwt", "meta": {"vct_values": ["t"]}, "claims": claims,
                             **extra}]}


PID = {"given_name": "Erika", "family_name": "Mustermann", "address": {"street_address": "Heidestr. 17"}}
ALL_ALTERNATIVES = {"family_name": "D", "postal_code": "1", "locality": "L", "region": "R", "date_of_birth": "x"}
VALUES_BASE = {"family_name": "Doe", "given_name": "J", "address": {"street_address": "s"}}
REDUCED_1 = _sd("https://credentials.example.com/reduced_identity_credential", family_name="D", given_name="J")
REDUCED_2 = _sd("https://cred.example/residence_credential", postal_code="1", locality="L", region="R")
REWARDS = _sd("https://company.example/company_rewards", rewards_number=7)
MDL = Candidate("", "mso_mdoc", ("org.iso.18013.5.1.mDL",),
                {"org.iso.18013.5.1": {"given_name": "E", "family_name": "M", "portrait": "AA"}})
VEHICLE = Candidate("", "mso_mdoc", ("org.iso.7367.1.mVRC",),
                    {"org.iso.7367.1": {"vehicle_holder": "E"}, "org.iso.18013.5.1": {"given_name": "E"}})
JWT_VC = _file("credentials", "jwt_vc")["vc"]
LDP_VC = _file("credentials", "ldp_vc")
SPEC_SD_JWT = {k: v for k, v in _file("credentials", "sd_jwt_vc_unsecured").items() if k != "vct"}
DEGREES = {"degrees": [{"type": "BSc"}, {"type": "MSc"}], "nationalities": ["British", "Betelgeusian"]}

MATCH_CASES: dict[str, tuple[dict[str, Any], list[Candidate]]] = {
    "simple, the spec's SD-JWT VC": (_file("queries", "simple"), [_sd(IDENTITY, **SPEC_SD_JWT)]),
    "simple, a full PID": (_file("queries", "simple"), [_sd(IDENTITY, **PID), _sd("other", **PID)]),
    "jwt_vc_json": (_file("queries", "dcql_jwt_vc"),
                    [Candidate("", "jwt_vc_json", tuple(JWT_VC["type"]), JWT_VC),
                     Candidate("", "ldp_vc", tuple(LDP_VC["type"]), LDP_VC)]),
    "ldp_vc": (_file("queries", "dcql_ldp_vc"),
               [Candidate("", "jwt_vc_json", tuple(JWT_VC["type"]), JWT_VC),
                Candidate("", "ldp_vc", tuple(LDP_VC["type"]), LDP_VC)]),
    "claim sets": (_file("queries", "claims_alternatives"),
                   [_sd(IDENTITY, **ALL_ALTERNATIVES),
                    _sd(IDENTITY, **{k: v for k, v in ALL_ALTERNATIVES.items() if k != "region"}),
                    _sd(IDENTITY, **{k: v for k, v in ALL_ALTERNATIVES.items() if k != "date_of_birth"})]),
    "values": (_file("queries", "value_matching_simple"),
               [_sd(IDENTITY, postal_code="90211", **VALUES_BASE), _sd(IDENTITY, postal_code="90212", **VALUES_BASE),
                _sd(IDENTITY, postal_code=90210, **VALUES_BASE)]),
    "credential sets, reduced pair": (_file("queries", "credentials_alternatives"), [REDUCED_1, REDUCED_2]),
    "credential sets, half a pair": (_file("queries", "credentials_alternatives"), [REDUCED_1, REWARDS]),
    "credential sets, pid and optional": (_file("queries", "credentials_alternatives"),
                                          [_sd(IDENTITY, **PID), REWARDS]),
    "all required, one missing": (_file("queries", "multi_credentials"), [_sd(IDENTITY, **PID)]),
    "all required, both held": (_file("queries", "multi_credentials"), [_sd(IDENTITY, **PID), VEHICLE]),
    "mdoc sets": (_file("queries", "complex_mdoc"), [MDL]),
    "simple mdoc": (_file("queries", "simple_mdoc"), [VEHICLE, MDL]),
    "null pointer with values": (_one([{"path": ["degrees", None, "type"], "values": ["MSc"]}]),
                                 [_sd("t", **DEGREES), _sd("t", degrees=[{"type": "BSc"}])]),
    "index pointer": (_one([{"path": ["nationalities", 1]}]), [_sd("t", **DEGREES), _sd("t", nationalities=["x"])]),
    "boolean is not an integer": (_one([{"path": ["flag"], "values": [1]}]), [_sd("t", flag=True), _sd("t", flag=1)]),
    "holder binding required": (_one([{"path": ["a"]}]), [_sd("t", bound=False, a=1), _sd("t", a=1)]),
    "holder binding not required": (_one([{"path": ["a"]}], require_cryptographic_holder_binding=False),
                                    [_sd("t", bound=False, a=1)]),
    "trusted authorities": (_one([{"path": ["a"]}], trusted_authorities=[{"type": "aki", "values": ["s9tIpP"]}]),
                            [_sd("t", a=1)]),
    "type values": ({"credentials": [{"id": "q", "format": "ldp_vc", "meta": {"type_values": [
        ["VerifiableCredential", "AlumniCredential", "BachelorDegree"], ["IdentityCredential"]]}}]},
        [Candidate("", "ldp_vc", ("VerifiableCredential", "BachelorDegree", "AlumniCredential"), {}),
         Candidate("", "ldp_vc", ("VerifiableCredential", "AlumniCredential"), {}),
         Candidate("", "ldp_vc", ("VerifiableCredential", "IdentityCredential"), {})]),
}

MICRO = {"credentials": [
    {"id": "microcredential", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:mc"]},
     "claims": [{"path": ["title"]}, {"path": ["ects"], "values": [5, 6]}, {"path": ["eqf_level"]}]},
    {"id": "diploma", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:diploma"]}},
]}


def _p(vct: str, bound: bool = True, fmt: str = "dc+sd-jwt", **claims: Any) -> Presented:
    return Presented(fmt, (vct,), claims, holder_binding=bound)


FULL_MC = _p("urn:mc", title="T", ects=5, eqf_level=6)
DIPLOMA = _p("urn:diploma")
ANSWER_CASES: dict[str, tuple[dict[str, Any], dict[str, list[Presented]]]] = {
    "complete": (MICRO, {"microcredential": [FULL_MC], "diploma": [DIPLOMA]}),
    "only the title": (MICRO, {"microcredential": [_p("urn:mc", title="T")], "diploma": [DIPLOMA]}),
    "a value not allowed": (MICRO, {"microcredential": [_p("urn:mc", title="T", ects=3, eqf_level=6)],
                                    "diploma": [DIPLOMA]}),
    "a string for an integer": (MICRO, {"microcredential": [_p("urn:mc", title="T", ects="5", eqf_level=6)],
                                        "diploma": [DIPLOMA]}),
    "two without multiple": (MICRO, {"microcredential": [FULL_MC], "diploma": [DIPLOMA, DIPLOMA]}),
    "a query not asked": (MICRO, {"microcredential": [FULL_MC], "diploma": [DIPLOMA], "x": [DIPLOMA]}),
    "an empty answer": (MICRO, {"microcredential": [], "diploma": [DIPLOMA]}),
    "a required query missing": (MICRO, {"microcredential": [FULL_MC]}),
    "wrong type": (MICRO, {"microcredential": [FULL_MC], "diploma": [_p("urn:mc")]}),
    "wrong format": (MICRO, {"microcredential": [FULL_MC],
                             "diploma": [Presented("ldp_vc", ("urn:diploma",), {})]}),
    "no holder binding": (MICRO, {"microcredential": [FULL_MC], "diploma": [_p("urn:diploma", bound=False)]}),
    "multiple": (_one([{"path": ["a"]}], multiple=True), {"q": [_p("t", a=1), _p("t", a=2)]}),
    "multiple, one lacking": (_one([{"path": ["a"]}], multiple=True), {"q": [_p("t", a=1), _p("t", b=2)]}),
    "pid alone": (_file("queries", "credentials_alternatives"), {"pid": [_p(IDENTITY, **PID)]}),
    "only the optional set": (_file("queries", "credentials_alternatives"),
                              {"nice_to_have": [_p("https://company.example/company_rewards", rewards_number=7)]}),
    "half a pair": (_file("queries", "credentials_alternatives"),
                    {"pid_reduced_cred_1": [_p("https://credentials.example.com/reduced_identity_credential",
                                               family_name="D", given_name="J")]}),
    "second claim set": (_file("queries", "claims_alternatives"),
                         {"pid": [_p(IDENTITY, family_name="D", postal_code="1", date_of_birth="x")]}),
    "no claim set": (_file("queries", "claims_alternatives"), {"pid": [_p(IDENTITY, family_name="D")]}),
    "moved array element": (_one([{"path": ["nationalities", 1]}]), {"q": [_p("t", nationalities=["Betelgeusian"])]}),
    "empty array": (_one([{"path": ["nationalities", 1]}]), {"q": [_p("t", nationalities=[])]}),
    "null pointer, a match": (_one([{"path": ["degrees", None, "type"], "values": ["MSc"]}]),
                              {"q": [_p("t", degrees=[{"type": "MSc"}])]}),
    "null pointer, no match": (_one([{"path": ["degrees", None, "type"], "values": ["MSc"]}]),
                               {"q": [_p("t", degrees=[{"type": "BSc"}])]}),
}

SPEC_QUERIES = {path.stem: json.loads(path.read_text(encoding="utf-8"))
                for path in sorted((VECTORS / "queries").glob("*.json"))}
INVALID_QUERIES: dict[str, Any] = {
    "no credentials": {"credentials": []},
    "duplicate query ids": {"credentials": [_one([{"path": ["a"]}])["credentials"][0]] * 2},
    "a credential set naming no query": dict(_one([{"path": ["a"]}]), credential_sets=[{"options": [["z"]]}]),
    "an id with a dot": {"credentials": [dict(_one([{"path": ["a"]}])["credentials"][0], id="a.b")]},
    "a negative index": _one([{"path": ["a", -1]}]),
    "a null value": _one([{"path": ["a"], "values": [None]}]),
    "empty claims": _one([]),
    "a claim set naming no claim": _one([{"id": "a", "path": ["a"]}], claim_sets=[["b"]]),
    "empty options": dict(_one([{"path": ["a"]}]), credential_sets=[{"options": []}]),
}


def _wire(candidate: Candidate | Presented) -> dict[str, Any]:
    out = asdict(candidate)
    out.pop("ref", None)
    out["type_values"] = list(out["type_values"])
    return out


@cache
def _theirs() -> dict[str, dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    names: list[str] = []
    for name, query in {**SPEC_QUERIES, **INVALID_QUERIES}.items():
        names.append(f"parse:{name}")
        cases.append({"kind": "parse", "query": query})
    for name, (query, candidates) in MATCH_CASES.items():
        names.append(f"match:{name}")
        cases.append({"kind": "match", "query": query, "credentials": [_wire(c) for c in candidates]})
    for name, (query, answer) in ANSWER_CASES.items():
        names.append(f"answer:{name}")
        cases.append({"kind": "answer", "query": query,
                      "presentation": {key: [_wire(p) for p in items] for key, items in answer.items()}})
    result = subprocess.run(["node", str(SCRIPT)], input=json.dumps({"cases": cases}), capture_output=True,
                            text=True, timeout=120, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return dict(zip(names, json.loads(result.stdout), strict=True))


@pytest.mark.parametrize("name", list(SPEC_QUERIES))
def test_both_accept_the_spec_examples(name: str) -> None:
    DcqlQuery.parse(SPEC_QUERIES[name])
    assert _theirs()[f"parse:{name}"] == {"valid": True}


@pytest.mark.parametrize("name", list(INVALID_QUERIES))
def test_both_refuse_an_invalid_query(name: str) -> None:
    with pytest.raises(InvalidPresentationRequest):
        DcqlQuery.parse(INVALID_QUERIES[name])
    assert _theirs()[f"parse:{name}"] == {"valid": False}


@pytest.mark.parametrize("name", list(MATCH_CASES))
def test_match_agrees(name: str) -> None:
    raw, candidates = MATCH_CASES[name]
    query = DcqlQuery.parse(raw)
    numbered = [Candidate(str(index), c.format, c.type_values, c.claims, c.holder_binding)
                for index, c in enumerate(candidates)]
    ours = match(query, numbered)
    theirs = _theirs()[f"match:{name}"]
    assert theirs["valid"] is True
    assert {key: [int(m.ref) for m in found] for key, found in ours.per_query.items()} == theirs["per_query"]
    assert ours.satisfiable is theirs["satisfiable"]
    options = {q.id: list(q.claim_sets or ()) for q in query.credentials}
    assert {key: [None if m.claim_set is None else options[key].index(m.claim_set) for m in found]
            for key, found in ours.per_query.items()} == theirs["claim_sets"]
    if query.credential_sets is not None:
        assert [[list(o) for o in s.satisfiable_options] or None for s in ours.sets] == theirs["sets"]


@pytest.mark.parametrize("name", list(ANSWER_CASES))
def test_check_response_agrees(name: str) -> None:
    raw, answer = ANSWER_CASES[name]
    problems = check_response(DcqlQuery.parse(raw), answer)
    theirs = _theirs()[f"answer:{name}"]
    assert (problems == ()) is theirs["satisfiable"], (problems, theirs.get("error"))
