"""Replay records are written only for presentations that earned them (issue 10, B5).

A KB-JWT is recorded as seen only after the issuer's signature, the holder
binding *and* the issuer's accreditation passed. Before, the replay step ran
right after the KB-JWT verified, so anybody could fill a verifier's replay
store with presentations from issuers they made up, and a bounded cache then
refused every client with "the replay cache is full".
"""

from __future__ import annotations

import pytest

from credentials.errors import CHECKS
from credentials.verification import FAILED, PASSED, SKIPPED, UNAVAILABLE, verify_presentation
from tests.core.test_verification import AUDIENCE, NOW, ROOT, Policy, World

CAPACITY = 5


class BoundedGuard:
    """A replay guard like the verifier's old in-process cache: it refuses new ids once full."""

    def __init__(self, capacity: int = CAPACITY):
        self.recorded: list[str] = []
        self.capacity = capacity

    def __call__(self, kb_id: str, expires_at: int) -> bool:
        if kb_id in self.recorded:
            return False
        if len(self.recorded) >= self.capacity:
            raise ConnectionError("the replay cache is full; try again in a moment")
        self.recorded.append(kb_id)
        return True


def _verify(world: World, guard: BoundedGuard, presentation: str):
    return verify_presentation(presentation, policy=Policy(frozenset({ROOT})), trust=world.trust,
                               status=world.status, replay=guard, now=NOW, audience=AUDIENCE)


def test_presentations_from_self_made_issuers_are_not_recorded_and_cannot_crowd_out_a_legit_one():
    guard = BoundedGuard()
    for n in range(CAPACITY * 3):
        stranger = World()
        stranger.accredited = False  # a did:key the attacker made; no accreditation on the registry
        result = _verify(stranger, guard, stranger.present(nonce=f"attack-{n}"))
        assert result.check("signature").status == PASSED
        assert result.check("holder_binding").status == PASSED
        assert result.check("issuer_trust").status == FAILED
        assert result.check("replay").status == SKIPPED
        assert "accredit" in result.check("replay").detail
    assert guard.recorded == []
    legit = World()
    result = _verify(legit, guard, legit.present())
    assert {c.check: c.status for c in result.checks} == {**dict.fromkeys(CHECKS, PASSED), "issuance_anchor": SKIPPED}
    assert len(guard.recorded) == 1


def test_a_trusted_presentation_is_still_refused_the_second_time():
    world, guard = World(), BoundedGuard()
    presentation = world.present()
    assert _verify(world, guard, presentation).verified
    again = _verify(world, guard, presentation)
    assert again.check("replay").status == FAILED
    assert not again.verified
    assert [c.check for c in again.checks] == list(CHECKS)


def test_nothing_is_recorded_while_the_trust_registry_cannot_answer():
    world, guard = World(), BoundedGuard()
    world.trust_down = True
    presentation = world.present()
    result = _verify(world, guard, presentation)
    assert result.check("issuer_trust").status == UNAVAILABLE
    assert result.undecided
    assert result.check("replay").status == SKIPPED
    assert guard.recorded == []
    world.trust_down = False
    assert _verify(world, guard, presentation).verified  # the retry is not mistaken for a replay


@pytest.mark.parametrize("breakage", ["signature", "holder_binding"])
def test_nothing_is_recorded_when_signature_or_holder_binding_fails(breakage):
    world, guard = World(), BoundedGuard()
    presentation = world.present()
    if breakage == "signature":
        jwt, rest = presentation.split("~", 1)
        head, payload, signature = jwt.split(".")
        presentation = f"{head}.{payload}.{signature[:-4]}AAAA~{rest}"
        expected = "signature"
    else:
        presentation = world.present(nonce="n-1", audience="https://someone-else.example")
        expected = "holder_binding"
    result = _verify(world, guard, presentation)
    assert result.check(expected).status == FAILED
    assert guard.recorded == []


def test_a_presentation_without_a_key_binding_jwt_says_why_replay_was_not_checked():
    """The replay check's reason names what happened: no KB-JWT (holder binding required) is not a failure of the
    disclosures, which passed (its reason was the catch-all "the disclosures did not verify")."""
    world, guard = World(), BoundedGuard()
    result = _verify(world, guard, world.credential())  # the issuer's SD-JWT as it is, no KB-JWT
    assert result.check("disclosures").status == PASSED
    assert result.check("holder_binding").status == FAILED
    replay = result.check("replay")
    assert replay.status == SKIPPED
    assert "disclosures" not in replay.detail
    assert "holder" in replay.detail
    assert guard.recorded == []


def test_the_replay_check_names_the_check_that_kept_it_from_recording():
    world, guard = World(), BoundedGuard()
    result = verify_presentation(world.present(nonce="other"), policy=Policy(frozenset({ROOT}), expected_nonce="n-1"),
                                 trust=world.trust, status=world.status, replay=guard, now=NOW, audience=AUDIENCE)
    assert result.check("holder_binding").status == FAILED
    assert result.check("issuer_trust").status == PASSED
    replay = result.check("replay")
    assert replay.status == SKIPPED
    assert "holder binding" in replay.detail
    assert "accreditation" not in replay.detail
    assert guard.recorded == []
