"""Stacks in the core (issue 13, item 1): the summary of several results and the stack's integrity.

Integrity runs on real presentations verified by the core (the plain-function world of test_verification):
an SD-JWT VC whose Key Binding JWT carries another nonce or audience than the rest of the stack, or a
credential shown with no holder proof at all, fails ``holder_binding`` with a plain reason.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from credentials.annex_mappers import annex_from_microcred
from credentials.annex_view import AnnexView, Sourced
from credentials.errors import CHECKS
from credentials.stack import bind_stack, stack_result, summarise
from credentials.verification_model import FAILED, PASSED, SKIPPED, UNAVAILABLE, CheckResult, VerificationResult
from tests.core.test_verification import AUDIENCE, World


def result(*, failed: str | None = None, unavailable: str | None = None, claims=None, annex=None,
           issuer="Univerzita Příklad", binding=("n-1", AUDIENCE)) -> VerificationResult:
    checks = tuple(CheckResult(c, FAILED if c == failed else UNAVAILABLE if c == unavailable else PASSED, "d")
                   for c in CHECKS)
    bound = {"nonce": binding[0], "audience": binding[1], "iat": 1} if binding else None
    return VerificationResult("dc+sd-jwt", checks, {"id": "did:key:z1", "name": issuer}, dict(claims or {}),
                              holder_binding=bound, annex=annex)


def microcred(ects, eqf, **more) -> VerificationResult:
    claims = {"title": f"Course {ects}", "ects": ects, "eqf_level": eqf, **more}
    return result(claims=claims, annex=annex_from_microcred(claims))


# --- summarise --------------------------------------------------------------------------------------


def test_three_verified_credentials_make_one_line():
    summary = summarise([microcred(5, 6), microcred(4, 7), microcred(5, 6)])
    assert summary.line == "3 of 3 verified · 14 ECTS · EQF 6–7"
    assert (summary.count, summary.verified, summary.ects_total, summary.ects_counted) == (3, 3, Decimal(14), 3)
    assert (summary.eqf_min, summary.eqf_max) == (6, 7)
    assert summary.issuers == ("Univerzita Příklad",)
    answer = summary.to_json()
    assert answer["ects_total"] == 14
    assert answer["line"] == summary.line
    json.dumps(answer)


def test_a_revoked_credential_counts_for_nothing_but_the_count():
    revoked = result(failed="revocation", claims={"title": "X", "ects": 30, "eqf_level": 8},
                     annex=annex_from_microcred({"title": "X", "ects": 30, "eqf_level": 8}), issuer="Revoking U")
    summary = summarise([microcred(5, 6), revoked, microcred(2.5, 6)])
    assert summary.line == "2 of 3 verified · 7.5 ECTS · EQF 6"
    assert summary.ects_total == Decimal("7.5")
    assert summary.to_json()["ects_total"] == 7.5
    assert "Revoking U" not in summary.issuers
    assert summary.eqf_max == 6


def test_an_undecided_credential_is_said_so_and_not_counted():
    summary = summarise([microcred(5, 6), result(unavailable="revocation", claims={"ects": 9})])
    assert summary.line == "1 of 2 verified (1 could not be checked now) · 5 ECTS · EQF 6"
    assert summary.undecided == 1


def test_without_a_view_the_claims_count_and_nonsense_is_ignored():
    summary = summarise([result(claims={"ects": 3, "eqf_level": 5}), result(claims={"ects": "lots", "eqf_level": 11}),
                         result(claims={"ects": True, "eqf_level": 6.5})])
    assert (summary.ects_total, summary.ects_counted, summary.eqf_min, summary.eqf_max) == (Decimal(3), 1, 5, 5)


def test_nothing_verified_says_only_that():
    assert summarise([result(failed="signature")]).line == "0 of 1 verified"
    assert summarise([]).line == "0 of 0 verified"


def test_stackability_of_each_format_in_plain_words():
    towards = microcred(5, 6, stackability={"option": "stackable", "target": "Master in Data Science"})
    alone = microcred(4, 6, stackability={"option": "stand-alone"})
    eudi = result(claims={}, annex=AnnexView("eudi-learning", title=Sourced("Teamwork", "/achievement_title"),
                                             stackability=Sourced(True, "/integration_stackability_options")))
    elm = result(claims={}, annex=AnnexView("elm", stackability=Sourced(True, "/credentialSubject/hasClaim/0/"
                                                                            "specifiedBy/isPartialQualification")))
    summary = summarise([towards, alone, eudi, elm])
    texts = [entry.text for entry in summary.stackability]
    assert texts == ["stackable towards Master in Data Science", "stand-alone",
                     "has integration or stackability options", "part of a larger qualification"]
    assert summary.stackability[0].title == "Course 5"
    assert summary.towards() == (("Master in Data Science", 1),)
    assert summary.to_json()["stackability"][1]["stackable"] is False


# --- integrity ---------------------------------------------------------------------------------------


@pytest.fixture
def world():
    return World()


def test_presentations_for_one_request_pass(world):
    results = [world.verify(world.present(nonce="stack-n"), nonce="stack-n", audience=AUDIENCE) for _ in range(3)]
    stack = stack_result(results, nonce="stack-n", audience=AUDIENCE)
    assert stack.verified
    assert stack.summary.line == "3 of 3 verified · 12 ECTS · EQF 7"
    assert len(stack.to_json()["results"]) == 3


def test_without_expected_values_the_first_bound_presentation_sets_them(world):
    results = [world.verify(world.present(nonce="n-a")), world.verify(world.present(nonce="n-b")),
               world.verify(world.present(nonce="n-a", audience="https://other.example"))]
    assert all(r.verified for r in results)  # each alone is fine
    bound = bind_stack(results)
    assert bound[0].verified
    assert bound[1].check("holder_binding").status == FAILED
    assert "another nonce than the rest of the stack" in bound[1].check("holder_binding").detail
    assert bound[2].check("holder_binding").status == FAILED
    assert "not for the stack's audience 'https://employer.example'" in bound[2].check("holder_binding").detail
    assert summarise(bound).line == "1 of 3 verified · 4 ECTS · EQF 7"


def test_a_presentation_without_a_holder_proof_fails_in_a_stack(world):
    from credentials.verification import Policy
    from tests.core.test_verification import ROOT

    lenient = Policy(frozenset({ROOT}), holder_binding_required=False)
    bare = world.credential()  # the SD-JWT VC with no Key Binding JWT at all
    alone = world.verify(bare, policy=lenient)
    assert alone.verified  # this verifier accepts it on its own
    assert alone.check("holder_binding").status == SKIPPED
    stack = stack_result([world.verify(world.present()), alone])
    assert not stack.verified
    assert stack.results[1].check("holder_binding").status == FAILED
    assert "this one has none" in stack.results[1].check("holder_binding").detail


def test_an_earlier_failure_is_left_as_it_is(world):
    broken = world.verify("not~a~presentation")
    assert bind_stack([broken])[0] == broken


def test_undecided_and_problems():
    undecided = stack_result([result(unavailable="revocation"), result()])
    assert undecided.undecided
    assert not undecided.verified
    failed = stack_result([result(unavailable="revocation"), result(failed="signature")])
    assert not failed.undecided  # a failed check wins over one that could not be completed
    with_problem = stack_result([result()], problems=["the answer does not disclose ects"])
    assert not with_problem.verified
    assert with_problem.to_json()["problems"] == ["the answer does not disclose ects"]
    assert stack_result([result()]).verified
    assert not stack_result([]).verified


# --- one credential counts once ---------------------------------------------------------------------------


def test_the_same_credential_twice_counts_once(world):
    """Two presentations of one credential (two KB-JWTs, so no replay) must not add its ECTS twice."""
    credential = world.credential()
    presentations = [world.present(credential, nonce="stack-n"), world.present(credential, nonce="stack-n",
                                                                               paths=[("title",), ("ects",)]),
                     world.present(nonce="stack-n")]
    results = [world.verify(p, nonce="stack-n", audience=AUDIENCE) for p in presentations]
    assert all(r.verified for r in results)  # each alone is fine
    stack = stack_result(results, nonce="stack-n", audience=AUDIENCE, presentations=presentations)
    assert stack.results[0].verified
    assert stack.results[1].check("replay").status == FAILED
    assert "already shown as presentation 1 of this stack" in stack.results[1].check("replay").detail
    assert stack.summary.line == "2 of 3 verified · 8 ECTS · EQF 7"


def test_a_whole_credential_wrapped_twice_counts_once():
    from credentials.jwt_vc import sign_vc_jwt
    from credentials.stack import credential_fingerprint
    from tests.verifier.imported_world import Holder, JwtIssuer, badge, jwt_vp_json

    issuer, holder = JwtIssuer(), Holder()
    token = sign_vc_jwt(badge(issuer.did, holder.did, valid_from=1_700_000_000), issuer.key, kid=issuer.kid)
    first = jwt_vp_json(holder, token, nonce="n", audience=AUDIENCE, iat=1_780_000_000)
    second = jwt_vp_json(holder, token, nonce="n", audience=AUDIENCE, iat=1_780_000_001)
    assert credential_fingerprint(first) == credential_fingerprint(second) == credential_fingerprint(token)
    assert credential_fingerprint("not a presentation") is None
    vp = '{"type": ["VerifiablePresentation"], "verifiableCredential": [{"proof": {}, "a": 1}], "proof": {}}'
    assert credential_fingerprint(vp) == credential_fingerprint('{"a": 1, "proof": {}}')
