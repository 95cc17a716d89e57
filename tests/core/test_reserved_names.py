"""Issue 10 B10: reserved names ``_sd_alg``, ``_sd`` and ``...`` in the wrong place fail ``disclosures``.

RFC 9901 §4.1.1: ``_sd_alg`` appears only at the top level of the
Issuer-signed JWT's payload and "MUST NOT be used in any object nested within
the payload"; §4.2.1: a disclosure's claim name "MUST NOT be ``_sd``, ``...``"
(and §7.1 step 3.3.2.2 rejects those); §4.1 rule 7: ``_sd`` and ``...`` only
convey digests. Before the fix a disclosure named ``_sd_alg`` was silently
dropped (``claims.pop('_sd_alg')``) and a nested ``_sd_alg`` reached the schema.
"""

from __future__ import annotations

import json

import pytest

from credentials.dids import verification_method_id
from credentials.errors import DisclosureError
from credentials.jose import b64url_encode, sign_jws
from credentials.microcredential import MICRO_CREDENTIAL_VCT
from credentials.sd_jwt.common import digest_of
from credentials.sd_jwt.key_binding import add_key_binding
from credentials.sd_jwt.verifier import unpack_disclosures
from credentials.verification import FAILED
from tests.core.test_verification import AUDIENCE, INDEX, LIST_URI, NOW, World
from tests.sample_claims import MICRO_CREDENTIAL_CLAIMS


def _disclosure(*elements) -> str:
    return b64url_encode(json.dumps(list(elements)).encode())


def _signed(world: World, payload: dict, disclosures: list[str]) -> str:
    """An SD-JWT VC with exactly this payload (plus the registered claims) and these disclosures."""
    full = {"iss": world.issuer, "iat": NOW - 100, "vct": MICRO_CREDENTIAL_VCT,
            "cnf": {"jwk": world.holder_key.public_key().to_jwk()},
            "status": {"status_list": {"idx": INDEX, "uri": LIST_URI}}, **payload}
    jwt = sign_jws(full, world.issuer_key, header={"typ": "dc+sd-jwt", "kid": verification_method_id(world.issuer)})
    return "~".join([jwt, *disclosures]) + "~"


def _verify_all(world: World, credential: str):
    """Present every disclosure with a KB-JWT (built directly: the holder's own parser refuses these too)."""
    return world.verify(add_key_binding(credential, world.holder_key, audience=AUDIENCE, nonce="n-1", iat=NOW - 5))


def test_a_disclosure_named_sd_alg_fails_and_is_not_dropped():
    world = World()
    bad = _disclosure("c2FsdC0x", "_sd_alg", "sha-256")
    title = _disclosure("c2FsdC0y", "title", MICRO_CREDENTIAL_CLAIMS["title"])
    payload = {"_sd": sorted([digest_of(bad), digest_of(title)])}  # no _sd_alg in the clear: sha-256 by default
    with pytest.raises(DisclosureError, match="_sd_alg"):
        unpack_disclosures(payload, [bad, title])
    result = _verify_all(world, _signed(world, payload, [bad, title]))
    assert result.check("disclosures").status == FAILED
    assert "_sd_alg" in result.check("disclosures").detail
    assert not result.verified
    assert result.claims == {}


def test_sd_alg_in_a_nested_object_in_the_clear_fails_disclosures():
    world = World()
    payload = {"_sd_alg": "sha-256", "title": "T", "learner": {"_sd_alg": "sha-256", "given_name": "Ana"}}
    with pytest.raises(DisclosureError, match="top level"):
        unpack_disclosures(payload, [])
    result = _verify_all(world, _signed(world, payload, []))
    assert result.check("disclosures").status == FAILED
    assert "_sd_alg" in result.check("disclosures").detail


def test_sd_alg_inside_a_disclosed_value_fails_disclosures():
    world = World()
    learner = _disclosure("c2FsdC0z", "learner", {"_sd_alg": "sha-256", "given_name": "Ana"})
    payload = {"_sd_alg": "sha-256", "_sd": [digest_of(learner)]}
    with pytest.raises(DisclosureError, match="top level"):
        unpack_disclosures(payload, [learner])
    result = _verify_all(world, _signed(world, payload, [learner]))
    assert result.check("disclosures").status == FAILED


def test_sd_alg_inside_an_array_element_fails():
    payload = {"_sd_alg": "sha-256", "awarding_body": [{"name": "U", "_sd_alg": "sha-256"}]}
    with pytest.raises(DisclosureError, match="top level"):
        unpack_disclosures(payload, [])


@pytest.mark.parametrize("name", ["_sd", "..."])
def test_disclosures_named_sd_or_ellipsis_fail(name):
    bad = _disclosure("c2FsdC00", name, ["x"])
    with pytest.raises(DisclosureError, match="reserved"):
        unpack_disclosures({"_sd": [digest_of(bad)]}, [bad])


def test_an_ellipsis_member_outside_an_array_placeholder_fails():
    with pytest.raises(DisclosureError, match="'...'"):
        unpack_disclosures({"learner": {"...": "x", "given_name": "Ana"}}, [])


def test_the_top_level_sd_alg_is_still_accepted_and_removed():
    claims, _ = unpack_disclosures({"_sd_alg": "sha-256", "title": "T"}, [])
    assert claims == {"title": "T"}


def test_the_hand_built_credential_verifies_without_the_reserved_names():
    world = World()
    title = _disclosure("c2FsdC0y", "title", MICRO_CREDENTIAL_CLAIMS["title"])
    result = _verify_all(world, _signed(world, {"_sd": [digest_of(title)]}, [title]))
    assert result.verified, [(c.check, c.detail) for c in result.checks if c.status != "passed"]
