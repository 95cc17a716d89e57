"""The micro-credential Annex I view by its precomputed plan equals the view built by ViewBuilder (issue 16).

``credentials.annex_mappers.annex_from_microcred`` maps plain claims (every one a known claim holding a plain
value) by a plan made once; anything else goes through :class:`credentials.annex_view.ViewBuilder`. Whatever the
claims, both give the same view: same elements, values, paths, labels and More details, in the same order.
"""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from credentials.annex_mappers import _microcred_view, _plain_microcred_view, annex_from_microcred
from tests.sample_claims import MICRO_CREDENTIAL_CLAIMS

PLAIN = {name: value for name, value in MICRO_CREDENTIAL_CLAIMS.items() if name != "awarding_body"}

_scalar = st.one_of(st.none(), st.sampled_from(["", "x", "a/b~c", "2026-01-01", 0, 5, 7.5, math.nan, True, False]),
                    st.text(max_size=6))
_value = st.recursive(_scalar, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.sampled_from(["en", "it", "@value", "@language", "given_name", "family_name", "name", "x/y"]),
                    inner, max_size=3)), max_leaves=8)
_names = sorted(MICRO_CREDENTIAL_CLAIMS) + ["grade", "stackability", "further_information", "identity_verification",
                                            "cnf", "status", "unknown", "a/b", "en"]


@st.composite
def claim_sets(draw):
    names = draw(st.lists(st.sampled_from(_names), unique=True, max_size=12))
    claims = {}
    for name in names:
        plain = PLAIN.get(name)
        claims[name] = draw(st.one_of(st.just(plain), _value) if plain is not None else _value)
    return claims


def _same(claims) -> None:
    planned, built = annex_from_microcred(claims), _microcred_view(claims)
    assert planned == built
    assert list(planned.__dict__) == list(built.__dict__)
    assert planned.to_json() == built.to_json()
    assert [(s.path, s.label) for s in planned.more_details] == [(s.path, s.label) for s in built.more_details]


def test_plain_claims_take_the_plan_and_give_the_builders_view() -> None:
    assert _plain_microcred_view(PLAIN) is not None
    _same(PLAIN)
    view = annex_from_microcred(PLAIN)
    assert (view.learner[0].path, view.learner[0].label) == ("/learner/given_name", "Given name")
    assert [s.path for s in view.learning_outcomes] == ["/learning_outcomes/0", "/learning_outcomes/1"]
    assert view.more_details == ()


def test_claims_the_plan_does_not_know_go_to_the_builder() -> None:
    for odd in ({**PLAIN, "title": ""}, {**PLAIN, "title": {"en": "T", "it": "T"}}, {**PLAIN, "extra": "x"},
                {**PLAIN, "learner": {"given_name": "A", "nickname": "B"}}, {**PLAIN, "issuer_country": ["IT", ""]},
                MICRO_CREDENTIAL_CLAIMS, {**PLAIN, "cnf": {"jwk": {}}}, {"en": "text"}):
        assert _plain_microcred_view(odd) is None
        _same(odd)


@settings(max_examples=500, deadline=None)
@given(claim_sets())
def test_the_plan_and_the_builder_always_agree(claims) -> None:
    _same(claims)
