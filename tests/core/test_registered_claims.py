"""Issue 10 B12: registered claims that SD-JWT VC says must never be selectively disclosed.

draft-ietf-oauth-sd-jwt-vc §3.2.2.2 ("Registered JWT Claims"): ``iss``, ``nbf``,
``exp``, ``cnf``, ``vct``, ``vct#integrity`` and ``status`` "MUST NOT be included
in the Disclosures, i.e., cannot be selectively disclosed"; ``iat`` MAY be, but
microcred keeps it in the clear (issuer trust is judged at ``iat``). RFC 9901
§9.7: a Holder may hide such a claim so that a Verifier "fails open".

Refused: a disclosure of one of them at the top level, whatever the payload
holds (disclosures); any selectively disclosable part inside one of them in
the clear, disclosed or withheld, decoys included (disclosures; a verifier can
see the ``_sd`` / ``...`` there); and an issuer asked to make either. A top-level
disclosure the holder withholds cannot be seen by any verifier: the issuer and
the wallet (which holds every disclosure) refuse such credentials instead.
"""

from __future__ import annotations

import pytest

from credentials.dids import verification_method_id
from credentials.errors import DisclosureError, InvalidInput
from credentials.microcredential import MICRO_CREDENTIAL_VCT, disclosure_frame
from credentials.sd_jwt import HolderSdJwt
from credentials.sd_jwt.issuer import issue_sd_jwt
from credentials.sd_jwt.verifier import unpack_disclosures
from credentials.sd_jwt_vc import NEVER_DISCLOSABLE, issue_sd_jwt_vc, verify_sd_jwt_vc
from credentials.verification import FAILED
from tests.core.test_verification import CLAIMS, DISCLOSE, INDEX, LIST_URI, NOW, World

STATUS = {"status_list": {"idx": INDEX, "uri": LIST_URI}}


def _raw_issue(world: World, frame: dict, **registered) -> str:
    """An SD-JWT VC made with the plain SD-JWT issuer, which does not know SD-JWT VC's rules."""
    claims = {"iss": world.issuer, "iat": NOW - 100, "vct": MICRO_CREDENTIAL_VCT, "status": STATUS,
              **registered, **CLAIMS}
    full_frame = {**disclosure_frame(CLAIMS), **frame,
                  "_sd": [*disclosure_frame(CLAIMS).get("_sd", []), *frame.get("_sd", [])]}
    return issue_sd_jwt(claims, full_frame, world.issuer_key,
                        header={"typ": "dc+sd-jwt", "kid": verification_method_id(world.issuer)},
                        holder_jwk=world.holder_key.public_key().to_jwk()).serialization


CASES = {
    "exp hidden": ({"_sd": ["exp"]}, {"exp": NOW + 10**6}, ("exp",)),
    "nbf hidden": ({"_sd": ["nbf"]}, {"nbf": NOW - 10}, ("nbf",)),
    "vct#integrity hidden": ({"_sd": ["vct#integrity"]}, {"vct#integrity": "sha256-abc"}, ("vct#integrity",)),
    "status.status_list hidden": ({"status": {"_sd": ["status_list"]}}, {}, ("status", "status_list")),
    "status.status_list.idx hidden": ({"status": {"status_list": {"_sd": ["idx"]}}}, {},
                                      ("status", "status_list", "idx")),
    "cnf.jwk hidden": ({"cnf": {"_sd": ["jwk"]}}, {}, ("cnf", "jwk")),
}


@pytest.mark.parametrize("case", list(CASES))
def test_disclosed_registered_claims_fail_disclosures(case):
    world = World()
    frame, registered, path = CASES[case]
    credential = _raw_issue(world, frame, **registered)
    result = world.verify(world.present(credential, paths=[*DISCLOSE, path]))
    assert result.check("disclosures").status == FAILED, [(c.check, c.status, c.detail) for c in result.checks]
    assert path[0] in result.check("disclosures").detail
    assert not result.verified
    with pytest.raises(DisclosureError, match="selectively disclos"):
        verify_sd_jwt_vc(credential, now=NOW, key_binding=None)  # the wallet's import check


@pytest.mark.parametrize("case", [c for c in CASES if len(CASES[c][2]) > 1])
def test_withheld_parts_inside_a_registered_claim_fail_disclosures(case):
    world = World()
    frame, registered, _ = CASES[case]
    result = world.verify(world.present(_raw_issue(world, frame, **registered), paths=DISCLOSE))
    assert result.check("disclosures").status == FAILED
    assert not result.verified


def test_decoys_inside_status_fail_too():
    world = World()
    credential = _raw_issue(world, {"status": {"_sd_decoy": 2}})
    assert world.verify(world.present(credential)).check("disclosures").status == FAILED


def test_a_disclosed_registered_claim_also_in_the_clear_fails():
    world = World()
    credential = _raw_issue(world, {"_sd": ["exp"]}, exp=NOW + 10**6)
    jwt = credential.split("~")[0]
    from credentials.jose import UnverifiedJws

    payload = dict(UnverifiedJws.parse(jwt).payload, exp=NOW + 3600)
    with pytest.raises(DisclosureError, match="exp"):
        unpack_disclosures(payload, credential.split("~")[1:-1], never_disclosable=NEVER_DISCLOSABLE)


def test_a_claim_named_like_a_registered_one_deeper_down_is_fine():
    world = World()
    claims = dict(CLAIMS, learner={**CLAIMS["learner"], "status": "enrolled"})
    frame = disclosure_frame(claims)
    frame["learner"] = {**frame.get("learner", {}), "_sd": [*frame.get("learner", {}).get("_sd", []), "status"]}
    credential = world.credential(claims=claims, frame=frame)
    result = world.verify(world.present(credential, paths=[*DISCLOSE, ("learner", "status")]))
    assert result.check("disclosures").status != FAILED


@pytest.mark.parametrize("frame", [
    {"_sd": ["exp"]},
    {"_sd": ["iat"]},
    {"cnf": {"_sd": ["jwk"]}},
    {"status": {"_sd": ["status_list"]}},
    {"status": {"status_list": {"_sd": ["idx"]}}},
    {"status": {"_sd_decoy": 1}},
])
def test_the_issuer_refuses_to_hide_registered_claims(frame):
    world = World()
    with pytest.raises(InvalidInput, match="must not be selectively disclosable"):
        world.credential(frame={**disclosure_frame(CLAIMS), **frame}, exp=NOW + 10**6)


def test_the_issuer_refuses_vct_integrity_in_a_disclosure():
    world = World()
    claims = dict(CLAIMS, **{"vct#integrity": "sha256-abc"})
    with pytest.raises(InvalidInput, match="vct#integrity"):
        issue_sd_jwt_vc(vct=MICRO_CREDENTIAL_VCT, claims=claims, frame={**disclosure_frame(CLAIMS), "_sd": [
            *disclosure_frame(CLAIMS).get("_sd", []), "vct#integrity"]}, issuer_key=world.issuer_key,
            issuer=world.issuer, kid=None, iat=NOW)


def test_holder_tooling_still_reads_such_a_credential():
    world = World()
    credential = _raw_issue(world, {"_sd": ["exp"]}, exp=NOW + 10**6)
    assert ("exp",) in HolderSdJwt.parse(credential).paths


def test_the_never_disclosable_set_is_the_drafts_list_plus_iat():
    """draft-ietf-oauth-sd-jwt-vc §3.2.2.2 lists seven; microcred adds iat (which the draft allows to disclose)."""
    assert NEVER_DISCLOSABLE == {"iss", "nbf", "exp", "cnf", "vct", "vct#integrity", "status"} | {"iat"}
