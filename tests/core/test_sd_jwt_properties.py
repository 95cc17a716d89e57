"""Hypothesis properties of SD-JWT (STYLE.md 12).

- Round trip: issue any claims with any disclosure frame, present any subset
  of the disclosable claims, verify: the verifier sees exactly the claims
  that were disclosed, and nothing else.
- Tampering: changing any one character of a presentation makes verification
  fail with a VerificationError naming its check, never any other exception.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credentials.errors import CHECKS, VerificationError
from credentials.jose import PrivateKey
from credentials.sd_jwt import HolderSdJwt, KeyBindingPolicy, issue_sd_jwt, verify_sd_jwt

NOW = 1_700_000_000
ISSUER = PrivateKey.generate("ES256")
HOLDER = PrivateKey.generate("ES256")

names = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=8).filter(
    lambda n: n not in ("_sd", "...", "_sd_alg", "cnf")
)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.text(max_size=12))
values = st.one_of(
    scalars,
    st.lists(scalars, max_size=4),
    st.dictionaries(names, scalars, max_size=3),
)
claims_strategy = st.dictionaries(names, values, min_size=1, max_size=6)


@st.composite
def frames_for(draw, value: Any) -> dict | None:
    """A random disclosure frame for ``value`` (None: nothing disclosable inside)."""
    if isinstance(value, dict) and value:
        keys = sorted(value)
        frame: dict = {"_sd": draw(st.lists(st.sampled_from(keys), unique=True))}
        for key in keys:
            child = draw(frames_for(value[key]))
            if child is not None:
                frame[key] = child
        frame["_sd_decoy"] = draw(st.integers(0, 2))
        return frame
    if isinstance(value, list) and value:
        return {"_sd": draw(st.lists(st.sampled_from(range(len(value))), unique=True)),
                "_sd_decoy": draw(st.integers(0, 2))}
    return None


def expected_view(value: Any, frame: dict | None, chosen: set[tuple], path: tuple = ()) -> Any:
    """What a verifier must see: undisclosed parts removed, everything else as issued."""
    if frame is None:
        return value
    if isinstance(value, dict):
        view = {}
        for key, member in value.items():
            if key in frame.get("_sd", []) and path + (key,) not in chosen:
                continue
            view[key] = expected_view(member, frame.get(key), chosen, path + (key,))
        return view
    return [element for index, element in enumerate(value) if index not in frame["_sd"] or path + (index,) in chosen]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), claims=claims_strategy)
def test_any_subset_round_trips(data, claims):
    frame = data.draw(frames_for(claims))
    issued = issue_sd_jwt(claims, frame, ISSUER, header={"typ": "example+sd-jwt"},
                          holder_jwk=HOLDER.public_key().to_jwk())
    holder = HolderSdJwt.parse(issued.serialization)
    requested = data.draw(st.lists(st.sampled_from(holder.paths), unique=True)) if holder.paths else []
    # Disclosing a claim discloses its ancestors.
    chosen = {path[:n] for path in requested for n in range(1, len(path) + 1)} & set(holder.paths)
    presentation = holder.present_with_key_binding(requested, HOLDER, audience="aud", nonce="nonce", iat=NOW)
    verified = verify_sd_jwt(
        presentation,
        ISSUER.public_key(),
        now=NOW,
        expected_typ=["example+sd-jwt"],
        key_binding=KeyBindingPolicy(audience="aud", nonce="nonce"),
    )
    expected = expected_view(claims, frame, chosen)
    expected["cnf"] = {"jwk": HOLDER.public_key().to_jwk()}
    assert verified.claims == expected
    assert {d.encoded for d in verified.disclosures} == {d.encoded for d in holder.select(requested)}


TAMPER_SOURCE = HolderSdJwt.parse(
    issue_sd_jwt(
        {"given_name": "Ada", "outcomes": ["a", "b"], "ects": 5},
        {"_sd": ["given_name", "outcomes", "ects"], "outcomes": {"_sd": [0, 1]}},
        ISSUER,
        header={"typ": "example+sd-jwt"},
        holder_jwk=HOLDER.public_key().to_jwk(),
    ).serialization
)
PRESENTATION = TAMPER_SOURCE.present_with_key_binding(
    [("given_name",), ("outcomes", 1)], HOLDER, audience="aud", nonce="nonce", iat=NOW
)
REPLACEMENTS = "AZaz09-_.~ =+/\"{}"


@settings(max_examples=300, deadline=None)
@given(position=st.integers(0, len(PRESENTATION) - 1), replacement=st.sampled_from(REPLACEMENTS))
def test_any_changed_character_is_rejected_with_a_named_check(position, replacement):
    if PRESENTATION[position] == replacement:
        replacement = "B" if replacement != "B" else "C"
    tampered = PRESENTATION[:position] + replacement + PRESENTATION[position + 1 :]
    try:
        verify_sd_jwt(
            tampered,
            ISSUER.public_key(),
            now=NOW,
            expected_typ=["example+sd-jwt"],
            key_binding=KeyBindingPolicy(audience="aud", nonce="nonce"),
        )
    except VerificationError as exc:
        assert exc.check in CHECKS
        assert exc.reason
    else:
        raise AssertionError(f"a presentation changed at {position} to {replacement!r} was accepted")


def test_untampered_presentation_verifies():
    verified = verify_sd_jwt(
        PRESENTATION, ISSUER.public_key(), now=NOW, expected_typ=["example+sd-jwt"], key_binding=KeyBindingPolicy()
    )
    assert verified.claims["outcomes"] == ["b"]
