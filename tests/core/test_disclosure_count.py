"""The disclosures check counts what a person chose, not the SD-JWT's containers (issue 15 §1.7: "12
disclosure(s)" was shown when 9 items had been chosen: the learner object and the lists that hold the
chosen members are disclosures too)."""

from __future__ import annotations

from tests.core.test_verification import AUDIENCE, World


def _detail(result, check: str) -> str:
    return next(c.detail for c in result.checks if c.check == check)


def test_the_count_is_of_the_chosen_claims_and_says_what_the_rest_are():
    world = World()
    chosen = [("learner", "given_name"), ("learner", "family_name"), ("title",), ("awarding_body", 0),
              ("learning_outcomes", 0), ("learning_outcomes", 1), ("ects",), ("eqf_level",), ("issued_on",)]
    result = world.verify(world.present(paths=chosen), nonce="n-1", audience=AUDIENCE)
    detail = _detail(result, "disclosures")
    assert detail.startswith("9 claims disclosed"), detail
    assert "(12 disclosures: 3 of them the objects or lists that hold them)" in detail
    assert "disclosure(s)" not in _detail(result, "format")


def test_one_claim_is_said_in_the_singular():
    world = World()
    result = world.verify(world.present(paths=[("title",)]), nonce="n-1", audience=AUDIENCE)
    assert _detail(result, "disclosures") == "1 claim disclosed; its disclosure matches the signed digests"
