"""DCQL properties: any valid query survives ``to_json`` → ``parse``; what the wallet's ``match`` says to
disclose is exactly enough for the verifier's ``check_response``, and a credential the wallet finds
no answer in cannot satisfy the verifier even when shown whole."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from credentials.dcql import Candidate, ClaimPath, DcqlQuery, Presented, check_response, match

NAMES = ("a", "b", "c")
PATHS: tuple[ClaimPath, ...] = (("a",), ("b",), ("c",), ("n", "x"), ("n", "y"), ("n",))
SCALARS = st.one_of(st.sampled_from([0, 1, 5, 6]), st.booleans(), st.sampled_from(["", "x", "5", "Doe"]))


@st.composite
def _claims(draw: st.DrawFn) -> dict[str, Any]:
    out: dict[str, Any] = {name: draw(SCALARS) for name in NAMES if draw(st.booleans())}
    if draw(st.booleans()):
        out["n"] = {name: draw(SCALARS) for name in ("x", "y") if draw(st.booleans())}
    return out


@st.composite
def _raw_query(draw: st.DrawFn) -> dict[str, Any]:
    paths = draw(st.lists(st.sampled_from(PATHS), min_size=1, max_size=4, unique=True))
    claims = []
    for number, path in enumerate(paths):
        claim: dict[str, Any] = {"id": f"c{number}", "path": list(path)}
        if path != ("n",) and draw(st.booleans()):
            claim["values"] = draw(st.lists(SCALARS, min_size=1, max_size=3))
        claims.append(claim)
    query: dict[str, Any] = {"id": "q", "format": "dc+sd-jwt", "meta": {"vct_values": ["t"]}, "claims": claims,
                             "multiple": draw(st.booleans())}
    if draw(st.booleans()):
        ids = [claim["id"] for claim in claims]
        query["claim_sets"] = draw(st.lists(st.lists(st.sampled_from(ids), min_size=1, unique=True), min_size=1,
                                            max_size=3))
    if draw(st.booleans()):
        del query["claims"]
        query.pop("claim_sets", None)
    return {"credentials": [query]}


def _only(claims: dict[str, Any], paths: tuple[ClaimPath, ...]) -> dict[str, Any]:
    """The claims at ``paths`` and nothing else (what a holder discloses)."""
    out: dict[str, Any] = {}
    for path in paths:
        source: Any = claims
        target = out
        for component in path[:-1]:
            assert isinstance(component, str)
            source = source[component]
            target = target.setdefault(component, {})
        last = path[-1]
        assert isinstance(last, str)
        target[last] = source[last]
    return out


@settings(max_examples=300, deadline=None)
@given(_raw_query())
def test_to_json_then_parse_is_the_same_query(raw: dict[str, Any]) -> None:
    query = DcqlQuery.parse(raw)
    assert DcqlQuery.parse(query.to_json()) == query


@settings(max_examples=400, deadline=None)
@given(_raw_query(), _claims())
def test_what_the_wallet_discloses_satisfies_the_verifier(raw: dict[str, Any], claims: dict[str, Any]) -> None:
    query = DcqlQuery.parse(raw)
    found = match(query, [Candidate("h", "dc+sd-jwt", ("t",), claims)])
    whole = check_response(query, {"q": [Presented("dc+sd-jwt", ("t",), claims)]})
    if found.per_query["q"]:
        disclosed = _only(claims, found.per_query["q"][0].paths_to_disclose)
        assert check_response(query, {"q": [Presented("dc+sd-jwt", ("t",), disclosed)]}) == ()
        assert whole == ()
    else:
        assert found.satisfiable is False
        assert whole != ()
